import { load } from "js-yaml";
import { suggest } from "../checks/suggest";
import { ConfigError, IssueCollector, isPlainObject, show, type ConfigIssue } from "../topology/reader";
import { isPinnedImageRef, parseTopology, type ParseOptions, type Topology } from "../topology";
import type { MeshTarget } from "../k8s/objects";
import { dockerEnvoyTarget, type DockerTarget } from "../docker/target";
import type { EnvoyTarget } from "../envoy/proxies";
import { kubernetesEnvoyTarget } from "../k8s/mesh";
import { projectDefaults } from "./defaults";
import { parseObservability, type ObservabilitySettings } from "./observability";
import {
  CONFIG_KEYS,
  DNS_1123_SUBDOMAIN,
  SECRET_KEYS,
  TARGETS,
  TARGET_DESCRIPTORS,
  describeTarget,
  isKubernetesTarget,
  targetReads,
  targetsReading,
  type CertificateSources,
  type ClusterAccess,
  type ConfigKey,
  type DockerRuntimeTarget,
  type KubernetesProviderSettings,
  type KubernetesTarget,
  type RegistrySettings,
  type Target,
  type TargetSettingsReader,
} from "./targets";

export { CONFIG_KEYS, type CertificateSources, type EdgeCertificateSource, type MeshCaSource, type ClusterAccess, type ConfigKey, type KubernetesProviderSettings, type RegistrySettings } from "./targets";

/** A stack that deploys to a Kubernetes cluster (a target whose runtime is kubernetes). */
export interface KubernetesStackSettings {
  readonly target: KubernetesTarget;
  readonly cluster: ClusterAccess;
  /** What the Kubernetes provider gets: the cluster's kubeconfig (~ expanded) and context, as the target reads them. */
  readonly provider: KubernetesProviderSettings;
  readonly registry: RegistrySettings;
  readonly mesh: MeshTarget;
  readonly certificates: CertificateSources;
  readonly topology: Topology;
  /** Tracing (also in `mesh.tracing`, where the Envoy builders read it) and the kind add-ons. */
  readonly observability: ObservabilitySettings;
}

/** A stack that deploys to the local Docker engine (a target whose runtime is docker): no cluster, no registry. */
export interface DockerStackSettings {
  readonly target: DockerRuntimeTarget;
  readonly docker: DockerTarget;
  readonly certificates: CertificateSources;
  readonly topology: Topology;
  /** Tracing (also in `docker.tracing`, where the Envoy builders read it); the add-ons never run here. */
  readonly observability: ObservabilitySettings;
}

export type StackSettings = KubernetesStackSettings | DockerStackSettings;

/** The Envoy builders' view of the stack's target: how a caller names a service's replicas. */
export function envoyTargetOf(settings: StackSettings): EnvoyTarget {
  return isKubernetesStack(settings) ? kubernetesEnvoyTarget(settings.mesh) : dockerEnvoyTarget(settings.docker);
}

/** Whether the stack deploys to Kubernetes (the target's runtime), with the settings that only such stacks have. */
export function isKubernetesStack(settings: StackSettings): settings is KubernetesStackSettings {
  return describeTarget(settings.target).runtime === "kubernetes";
}

/**
 * Values Pulumi fills in from Pulumi.yaml on every stack: such a value on a target that does
 * not read the key was not set on purpose, so only another value is an error.
 */
const declaredDefaults = (): Partial<Record<ConfigKey, unknown>> => ({
  clusterDomain: projectDefaults().clusterDomain,
  kindClusterName: projectDefaults().kindClusterName,
  frontNodePort: projectDefaults().frontNodePort,
  frontTlsNodePort: projectDefaults().frontTlsNodePort,
});
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/**
 * A registry as `host[:port][/path]`, by the image name grammar of distribution/reference
 * (regexp.go: domainAndPort, then path components). The host must look like one (a dot, a port
 * or localhost, as normalize.go decides), or Docker would read it as a Docker Hub path.
 */
const REGISTRY_HOST = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
/** Kubernetes nodes run Linux; the architectures Docker and containerd name (containerd platforms). */
const PLATFORM = /^linux\/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)(\/v[0-9]+)?$/;

const keyPath = (key: string) => `${projectDefaults().project}:${key}`;

/**
 * Stack config arrives as strings from `pulumi config` and as typed YAML from a stack file;
 * both mean the same.
 */
function integerValue(value: unknown): unknown {
  return typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
}

