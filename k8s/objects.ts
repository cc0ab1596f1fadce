import { createHash } from "node:crypto";
import { SERVICE_VERSION_ENV, upstreamUrlEnvVar } from "../app/names";
import { APP_HEALTH_PATH } from "../envoy/names";
import type { EnvoyTracing } from "../envoy/proxies";
import { FRONT_PROXY_NAME, versionWorkloadName, type MeshService, type ServiceVersion, type Topology } from "../topology";
import { MANAGED_BY, PART_OF, meshLabels, selectorLabels, type Component } from "./labels";
import type { Input } from "@pulumi/pulumi";
import type {
  ConfigMapManifest,
  DeploymentManifest,
  DockerConfigSecretManifest,
  NamespaceManifest,
  PodDisruptionBudgetManifest,
  ServiceAccountManifest,
  ServiceManifest,
} from "./manifest";
import {
  APP_CONTAINER,
  APP_HEALTH_PORT_NAME,
  APP_PRE_STOP_SECONDS,
  APP_SHUTDOWN_SECONDS,
  CALLER_DISCOVERY_SECONDS,
  APP_UID,
  ENVOY_CONFIG_FILE,
  ENVOY_INGRESS_PORT_NAME,
  ENVOY_UID,
  FRONT_PORT_NAME,
  FRONT_TLS_PORT_NAME,
  ROLLING_UPDATE,
  containerResources,
  containerSecurityContext,
  envoyConfigVolume,
  envoyContainer,
  envoyXdsVolume,
  frontPodGraceSeconds,
  httpProbes,
  podSecurityContext,
  scrapeAnnotations,
  servicePodGraceSeconds,
  spreadAcrossNodes,
  type ImageInput,
} from "./pod";
import { EDGE_MOUNT, IDENTITY_MOUNT, edgeVolume, identityVolume } from "./secrets";

/** How the Front Envoy is exposed: a NodePort mapped to the host on kind, a load balancer in a cloud. */
export type FrontExposure =
  | {
      readonly type: "NodePort";
      /** Node port of plain HTTP. */
      readonly nodePort: number;
      /** Node port of HTTPS. */
      readonly tlsNodePort: number;
    }
  | { readonly type: "LoadBalancer" };

/** Where and how the mesh is deployed; everything the topology does not say. */
export interface MeshTarget {
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Envoy image with an exact tag. */
  readonly envoyImage: string;
  readonly front: FrontExposure;
  /** Where clients reach the front proxy's HTTPS (EnvoyTarget.edgeHttpsPort); undefined: the edge has no certificate. */
  readonly edgeHttpsPort?: number;
  /** Where every proxy sends its spans (EnvoyTarget.tracing); undefined: no tracing. */
  readonly tracing?: EnvoyTracing;
}

export const FRONT_SERVICE_PORT = 80;
export const FRONT_TLS_SERVICE_PORT = 443;
const CONFIG_HASH_LENGTH = 10;
/**
 * Old ReplicaSets kept for `kubectl rollout undo`: none. Each one mounts the content-named
 * ConfigMap of its revision, which `pulumi up` deletes once the new revision is rolled out, so an
 * undo would start pods that wait forever for a missing volume; and it would leave the cluster
 * out of step with the stack. Roll back by reverting the stack's config and running `pulumi up`.
 */
export const REVISION_HISTORY_LIMIT = 0;

/** `labelName` is the proxy an object belongs to, when the object's own name differs; `version`, the version it runs. */
function metadata(name: string, namespace: string, component: Component, labelName = name, version?: string) {
  return { name, namespace, labels: meshLabels(labelName, component, version) };
}

/** Name of the objects of one workload of a service: the service's, or `<service>-<version>`. */
function workloadName(service: string, version?: ServiceVersion): string {
  return version === undefined ? service : versionWorkloadName(service, version.name);
}

function componentOf(proxy: string): Component {
  return proxy === FRONT_PROXY_NAME ? "front-proxy" : "service";
}

/** Pods of the mesh may only run under the "restricted" Pod Security Standard. */
export function buildNamespace(name: string): NamespaceManifest {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      },
    },
  };
}

/**
 * One identity per proxy; no pod of the mesh talks to the Kubernetes API, so no token is mounted.
 * `pullSecret` names the registry credentials; the ServiceAccount admission plugin copies it into
 * every pod of the account, so pods of a private registry can pull their images.
 */
