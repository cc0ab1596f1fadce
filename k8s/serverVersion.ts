/**
 * The oldest Kubernetes release the generated objects run on, and the check that refuses an
 * older API server. Pure: callers fetch the server's version (`/version`, `kubectl version`).
 */

/** A Kubernetes release line. Features are switched on per minor release, so patches do not matter. */
export interface KubernetesRelease {
  readonly major: number;
  readonly minor: number;
}

/** One thing the generated objects use that an older server refuses or silently drops. */
export interface VersionRequirement {
  /** First release in which it works out of the box. */
  readonly since: KubernetesRelease;
  /** The field or API as it appears in the rendered objects. */
  readonly feature: string;
  /** The feature gate and its stages, as kubernetes/kubernetes pkg/features/kube_features.go lists them. */
  readonly gate: string;
  /** What goes wrong on an older server. */
  readonly withoutIt: string;
}

/**
 * Every requirement newer than 1.25 that the rendered objects have (the rest: policy/v1
 * PodDisruptionBudget since 1.21, seccompProfile 1.19, appProtocol and startupProbe 1.20, Pod
 * Security Admission labels 1.25). Add a row when a builder starts using a newer field, and
 * raise MIN_KUBERNETES_VERSION with it (a test keeps the two in step).
 */
export const VERSION_REQUIREMENTS: readonly VersionRequirement[] = [
  {
    since: { major: 1, minor: 29 },
    feature: "native sidecar containers (the Envoy init container with restartPolicy: Always)",
    gate: "SidecarContainers: alpha 1.28, beta and on by default 1.29, GA 1.33",
    withoutIt: "the API server drops restartPolicy, Envoy runs as a plain init container that never exits and the app never starts",
  },
  {
    since: { major: 1, minor: 30 },
    feature: "lifecycle.preStop.sleep (the app container's pre-stop hook)",
    gate: "PodLifecycleSleepAction: alpha 1.29, beta and on by default 1.30, GA 1.34",
    withoutIt: "the API server silently drops the hook (pkg/api/pod/util.go, dropPodLifecycleSleepAction), so the pods that run are not the pods that were checked: they have no pre-stop hook",
  },
];

/** The oldest Kubernetes release this mesh runs on: the newest `since` in VERSION_REQUIREMENTS. */
export const MIN_KUBERNETES_VERSION: KubernetesRelease = { major: 1, minor: 30 };

export function formatRelease(r: KubernetesRelease): string {
  return `${r.major}.${r.minor}`;
}

export function compareReleases(a: KubernetesRelease, b: KubernetesRelease): number {
  return a.major - b.major || a.minor - b.minor;
}

/** A server's version as `/version` reports it in `gitVersion`, e.g. `v1.31.2-eks-7f9249a`. */
export interface ServerVersion extends KubernetesRelease {
  readonly patch: number;
  /** The text as the server gave it. */
  readonly gitVersion: string;
}

/**
 * Semantic version with Kubernetes' `v` prefix. Distributions add a pre-release or build
 * suffix (`+k3s1`, `-eks-7f9249a`, `-gke.1584000`); the release line is what counts.
 */
const GIT_VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses a server's `gitVersion`; throws an Error naming the value when it is not one. */
export function parseServerVersion(gitVersion: unknown): ServerVersion {
  const m = typeof gitVersion === "string" ? GIT_VERSION.exec(gitVersion.trim()) : null;
  if (!m) {
    throw new Error(`not a Kubernetes version (expected vMAJOR.MINOR.PATCH, e.g. v1.31.2): ${JSON.stringify(gitVersion)}`);
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), gitVersion: (gitVersion as string).trim() };
}

/**
 * Why a server of this version cannot run the mesh, naming the version, the minimum and each
 * feature it lacks; undefined when it can. `where` names the server, e.g. `kind cluster envoy-mesh`.
 */
export function serverVersionProblem(server: ServerVersion, where: string): string | undefined {
  if (compareReleases(server, MIN_KUBERNETES_VERSION) >= 0) return undefined;
  const missing = VERSION_REQUIREMENTS.filter((r) => compareReleases(server, r.since) < 0).map(
    (r) => `  - ${r.feature} needs ${formatRelease(r.since)}+ (${r.gate}); without it ${r.withoutIt}`,
  );
  return (
    `${where}: Kubernetes ${server.gitVersion} is older than ${formatRelease(MIN_KUBERNETES_VERSION)}, the oldest release this mesh runs on:\n` +
    `${missing.join("\n")}\n` +
    `  Upgrade the cluster to Kubernetes ${formatRelease(MIN_KUBERNETES_VERSION)} or newer.`
  );
}
