import { load } from "js-yaml";
import { ConfigError, IssueCollector, isPlainObject, show, type ConfigIssue } from "../topology/reader";
import { isPinnedImageRef, parseTopology, type ParseOptions, type Topology } from "../topology";
import type { FrontExposure, MeshTarget } from "../k8s/objects";
import {
  DEFAULT_CLUSTER_DOMAIN,
  DEFAULT_ENVOY_IMAGE,
  DEFAULT_FRONT_NODE_PORT,
  DEFAULT_KIND_CLUSTER_NAME,
  DEFAULT_KIND_REGISTRY,
  DEFAULT_NAMESPACE,
  DEFAULT_TARGET,
  PROJECT,
  TARGETS,
  type Target,
} from "./defaults";

/** Which Kubernetes cluster the provider talks to. */
export type ClusterAccess =
  | { readonly target: "kind"; readonly clusterName: string; readonly context: string }
  | { readonly target: "cloud"; readonly kubeconfig?: string; readonly context?: string };

/** Where built images are pushed, and how pods pull them. */
export interface RegistrySettings {
  /** Registry host (and optional path), for example `localhost:5001` or `ghcr.io/acme`. */
  readonly server: string;
  readonly username?: string;
  /** Whether `registryPassword` is set; its value is read as a Pulumi secret, never here. */
  readonly hasPassword: boolean;
}

export interface StackSettings {
  readonly target: Target;
  readonly cluster: ClusterAccess;
  readonly registry: RegistrySettings;
  readonly mesh: MeshTarget;
  readonly topology: Topology;
}

/** Config keys of this project, without the `envoy-mesh:` prefix. */
export const CONFIG_KEYS = [
  "target",
  "namespace",
  "clusterDomain",
  "envoyImage",
  "kindClusterName",
  "frontNodePort",
  "kubeconfig",
  "kubeContext",
  "registry",
  "registryUsername",
  "registryPassword",
  "topology",
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

const KIND_ONLY: readonly ConfigKey[] = ["kindClusterName", "frontNodePort"];
const CLOUD_ONLY: readonly ConfigKey[] = ["kubeconfig", "kubeContext", "registryUsername", "registryPassword"];
const TARGET_KEY_DEFAULTS: Partial<Record<ConfigKey, unknown>> = {
  kindClusterName: DEFAULT_KIND_CLUSTER_NAME,
  frontNodePort: DEFAULT_FRONT_NODE_PORT,
};
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NODE_PORT_RANGE = [30000, 32767] as const;

const keyPath = (key: string) => `${PROJECT}:${key}`;

/**
 * Stack config arrives as strings from `pulumi config` and as typed YAML from a stack file;
 * both mean the same.
 */
function integerValue(value: unknown): unknown {
  return typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
}

/** Pulumi project config has no object type, so the topology is YAML (or JSON) text. */
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

/**
 * Validates a stack's config (keys without the project prefix) and the topology in it; with
 * `projectDir`, also the topology's build contexts.
 * Throws one ConfigError listing every problem, each named by its config path.
 */
export function parseStackSettings(values: Readonly<Record<string, unknown>>, options: ParseOptions = {}): StackSettings {
  const c = new IssueCollector();
  for (const key of Object.keys(values)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      c.report(keyPath(key), `unknown config key (known: ${CONFIG_KEYS.join(", ")})`);
    }
  }
  // Pulumi.yaml declares "" as the default of optional keys, meaning "not set".
  const get = (key: ConfigKey) => (values[key] === "" ? undefined : values[key]);
  const target = get("target") === undefined ? DEFAULT_TARGET : c.oneOf(get("target"), keyPath("target"), TARGETS);
  const otherTarget = target === "kind" ? CLOUD_ONLY : target === "cloud" ? KIND_ONLY : [];
  for (const key of otherTarget) {
    // Pulumi fills in declared defaults, so only a value other than the default was set on purpose.
    const value = integerValue(get(key));
    if (value !== undefined && value !== TARGET_KEY_DEFAULTS[key]) {
      c.report(keyPath(key), `only applies to target ${target === "kind" ? "cloud" : "kind"}`);
    }
  }

  const optionalString = (key: ConfigKey): string | undefined =>
    get(key) === undefined ? undefined : c.string(get(key), keyPath(key));
  const namespace = optionalString("namespace") ?? DEFAULT_NAMESPACE;
  if (!DNS_1123_LABEL.test(namespace)) c.report(keyPath("namespace"), `${show(namespace)} is not a valid namespace name (a DNS-1123 label)`);
  const clusterDomain = optionalString("clusterDomain") ?? DEFAULT_CLUSTER_DOMAIN;
  const envoyImage = optionalString("envoyImage") ?? DEFAULT_ENVOY_IMAGE;
  if (!isPinnedImageRef(envoyImage)) {
    c.report(keyPath("envoyImage"), `${show(envoyImage)} must pin an exact tag or digest (not latest), so every pod runs the same Envoy`);
  }
  if (get("registryPassword") !== undefined && typeof get("registryPassword") !== "string" && !isSecretPlaceholder(get("registryPassword"))) {
    c.report(keyPath("registryPassword"), "expected a secret string (pulumi config set --secret registryPassword ...)");
  }

  let cluster: ClusterAccess | undefined;
  let front: FrontExposure | undefined;
  let registry: RegistrySettings | undefined;
  if (target === "kind") {
    const clusterName = optionalString("kindClusterName") ?? DEFAULT_KIND_CLUSTER_NAME;
    const nodePort =
      get("frontNodePort") === undefined
        ? DEFAULT_FRONT_NODE_PORT
        : c.integer(integerValue(get("frontNodePort")), keyPath("frontNodePort"), ...NODE_PORT_RANGE);
    cluster = { target, clusterName, context: `kind-${clusterName}` };
    front = nodePort === undefined ? undefined : { type: "NodePort", nodePort };
    registry = { server: optionalString("registry") ?? DEFAULT_KIND_REGISTRY, hasPassword: false };
  } else if (target === "cloud") {
    cluster = { target, kubeconfig: optionalString("kubeconfig"), context: optionalString("kubeContext") };
    front = { type: "LoadBalancer" };
    const server =
      get("registry") === undefined
        ? c.report(keyPath("registry"), "required for target cloud: the registry images are pushed to, e.g. ghcr.io/acme")
        : c.string(get("registry"), keyPath("registry"));
    if (server !== undefined) {
      registry = { server, username: optionalString("registryUsername"), hasPassword: get("registryPassword") !== undefined };
    }
  }

  const topology = readTopology(c, get("topology"), options);
  if (c.issues.length > 0 || cluster === undefined || front === undefined || registry === undefined || topology === undefined || target === undefined) {
    throw new ConfigError(c.issues, "invalid stack configuration");
  }
  return { target, cluster, registry, mesh: { namespace, clusterDomain, envoyImage, front }, topology };
}

function readTopology(c: IssueCollector, value: unknown, options: ParseOptions): Topology | undefined {
  const raw = value === undefined ? undefined : objectValue(c, value, keyPath("topology"));
  if (value !== undefined && raw === undefined) return undefined;
  try {
    return parseTopology(raw, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    error.issues.forEach((issue: ConfigIssue) => c.report(`${PROJECT}:${issue.path}`, issue.message));
    return undefined;
  }
}