export function buildServiceAccount(proxy: string, namespace: string, pullSecret?: string): ServiceAccountManifest {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: metadata(proxy, namespace, componentOf(proxy)),
    automountServiceAccountToken: false,
    ...(pullSecret !== undefined ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
  };
}

/** The pull Secret has one fixed name, so that every ServiceAccount can name it up front. */
export const REGISTRY_PULL_SECRET_NAME = `${PART_OF}-registry`;
/** Marks a pull Secret whose credential is a stand-in (rendered output never sees the password). */
export const PLACEHOLDER_ANNOTATION = `${PART_OF}/placeholder`;

export interface RegistryCredentials {
  /** Registry host and optional path, as images are named: `ghcr.io/acme`. */
  readonly server: string;
  readonly username: string;
  readonly password: string;
}

/**
 * `.dockerconfigjson` content, base64-encoded as a Secret's `data` holds it. The API server only
 * requires well-formed JSON (kubernetes/kubernetes pkg/apis/core/validation/validation.go,
 * ValidateSecret); the kubelet reads `auths` keyed by registry, each with username, password and
 * `auth` = base64(username:password) (pkg/credentialprovider/config.go), and matches a key with a
 * path as a prefix of the image name (pkg/credentialprovider/keyring.go), so the key is the
 * configured server, path included: these credentials are offered for the mesh's images only.
 */
export function encodeDockerConfigJson(credentials: RegistryCredentials): string {
  const { server, username, password } = credentials;
  const auth = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
  const config = { auths: { [server]: { username, password, auth } } };
  return Buffer.from(JSON.stringify(config), "utf8").toString("base64");
}

/**
 * The Secret pods pull the mesh's images with. `dockerConfigJson` is the output of
 * `encodeDockerConfigJson`, or an Output of it so that the password stays a Pulumi secret.
 */
export function buildRegistryPullSecret(
  namespace: string,
  dockerConfigJson: Input<string>,
  annotations?: Readonly<Record<string, string>>,
): DockerConfigSecretManifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: REGISTRY_PULL_SECRET_NAME,
      namespace,
      labels: { "app.kubernetes.io/name": REGISTRY_PULL_SECRET_NAME, "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": MANAGED_BY },
      ...(annotations !== undefined ? { annotations } : {}),
    },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": dockerConfigJson },
  };
}

/**
 * Most a ConfigMap may hold: the API server adds up the bytes of every value of `data` and
 * `binaryData` and refuses more than MaxSecretSize (kubernetes/kubernetes
 * pkg/apis/core/validation/validation.go, ValidateConfigMap).
 */
export const CONFIG_MAP_MAX_BYTES = 1024 * 1024;

/** The bytes of a ConfigMap's data as the API server counts them. */
export function configMapDataBytes(data: Readonly<Record<string, string>>): number {
  return Object.values(data).reduce((sum, value) => sum + Buffer.byteLength(value, "utf8"), 0);
}

/** Why `data` does not fit in one ConfigMap of `proxy` (`what`: "bootstrap" or "xDS"), or undefined. */
export function configMapSizeProblem(proxy: string, what: string, data: Readonly<Record<string, string>>): string | undefined {
  const bytes = configMapDataBytes(data);
  if (bytes <= CONFIG_MAP_MAX_BYTES) return undefined;
  const largest = Object.entries(data).sort(([, a], [, b]) => Buffer.byteLength(b) - Buffer.byteLength(a))[0];
  return (
    `the ${what} ConfigMap of proxy ${proxy} would hold ${bytes} bytes, more than the ${CONFIG_MAP_MAX_BYTES} bytes the API server accepts ` +
    `(largest file: ${largest[0]}, ${Buffer.byteLength(largest[1])} bytes); reduce its routes or upstreams`
  );
}

function checkedData(proxy: string, what: string, data: Record<string, string>): Record<string, string> {
  const problem = configMapSizeProblem(proxy, what, data);
  if (problem !== undefined) throw new Error(problem);
  return data;
}

/**
 * The bootstrap ConfigMap. Envoy never re-reads its bootstrap, so the ConfigMap is named after
 * its content: a bootstrap change gives a new name, which changes the pod template and rolls the
 * pods; the same bootstrap gives the same name and changes nothing. It holds only `envoy.json`:
 * everything a topology change touches is in the xDS ConfigMap.
 */
