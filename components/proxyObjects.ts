import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { isVersioned, type AnyProxyObjects, type ServiceManifest } from "../k8s";

export interface RegisteredProxy {
  /** The Service, whose status carries a load balancer's address (a service with versions: its first version's). */
  readonly service: k8s.core.v1.Service;
}

/**
 * A node port is unique in the whole cluster, whatever the namespace. Pulumi replaces
 * create-before-delete, and the Kubernetes provider only switches to delete-before-replace when
 * the name and namespace stay the same (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go,
 * Diff), so moving a Service with a fixed node port to another namespace would fail with "provided
 * port is already allocated". Deleting first frees the port.
 */
export function serviceResourceOptions(service: ServiceManifest): { deleteBeforeReplace?: true } {
  const ports = (service.spec.ports ?? []) as readonly { readonly nodePort?: unknown }[];
  return ports.some((port) => port.nodePort !== undefined) ? { deleteBeforeReplace: true } : {};
}

/**
 * Registers one proxy's objects under `parent`, named `${name}-<role>`. The Deployment names
 * its ConfigMaps, ServiceAccount and Secrets as plain strings, so it waits for them explicitly:
 * a pod whose ConfigMap or Secret volume is missing would not start.
 */
export function registerProxyObjects(
  name: string,
  objects: AnyProxyObjects,
  parent: pulumi.Resource,
  dependsOn: readonly pulumi.Resource[],
): RegisteredProxy {
  const opts = { parent, dependsOn: [...dependsOn] };
  const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, objects.serviceAccount, opts);
  // The Secrets' data are Pulumi secrets, so the provider stores and shows them encrypted.
  const secrets = [
    ...(objects.identitySecret !== undefined ? [new k8s.core.v1.Secret(`${name}-identity`, objects.identitySecret, opts)] : []),
    ...(objects.edgeSecret !== undefined ? [new k8s.core.v1.Secret(`${name}-edge`, objects.edgeSecret, opts)] : []),
  ];
  // The bootstrap keeps its resource name (`-envoy-config`) so existing stacks see no rename;
  // its content-named object is replaced whenever the bootstrap changes, rolling the pods.
  const configMap = new k8s.core.v1.ConfigMap(`${name}-envoy-config`, objects.configMap, opts);
  // The xDS files: updated in place (the provider has enableConfigMapMutable), so a preview
  // that shows only `~ ${name}-envoy-live-config` changes routes without restarting a pod.
  const xdsConfigMap = new k8s.core.v1.ConfigMap(`${name}-envoy-live-config`, objects.xdsConfigMap, opts);
  // A service with versions: one Deployment, Service and budget per version, named `${name}-<version>-<role>`.
  const workloads = isVersioned(objects) ? objects.versions.map((v) => ({ ...v, prefix: `${name}-${v.version}` })) : [{ ...objects, prefix: name }];
  const services = workloads.map((workload) => {
    new k8s.apps.v1.Deployment(`${workload.prefix}-deployment`, workload.deployment, {
      parent,
      dependsOn: [...dependsOn, serviceAccount, configMap, xdsConfigMap, ...secrets],
    });
    const service = new k8s.core.v1.Service(`${workload.prefix}-service`, workload.service, { ...opts, ...serviceResourceOptions(workload.service) });
    if (workload.podDisruptionBudget !== undefined) {
      new k8s.policy.v1.PodDisruptionBudget(`${workload.prefix}-pdb`, workload.podDisruptionBudget, opts);
    }
    return service;
  });
  return { service: services[0] };
}
