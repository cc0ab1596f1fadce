import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MeshTarget } from "../k8s";
import { addonConfigMapSizeProblems, buildObservabilityAddons, type AddonInputs, type ObservabilityAddons as BuiltAddons } from "../k8s/addons";
import type { Topology } from "../topology";
import { ConfigError } from "../topology/reader";
import { OBSERVABILITY_ADDONS_TYPE } from "./tokens";

export interface ObservabilityAddonsArgs {
  readonly topology: Topology;
  readonly target: Pick<MeshTarget, "namespace" | "clusterDomain">;
  /** The mesh's namespace: Prometheus' Role and RoleBinding live there. */
  readonly meshNamespace: pulumi.Resource;
  readonly inputs?: AddonInputs;
  /** The add-ons already built (and checked) from the same topology, target and inputs; built here when absent. */
  readonly built?: BuiltAddons;
}

/**
 * The observability add-ons (k8s/addons): the namespace, then per add-on its ServiceAccount,
 * grants, ConfigMaps, Deployment and Service, named `${name}-<add-on>-<role>`. Register it with
 * the mesh's Kubernetes provider (`providers: { kubernetes }`); every child inherits it.
 */
export class ObservabilityAddons extends pulumi.ComponentResource {
  readonly namespace: string;

  constructor(name: string, args: ObservabilityAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    const built = args.built ?? buildObservabilityAddons(args.topology, args.target, args.inputs);
    // A ConfigMap holds at most 1 MiB: refuse a larger one here, before anything is registered, not at the API server.
    const sizeProblems = addonConfigMapSizeProblems(built);
    if (sizeProblems.length > 0) throw new pulumi.RunError(new ConfigError(sizeProblems, "observability add-on configs too large for a Kubernetes ConfigMap").message);
    super(OBSERVABILITY_ADDONS_TYPE, name, {}, opts);
    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, built.namespace, { parent: this });
    for (const set of built.addons) {
      const prefix = `${name}-${set.name}`;
      const opts = { parent: this, dependsOn: [namespace] };
      const serviceAccount = new k8s.core.v1.ServiceAccount(`${prefix}-sa`, set.serviceAccount, opts);
      const grants: pulumi.Resource[] = [];
      if (set.role !== undefined && set.roleBinding !== undefined) {
        const inMesh = { parent: this, dependsOn: [args.meshNamespace] };
        const role = new k8s.rbac.v1.Role(`${prefix}-role`, set.role, inMesh);
        grants.push(role, new k8s.rbac.v1.RoleBinding(`${prefix}-role-binding`, set.roleBinding, { ...inMesh, dependsOn: [args.meshNamespace, role] }));
      }
      const configMaps = set.configMaps.map((cm) => new k8s.core.v1.ConfigMap(`${prefix}-${cm.metadata.name.slice(set.name.length + 1)}`, cm, opts));
      new k8s.apps.v1.Deployment(`${prefix}-deployment`, set.deployment, { parent: this, dependsOn: [namespace, serviceAccount, ...grants, ...configMaps] });
      new k8s.core.v1.Service(`${prefix}-service`, set.service, opts);
    }
    this.namespace = built.namespace.metadata.name;
    this.registerOutputs({ namespace: this.namespace });
  }
}
