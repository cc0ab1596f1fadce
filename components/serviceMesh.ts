import { homedir } from "node:os";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { meshEnvoyConfigProblems } from "../envoy/check";
import { REGISTRY_PULL_SECRET_NAME, buildFrontObjects, kubernetesEnvoyTarget, buildNamespace, buildServiceObjects } from "../k8s";
import { KIND_HOST_PORT, imageBuildPlans, isKubernetesStack, planFor, type ClusterAccess, type ImageBuildPlan, type KubernetesStackSettings, type StackSettings } from "../stack";
import type { MeshService as MeshServiceSpec } from "../topology";
import { ConfigError } from "../topology/reader";
import { AppImage } from "./appImage";
import { FrontProxy } from "./frontProxy";
import { MeshService } from "./meshService";
import { createPullSecret, pullCredentialProblems } from "./pullSecret";
import { SERVICE_MESH_TYPE } from "./tokens";

export interface ServiceMeshArgs {
  /** Validated stack settings, topology included. */
  readonly settings: StackSettings;
  /** Root the image build contexts are relative to. */
  readonly projectDir: string;
  /** Tag of the images pushed (pods use the digest). */
  readonly imageTag: string;
  /** Registry password or token, as a Pulumi secret. Default: none. */
  readonly registryPassword?: pulumi.Input<string>;
}

export interface ServiceEndpoint {
  readonly dns: string;
  readonly egressPorts: Readonly<Record<string, number>>;
}

/** Kubernetes provider settings for the chosen cluster: kind's context, or the cloud kubeconfig. */
export function kubernetesProviderArgs(cluster: ClusterAccess): k8s.ProviderArgs {
  switch (cluster.target) {
    case "kind":
      return { context: cluster.context };
    case "cloud":
      return {
        ...(cluster.kubeconfig !== undefined ? { kubeconfig: cluster.kubeconfig.replace(/^~(?=\/)/, homedir()) } : {}),
        ...(cluster.context !== undefined ? { context: cluster.context } : {}),
      };
    default: {
      const unreachable: never = cluster;
      throw new Error(`unknown target ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * The whole mesh on one cluster: one Kubernetes provider, the namespace, the app images, a
 * MeshService per service and the FrontProxy. Everything below is registered through the
 * provider created here, once.
 */
export class ServiceMesh extends pulumi.ComponentResource {
  readonly frontUrl: pulumi.Output<string>;
  readonly namespace: string;
  readonly services: Readonly<Record<string, ServiceEndpoint>>;

  constructor(name: string, args: ServiceMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!isKubernetesStack(args.settings)) throw new pulumi.RunError(`target ${args.settings.target} is not supported yet`);
    // Envoy refuses a bad bootstrap and the pod crash-loops; refuse it here, before anything is registered.
    const problems = meshEnvoyConfigProblems(args.settings.topology, kubernetesEnvoyTarget(args.settings.mesh));
    if (problems.length > 0) throw new pulumi.RunError(new ConfigError(problems, "generated Envoy configs that Envoy would refuse").message);
    const credentialProblems = pullCredentialProblems(args.settings.registry, args.registryPassword);
    if (credentialProblems.length > 0) {
      throw new pulumi.RunError(new ConfigError(credentialProblems, "incomplete registry credentials").message);
    }
    super(SERVICE_MESH_TYPE, name, {}, opts);
    const settings = args.settings as KubernetesStackSettings;
    const { topology, mesh: target } = settings;

    const provider = new k8s.Provider(`${name}-${settings.target}`, kubernetesProviderArgs(settings.cluster), { parent: this });
    const childOpts = { parent: this, providers: { kubernetes: provider } };
    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, buildNamespace(target.namespace), { parent: this, provider });
    const pullSecret = createPullSecret(`${name}-registry`, target.namespace, settings.registry, args.registryPassword, {
      parent: this,
      provider,
      dependsOn: [namespace],
    });
    const pullSecretName = pullSecret === undefined ? undefined : REGISTRY_PULL_SECRET_NAME;
    // A ServiceAccount that names the Secret, and so every pod, waits for it.
    const proxyDependsOn = pullSecret === undefined ? [namespace] : [namespace, pullSecret];

    const plans = imageBuildPlans(topology, settings.registry.server, args.imageTag);
    const images = new Map(
      plans.map((plan) => [
        plan.key,
        new AppImage(
          `${name}-${plan.key}`,
          { plan, projectDir: args.projectDir, registry: settings.registry, registryPassword: args.registryPassword },
          { parent: this },
        ),
      ]),
    );
    const imageOf = (service: MeshServiceSpec): pulumi.Input<string> => {
      if (service.image.kind === "ref") return service.image.ref;
      return (images.get((planFor(service, plans) as ImageBuildPlan).key) as AppImage).ref;
    };

    const services: Record<string, ServiceEndpoint> = {};
    for (const spec of topology.services) {
      const component = new MeshService(
        spec.name,
        {
          spec,
          objects: buildServiceObjects(topology, spec, target, imageOf(spec), pullSecretName),
          namespace: target.namespace,
          clusterDomain: target.clusterDomain,
          dependsOn: proxyDependsOn,
        },
        childOpts,
      );
      services[spec.name] = { dns: component.dnsName, egressPorts: component.egressPorts };
    }

    const front = new FrontProxy(
      "front-envoy",
      {
        objects: buildFrontObjects(topology, target, pullSecretName),
        fixedUrl: settings.target === "kind" ? `http://localhost:${KIND_HOST_PORT}` : undefined,
        dependsOn: proxyDependsOn,
      },
      childOpts,
    );

    this.frontUrl = front.url;
    this.namespace = target.namespace;
    this.services = services;
    this.registerOutputs({ frontUrl: this.frontUrl, namespace: this.namespace, services: this.services });
  }
}
