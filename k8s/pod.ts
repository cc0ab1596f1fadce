import type { core } from "@pulumi/kubernetes/types/input";
import type { Input } from "@pulumi/pulumi";
import { ENVOY_CONFIG_DIR, ENVOY_CONFIG_FILE, PROMETHEUS_PATH, READY_PATH, XDS_DIR } from "../envoy/names";
import type { ContainerResources, Topology } from "../topology";


/** UID of the `envoy` user in the official Envoy image. */
export const ENVOY_UID = 101;
/** UID of the `node` user in the demo app's runtime image. */
export const APP_UID = 1000;

export const ENVOY_CONTAINER = "envoy";
export const APP_CONTAINER = "app";
export const ENVOY_CONFIG_VOLUME = "envoy-config";
/** The volume of the proxy's xDS files (its `<proxy>-xds` ConfigMap), mounted at XDS_DIR. */
export const ENVOY_XDS_VOLUME = "envoy-xds";
export { ENVOY_CONFIG_DIR, ENVOY_CONFIG_FILE, XDS_DIR };
export const ENVOY_INGRESS_PORT_NAME = "envoy-ingress";
export const ENVOY_HEALTH_PORT_NAME = "envoy-health";
/** The app's own health port (HEALTH_PORT), which kubelet probes reach without the sidecar. */
export const APP_HEALTH_PORT_NAME = "app-health";
export const FRONT_PORT_NAME = "http";
/** The front proxy's HTTPS listener (`ports.frontTls`). */
export const FRONT_TLS_PORT_NAME = "https";
/** The demo app's bound on finishing in-flight requests once it stops accepting. */
export const APP_SHUTDOWN_SECONDS = 10;
/**
 * The app drains on SIGTERM itself (DRAIN_MS), so its preStop sleep only has to exist: the
 * pod policy asks every long-running container for a preStop hook, to catch containers that
 * stop at SIGTERM. 1 s is the shortest sleep every supported Kubernetes accepts (0 needs the
 * PodLifecycleSleepActionAllowZero feature).
 */
export const APP_PRE_STOP_SECONDS = 1;
export const GRACE_MARGIN_SECONDS = 5;

/**
 * How long a new service pod must stay ready before the rollout counts it available and stops
 * an old pod (minReadySeconds): the time every caller needs to learn of it. A caller re-resolves
 * every 5 s, but CoreDNS (kubeadm's Corefile: `ttl 30`, `cache 30`) and Envoy's resolver may
 * serve an answer up to 30 s old; then its first health check must pass (interval 2 s, timeout
 * 1 s). Until then a caller whose only known pod is draining keeps using it (Envoy's panic
 * mode), which is safe only while that pod's app still serves.
 */
export const CALLER_DISCOVERY_SECONDS = 40;

/** Pod Security Standard "restricted", plus a read-only root filesystem. */
export function containerSecurityContext(uid: number): core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * `fsGroup`: the group Secret volumes' files get (Envoy's, ENVOY_UID, for a pod that mounts
 * certificates), so that files readable by owner and group only (SECRET_FILE_MODE) are readable
 * by Envoy and by no other user.
 */
export function podSecurityContext(fsGroup?: number): core.v1.PodSecurityContext {
  return { runAsNonRoot: true, ...(fsGroup === undefined ? {} : { fsGroup }), seccompProfile: { type: "RuntimeDefault" } };
}

export function containerResources(resources: ContainerResources): core.v1.ResourceRequirements {
  return {
    requests: { cpu: resources.cpuRequest, memory: resources.memoryRequest },
    // No CPU limit: CFS throttling adds latency to a proxy; memory is the limit that protects the node.
    limits: { memory: resources.memoryLimit },
  };
}

function httpProbe(path: string, port: number | string, periodSeconds: number, failureThreshold: number): core.v1.Probe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 1 };
}

/**
 * Startup (up to 30 s: period 1 s, 30 failures), readiness (period 5 s, 2 failures) and liveness
 * (period 10 s, 3 failures, so 30 s of failure restarts the container) of one HTTP endpoint,
 * each with a 1 s timeout.
 */
export function httpProbes(path: string, port: number | string): Pick<core.v1.Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  return {
    startupProbe: httpProbe(path, port, 1, 30),
    readinessProbe: httpProbe(path, port, 5, 2),
    livenessProbe: httpProbe(path, port, 10, 3),
  };
}

/**
 * Admin mutations need POST and the Envoy image has no curl, so the hook speaks HTTP over
 * bash's /dev/tcp. A graceful drain (source/server/admin/listeners_handler.cc and
 * source/server/drain_manager_impl.cc in envoyproxy/envoy) makes every response carry
 * `Connection: close` at once (`--drain-strategy immediate`) while the listeners keep accepting,
 * and stops the listeners when `--drain-time-s` has passed. It does not make Envoy exit, and
 * `/ready` keeps answering 200 (only `/healthcheck/fail` changes that). The hook sleeps as long
 * as the drain; when it returns the kubelet sends SIGTERM, and that is what ends Envoy.
 */
export function drainCommand(adminPort: number, drainSeconds: number, inboundOnly: boolean): string[] {
  const query = inboundOnly ? "graceful&inboundonly" : "graceful";
  const request = `POST /drain_listeners?${query} HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n`;
  return [
    "/bin/bash",
    "-c",
    `exec 3<>/dev/tcp/127.0.0.1/${adminPort} && printf '${request}' >&3; sleep ${drainSeconds}`,
  ];
}

