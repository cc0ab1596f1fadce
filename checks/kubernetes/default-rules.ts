import type { ContainerRef, PodContext } from "./pod-context";
import { asRecord, list, record } from "./pod-context";
import type { PolicyRule, Violation } from "./policy-rule";

/*
 * The mesh's own defaults on top of the restricted profile. "Every container" means
 * containers and initContainers: ephemeral debug containers cannot carry resources or probes.
 */

/** Kubernetes' default for `terminationGracePeriodSeconds`. */
const DEFAULT_GRACE_SECONDS = 30;

function declared(pod: PodContext): ContainerRef[] {
  return pod.containers.filter((ref) => ref.group !== "ephemeralContainers");
}

function longRunning(pod: PodContext): ContainerRef[] {
  return pod.containers.filter((ref) => ref.longRunning);
}

function specAt(pod: PodContext, field: string): Violation["path"] {
  return [...pod.specPath, field];
}

const readOnlyRootFs: PolicyRule = {
  id: "defaults/read-only-root-fs",
  summary: "Every container sets readOnlyRootFilesystem: true.",
  check: (pod) =>
    declared(pod)
      .filter((ref) => record(ref.container, "securityContext").readOnlyRootFilesystem !== true)
      .map((ref) => ({
        path: [...ref.path, "securityContext", "readOnlyRootFilesystem"],
        message: `${ref.label} does not set readOnlyRootFilesystem: true, so a compromised process can rewrite the files of its image`,
      })),
};

const automountToken: PolicyRule = {
  id: "defaults/automount-service-account-token",
  summary: "automountServiceAccountToken is set on the pod: false, or true on purpose.",
  check: (pod) =>
    typeof pod.spec.automountServiceAccountToken === "boolean"
      ? []
      : [
          {
            path: specAt(pod, "automountServiceAccountToken"),
            message: "automountServiceAccountToken is not set, so every container may get an API token it does not need; set false (or true on purpose)",
          },
        ],
};

const serviceAccount: PolicyRule = {
  id: "defaults/service-account",
  summary: "The pod runs as a dedicated ServiceAccount, not `default`.",
  check: (pod) => {
    const name = pod.spec.serviceAccountName ?? pod.spec.serviceAccount;
    return typeof name === "string" && name !== "" && name !== "default"
      ? []
      : [
          {
            path: specAt(pod, "serviceAccountName"),
            message: "the pod runs as the namespace's default ServiceAccount, shared with everything else there, so any permission granted to it leaks across workloads",
          },
        ];
  },
};

function resourceRule(id: string, kind: "requests" | "limits", resource: "cpu" | "memory", consequence: string): PolicyRule {
  return {
    id,
    summary: `Every container sets resources.${kind}.${resource}.`,
    check: (pod) =>
      declared(pod)
        .filter((ref) => record(record(ref.container, "resources"), kind)[resource] === undefined)
        .map((ref) => ({
          path: [...ref.path, "resources", kind, resource],
          message: `${ref.label} sets no ${resource} ${kind === "requests" ? "request" : "limit"}, so ${consequence}`,
        })),
  };
}

function probeRule(id: string, probe: "readinessProbe" | "livenessProbe", consequence: string): PolicyRule {
  return {
    id,
    summary: `Every long-running container (app containers, sidecar init containers) has a ${probe}.`,
    check: (pod) =>
      longRunning(pod)
        .filter((ref) => ref.container[probe] === undefined)
        .map((ref) => ({ path: [...ref.path, probe], message: `${ref.label} has no ${probe}, so ${consequence}` })),
  };
}

/** Why an image reference does not pin what runs, or undefined when it does. */
function imageProblem(image: unknown): string | undefined {
  if (typeof image !== "string" || image === "") {
    return "has no image";
  }
  if (image.includes("@")) {
    return undefined;
  }
  const name = image.slice(image.lastIndexOf("/") + 1);
  const colon = name.indexOf(":");
  if (colon === -1) {
    return `uses image ${JSON.stringify(image)} without a tag, which means :latest`;
  }
  return name.slice(colon + 1) === "latest" ? `uses image ${JSON.stringify(image)} with the moving :latest tag` : undefined;
}

const imageTag: PolicyRule = {
  id: "defaults/image-tag",
  summary: "Every image has a tag other than latest, or a digest.",
  check: (pod) =>
    pod.containers.flatMap((ref) => {
      const problem = imageProblem(ref.container.image);
      return problem === undefined
        ? []
        : [
            {
              path: [...ref.path, "image"],
              message: `${ref.label} ${problem}: what runs can change without a change here, and the pull policy becomes Always`,
            },
          ];
    }),
};

const preStopHook: PolicyRule = {
  id: "defaults/pre-stop-hook",
  summary: "Every long-running container has a lifecycle.preStop hook.",
  check: (pod) =>
    longRunning(pod)
      .filter((ref) => record(ref.container, "lifecycle").preStop === undefined)
      .map((ref) => ({
        path: [...ref.path, "lifecycle", "preStop"],
        message: `${ref.label} has no preStop hook, so it gets SIGTERM while endpoints still send it traffic and in-flight requests fail`,
      })),
};

