/**
 * One container of the docker target, described as plain data: the Pulumi components and the
 * compose renderer both turn these into their own form, so both run the same thing.
 */
import type { Input } from "@pulumi/pulumi";
import { APP_HEALTH_PATH, READY_PATH } from "../envoy/names";
import { APP_SHUTDOWN_SECONDS, GRACE_MARGIN_SECONDS, drainCommand } from "../k8s/pod";
import { quantityValue, type ContainerResources, type Topology } from "../topology";

/** Image reference or ID; an Output where a build or pull produces it. */
export type DockerImageInput = Input<string>;

export type ContainerRole = "envoy" | "app";

/** Docker HEALTHCHECK settings, in seconds. */
export interface DockerHealthcheck {
  /** Exec form: `["CMD", program, ...args]`, run inside the container without a shell. */
  readonly test: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  /** Failures in this window after start do not count (Docker's start_period). */
  readonly startPeriodSeconds: number;
  /** Interval during the start period (Docker 25 and later; older engines use intervalSeconds). */
  readonly startIntervalSeconds: number;
}

/** Attached to the mesh's network with the given aliases, or sharing another container's network namespace. */
export type DockerNetworking =
  | { readonly mode: "network"; readonly network: string; readonly aliases: readonly string[] }
  | { readonly mode: "container"; readonly container: string };

export interface PublishedPort {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: "tcp";
}

/**
 * A file an Envoy container finds at `path`: the SDS files, its identity, the front's edge
 * certificate. `secret` marks private keys: a Pulumi secret, a compose `secrets` entry, and
 * never written by `npm run render`.
 */
export interface DockerFile {
  readonly path: string;
  readonly content: Input<string>;
  readonly secret: boolean;
}

export interface DockerContainer {
  /** Container name, unique on the engine: `<target name>-<proxy>-<replica>[-app|-envoy]`. */
  readonly name: string;
  /** `front-envoy` or the service's name. */
  readonly proxy: string;
  /** 1-based replica number. */
  readonly replica: number;
  readonly role: ContainerRole;
  readonly image: DockerImageInput;
  /** Replaces the image's entrypoint; empty keeps it. */
  readonly entrypoint: readonly string[];
  /** Replaces the image's command; empty keeps it. */
  readonly command: readonly string[];
  /** Sorted by name. */
  readonly environment: readonly { readonly name: string; readonly value: string }[];
  /** `uid:gid`, numeric: never root. */
  readonly user: string;
  readonly networking: DockerNetworking;
  readonly ports: readonly PublishedPort[];
  readonly readOnlyRootFilesystem: true;
  readonly capDrop: readonly ["ALL"];
  readonly securityOpt: readonly string[];
  /** Hard memory limit, in MiB (the topology's memoryLimit, rounded up to a whole MiB). */
  readonly memoryMiB: number;
  /** Soft limit under memory pressure, in MiB (the topology's memoryRequest). */
  readonly memoryReservationMiB: number;
  /** Relative CPU weight, as the kubelet derives cgroup CPU shares from the CPU request. */
  readonly cpuShares: number;
  readonly restart: "unless-stopped";
  readonly healthcheck: DockerHealthcheck;
  readonly stopSignal: "SIGTERM";
  /** Seconds between the stop signal and SIGKILL. */
  readonly stopGraceSeconds: number;
  /** Files delivered into the container, sorted by path; an app container never gets any. */
  readonly files: readonly DockerFile[];
  /** Containers that must be healthy before this one starts (and that stop after it). */
  readonly dependsOnHealthy: readonly string[];
  /** Sorted keys. */
  readonly labels: Readonly<Record<string, string>>;
  /** Platform to run (and pull) for; undefined means the engine's own. */
  readonly platform?: string;
}

const MIB = 2 ** 20;
/** Docker refuses a memory limit below 6 MiB (daemon/daemon_unix.go, linuxMinMemory, in moby/moby). */
export const DOCKER_MIN_MEMORY_MIB = 6;

export function memoryMiB(quantity: string): number {
  return Math.max(DOCKER_MIN_MEMORY_MIB, Math.ceil(quantityValue(quantity) / MIB));
}