export const ENVOY_BINARY = "/usr/local/bin/envoy";

/**
 * Envoy's command line on every target: where the bootstrap comes from (`config`), the proxy as
 * its cluster, the replica as its node, and the drain settings (a graceful drain answers every
 * request with `Connection: close` at once, then stops the listeners after `drainSeconds`).
 * `--reject-unknown-dynamic-fields`: an unknown field in an xDS file fails that update (Envoy
 * keeps its last good config) instead of being ignored with a warning, so the files are held to
 * the same strictness as the bootstrap (docs/root/operations/cli.rst in envoyproxy/envoy).
 */
export function envoyArgs(config: readonly string[], proxy: string, serviceNode: string, topology: Topology): string[] {
  const { envoy } = topology;
  return [
    ...config,
    "--service-cluster", proxy,
    "--service-node", serviceNode,
    "--log-level", envoy.logLevel,
    "--concurrency", String(envoy.concurrency),
    "--drain-time-s", String(envoy.drainSeconds),
    "--drain-strategy", "immediate",
    "--disable-hot-restart",
    "--reject-unknown-dynamic-fields",
  ];
}

export interface EnvoyContainerOptions {
  /** `front-envoy` or the service name; Envoy reports it as its cluster. */
  readonly proxy: string;
  readonly image: string;
  readonly topology: Topology;
  readonly resources: ContainerResources;
  /** The ports clients reach: the front listeners (plain, HTTPS) or the sidecar ingress. */
  readonly servingPorts: readonly { readonly name: string; readonly port: number }[];
  /** Certificate folders mounted next to the config (read-only Secret volumes). */
  readonly certificateMounts?: readonly core.v1.VolumeMount[];
  /** Sidecars drain only inbound listeners, so the app can finish its outbound calls. */
  readonly inboundOnlyDrain: boolean;
}

export function envoyContainer(options: EnvoyContainerOptions): core.v1.Container {
  const { ports, envoy } = options.topology;
  return {
    name: ENVOY_CONTAINER,
    image: options.image,
    imagePullPolicy: "IfNotPresent",
    command: [ENVOY_BINARY],
    args: envoyArgs(["--config-path", `${ENVOY_CONFIG_DIR}/${ENVOY_CONFIG_FILE}`], options.proxy, "$(POD_NAME)", options.topology),
    env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    ports: [
      ...options.servingPorts.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
      { name: ENVOY_HEALTH_PORT_NAME, containerPort: ports.health, protocol: "TCP" },
    ],
    volumeMounts: [
      { name: ENVOY_CONFIG_VOLUME, mountPath: ENVOY_CONFIG_DIR, readOnly: true },
      // The whole folder, never a subPath: the kubelet updates a ConfigMap volume by swapping its
      // `..data` link atomically, which Envoy's watched_directory sees; a subPath mount is a copy
      // taken at container start that the kubelet never updates.
      { name: ENVOY_XDS_VOLUME, mountPath: XDS_DIR, readOnly: true },
      ...(options.certificateMounts ?? []),
    ],
    resources: containerResources(options.resources),
    securityContext: containerSecurityContext(ENVOY_UID),
    ...httpProbes(READY_PATH, ENVOY_HEALTH_PORT_NAME),
    lifecycle: { preStop: { exec: { command: drainCommand(ports.admin, envoy.drainSeconds, options.inboundOnlyDrain) } } },
  };
}

/** Prometheus scrape hints for the health listener, which serves only ready and stats. */
export function scrapeAnnotations(healthPort: number): Record<string, string> {
  return { "prometheus.io/scrape": "true", "prometheus.io/port": String(healthPort), "prometheus.io/path": PROMETHEUS_PATH };
}

export function envoyConfigVolume(configMapName: string): core.v1.Volume {
  return { name: ENVOY_CONFIG_VOLUME, configMap: { name: configMapName, defaultMode: 0o444 } };
}

/** The xDS ConfigMap's volume: its name is stable, so its content never reaches the pod template. */
export function envoyXdsVolume(configMapName: string): core.v1.Volume {
  return { name: ENVOY_XDS_VOLUME, configMap: { name: configMapName, defaultMode: 0o444 } };
}

/**
 * A service pod terminates in order: the app's 1 s preStop sleep; SIGTERM, after which the app
 * keeps serving for `drainSeconds` while answering `/healthz` with 503, so callers' health checks
 * stop picking it; it stops accepting and finishes in-flight requests (at most
 * APP_SHUTDOWN_SECONDS) and exits; only then does the native sidecar's preStop drain Envoy for
 * `drainSeconds`, and SIGTERM ends it.
 */
export function servicePodGraceSeconds(topology: Topology): number {
  const { drainSeconds } = topology.envoy;
  return APP_PRE_STOP_SECONDS + drainSeconds + APP_SHUTDOWN_SECONDS + drainSeconds + GRACE_MARGIN_SECONDS;
}

export function frontPodGraceSeconds(topology: Topology): number {
  return topology.envoy.drainSeconds + GRACE_MARGIN_SECONDS;
}

/** Spread replicas over nodes when there is more than one, without blocking scheduling. */
export function spreadAcrossNodes(replicas: number, selector: Readonly<Record<string, string>>): Pick<core.v1.PodSpec, "topologySpreadConstraints"> {
  if (replicas <= 1) return {};
  return {
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
    ],
  };
}

/** A rollout never removes a ready pod before its replacement is ready. */
export const ROLLING_UPDATE = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } as const;

export type ImageInput = Input<string>;
