/**
 * The targets a stack can deploy to, one descriptor each: what the target reads from the stack
 * config, how it turns that into its runtime's settings, and how the program treats it. All
 * target-specific knowledge lives here; the rest of the program asks a target's descriptor, or
 * branches on its `runtime` (Kubernetes objects or Docker containers) only. A new target of an
 * existing runtime is one entry in TARGET_DESCRIPTORS.
 */
import { X509Certificate } from "node:crypto";
import { homedir } from "node:os";
import type { DockerTarget } from "../docker/target";
import type { FrontExposure } from "../k8s/objects";
import { show } from "../topology/reader";
import type { ProjectDefaults } from "./defaults";
import type { ObservabilityDefaults } from "./observability";

/** Config keys of this project, without the `envoy-mesh:` prefix. */
export const CONFIG_KEYS = [
  "target",
  "namespace",
  "clusterDomain",
  "kindClusterName",
  "frontNodePort",
  "frontTlsNodePort",
  "kubeconfig",
  "kubeContext",
  "registry",
  "registryUsername",
  "registryPassword",
  "platform",
  "envoyImage",
  "allowTagOnlyEnvoyImage",
  "caCertificate",
  "caPrivateKey",
  "edgeCertificate",
  "edgePrivateKey",
  "edgeCertificateSecret",
  "topology",
  "observability",
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/**
 * Keys whose value must be a Pulumi secret (`pulumi config set --secret`): Pulumi.yaml leaves them
 * undeclared (see its comment), and the program reads them with getSecret only. Each with how to set it.
 */
export const SECRET_KEYS: Readonly<Partial<Record<ConfigKey, string>>> = {
  registryPassword: "pulumi config set --secret registryPassword <token>",
  caPrivateKey: "pulumi config set --secret caPrivateKey < ca.key",
  edgePrivateKey: "pulumi config set --secret edgePrivateKey < tls.key",
};

/** Keys every target reads. */
export const COMMON_KEYS: readonly ConfigKey[] = ["target", "namespace", "envoyImage", "allowTagOnlyEnvoyImage", "topology", "observability"];

/** The host port the front proxy is published on by the local targets (kind's port mapping, docker's published port). */
export const LOCAL_FRONT_HOST_PORT = 8080;
/** The host port the front proxy's HTTPS is published on by the local targets. */
export const LOCAL_FRONT_TLS_HOST_PORT = 8443;
/** Local targets publish the front proxy on the loopback address only: nothing outside this machine reaches it. */
export const LOCAL_FRONT_HOST_IP = "127.0.0.1";

/** kind's documented local registry, wired into the nodes' containerd (what an empty `registry` means on kind). */
export const DEFAULT_KIND_REGISTRY = "localhost:5001";
/** The front proxy's HTTPS port on a cloud load balancer, when the edge has a certificate. */
export const CLOUD_FRONT_TLS_PORT = 443;
/** Kubernetes' IsDNS1123Subdomain (apimachinery validation.go): labels joined by dots, at most 253 characters. */
export const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** kind's cluster names: pkg/internal/apis/config/validate.go validNameRE, and create.go clusterNameMax. */
const KIND_CLUSTER_NAME = /^[a-z0-9.-]+$/;
const KIND_CLUSTER_NAME_MAX = 50;
const NODE_PORT_RANGE = [30000, 32767] as const;

/**
 * What a target's `settings` reads the stack config through. Problems are reported, not thrown,
 * so the stack's every problem is listed at once; the common keys are already read and checked.
 */
export interface TargetSettingsReader {
  /** Records a problem with the value of `key` (named with the project prefix); returns undefined. */
  report(key: ConfigKey, message: string): undefined;
  /** Whether the stack sets `key` (Pulumi.yaml's "" default means unset). */
  isSet(key: ConfigKey): boolean;
  /** Whether `key` is set as a secret the reader cannot see (a stack file's `secure:` value). */
  isSecret(key: ConfigKey): boolean;
  /** The key's string value; undefined when unset, or (reported) when not a non-empty string. */
  optionalString(key: ConfigKey): string | undefined;
  /** The key's integer (a number, or digits as `pulumi config set` stores them) in [min, max]; `fallback` when unset; undefined (reported) when bad. */
  integer(key: ConfigKey, min: number, max: number, fallback: number): number | undefined;
  /** `namespace`, checked: the Kubernetes namespace, or the Docker network and container name prefix. */
  readonly namespace: string;
  /** `envoyImage`, checked. */
  readonly envoyImage: string;
  /** `platform` when set and valid. */
  readonly platform?: string;
  /** Whether `registryPassword` is set (as a secret; its value is never read here). */
  readonly hasPassword: boolean;
  /** The defaults Pulumi.yaml declares. */
  readonly defaults: Omit<ProjectDefaults, "target">;
}

/** How the Kubernetes provider reaches the cluster: kubeconfig (~ expanded) and context; unset means the ambient one. */
export interface KubernetesProviderSettings {
  readonly kubeconfig?: string;
  readonly context?: string;
}

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

/**
 * Where the front proxy's HTTPS certificate comes from: Pulumi issues one for `localhost` from a
 * local edge CA (the local targets); the stack's `edgeCertificate` and secret `edgePrivateKey`;
 * an existing `kubernetes.io/tls` Secret in the namespace; or none (no HTTPS at the edge).
 */
export type EdgeCertificateSource =
  | { readonly kind: "local"; readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] }
  | { readonly kind: "provided" }
  | { readonly kind: "secret"; readonly name: string }
  | { readonly kind: "none" };