export function buildEnvoyConfigMap(proxy: string, namespace: string, envoyBootstrap: string): ConfigMapManifest {
  const hash = createHash("sha256").update(envoyBootstrap).digest("hex").slice(0, CONFIG_HASH_LENGTH);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(`${proxy}-envoy-${hash}`, namespace, componentOf(proxy), proxy),
    immutable: true,
    data: checkedData(proxy, "bootstrap", { [ENVOY_CONFIG_FILE]: envoyBootstrap }),
  };
}

/** The xDS ConfigMap's name: the same whatever its content, so pods never learn of a change to it. */
export function xdsConfigMapName(proxy: string): string {
  return `${proxy}-xds`;
}

/**
 * The xDS ConfigMap: every LDS, CDS, RDS and SDS file of the proxy (`xdsFiles`, by file name, as
 * JSON), mounted at XDS_DIR. Its name is stable and it is not immutable, so a route, weight,
 * timeout, retry or upstream change updates it in place; the kubelet swaps the files atomically
 * and every running Envoy reloads them, with no pod restart. The SDS files only name the
 * certificate files: a renewed certificate changes a Secret, never this ConfigMap.
 */
export function buildXdsConfigMap(proxy: string, namespace: string, xdsFiles: Readonly<Record<string, string>>): ConfigMapManifest {
  const data = Object.fromEntries(Object.keys(xdsFiles).sort().map((file) => [file, xdsFiles[file]]));
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(xdsConfigMapName(proxy), namespace, componentOf(proxy), proxy),
    // Said outright: Pulumi's Kubernetes provider replaces an immutable ConfigMap on any data
    // change, even with enableConfigMapMutable (provider/pkg/provider/forcenew.go in pulumi/pulumi-kubernetes).
    immutable: false,
    data: checkedData(proxy, "xDS", data),
  };
}

/** Environment of the demo app: where it listens, the local URL of each upstream, how it drains; its version, if it has one. */
export function appEnvironment(service: MeshService, topology: Topology, version?: ServiceVersion) {
  return [
    { name: "SERVICE_NAME", value: service.name },
    ...(version !== undefined ? [{ name: SERVICE_VERSION_ENV, value: version.name }] : []),
    { name: "HOST", value: "127.0.0.1" },
    { name: "PORT", value: String(service.appPort) },
    { name: "UPSTREAMS", value: service.upstreams.map((u) => u.service).join(",") },
    ...service.upstreams.map((u) => ({ name: upstreamUrlEnvVar(u.service), value: `http://127.0.0.1:${u.egressPort}` })),
    { name: "HEALTH_PORT", value: String(topology.ports.appHealth) },
    { name: "DRAIN_MS", value: String(topology.envoy.drainSeconds * 1000) },
    { name: "SHUTDOWN_TIMEOUT_MS", value: String(APP_SHUTDOWN_SECONDS * 1000) },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ];
}

export interface ServiceDeploymentOptions {
  readonly topology: Topology;
  readonly service: MeshService;
  readonly target: MeshTarget;
  /** The bootstrap ConfigMap (content-named). */
  readonly configMapName: string;
  /** The xDS ConfigMap (stable name). */
  readonly xdsConfigMapName: string;
  /** Image reference of the app, by digest once built. */
  readonly appImage: ImageInput;
  /** Mount the proxy's identity Secret (IDENTITY_DIR) into its Envoy: `security.mtls` is `strict`. */
  readonly mountIdentity: boolean;
  /** The version this Deployment runs (its replicas, labels and name `<service>-<version>`); none for a service without versions. */
  readonly version?: ServiceVersion;
}

/**
 * The app plus its Envoy sidecar. Envoy is a native sidecar (an init container that keeps
 * running), so it is ready before the app starts and stops only after the app has exited.
 */
