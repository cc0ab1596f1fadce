import * as pulumi from "@pulumi/pulumi";
import type { ProxyObjects } from "../k8s";
import { registerProxyObjects } from "./proxyObjects";
import { FRONT_PROXY_TYPE } from "./tokens";

export interface FrontProxyArgs {
  readonly objects: ProxyObjects;
  /** Where users reach the front proxy when the cluster itself cannot say (kind's host port mapping). */
  readonly fixedUrl?: string;
  readonly dependsOn: readonly pulumi.Resource[];
}

/** The edge Envoy: its config, Deployment, and the Service that exposes it outside the cluster. */
export class FrontProxy extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: FrontProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FRONT_PROXY_TYPE, name, {}, opts);
    const registered = registerProxyObjects(name, args.objects, this, args.dependsOn);
    this.url =
      args.fixedUrl !== undefined
        ? pulumi.output(args.fixedUrl)
        : registered.service.status.apply((status) => {
            const ingress = status?.loadBalancer?.ingress?.[0];
            return `http://${ingress?.hostname ?? ingress?.ip ?? "pending"}`;
          });
    this.registerOutputs({ url: this.url });
  }
}