/** The mesh CA: created by Pulumi, or the stack's `caCertificate` and secret `caPrivateKey`. */
export type MeshCaSource = { readonly kind: "generated" } | { readonly kind: "provided" };

/** Where a stack's certificates come from (the policy itself is the topology's `security`). */
export interface CertificateSources {
  readonly edge: EdgeCertificateSource;
  readonly ca: MeshCaSource;
}

/** The edge certificate of the local targets: the names `curl https://localhost:8443/` checks. */
export const LOCAL_EDGE_CERTIFICATE: EdgeCertificateSource = { kind: "local", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] };

/** What a Kubernetes target's config yields, besides the common settings. */
export interface KubernetesTargetSettings {
  /** Which cluster, as the stack names it: `target` (the descriptor's own name) and what the target keeps of it. */
  readonly cluster: { readonly target: string };
  readonly provider: KubernetesProviderSettings;
  readonly front: FrontExposure;
  /** Where clients reach the front proxy's HTTPS; undefined: the edge has no certificate. */
  readonly edgeHttpsPort?: number;
  readonly registry: RegistrySettings;
  readonly certificates: CertificateSources;
}

/** What a Docker target's config yields. */
export interface DockerTargetSettings {
  readonly docker: DockerTarget;
  readonly certificates: CertificateSources;
}

interface BaseTargetDescriptor {
  /** One line: where the mesh runs. */
  readonly summary: string;
  /** Config keys this target reads besides COMMON_KEYS; a key no target of the stack reads is an error when set. */
  readonly keys: readonly ConfigKey[];
  /** Platform app images are built for when `platform` is empty; undefined means the Docker engine's own. */
  readonly defaultPlatform?: string;
  /** Where the front proxy answers when the target fixes it; undefined: learnt from the deployment (a load balancer). */
  readonly fixedFrontUrl?: string;
  /** Whether the program checks the Kubernetes server's version before it registers anything. */
  readonly checksServerVersion: boolean;
  /** Whether built images are pushed to a registry (workloads pull them by digest), or used locally by image ID. */
  readonly pushesImages: boolean;
  /** Most front proxy replicas the target can expose; undefined: no limit. */
  readonly maxFrontReplicas?: number;
  /** The `observability` key's defaults: how many requests are traced, and whether the add-ons can run. */
  readonly observability: ObservabilityDefaults;
}

export interface KubernetesTargetDescriptor extends BaseTargetDescriptor {
  /** The deploy layer: Kubernetes objects (k8s/). */
  readonly runtime: "kubernetes";
  /** Reads the target's own keys; undefined when a problem was reported. */
  settings(read: TargetSettingsReader): KubernetesTargetSettings | undefined;
}