export function buildServiceDeployment(options: ServiceDeploymentOptions): DeploymentManifest {
  const { topology, service, target, version } = options;
  const selector = selectorLabels(service.name, version?.name);
  const replicas = version?.replicas ?? service.replicas;
  const sidecar = {
    ...envoyContainer({
      proxy: service.name,
      image: target.envoyImage,
      topology,
      resources: service.resources.envoy,
      servingPorts: [{ name: ENVOY_INGRESS_PORT_NAME, port: topology.ports.ingress }],
      certificateMounts: options.mountIdentity ? [IDENTITY_MOUNT] : [],
      inboundOnlyDrain: true,
    }),
    restartPolicy: "Always",
  };
  const app = {
    name: APP_CONTAINER,
    image: options.appImage,
    imagePullPolicy: "IfNotPresent",
    env: appEnvironment(service, topology, version),
    ports: [{ name: APP_HEALTH_PORT_NAME, containerPort: topology.ports.appHealth, protocol: "TCP" }],
    resources: containerResources(service.resources.app),
    securityContext: containerSecurityContext(APP_UID),
    // The app serves on 127.0.0.1 only; the kubelet probes its health port on the pod IP, so a
    // sidecar restart does not fail the app's probes and probes never pass through Envoy.
    ...httpProbes(APP_HEALTH_PATH, APP_HEALTH_PORT_NAME),
    lifecycle: { preStop: { sleep: { seconds: APP_PRE_STOP_SECONDS } } },
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(workloadName(service.name, version), target.namespace, "service", service.name, version?.name),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      revisionHistoryLimit: REVISION_HISTORY_LIMIT,
      strategy: ROLLING_UPDATE,
      // Old pods stop only once every caller can know and has health-checked the new one.
      minReadySeconds: CALLER_DISCOVERY_SECONDS,
      template: {
        metadata: { labels: meshLabels(service.name, "service", version?.name), annotations: scrapeAnnotations(topology.ports.health) },
        spec: {
          serviceAccountName: service.name,
          automountServiceAccountToken: false,
          // Service links would add a variable per Service in the namespace to every container.
          enableServiceLinks: false,
          securityContext: podSecurityContext(options.mountIdentity ? ENVOY_UID : undefined),
          terminationGracePeriodSeconds: servicePodGraceSeconds(topology),
          initContainers: [sidecar],
          containers: [app],
          volumes: [
            envoyConfigVolume(options.configMapName),
            envoyXdsVolume(options.xdsConfigMapName),
            ...(options.mountIdentity ? [identityVolume(service.name)] : []),
          ],
          ...spreadAcrossNodes(replicas, selector),
        },
      },
    },
  };
}

/**
 * Headless: DNS returns every ready pod IP, and the callers' Envoys balance across them. The
 * port is the sidecar's ingress, never the app's.
 */
export function buildHeadlessService(service: MeshService, topology: Topology, namespace: string, version?: ServiceVersion): ServiceManifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(workloadName(service.name, version), namespace, "service", service.name, version?.name),
    spec: {
      clusterIP: "None",
      selector: selectorLabels(service.name, version?.name),
      ports: [
        { name: "http", port: topology.ports.ingress, targetPort: ENVOY_INGRESS_PORT_NAME, protocol: "TCP", appProtocol: "http" },
      ],
    },
  };
}

export interface FrontDeploymentOptions {
  readonly topology: Topology;
  readonly target: MeshTarget;
  /** The bootstrap ConfigMap (content-named). */
  readonly configMapName: string;
  /** The xDS ConfigMap (stable name). */
  readonly xdsConfigMapName: string;
  /** Mount the front proxy's identity Secret (IDENTITY_DIR): `security.mtls` is `strict`. */
  readonly mountIdentity: boolean;
  /** The Secret holding the edge certificate (EDGE_DIR), when the edge serves HTTPS. */
  readonly edgeSecretName?: string;
}

/** Whether the front proxy has a plain HTTP listener (`front.plainHttp` serve or redirect). */
function servesPlainHttp(plainHttp: Topology["front"]["plainHttp"]): boolean {
  return plainHttp !== "off";
}

