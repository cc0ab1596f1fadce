import * as pulumi from "@pulumi/pulumi";
import { serviceFqdn } from "../envoy";
import type { AnyProxyObjects } from "../k8s";
import type { MeshService as MeshServiceSpec } from "../topology";
import { serviceDns, type ServiceDns } from "../topology/versions";
import { registerProxyObjects } from "./proxyObjects";
import { MESH_SERVICE_TYPE } from "./tokens";

/** Where callers find a service (`dns`, or with versions `versions`: one name each), and its egress ports. */
export type ServiceEndpoint = ServiceDns & { readonly egressPorts: Readonly<Record<string, number>> };

export interface MeshServiceArgs {
  readonly spec: MeshServiceSpec;
  /** The service's objects, from the same builders the render command uses. */
  readonly objects: AnyProxyObjects;
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Resources that must exist first (the namespace). */
  readonly dependsOn: readonly pulumi.Resource[];
}

/** One service of the mesh: its app with an Envoy sidecar, the sidecar's config, a headless Service. */
export class MeshService extends pulumi.ComponentResource {
  /** Name every caller's sidecar resolves to reach this service's pods; with versions, each version's. */
  readonly dns: ServiceDns;
  /** Egress port on 127.0.0.1, per upstream this service calls. */
  readonly egressPorts: Readonly<Record<string, number>>;

  constructor(name: string, args: MeshServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESH_SERVICE_TYPE, name, {}, opts);
    registerProxyObjects(name, args.objects, this, args.dependsOn);
    this.dns = serviceDns(args.spec, (workload) => serviceFqdn(workload, args.namespace, args.clusterDomain));
    this.egressPorts = Object.fromEntries(args.spec.upstreams.map((u) => [u.service, u.egressPort]));
    this.registerOutputs({ ...this.dns, egressPorts: this.egressPorts });
  }
}