/** The topology: a mapping (structured stack config), or YAML (or JSON) text. */
function objectValue(c: IssueCollector, value: unknown, path: string): unknown {
  if (typeof value !== "string") return value;
  try {
    const parsed = load(value);
    return isPlainObject(parsed) ? parsed : c.report(path, `expected a YAML mapping, got ${show(value)}`);
  } catch (error) {
    return c.report(path, `not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
}

function isSecretPlaceholder(value: unknown): boolean {
  return isPlainObject(value) && typeof value.secure === "string";
}

function isRegistry(value: string): boolean {
  const [host, ...path] = value.split("/");
  const looksLikeHost = host.includes(".") || host.includes(":") || host === "localhost";
  return value.length <= 255 && looksLikeHost && REGISTRY_HOST.test(host) && path.every((p) => PATH_COMPONENT.test(p));
}

function hasDigest(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

/** Pulumi passes booleans from `pulumi config set` as text; a stack file may hold real ones. */
function booleanValue(value: unknown): unknown {
  return value === "true" ? true : value === "false" ? false : value;
}

/** `unknown config key`, with the nearest known key when the key looks like a misspelling of one. */
function unknownKeyMessage(key: string): string {
  const near = suggest(key, CONFIG_KEYS);
  return `unknown config key${near === undefined ? "" : `; did you mean ${keyPath(near)}?`} (known: ${CONFIG_KEYS.join(", ")})`;
}

/**
 * Validates a stack's config (keys without the project prefix) and the topology in it; with
 * `projectDir`, also the topology's build contexts.
 * Throws one ConfigError listing every problem, each named by its config path.
 */
export function parseStackSettings(values: Readonly<Record<string, unknown>>, options: ParseOptions = {}): StackSettings {
  const defaults = projectDefaults();
  const c = new IssueCollector();
  for (const key of Object.keys(values)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      c.report(keyPath(key), unknownKeyMessage(key));
    }
  }
  // Pulumi.yaml declares "" as the default of optional keys, meaning "not set".
  const get = (key: ConfigKey) => (values[key] === "" ? undefined : values[key]);
  const target = get("target") === undefined ? defaults.target : c.oneOf(get("target"), keyPath("target"), TARGETS);
  for (const key of target === undefined ? [] : CONFIG_KEYS.filter((k) => !targetReads(target, k))) {
    const value = integerValue(get(key));
    if (value !== undefined && value !== declaredDefaults()[key]) {
      const readers = targetsReading(key);
      c.report(keyPath(key), `only applies to target${readers.length > 1 ? "s" : ""} ${readers.join(", ")}`);
    }
  }

  const optionalString = (key: ConfigKey): string | undefined =>
    get(key) === undefined ? undefined : c.string(get(key), keyPath(key));
  const namespace = optionalString("namespace") ?? defaults.namespace;
  if (!DNS_1123_LABEL.test(namespace)) c.report(keyPath("namespace"), `${show(namespace)} is not a valid namespace name (a DNS-1123 label)`);
  const clusterDomain = optionalString("clusterDomain") ?? defaults.clusterDomain;
  if (clusterDomain.length > 253 || !DNS_1123_SUBDOMAIN.test(clusterDomain)) {
    c.report(keyPath("clusterDomain"), `${show(clusterDomain)} is not a valid cluster domain (a DNS-1123 subdomain, such as cluster.local)`);
  }
  const allowTagOnly = get("allowTagOnlyEnvoyImage") === undefined ? false : booleanValue(get("allowTagOnlyEnvoyImage"));
  if (typeof allowTagOnly !== "boolean") c.report(keyPath("allowTagOnlyEnvoyImage"), `${show(allowTagOnly)} is not true or false`);
  const envoyImage = optionalString("envoyImage") ?? defaults.envoyImage;
  if (!isPinnedImageRef(envoyImage)) {
    c.report(keyPath("envoyImage"), `${show(envoyImage)} must pin an exact tag or digest (not latest), so every pod runs the same Envoy`);
  } else if (!hasDigest(envoyImage) && allowTagOnly !== true) {
    c.report(
      keyPath("envoyImage"),
      `${show(envoyImage)} pins a tag only, which can be moved to other content: add its digest (image:tag@sha256:...), or set ${keyPath("allowTagOnlyEnvoyImage")} to true`,
    );
  }
  const password = get("registryPassword");
  for (const [key, howToSet] of Object.entries(SECRET_KEYS)) {
    if (get(key as ConfigKey) !== undefined && !isSecretPlaceholder(get(key as ConfigKey))) c.report(keyPath(key), `must be a secret: set it with ${howToSet}`);
  }
  const platform = optionalString("platform");
  if (platform !== undefined && !PLATFORM.test(platform)) c.report(keyPath("platform"), `${show(platform)} is not a Linux platform such as linux/amd64 or linux/arm64`);

  const read: TargetSettingsReader = {
    report: (key, message) => c.report(keyPath(key), message),
    isSet: (key) => get(key) !== undefined,
    isSecret: (key) => isSecretPlaceholder(get(key)),
    optionalString,
    integer: (key, min, max, fallback) => (get(key) === undefined ? fallback : c.integer(integerValue(get(key)), keyPath(key), min, max)),
    namespace,
    envoyImage,
    ...(platform === undefined ? {} : { platform }),
    hasPassword: password !== undefined,
    defaults,
  };
  const observability =
    target === undefined
      ? undefined
      : parseObservability(c, get("observability") === undefined ? undefined : objectValue(c, get("observability"), keyPath("observability")), keyPath("observability"), {
          name: target,
          clusterDomain,
          defaults: describeTarget(target).observability,
        });
  // The target reads its own keys here, after the common ones, so problems are listed in that order.
  const targetPart = target === undefined ? undefined : readTarget(target, read, { namespace, clusterDomain, envoyImage }, observability);

  const server = get("registry");
  if (typeof server === "string" && !isRegistry(server)) {
    c.report(keyPath("registry"), `${show(server)} is not a registry host[:port][/path] (for example ghcr.io/acme or localhost:5001)`);
  }
  const topology = readTopology(c, get("topology"), options);
  const maxFront = target === undefined ? undefined : describeTarget(target).maxFrontReplicas;
  if (topology !== undefined && maxFront !== undefined && topology.front.replicas > maxFront) {
    c.report(keyPath("topology.front.replicas"), `${topology.front.replicas} is more than target ${target} can expose (at most ${maxFront}: one published host port, no load balancer)`);
  }
  const plainHttp = topology?.front.plainHttp;
  if (plainHttp !== undefined && plainHttp !== "serve" && targetPart?.certificates.edge.kind === "none") {
    c.report(
      keyPath("topology.front.plainHttp"),
      `${show(plainHttp)} needs HTTPS at the edge, and this stack has no edge certificate: set ${keyPath("edgeCertificate")} and ${keyPath("edgePrivateKey")}, or ${keyPath("edgeCertificateSecret")}, or keep "serve"`,
    );
  }
  if (c.issues.length > 0 || topology === undefined || targetPart === undefined || observability === undefined) throw new ConfigError(c.issues, "invalid stack configuration");
  return { ...targetPart, topology, observability };
}

type TargetPart = Omit<KubernetesStackSettings, "topology" | "observability"> | Omit<DockerStackSettings, "topology" | "observability">;

/**
 * A target's own settings, read by its descriptor, in its runtime's shape; undefined when it
 * reported a problem. The only branch here is on the runtime, never on a target's name.
 */
function readTarget(target: Target, read: TargetSettingsReader, common: Omit<MeshTarget, "front" | "tracing">, observability: ObservabilitySettings | undefined): TargetPart | undefined {
  const tracing = observability?.tracing === undefined ? {} : { tracing: observability.tracing };
  if (isKubernetesTarget(target)) {
    const kube = TARGET_DESCRIPTORS[target].settings(read);
    return kube && {
      target,
      cluster: kube.cluster,
      provider: kube.provider,
      registry: kube.registry,
      certificates: kube.certificates,
      mesh: { ...common, front: kube.front, ...(kube.edgeHttpsPort === undefined ? {} : { edgeHttpsPort: kube.edgeHttpsPort }), ...tracing },
    };
  }
  const docker = TARGET_DESCRIPTORS[target].settings(read);
  return docker && { target, docker: { ...docker.docker, ...tracing }, certificates: docker.certificates };
}

function readTopology(c: IssueCollector, value: unknown, options: ParseOptions): Topology | undefined {
  const raw = value === undefined ? undefined : objectValue(c, value, keyPath("topology"));
  if (value !== undefined && raw === undefined) return undefined;
  try {
    return parseTopology(raw, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    error.issues.forEach((issue: ConfigIssue) => c.report(`${projectDefaults().project}:${issue.path}`, issue.message));
    return undefined;
  }
}