export function buildFrontDeployment(options: FrontDeploymentOptions): DeploymentManifest {
  const { topology, target } = options;
  const selector = selectorLabels(FRONT_PROXY_NAME);
  const envoy = envoyContainer({
    proxy: FRONT_PROXY_NAME,
    image: target.envoyImage,
    topology,
    resources: topology.front.resources,
    servingPorts: [
      ...(servesPlainHttp(topology.front.plainHttp) ? [{ name: FRONT_PORT_NAME, port: topology.ports.front }] : []),
      ...(target.edgeHttpsPort !== undefined ? [{ name: FRONT_TLS_PORT_NAME, port: topology.ports.frontTls }] : []),
    ],
    certificateMounts: [...(options.mountIdentity ? [IDENTITY_MOUNT] : []), ...(options.edgeSecretName !== undefined ? [EDGE_MOUNT] : [])],
    inboundOnlyDrain: false,
  });
  const mountsSecrets = options.mountIdentity || options.edgeSecretName !== undefined;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(FRONT_PROXY_NAME, target.namespace, "front-proxy"),
    spec: {
      replicas: topology.front.replicas,
      selector: { matchLabels: selector },
      revisionHistoryLimit: REVISION_HISTORY_LIMIT,
      strategy: ROLLING_UPDATE,
      template: {
        metadata: { labels: meshLabels(FRONT_PROXY_NAME, "front-proxy"), annotations: scrapeAnnotations(topology.ports.health) },
        spec: {
          serviceAccountName: FRONT_PROXY_NAME,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(mountsSecrets ? ENVOY_UID : undefined),
          terminationGracePeriodSeconds: frontPodGraceSeconds(topology),
          containers: [envoy],
          volumes: [
            envoyConfigVolume(options.configMapName),
            envoyXdsVolume(options.xdsConfigMapName),
            ...(options.mountIdentity ? [identityVolume(FRONT_PROXY_NAME)] : []),
            ...(options.edgeSecretName !== undefined ? [edgeVolume(options.edgeSecretName)] : []),
          ],
          ...spreadAcrossNodes(topology.front.replicas, selector),
        },
      },
    },
  };
}

/**
 * Where external traffic may go. `Cluster` lets any node forward to a front pod on another node,
 * and kube-proxy then rewrites the source to the node's own address, so Envoy (which takes the
 * TCP peer as the client: `use_remote_address`, no trusted hops) would log the node, not the
 * client. `Local` keeps the client address: a cloud load balancer sends only to nodes that run a
 * front pod (they pass its health check on `healthCheckNodePort`). On kind the node port is
 * published on the host's 127.0.0.1 only, so the client is always the host; `Cluster` keeps
 * it working if worker nodes are added, whichever node the front pod lands on.
 */
export function frontTrafficPolicy(front: FrontExposure): "Cluster" | "Local" {
  return front.type === "LoadBalancer" ? "Local" : "Cluster";
}

/**
 * Port 80 to the plain listener (unless `front.plainHttp` is off) and 443 to the HTTPS listener
 * (when the edge has a certificate); fixed NodePorts on kind (mapped to the host), a load
 * balancer elsewhere.
 */
export function buildFrontService(target: MeshTarget, plainHttp: Topology["front"]["plainHttp"] = "serve"): ServiceManifest {
  const nodePorts = target.front.type === "NodePort" ? target.front : undefined;
  const ports = [
    ...(servesPlainHttp(plainHttp)
      ? [{ name: FRONT_PORT_NAME, port: FRONT_SERVICE_PORT, targetPort: FRONT_PORT_NAME, protocol: "TCP", appProtocol: "http", ...(nodePorts ? { nodePort: nodePorts.nodePort } : {}) }]
      : []),
    ...(target.edgeHttpsPort !== undefined
      ? [{ name: FRONT_TLS_PORT_NAME, port: FRONT_TLS_SERVICE_PORT, targetPort: FRONT_TLS_PORT_NAME, protocol: "TCP", appProtocol: "https", ...(nodePorts ? { nodePort: nodePorts.tlsNodePort } : {}) }]
      : []),
  ];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(FRONT_PROXY_NAME, target.namespace, "front-proxy"),
    spec: {
      type: target.front.type,
      externalTrafficPolicy: frontTrafficPolicy(target.front),
      selector: selectorLabels(FRONT_PROXY_NAME),
      ports,
    },
  };
}

/** With more than one replica, voluntary disruptions (node drains) take one pod at a time. */
export function buildPodDisruptionBudget(proxy: string, namespace: string, replicas: number, version?: ServiceVersion): PodDisruptionBudgetManifest | undefined {
  if (replicas <= 1) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadata(workloadName(proxy, version), namespace, componentOf(proxy), proxy, version?.name),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(proxy, version?.name) } },
  };
}