/** The kubelet's MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go in kubernetes/kubernetes): 1024 per core, at least 2. */
export function cpuShares(quantity: string): number {
  return Math.max(2, Math.floor((Math.round(quantityValue(quantity) * 1000) * 1024) / 1000));
}

/** The hardening every container of the mesh gets, the Docker form of the pods' restricted security context. */
export function hardening(uid: number, resources: ContainerResources) {
  return {
    user: `${uid}:${uid}`,
    readOnlyRootFilesystem: true as const,
    capDrop: ["ALL"] as const,
    securityOpt: ["no-new-privileges:true"],
    memoryMiB: memoryMiB(resources.memoryLimit),
    memoryReservationMiB: memoryMiB(resources.memoryRequest),
    cpuShares: cpuShares(resources.cpuRequest),
    restart: "unless-stopped" as const,
    stopSignal: "SIGTERM" as const,
  };
}

/** The kubelet's probe timing: up to 30 s to start (checked every second), then every 5 s, unhealthy after 3 failures. */
function healthTiming() {
  return { intervalSeconds: 5, timeoutSeconds: 1, retries: 3, startPeriodSeconds: 30, startIntervalSeconds: 1 };
}

/**
 * `/ready` through Envoy's health listener. The Envoy image has bash but no curl, so the check
 * speaks HTTP over bash's /dev/tcp and reads the status line with builtins only.
 */
export function envoyHealthcheck(topology: Topology): DockerHealthcheck {
  const request = `GET ${READY_PATH} HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n`;
  const script =
    `exec 3<>/dev/tcp/127.0.0.1/${topology.ports.health} && printf '${request}' >&3 && ` +
    `read -r -t 1 status <&3 && [[ "$status" == "HTTP/1.1 200 "* ]]`;
  return { test: ["CMD", "/bin/bash", "-c", script], ...healthTiming() };
}

/** The app's `/healthz` on its health port; the demo app's image has node (and no curl or bash). */
export function appHealthcheck(topology: Topology): DockerHealthcheck {
  const url = `http://127.0.0.1:${topology.ports.appHealth}${APP_HEALTH_PATH}`;
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(900) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return { test: ["CMD", "/usr/local/bin/node", "-e", script], ...healthTiming() };
}

/**
 * Envoy exits at once on SIGTERM, dropping what it carries. Docker sends the stop signal to the
 * container's first process, so Envoy runs under this bash script: on SIGTERM it starts a
 * graceful drain through the admin API (the same request as the Kubernetes preStop hook), waits
 * `drainSeconds`, then passes SIGTERM on and exits with Envoy's status. The trap is set before
 * Envoy starts: a stop signal that came in between would otherwise be ignored (bash is the
 * container's PID 1, and the kernel drops a signal PID 1 has no handler for) until Docker's
 * SIGKILL. The handler names Envoy by `$!`, the last background job, which is Envoy from the
 * moment it is started (the drain starts none).
 */
export function envoyWrapperScript(topology: Topology, inboundOnlyDrain: boolean): string {
  const drain = drainCommand(topology.ports.admin, topology.envoy.drainSeconds, inboundOnlyDrain)[2];
  return [
    `drain() { ${drain}; }`,
    `trap 'drain; kill -TERM "$!"; wait "$!"; exit $?' TERM INT`,
    '"$0" "$@" &',
    'wait "$!"',
  ].join("\n");
}

/** The Envoy container's stop window: the drain, plus a margin for Envoy to exit. */
export function envoyStopGraceSeconds(topology: Topology): number {
  return topology.envoy.drainSeconds + GRACE_MARGIN_SECONDS;
}

/** The app's: it keeps serving `drainSeconds` after SIGTERM, then finishes in-flight requests. */
export function appStopGraceSeconds(topology: Topology): number {
  return topology.envoy.drainSeconds + APP_SHUTDOWN_SECONDS + GRACE_MARGIN_SECONDS;
}

/**
 * Linux refuses a single command-line argument longer than MAX_ARG_STRLEN (32 pages: 128 KiB on
 * 4 KiB pages; include/uapi/linux/binfmts.h), so a bootstrap passed inline must fit in it.
 */
export const MAX_INLINE_CONFIG_BYTES = 32 * 4096 - 1;
