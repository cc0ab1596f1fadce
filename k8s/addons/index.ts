import type { Topology } from "../../topology";
import { ADDONS_NAMESPACE } from "../../observability/addons";
import { PART_OF, MANAGED_BY } from "../labels";
import type { Manifest, NamespaceManifest } from "../manifest";
import type { MeshTarget } from "../objects";
import { buildCollector } from "./collector";
import { buildGrafana } from "./grafana";
import { buildJaeger } from "./jaeger";
import { buildPrometheus } from "./prometheus";
import type { AddonManifestSet, RoleBindingManifest, RoleManifest } from "./shared";
import { meshAlertRules } from "../../observability/alerts";
import { meshDashboard } from "../../observability/dashboard";
import type { ConfigIssue } from "../../topology/reader";
import { CONFIG_MAP_MAX_BYTES, configMapDataBytes } from "../objects";

export * from "./collector";
export * from "./grafana";
export * from "./images";
export * from "./jaeger";
export * from "./prometheus";
export * from "./shared";

export type AddonManifest = Manifest | RoleManifest | RoleBindingManifest;

/** Every add-on object, built once: the namespace and, in a fixed order, each add-on's set. */
export interface ObservabilityAddons {
  readonly namespace: NamespaceManifest;
  readonly addons: readonly AddonManifestSet[];
}

/** The add-ons' namespace enforces the restricted Pod Security Standard, like the mesh's. */
export function buildAddonsNamespace(): NamespaceManifest {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: ADDONS_NAMESPACE,
      labels: {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      },
    },
  };
}

export interface AddonInputs {
  /** The mesh's dashboard JSON model (Grafana); default: meshDashboard(topology). */
  readonly dashboard?: object;
  /** The mesh's Prometheus rule file; default: meshAlertRules(topology). */
  readonly alertRules?: object;
}

/**
 * The OpenTelemetry Collector (which every Envoy sends its spans to), Jaeger (traces), Prometheus
 * (scrapes the mesh's pods) and Grafana (the mesh's dashboard), for the mesh deployed to `target`.
 */
export function buildObservabilityAddons(topology: Topology, target: Pick<MeshTarget, "namespace" | "clusterDomain">, inputs: AddonInputs = {}): ObservabilityAddons {
  const dashboard = "dashboard" in inputs ? inputs.dashboard : meshDashboard(topology);
  const alertRules = "alertRules" in inputs ? inputs.alertRules : meshAlertRules(topology);
  return {
    namespace: buildAddonsNamespace(),
    addons: [
      buildCollector(target.clusterDomain),
      buildJaeger(),
      buildPrometheus(target.namespace, alertRules),
      buildGrafana(target.clusterDomain, dashboard),
    ],
  };
}

/** One add-on's objects in the order they are applied. */
export function addonSetManifests(set: AddonManifestSet): AddonManifest[] {
  return [
    set.serviceAccount,
    ...(set.role ? [set.role] : []),
    ...(set.roleBinding ? [set.roleBinding] : []),
    ...set.configMaps,
    set.deployment,
    set.service,
  ];
}

/** Every add-on object in apply order, namespace first. */
export function addonManifests(addons: ObservabilityAddons): AddonManifest[] {
  return [addons.namespace, ...addons.addons.flatMap(addonSetManifests)];
}

/**
 * Every add-on ConfigMap whose data the API server would refuse (more than CONFIG_MAP_MAX_BYTES,
 * the limit the Envoy ConfigMaps are checked against), all at once, naming each and its size:
 * render reports them and the Pulumi program refuses them before anything is registered, instead
 * of `up` failing at the API server. The dashboard and the rule file are of constant size, so
 * only an oversized input (AddonInputs) gets here.
 */
export function addonConfigMapSizeProblems(addons: ObservabilityAddons): ConfigIssue[] {
  return addons.addons.flatMap((set) =>
    set.configMaps.flatMap((configMap) => {
      const bytes = configMapDataBytes(configMap.data);
      if (bytes <= CONFIG_MAP_MAX_BYTES) return [];
      const files = Object.entries(configMap.data).map(([file, text]) => [file, Buffer.byteLength(text, "utf8")] as const);
      const [file, fileBytes] = files.reduce((a, b) => (b[1] > a[1] ? b : a));
      return [
        {
          path: `ConfigMap ${configMap.metadata.namespace}/${configMap.metadata.name}`,
          message: `would hold ${bytes} bytes, more than the ${CONFIG_MAP_MAX_BYTES} bytes the API server accepts (largest file: ${file}, ${fileBytes} bytes)`,
        },
      ];
    }),
  );
}