const gracePeriod: PolicyRule = {
  id: "defaults/grace-period",
  summary: "terminationGracePeriodSeconds is longer than every preStop sleep.",
  check: (pod) => {
    const given = pod.spec.terminationGracePeriodSeconds;
    const grace = typeof given === "number" ? given : DEFAULT_GRACE_SECONDS;
    return declared(pod).flatMap((ref) => {
      const seconds = asRecord(record(record(ref.container, "lifecycle"), "preStop").sleep).seconds;
      return typeof seconds === "number" && seconds >= grace
        ? [
            {
              path: specAt(pod, "terminationGracePeriodSeconds"),
              message: `terminationGracePeriodSeconds ${grace}${typeof given === "number" ? "" : " (default)"} does not outlast the ${seconds} s preStop sleep of ${ref.label}, so it is killed before it can stop cleanly`,
            },
          ]
        : [];
    });
  },
};

function isZero(value: unknown): boolean {
  return value === 0 || value === "0" || value === "0%";
}

const rollingUpdate: PolicyRule = {
  id: "defaults/rolling-update",
  summary: "A Deployment with more than one replica rolls with RollingUpdate and maxUnavailable 0.",
  check: (pod) => {
    const spec = record(pod.object, "spec");
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    if (pod.object.kind !== "Deployment" || replicas <= 1) {
      return [];
    }
    const strategy = record(spec, "strategy");
    if (strategy.type === "Recreate") {
      return [{ path: ["spec", "strategy", "type"], message: `Recreate stops all ${replicas} replicas before starting new ones, so every rollout is an outage` }];
    }
    const maxUnavailable = record(strategy, "rollingUpdate").maxUnavailable;
    return isZero(maxUnavailable)
      ? []
      : [
          {
            path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"],
            message: `maxUnavailable is ${maxUnavailable === undefined ? "25% (the default)" : JSON.stringify(maxUnavailable)}, so a rollout takes ready replicas away before their replacements are ready`,
          },
        ];
  },
};

/** Names of the pod's volumes that bring in a ConfigMap: a `configMap` volume, or a `projected` one with a ConfigMap source. */
function configMapVolumes(pod: PodContext): Set<string> {
  const names = list(pod.spec, "volumes")
    .filter((volume) => "configMap" in asRecord(volume) || list(record(volume, "projected"), "sources").some((source) => "configMap" in asRecord(source)))
    .map((volume) => asRecord(volume).name);
  return new Set(names.filter((name): name is string => typeof name === "string"));
}

/**
 * The kubelet updates a ConfigMap volume in place by swapping its `..data` link, which is how
 * the xDS files reach a running Envoy; a subPath mount is bound once at container start and
 * never sees an update (kubernetes.io docs, "Mounted ConfigMaps are updated automatically").
 */
const configMapSubPath: PolicyRule = {
  id: "defaults/config-map-sub-path",
  summary: "No ConfigMap volume is mounted with subPath: such a mount never receives updates.",
  check: (pod) => {
    const configMaps = configMapVolumes(pod);
    return declared(pod).flatMap((ref) =>
      list(ref.container, "volumeMounts").flatMap((mount, index) => {
        const { name, subPath, subPathExpr } = asRecord(mount);
        if (typeof name !== "string" || !configMaps.has(name)) return [];
        const field = subPath !== undefined && subPath !== "" ? "subPath" : subPathExpr !== undefined && subPathExpr !== "" ? "subPathExpr" : undefined;
        if (field === undefined) return [];
        return [
          {
            path: [...ref.path, "volumeMounts", index, field],
            message: `${ref.label} mounts ConfigMap volume ${JSON.stringify(name)} with ${field}: the kubelet never updates such a mount, so a changed ConfigMap would not reach the container until it restarts`,
          },
        ];
      }),
    );
  },
};

/** The mesh's defaults, checked after the restricted profile. */
export const defaultRules: readonly PolicyRule[] = [
  readOnlyRootFs,
  automountToken,
  serviceAccount,
  resourceRule("defaults/cpu-request", "requests", "cpu", "the scheduler may pack it onto a node without CPU for it"),
  resourceRule("defaults/memory-request", "requests", "memory", "the scheduler may pack it onto a node without memory for it"),
  resourceRule("defaults/memory-limit", "limits", "memory", "a leak can exhaust the node's memory and get other pods evicted"),
  probeRule("defaults/readiness-probe", "readinessProbe", "it receives traffic before it is ready and while it drains"),
  probeRule("defaults/liveness-probe", "livenessProbe", "a hung process is never restarted"),
  imageTag,
  preStopHook,
  gracePeriod,
  rollingUpdate,
  configMapSubPath,
];
