import { buildFrontProxyConfig, buildSidecarConfig, serviceDnsQueryName, toYaml, type EnvoyTarget } from "../envoy";
import { FRONT_PROXY_NAME, type MeshService, type Topology } from "../topology";
import type {
  ConfigMapManifest,
  DeploymentManifest,
  DockerConfigSecretManifest,
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

/** On Kubernetes a caller reaches every pod of a service through its headless Service's FQDN. */
export function kubernetesEnvoyTarget(target: Pick<MeshTarget, "namespace" | "clusterDomain" | "edgeHttpsPort">): EnvoyTarget {
  return {
    upstreamHost: (service) => serviceDnsQueryName(service, target.namespace, target.clusterDomain),
    namespace: target.namespace,
    ...(target.edgeHttpsPort === undefined ? {} : { edgeHttpsPort: target.edgeHttpsPort }),
  };
}

/** `pullSecret`: name of the registry pull Secret every ServiceAccount refers to, when there is one. */
export function buildServiceObjects(
  topology: Topology,
  service: MeshService,
  target: MeshTarget,
  appImage: ImageInput,
  pullSecret?: string,
): ProxyObjects {
  const envoyYaml = toYaml(buildSidecarConfig(topology, service, kubernetesEnvoyTarget(target)).bootstrap);
  const configMap = buildEnvoyConfigMap(service.name, target.namespace, envoyYaml);
  return {
    proxy: service.name,
    envoyYaml,
    serviceAccount: buildServiceAccount(service.name, target.namespace, pullSecret),
    configMap,
    deployment: buildServiceDeployment({ topology, service, target, configMapName: configMap.metadata.name, appImage }),
    service: buildHeadlessService(service, topology, target.namespace),
    podDisruptionBudget: buildPodDisruptionBudget(service.name, target.namespace, service.replicas),
  };
}

export function buildFrontObjects(topology: Topology, target: MeshTarget, pullSecret?: string): ProxyObjects {
  const envoyYaml = toYaml(buildFrontProxyConfig(topology, kubernetesEnvoyTarget(target)).bootstrap);
  const configMap = buildEnvoyConfigMap(FRONT_PROXY_NAME, target.namespace, envoyYaml);
  return {
    proxy: FRONT_PROXY_NAME,
    envoyYaml,
    serviceAccount: buildServiceAccount(FRONT_PROXY_NAME, target.namespace, pullSecret),
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
  pullSecret?: string,
): readonly ProxyObjects[] {
  return [
    buildFrontObjects(topology, target, pullSecret),
    ...topology.services.map((s) => buildServiceObjects(topology, s, target, appImage(s), pullSecret)),
  ];
}

/** The objects of one proxy in the order they can be applied. */
export function proxyManifests(objects: ProxyObjects): Manifest[] {
  const { serviceAccount, configMap, deployment, service, podDisruptionBudget } = objects;
  return [serviceAccount, configMap, deployment, service, ...(podDisruptionBudget ? [podDisruptionBudget] : [])];
}

/** Every Kubernetes object of the mesh, namespace first, then the pull Secret the ServiceAccounts name. */
export function buildMeshManifests(
  topology: Topology,
  target: MeshTarget,
  appImage: (service: MeshService) => ImageInput,
  pullSecret?: DockerConfigSecretManifest,
): Manifest[] {
  return [
    buildNamespace(target.namespace),
    ...(pullSecret ? [pullSecret] : []),
    ...buildAllProxyObjects(topology, target, appImage, pullSecret?.metadata.name).flatMap(proxyManifests),
  ];
}
