import { load } from "js-yaml";
import { suggest } from "../checks/suggest";
import { ConfigError, IssueCollector, isPlainObject, show, type ConfigIssue } from "../topology/reader";
import { isPinnedImageRef, parseTopology, type ParseOptions, type Topology } from "../topology";
import type { FrontExposure, MeshTarget } from "../k8s/objects";
import type { DockerTarget } from "../docker/target";
import { DEFAULT_KIND_REGISTRY, projectDefaults } from "./defaults";
import {
  CONFIG_KEYS,
  LOCAL_FRONT_HOST_IP,
  LOCAL_FRONT_HOST_PORT,
  TARGETS,
  describeTarget,
  targetReads,
  targetsReading,
  type ConfigKey,
  type Target,
  type TargetDescriptor,
} from "./targets";

export { CONFIG_KEYS, type ConfigKey } from "./targets";

/** Which Kubernetes cluster the provider talks to. */
export type ClusterAccess =
  | { readonly target: "kind"; readonly clusterName: string; readonly context: string }
  | { readonly target: "cloud"; readonly kubeconfig?: string; readonly context?: string };

/** Where built images are pushed, how pods pull them, and the platform they are built for. */
export interface RegistrySettings {
  /** Registry host (and optional path), for example `localhost:5001` or `ghcr.io/acme`. */
  readonly server: string;
  readonly username?: string;
  /** Whether `registryPassword` is set; its value is read as a Pulumi secret, never here. */
  readonly hasPassword: boolean;
  /**
   * Platform (`os/arch[/variant]`) app images are built for; undefined on kind when the stack sets
   * none, meaning the Docker engine's own platform (the one the kind nodes run on).
   */
  readonly platform?: string;
}

/** A stack that deploys to a Kubernetes cluster (kind or cloud). */
export interface KubernetesStackSettings {
  readonly target: Extract<Target, "kind" | "cloud">;
  readonly cluster: ClusterAccess;
  readonly registry: RegistrySettings;
  readonly mesh: MeshTarget;
  readonly topology: Topology;
}

/** A stack that deploys to the local Docker engine: no cluster, no registry. */
export interface DockerStackSettings {
  readonly target: "docker";
  readonly docker: DockerTarget;
  readonly topology: Topology;
}

export type StackSettings = KubernetesStackSettings | DockerStackSettings;

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
});
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Kubernetes' IsDNS1123Subdomain (apimachinery validation.go): labels joined by dots, at most 253 characters. */
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/**
 * A registry as `host[:port][/path]`, by the image name grammar of distribution/reference
 * (regexp.go: domainAndPort, then path components). The host must look like one (a dot, a port
 * or localhost, as normalize.go decides), or Docker would read it as a Docker Hub path.
 */
const REGISTRY_HOST = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
/** kind's cluster names: pkg/internal/apis/config/validate.go validNameRE, and create.go clusterNameMax. */
const KIND_CLUSTER_NAME = /^[a-z0-9.-]+$/;
const KIND_CLUSTER_NAME_MAX = 50;
/** Kubernetes nodes run Linux; the architectures Docker and containerd name (containerd platforms). */
const PLATFORM = /^linux\/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)(\/v[0-9]+)?$/;
const NODE_PORT_RANGE = [30000, 32767] as const;

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
  if (password !== undefined && !isSecretPlaceholder(password)) {
    c.report(keyPath("registryPassword"), "must be a secret: set it with pulumi config set --secret registryPassword <token>");
  }
  const platform = optionalString("platform");
  if (platform !== undefined && !PLATFORM.test(platform)) c.report(keyPath("platform"), `${show(platform)} is not a Linux platform such as linux/amd64 or linux/arm64`);

  let cluster: ClusterAccess | undefined;
  let front: FrontExposure | undefined;
  let registry: RegistrySettings | undefined;
  let docker: DockerTarget | undefined;
  if (target === "docker") {
    docker = {
      name: namespace,
      envoyImage,
      front: { hostIp: LOCAL_FRONT_HOST_IP, hostPort: LOCAL_FRONT_HOST_PORT },
      ...(platform === undefined ? {} : { platform }),
    };
  } else if (target === "kind") {
    const clusterName = optionalString("kindClusterName") ?? defaults.kindClusterName;
    if (!KIND_CLUSTER_NAME.test(clusterName) || clusterName.length > KIND_CLUSTER_NAME_MAX) {
      c.report(keyPath("kindClusterName"), `${show(clusterName)} is not a valid kind cluster name (lowercase letters, digits, "." and "-", at most ${KIND_CLUSTER_NAME_MAX} characters)`);
    }
    const nodePort =
      get("frontNodePort") === undefined
        ? defaults.frontNodePort
        : c.integer(integerValue(get("frontNodePort")), keyPath("frontNodePort"), ...NODE_PORT_RANGE);
    cluster = { target, clusterName, context: `kind-${clusterName}` };
    front = nodePort === undefined ? undefined : { type: "NodePort", nodePort };
    registry = { server: optionalString("registry") ?? DEFAULT_KIND_REGISTRY, hasPassword: false, ...(platform === undefined ? {} : { platform }) };
  } else if (target === "cloud") {
    cluster = { target, kubeconfig: optionalString("kubeconfig"), context: optionalString("kubeContext") };
    front = { type: "LoadBalancer" };
    const server =
      get("registry") === undefined
        ? c.report(keyPath("registry"), "required for target cloud: the registry images are pushed to, e.g. ghcr.io/acme")
        : c.string(get("registry"), keyPath("registry"));
    if (server !== undefined) {
      registry = { server, username: optionalString("registryUsername"), hasPassword: password !== undefined, platform: platform ?? describeTarget(target).defaultPlatform };
    }
  }

  const server = get("registry");
  if (typeof server === "string" && !isRegistry(server)) {
    c.report(keyPath("registry"), `${show(server)} is not a registry host[:port][/path] (for example ghcr.io/acme or localhost:5001)`);
  }
  const topology = readTopology(c, get("topology"), options);
  const maxFront = target === undefined ? undefined : (describeTarget(target) as TargetDescriptor).maxFrontReplicas;
  if (topology !== undefined && maxFront !== undefined && topology.front.replicas > maxFront) {
    c.report(keyPath("topology.front.replicas"), `${topology.front.replicas} is more than target ${target} can expose (at most ${maxFront}: one published host port, no load balancer)`);
  }
  if (c.issues.length > 0 || topology === undefined || target === undefined) throw new ConfigError(c.issues, "invalid stack configuration");
  if (target === "docker" && docker !== undefined) return { target, docker, topology };
  if (target !== "docker" && cluster !== undefined && front !== undefined && registry !== undefined) {
    return { target, cluster, registry, mesh: { namespace, clusterDomain, envoyImage, front }, topology };
  }
  throw new ConfigError(c.issues, "invalid stack configuration");
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
