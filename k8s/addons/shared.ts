import { createHash } from "node:crypto";
import type { core } from "@pulumi/kubernetes/types/input";
import { toYaml } from "../../envoy";
import { ADDONS_NAMESPACE } from "../../observability/addons";
import { MANAGED_BY, PART_OF, type Labels } from "../labels";
import type { ConfigMapManifest, DeploymentManifest, Metadata, ServiceAccountManifest, ServiceManifest } from "../manifest";
import { REVISION_HISTORY_LIMIT } from "../objects";
import { containerSecurityContext, podSecurityContext } from "../pod";

/** Every add-on object carries this component label, apart from the mesh's `service` and `front-proxy`. */
export const ADDON_COMPONENT = "observability";

/** Pod template annotation: a digest of the add-on's configuration, so a config change rolls its pod. */
export const CONFIG_HASH_ANNOTATION = `${PART_OF}/config-hash`;

export function addonSelector(name: string): Labels {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
}

export function addonLabels(name: string): Labels {
  return { ...addonSelector(name), "app.kubernetes.io/component": ADDON_COMPONENT, "app.kubernetes.io/managed-by": MANAGED_BY };
}

export function addonMetadata(name: string, namespace: string = ADDONS_NAMESPACE): Metadata {
  return { name, namespace, labels: addonLabels(name) };
}

/** `http://<service>.observability.svc.<clusterDomain>:<port>`'s host part. */
export function addonHost(service: string, clusterDomain: string): string {
  return `${service}.${ADDONS_NAMESPACE}.svc.${clusterDomain}`;
}

/** A short digest of everything a pod reads from its ConfigMaps. */
export function configHash(...data: readonly Readonly<Record<string, string>>[]): string {
  const hash = createHash("sha256");
  for (const d of data) for (const key of Object.keys(d).sort()) hash.update(`${key}\0${d[key]}\0`);
  return hash.digest("hex").slice(0, 16);
}

/** Only Prometheus talks to the API server (service discovery): every other add-on gets no token. */
export function buildAddonServiceAccount(name: string, automountToken = false): ServiceAccountManifest {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: addonMetadata(name), automountServiceAccountToken: automountToken };
}

/**
 * Mutable under a stable name: the Deployment's pod template carries the content's digest
 * (CONFIG_HASH_ANNOTATION), so a change rolls the pod, which reads the new files at start.
 */
export function buildAddonConfigMap(name: string, data: Readonly<Record<string, string>>): ConfigMapManifest {
  const sorted = Object.fromEntries(Object.keys(data).sort().map((key) => [key, data[key]]));
  return { apiVersion: "v1", kind: "ConfigMap", metadata: addonMetadata(name), immutable: false, data: sorted };
}

export { toYaml };

export interface AddonResources {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
}

/**
 * Requests for the scheduler and a memory limit that protects the node; no CPU limit, as for
 * the mesh's own containers (CFS throttling only slows a tool down when the node has CPU to spare).
 */
export function addonResources(resources: AddonResources): core.v1.ResourceRequirements {
  return { requests: { cpu: resources.cpuRequest, memory: resources.memoryRequest }, limits: { memory: resources.memoryLimit } };
}

/**
 * Startup (up to `startupSeconds`, every 2 s), readiness (every 5 s, 2 failures) and liveness
 * (every 10 s, 3 failures) on one HTTP endpoint, 2 s timeout each: the tools start slower than
 * an Envoy (Grafana migrates its database on first start).
 */
export function addonProbes(readyPath: string, livePath: string, port: number | string, startupSeconds: number) {
  const probe = (path: string, periodSeconds: number, failureThreshold: number): core.v1.Probe => ({
    httpGet: { path, port },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    startupProbe: probe(readyPath, 2, Math.ceil(startupSeconds / 2)),
    readinessProbe: probe(readyPath, 5, 2),
    livenessProbe: probe(livePath, 10, 3),
  };
}

/**
 * A short wait before SIGTERM, while the endpoints controller takes the pod out of its Service;
 * `sleep` is the kubelet's own action (no shell needed: most of these images have none).
 */
export const ADDON_PRE_STOP_SECONDS = 2;
export const ADDON_GRACE_SECONDS = 30;

export interface AddonDeploymentOptions {
  readonly name: string;
  readonly container: core.v1.Container;
  readonly uid: number;
  readonly volumes: readonly core.v1.Volume[];
  /** Digest of the configuration the pod reads (configHash). */
  readonly configHash: string;
  readonly serviceAccount: string;
  readonly automountToken?: boolean;
}

/**
 * One replica: each tool keeps its state in memory or an emptyDir (a local, throwaway add-on).
 * The container is hardened like the mesh's: restricted Pod Security Standard plus a read-only
 * root filesystem, and an emptyDir for whatever the tool writes.
 */
export function buildAddonDeployment(options: AddonDeploymentOptions): DeploymentManifest {
  const { name } = options;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: addonMetadata(name),
    spec: {
      replicas: 1,
      revisionHistoryLimit: REVISION_HISTORY_LIMIT,
      selector: { matchLabels: { ...addonSelector(name) } },
      template: {
        metadata: { labels: { ...addonLabels(name) }, annotations: { [CONFIG_HASH_ANNOTATION]: options.configHash } },
        spec: {
          serviceAccountName: options.serviceAccount,
          automountServiceAccountToken: options.automountToken ?? false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: ADDON_GRACE_SECONDS,
          containers: [
            {
              ...options.container,
              securityContext: containerSecurityContext(options.uid),
              lifecycle: { preStop: { sleep: { seconds: ADDON_PRE_STOP_SECONDS } } },
            },
          ],
          volumes: [...options.volumes],
        },
      },
    },
  };
}

export interface AddonServicePort {
  readonly name: string;
  readonly port: number;
  readonly appProtocol?: string;
}

/** A ClusterIP Service: the tools are reached through it (or `kubectl port-forward svc/<name>`), never from outside the cluster. */
export function buildAddonService(name: string, ports: readonly AddonServicePort[]): ServiceManifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: addonMetadata(name),
    spec: {
      type: "ClusterIP",
      selector: { ...addonSelector(name) },
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP", ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
    },
  };
}

export function emptyDirVolume(name: string, sizeLimit: string): core.v1.Volume {
  return { name, emptyDir: { sizeLimit } };
}

export function configMapVolume(name: string, configMap: string): core.v1.Volume {
  return { name, configMap: { name: configMap, defaultMode: 0o444 } };
}

/** Least privilege for Prometheus' pod discovery: read pods, in the mesh's namespace only. */
export interface RoleManifest {
  readonly apiVersion: "rbac.authorization.k8s.io/v1";
  readonly kind: "Role";
  readonly metadata: Metadata;
  readonly rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

export interface RoleBindingManifest {
  readonly apiVersion: "rbac.authorization.k8s.io/v1";
  readonly kind: "RoleBinding";
  readonly metadata: Metadata;
  readonly roleRef: { readonly apiGroup: "rbac.authorization.k8s.io"; readonly kind: "Role"; readonly name: string };
  readonly subjects: { kind: "ServiceAccount"; name: string; namespace: string }[];
}

/** One add-on's objects, registered in this order: identity (and its grants), config, pods, Service. */
export interface AddonManifestSet {
  readonly name: string;
  readonly serviceAccount: ServiceAccountManifest;
  readonly role?: RoleManifest;
  readonly roleBinding?: RoleBindingManifest;
  readonly configMaps: readonly ConfigMapManifest[];
  readonly deployment: DeploymentManifest;
  readonly service: ServiceManifest;
}
