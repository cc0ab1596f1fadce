/**
 * The targets a stack can deploy to, one descriptor each: what the target reads from the stack
 * config and how the program treats it. Target-specific knowledge lives here (and in the one
 * place per layer that turns a target's settings into objects: stack/settings.ts parses them,
 * components/serviceMesh.ts picks the deploy layer by `runtime`), so a new target starts here.
 */

/** Config keys of this project, without the `envoy-mesh:` prefix. */
export const CONFIG_KEYS = [
  "target",
  "namespace",
  "clusterDomain",
  "kindClusterName",
  "frontNodePort",
  "kubeconfig",
  "kubeContext",
  "registry",
  "registryUsername",
  "registryPassword",
  "platform",
  "envoyImage",
  "allowTagOnlyEnvoyImage",
  "topology",
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Keys every target reads. */
export const COMMON_KEYS: readonly ConfigKey[] = ["target", "namespace", "envoyImage", "allowTagOnlyEnvoyImage", "topology"];

/** The host port the front proxy is published on by the local targets (kind's port mapping, docker's published port). */
export const LOCAL_FRONT_HOST_PORT = 8080;
/** Local targets publish the front proxy on the loopback address only: nothing outside this machine reaches it. */
export const LOCAL_FRONT_HOST_IP = "127.0.0.1";

export interface TargetDescriptor {
  /** One line: where the mesh runs. */
  readonly summary: string;
  /** The deploy layer: Kubernetes objects (k8s/) or Docker containers (docker/). */
  readonly runtime: "kubernetes" | "docker";
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
}

const LOCAL_FRONT_URL = `http://localhost:${LOCAL_FRONT_HOST_PORT}`;

export const TARGET_DESCRIPTORS = {
  kind: {
    summary: "a local kind cluster; the front proxy's NodePort is mapped to localhost:8080, images go through kind's local registry",
    runtime: "kubernetes",
    keys: ["clusterDomain", "kindClusterName", "frontNodePort", "registry", "platform"],
    // kind's nodes run on the Docker engine, so its own platform is right.
    fixedFrontUrl: LOCAL_FRONT_URL,
    checksServerVersion: false,
    pushesImages: true,
  },
  cloud: {
    summary: "a cloud Kubernetes cluster; the front proxy gets a LoadBalancer, images are pushed to `registry`",
    runtime: "kubernetes",
    keys: ["clusterDomain", "kubeconfig", "kubeContext", "registry", "registryUsername", "registryPassword", "platform"],
    // Most cloud nodes are amd64, whatever the laptop is.
    defaultPlatform: "linux/amd64",
    checksServerVersion: true,
    pushesImages: true,
  },
  docker: {
    summary: "the local Docker engine without Kubernetes; the front proxy is published on 127.0.0.1:8080, images stay local",
    runtime: "docker",
    keys: ["platform"],
    fixedFrontUrl: LOCAL_FRONT_URL,
    checksServerVersion: false,
    pushesImages: false,
    // One host port is bound once, and no load balancer spreads clients over several.
    maxFrontReplicas: 1,
  },
} as const satisfies Record<string, TargetDescriptor>;

export type Target = keyof typeof TARGET_DESCRIPTORS;
export const TARGETS = Object.keys(TARGET_DESCRIPTORS) as readonly Target[];

export function describeTarget(target: Target): TargetDescriptor {
  return TARGET_DESCRIPTORS[target];
}

/** Whether `target` reads `key`. */
export function targetReads(target: Target, key: ConfigKey): boolean {
  return COMMON_KEYS.includes(key) || describeTarget(target).keys.includes(key);
}

/** The targets that read `key`, in table order. */
export function targetsReading(key: ConfigKey): Target[] {
  return TARGETS.filter((target) => targetReads(target, key));
}
