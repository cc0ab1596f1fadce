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