export interface DockerTargetDescriptor extends BaseTargetDescriptor {
  /** The deploy layer: Docker containers (docker/). */
  readonly runtime: "docker";
  /** Reads the target's own keys; undefined when a problem was reported. */
  settings(read: TargetSettingsReader): DockerTargetSettings | undefined;
}

export type TargetDescriptor = KubernetesTargetDescriptor | DockerTargetDescriptor;

/** `~/...` as the user's home, as a shell would; kubeconfig paths are often written so. */
function expandHome(file: string): string {
  return file.replace(/^~(?=\/)/, homedir());
}

/** The platform a target builds for: the stack's, else the target's default (undefined: the Docker engine's own). */
const platformOf = (read: TargetSettingsReader, fallback?: string) => {
  const platform = read.platform ?? fallback;
  return platform === undefined ? {} : { platform };
};

const CLOUD_DEFAULT_PLATFORM = "linux/amd64";
const LOCAL_FRONT_URL = `http://localhost:${LOCAL_FRONT_HOST_PORT}`;

/** The start of a PEM for messages: enough to recognise it, without flooding the output. */
function pemHead(pem: string): string {
  const line = pem.trim().split("\n").slice(0, 2).join("\\n");
  return show(line.length > 60 ? `${line.slice(0, 60)}...` : line);
}

/**
 * Checks a PEM certificate (the leaf first, then any chain) from the stack config as node's
 * crypto.X509Certificate reads it; a CA certificate must be one. Reports and returns false when bad.
 */
function checkCertificatePem(read: TargetSettingsReader, key: ConfigKey, mustBeCa: boolean): boolean {
  // A secret value is not readable here (a stack file read without the passphrase); the program checks it when it runs.
  if (read.isSecret(key)) return true;
  const pem = read.optionalString(key);
  if (pem === undefined) return false;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return read.report(key, `${pemHead(pem)} is not a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)`) ?? false;
  let first: X509Certificate | undefined;
  for (const [index, block] of blocks.entries()) {
    try {
      first ??= new X509Certificate(block);
      if (index > 0) new X509Certificate(block);
    } catch (error) {
      return read.report(key, `certificate ${index + 1} of ${pemHead(pem)} does not parse: ${(error as Error).message}`) ?? false;
    }
  }
  const leaf = first as X509Certificate;
  if (mustBeCa && !leaf.ca) {
    return read.report(key, `the certificate of ${show(leaf.subject ?? "")} is not a CA (its basic constraints say CA:FALSE), so it cannot sign the mesh's certificates`) ?? false;
  }
  if (Date.parse(leaf.validTo) <= Date.now()) return read.report(key, `the certificate of ${show(leaf.subject ?? "")} expired on ${leaf.validTo}`) ?? false;
  return true;
}

/** A certificate and its private key come together: whether the stack sets the pair (undefined when reported). */
function certificatePair(read: TargetSettingsReader, certKey: ConfigKey, keyKey: ConfigKey, mustBeCa: boolean): boolean | undefined {
  const hasCert = read.isSet(certKey);
  const hasKey = read.isSet(keyKey);
  let ok = true;
  if (hasCert && !hasKey) ok = read.report(keyKey, `not set, while ${certKey} is: the certificate needs its private key (${SECRET_KEYS[keyKey]})`) ?? false;
  if (hasKey && !hasCert) ok = read.report(certKey, `not set, while ${keyKey} is: the private key needs its certificate (pulumi config set ${certKey} < ${mustBeCa ? "ca.crt" : "tls.crt"})`) ?? false;
  if (hasCert && !checkCertificatePem(read, certKey, mustBeCa)) ok = false;
  return ok ? hasCert && hasKey : undefined;
}

/**
 * A cloud stack's certificates: the mesh CA from `caCertificate` + `caPrivateKey`, or generated;
 * the edge from `edgeCertificate` + `edgePrivateKey`, or an existing Secret `edgeCertificateSecret`,
 * or none. Undefined when a problem was reported.
 */
