import { buildFrontProxyConfig, buildSidecarConfig, toYaml } from "../envoy";
import { FRONT_PROXY_NAME, type MeshService, type Topology } from "../topology";
import type {
  ConfigMapManifest,
  DeploymentManifest,
  Manifest,
  PodDisruptionBudgetManifest,
  ServiceAccountManifest,
  ServiceManifest,
} from "./manifest";
import {
  buildEnvoyConfigMap,
  buildFrontDeployment,
  buildFrontService,
  buildHeadlessService,
  buildNamespace,
  buildPodDisruptionBudget,
  buildServiceAccount,
  buildServiceDeployment,
  type MeshTarget,
} from "./objects";
import type { ImageInput } from "./pod";

/** Everything one proxy (the front proxy, or a service with its sidecar) needs in the cluster. */
export interface ProxyObjects {
  readonly proxy: string;
  /** The Envoy bootstrap as it is stored in the ConfigMap. */
  readonly envoyYaml: string;
  readonly serviceAccount: ServiceAccountManifest;
  readonly configMap: ConfigMapManifest;
  readonly deployment: DeploymentManifest;
  readonly service: ServiceManifest;
  readonly podDisruptionBudget?: PodDisruptionBudgetManifest;
}

function meshContext(target: MeshTarget) {
  return { namespace: target.namespace, clusterDomain: target.clusterDomain };
}

export function buildServiceObjects(topology: Topology, service: MeshService, target: MeshTarget, appImage: ImageInput): ProxyObjects {
  const envoyYaml = toYaml(buildSidecarConfig(topology, service, meshContext(target)).bootstrap);
  const configMap = buildEnvoyConfigMap(service.name, target.namespace, envoyYaml);
  return {
    proxy: service.name,
    envoyYaml,
    serviceAccount: buildServiceAccount(service.name, target.namespace),
    configMap,
    deployment: buildServiceDeployment({ topology, service, target, configMapName: configMap.metadata.name, appImage }),
    service: buildHeadlessService(service, topology, target.namespace),
    podDisruptionBudget: buildPodDisruptionBudget(service.name, target.namespace, service.replicas),
  };
}

export function buildFrontObjects(topology: Topology, target: MeshTarget): ProxyObjects {
  const envoyYaml = toYaml(buildFrontProxyConfig(topology, meshContext(target)).bootstrap);
  const configMap = buildEnvoyConfigMap(FRONT_PROXY_NAME, target.namespace, envoyYaml);
  return {
    proxy: FRONT_PROXY_NAME,
    envoyYaml,
    serviceAccount: buildServiceAccount(FRONT_PROXY_NAME, target.namespace),
    configMap,
    deployment: buildFrontDeployment({ topology, target, configMapName: configMap.metadata.name }),
    service: buildFrontService(target),
    podDisruptionBudget: buildPodDisruptionBudget(FRONT_PROXY_NAME, target.namespace, topology.front.replicas),
  };
}

/** Every proxy's objects: the front proxy first, then the services by name. */
export function buildAllProxyObjects(
  topology: Topology,
  target: MeshTarget,
  appImage: (service: MeshService) => ImageInput,
): readonly ProxyObjects[] {
  return [buildFrontObjects(topology, target), ...topology.services.map((s) => buildServiceObjects(topology, s, target, appImage(s)))];
}

/** The objects of one proxy in the order they can be applied. */
export function proxyManifests(objects: ProxyObjects): Manifest[] {
  const { serviceAccount, configMap, deployment, service, podDisruptionBudget } = objects;
  return [serviceAccount, configMap, deployment, service, ...(podDisruptionBudget ? [podDisruptionBudget] : [])];
}

/** Every Kubernetes object of the mesh, namespace first. */
export function buildMeshManifests(
  topology: Topology,
  target: MeshTarget,
  appImage: (service: MeshService) => ImageInput,
): Manifest[] {
  return [buildNamespace(target.namespace), ...buildAllProxyObjects(topology, target, appImage).flatMap(proxyManifests)];
}