function cloudCertificateSources(read: TargetSettingsReader): CertificateSources | undefined {
  const ca = certificatePair(read, "caCertificate", "caPrivateKey", true);
  const edgePem = certificatePair(read, "edgeCertificate", "edgePrivateKey", false);
  let secretName = read.isSet("edgeCertificateSecret") ? read.optionalString("edgeCertificateSecret") : undefined;
  if (secretName !== undefined && (secretName.length > 253 || !DNS_1123_SUBDOMAIN.test(secretName))) {
    secretName = read.report("edgeCertificateSecret", `${show(secretName)} is not a valid Secret name (a DNS-1123 subdomain, such as shop-tls)`);
  }
  if (read.isSet("edgeCertificateSecret") && (read.isSet("edgeCertificate") || read.isSet("edgePrivateKey"))) {
    secretName = read.report("edgeCertificateSecret", "set together with edgeCertificate/edgePrivateKey: the edge certificate comes from the stack's PEMs or from an existing Secret, not both");
  }
  if (ca === undefined || edgePem === undefined || (read.isSet("edgeCertificateSecret") && secretName === undefined)) return undefined;
  const edge: EdgeCertificateSource = edgePem ? { kind: "provided" } : secretName !== undefined ? { kind: "secret", name: secretName } : { kind: "none" };
  return { edge, ca: ca ? { kind: "provided" } : { kind: "generated" } };
}

export const TARGET_DESCRIPTORS = {
  kind: {
    summary: "a local kind cluster; the front proxy's NodePort is mapped to localhost:8080, images go through kind's local registry",
    runtime: "kubernetes",
    keys: ["clusterDomain", "kindClusterName", "frontNodePort", "frontTlsNodePort", "registry", "platform"],
    // kind's nodes run on the Docker engine, so its own platform is right.
    fixedFrontUrl: LOCAL_FRONT_URL,
    // `npm run up` checks the kind cluster's version before it deploys.
    checksServerVersion: false,
    pushesImages: true,
    // A local cluster traces every request; the add-ons run on it.
    observability: { samplingPercent: 100, addons: true },
    settings(read) {
      const clusterName = read.optionalString("kindClusterName") ?? read.defaults.kindClusterName;
      if (!KIND_CLUSTER_NAME.test(clusterName) || clusterName.length > KIND_CLUSTER_NAME_MAX) {
        read.report("kindClusterName", `${show(clusterName)} is not a valid kind cluster name (lowercase letters, digits, "." and "-", at most ${KIND_CLUSTER_NAME_MAX} characters)`);
      }
      const nodePort = read.integer("frontNodePort", ...NODE_PORT_RANGE, read.defaults.frontNodePort);
      const tlsNodePort = read.integer("frontTlsNodePort", ...NODE_PORT_RANGE, read.defaults.frontTlsNodePort);
      if (nodePort !== undefined && nodePort === tlsNodePort) read.report("frontTlsNodePort", `${tlsNodePort} is already the plain HTTP NodePort (frontNodePort): each needs its own`);
      const registry = { server: read.optionalString("registry") ?? DEFAULT_KIND_REGISTRY, hasPassword: false, ...platformOf(read) };
      if (nodePort === undefined || tlsNodePort === undefined || nodePort === tlsNodePort) return undefined;
      // kind names the kube context of a cluster kind-<name>.
      const context = `kind-${clusterName}`;
      return {
        cluster: { target: "kind" as const, clusterName, context },
        provider: { context },
        front: { type: "NodePort", nodePort, tlsNodePort },
        edgeHttpsPort: LOCAL_FRONT_TLS_HOST_PORT,
        registry,
        certificates: { edge: LOCAL_EDGE_CERTIFICATE, ca: { kind: "generated" } },
      };
    },
  },
  cloud: {
    summary: "a cloud Kubernetes cluster; the front proxy gets a LoadBalancer, images are pushed to `registry`",
    runtime: "kubernetes",
    keys: ["clusterDomain", "kubeconfig", "kubeContext", "registry", "registryUsername", "registryPassword", "platform", "caCertificate", "caPrivateKey", "edgeCertificate", "edgePrivateKey", "edgeCertificateSecret"],
    // Most cloud nodes are amd64, whatever the laptop is.
    defaultPlatform: CLOUD_DEFAULT_PLATFORM,
    checksServerVersion: true,
    pushesImages: true,
    // 1% of a production load is enough to see where time goes, and keeps the collector's load small.
    observability: { samplingPercent: 1, addons: false },
    settings(read) {
      const kubeconfig = read.optionalString("kubeconfig");
      const context = read.optionalString("kubeContext");
      const server = read.isSet("registry")
        ? read.optionalString("registry")
        : read.report("registry", "required for target cloud: the registry images are pushed to, e.g. ghcr.io/acme");
      const certificates = cloudCertificateSources(read);
      if (server === undefined || certificates === undefined) return undefined;
      return {
        cluster: { target: "cloud" as const, kubeconfig, context },
        provider: { ...(kubeconfig === undefined ? {} : { kubeconfig: expandHome(kubeconfig) }), ...(context === undefined ? {} : { context }) },
        front: { type: "LoadBalancer" },
        // Without an edge certificate the front proxy serves plain HTTP only.
        edgeHttpsPort: certificates.edge.kind === "none" ? undefined : CLOUD_FRONT_TLS_PORT,
        registry: { server, username: read.optionalString("registryUsername"), hasPassword: read.hasPassword, platform: read.platform ?? CLOUD_DEFAULT_PLATFORM },
        certificates,
      };
    },
  },
  docker: {
    summary: "the local Docker engine without Kubernetes; the front proxy is published on 127.0.0.1:8080, images stay local",
    runtime: "docker",
    keys: ["platform"],
    fixedFrontUrl: LOCAL_FRONT_URL,
    checksServerVersion: false,
    pushesImages: false,
    observability: { samplingPercent: 100, addons: false },
    // One host port is bound once, and no load balancer spreads clients over several.
    maxFrontReplicas: 1,
    settings: (read) => ({
      docker: {
        name: read.namespace,
        envoyImage: read.envoyImage,
        front: { hostIp: LOCAL_FRONT_HOST_IP, hostPort: LOCAL_FRONT_HOST_PORT, tlsHostPort: LOCAL_FRONT_TLS_HOST_PORT },
        ...platformOf(read),
      },
      certificates: { edge: LOCAL_EDGE_CERTIFICATE, ca: { kind: "generated" } },
    }),
  },
} as const satisfies Record<string, TargetDescriptor>;

export type Target = keyof typeof TARGET_DESCRIPTORS;
export const TARGETS = Object.keys(TARGET_DESCRIPTORS) as readonly Target[];

/** The targets whose descriptor deploys through `runtime`. */
export type TargetOfRuntime<R extends TargetDescriptor["runtime"]> = {
  [T in Target]: (typeof TARGET_DESCRIPTORS)[T]["runtime"] extends R ? T : never;
}[Target];
export type KubernetesTarget = TargetOfRuntime<"kubernetes">;
export type DockerRuntimeTarget = TargetOfRuntime<"docker">;

/**
 * Which Kubernetes cluster a stack uses, as its target reads it: a union over the Kubernetes
 * targets, told apart by `target` (kind's carries its cluster name, which `npm run up` creates).
 */
export type ClusterAccess = NonNullable<ReturnType<(typeof TARGET_DESCRIPTORS)[KubernetesTarget]["settings"]>>["cluster"];

export function describeTarget(target: Target): TargetDescriptor {
  return TARGET_DESCRIPTORS[target];
}

export function isKubernetesTarget(target: Target): target is KubernetesTarget {
  return describeTarget(target).runtime === "kubernetes";
}

/** Whether `target` reads `key`. */
export function targetReads(target: Target, key: ConfigKey): boolean {
  return COMMON_KEYS.includes(key) || describeTarget(target).keys.includes(key);
}

/** The targets that read `key`, in table order. */
export function targetsReading(key: ConfigKey): Target[] {
  return TARGETS.filter((target) => targetReads(target, key));
}
