import { buildFrontProxyConfig, buildSidecarConfig, serviceDnsQueryName, type EnvoyTarget, type ProxyConfig } from "../envoy";
import { renderEnvoyConfig, type RenderedEnvoyConfig } from "../envoy/check";
import { FRONT_PROXY_NAME, versionWorkload, type MeshService, type Topology } from "../topology";
import type {
  ConfigMapManifest,
  DeploymentManifest,
  DockerConfigSecretManifest,
  Manifest,
  PodDisruptionBudgetManifest,
  ServiceAccountManifest,
  ServiceManifest,
  TlsSecretManifest,
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
  buildXdsConfigMap,
  type MeshTarget,
} from "./objects";
import type { ImageInput } from "./pod";
import { PLACEHOLDER_SECRET_SOURCES } from "./placeholders";
import { EDGE_SECRET_NAME, buildEdgeSecret, buildIdentitySecret, type MeshSecretSources } from "./secrets";

/** The objects of one version of a service: its pods and the headless Service that finds them. */
export interface VersionObjects {
  readonly version: string;
  readonly deployment: DeploymentManifest;
  readonly service: ServiceManifest;
  readonly podDisruptionBudget?: PodDisruptionBudgetManifest;
}

/** Everything one proxy (the front proxy, or a service with its sidecar) needs in the cluster. */
export interface ProxyObjects {
  readonly proxy: string;
  /** The Envoy bootstrap as it is stored in the bootstrap ConfigMap. */
  readonly envoyYaml: string;
  /** The xDS files (LDS, CDS, RDS, SDS) as the xDS ConfigMap stores them, by file name, sorted. */
  readonly xdsFiles: Readonly<Record<string, string>>;
  readonly serviceAccount: ServiceAccountManifest;
  /** The proxy's mesh identity (`<proxy>-identity`); absent when `security.mtls` is off. */
  readonly identitySecret?: TlsSecretManifest;
  /** The front proxy's edge certificate, when Pulumi holds it (not for an existing Secret). */
  readonly edgeSecret?: TlsSecretManifest;
  /** The bootstrap, content-named and immutable: a change rolls the pods. */
  readonly configMap: ConfigMapManifest;
  /** The xDS files, under a stable name: a change updates it in place and every Envoy reloads it. */
  readonly xdsConfigMap: ConfigMapManifest;
  readonly deployment: DeploymentManifest;
  readonly service: ServiceManifest;
  readonly podDisruptionBudget?: PodDisruptionBudgetManifest;
}

/**
 * A service with versions: the identity, Secret and sidecar config are the service's, shared by
 * every version; each version has its own Deployment, headless Service and PodDisruptionBudget.
 */
export interface VersionedProxyObjects extends Omit<ProxyObjects, "deployment" | "service" | "podDisruptionBudget"> {
  readonly versions: readonly VersionObjects[];
}

export type AnyProxyObjects = ProxyObjects | VersionedProxyObjects;

/** Whether `objects` are those of a service with versions. */
export function isVersioned(objects: AnyProxyObjects): objects is VersionedProxyObjects {
  return "versions" in objects;
}

/** On Kubernetes a caller reaches every pod of a service through its headless Service's FQDN. */
export function kubernetesEnvoyTarget(target: Pick<MeshTarget, "namespace" | "clusterDomain" | "edgeHttpsPort" | "tracing">): EnvoyTarget {
  return {
    upstreamHost: (service) => serviceDnsQueryName(service, target.namespace, target.clusterDomain),
    namespace: target.namespace,
    ...(target.edgeHttpsPort === undefined ? {} : { edgeHttpsPort: target.edgeHttpsPort }),
    ...(target.tracing === undefined ? {} : { tracing: target.tracing }),
  };
}

/**
 * A proxy's config rendered already, for the same topology and target (ServiceMesh renders every
 * config once for its checks): used as it is instead of being built and serialized again.
 */
export type RenderedConfigs = ReadonlyMap<string, RenderedEnvoyConfig>;

/** The bootstrap and the xDS files as the two ConfigMaps store them, and the ConfigMaps. */
function configObjects(proxy: string, build: () => ProxyConfig, namespace: string, rendered: RenderedConfigs | undefined) {
  const { yaml: envoyYaml, xdsFiles } = rendered?.get(proxy) ?? renderEnvoyConfig(build());
  return {
    envoyYaml,
    xdsFiles,
    configMap: buildEnvoyConfigMap(proxy, namespace, envoyYaml),
    xdsConfigMap: buildXdsConfigMap(proxy, namespace, xdsFiles),
  };
}

/** With `security.mtls` strict every proxy holds a mesh identity; off, none does. */
function holdsIdentity(topology: Topology): boolean {
  return topology.security.mtls === "strict";
}

/**
 * `pullSecret`: name of the registry pull Secret every ServiceAccount refers to, when there is one.
 * `secrets`: the certificate data (Pulumi outputs when deployed); marked placeholders by default.
 */
export function buildServiceObjects(
  topology: Topology,
  service: MeshService,
  target: MeshTarget,
  appImage: ImageInput,
  pullSecret?: string,
  secrets: MeshSecretSources = PLACEHOLDER_SECRET_SOURCES,
  rendered?: RenderedConfigs,
): ProxyObjects {
  const config = configObjects(service.name, () => buildSidecarConfig(topology, service, kubernetesEnvoyTarget(target)), target.namespace, rendered);
  const { configMap, xdsConfigMap } = config;
  const mountIdentity = holdsIdentity(topology);
  return {
    proxy: service.name,
    envoyYaml: config.envoyYaml,
    xdsFiles: config.xdsFiles,
    serviceAccount: buildServiceAccount(service.name, target.namespace, pullSecret),
    ...(mountIdentity ? { identitySecret: buildIdentitySecret(service.name, target.namespace, "service", secrets.identity(service.name)) } : {}),
    configMap,
    xdsConfigMap,
    deployment: buildServiceDeployment({
      topology,
      service,
      target,
      configMapName: configMap.metadata.name,
      xdsConfigMapName: xdsConfigMap.metadata.name,
      appImage,
      mountIdentity,
    }),
    service: buildHeadlessService(service, topology, target.namespace),
    podDisruptionBudget: buildPodDisruptionBudget(service.name, target.namespace, service.replicas),
  };
}

/**
 * The objects of a service with or without versions. `appImage` gives each workload's image: the
 * service's, or a version's (`versionWorkload`: the service with that version's image and replicas).
 */
export function buildAnyServiceObjects(
  topology: Topology,
  service: MeshService,
  target: MeshTarget,
  appImage: (workload: MeshService) => ImageInput,
  pullSecret?: string,
  secrets: MeshSecretSources = PLACEHOLDER_SECRET_SOURCES,
  rendered?: RenderedConfigs,
): AnyProxyObjects {
  const { versions } = service;
  if (versions === undefined) return buildServiceObjects(topology, service, target, appImage(service), pullSecret, secrets, rendered);
  // The service-wide objects (identity, Secret, sidecar config: both ConfigMaps); the Deployment and Service come per version below.
  const { proxy, envoyYaml, xdsFiles, serviceAccount, identitySecret, configMap, xdsConfigMap } = buildServiceObjects(topology, service, target, "", pullSecret, secrets, rendered);
  const shared = { proxy, envoyYaml, xdsFiles, serviceAccount, ...(identitySecret !== undefined ? { identitySecret } : {}), configMap, xdsConfigMap };
  const mountIdentity = holdsIdentity(topology);
  return {
    ...shared,
    versions: versions.map((version) => {
      const podDisruptionBudget = buildPodDisruptionBudget(service.name, target.namespace, version.replicas, version);
      const appImageOfVersion = appImage(versionWorkload(service, version));
      return {
        version: version.name,
        deployment: buildServiceDeployment({
          topology,
          service,
          target,
          configMapName: configMap.metadata.name,
          xdsConfigMapName: xdsConfigMap.metadata.name,
          appImage: appImageOfVersion,
          mountIdentity,
          version,
        }),
        service: buildHeadlessService(service, topology, target.namespace, version),
        ...(podDisruptionBudget !== undefined ? { podDisruptionBudget } : {}),
      };
    }),
  };
}

/**
 * The front proxy's objects. When the edge serves HTTPS (`target.edgeHttpsPort`), `secrets.edge`
 * says where its certificate is: a Secret built here, or an existing one that is only mounted.
 */
export function buildFrontObjects(
  topology: Topology,
  target: MeshTarget,
  pullSecret?: string,
  secrets: MeshSecretSources = PLACEHOLDER_SECRET_SOURCES,
  rendered?: RenderedConfigs,
): ProxyObjects {
  const config = configObjects(FRONT_PROXY_NAME, () => buildFrontProxyConfig(topology, kubernetesEnvoyTarget(target)), target.namespace, rendered);
  const { configMap, xdsConfigMap } = config;
  const mountIdentity = holdsIdentity(topology);
  const edge = target.edgeHttpsPort === undefined ? undefined : secrets.edge;
  if (target.edgeHttpsPort !== undefined && edge === undefined) {
    throw new Error(`the edge serves HTTPS on port ${target.edgeHttpsPort}, but no edge certificate was given`);
  }
  const edgeSecret = edge?.kind === "data" ? buildEdgeSecret(target.namespace, edge) : undefined;
  const edgeSecretName = edge === undefined ? undefined : edge.kind === "data" ? EDGE_SECRET_NAME : edge.name;
  return {
    proxy: FRONT_PROXY_NAME,
    envoyYaml: config.envoyYaml,
    xdsFiles: config.xdsFiles,
    serviceAccount: buildServiceAccount(FRONT_PROXY_NAME, target.namespace, pullSecret),
    ...(mountIdentity ? { identitySecret: buildIdentitySecret(FRONT_PROXY_NAME, target.namespace, "front-proxy", secrets.identity(FRONT_PROXY_NAME)) } : {}),
    ...(edgeSecret !== undefined ? { edgeSecret } : {}),
    configMap,
    xdsConfigMap,
    deployment: buildFrontDeployment({
      topology,
      target,
      configMapName: configMap.metadata.name,
      xdsConfigMapName: xdsConfigMap.metadata.name,
      mountIdentity,
      ...(edgeSecretName !== undefined ? { edgeSecretName } : {}),
    }),
    service: buildFrontService(target, topology.front.plainHttp),
    podDisruptionBudget: buildPodDisruptionBudget(FRONT_PROXY_NAME, target.namespace, topology.front.replicas),
  };
}

/** Every proxy's objects: the front proxy first, then the services by name. */
export function buildAllProxyObjects(
  topology: Topology,
  target: MeshTarget,
  appImage: (service: MeshService) => ImageInput,
  pullSecret?: string,
  secrets: MeshSecretSources = PLACEHOLDER_SECRET_SOURCES,
): readonly AnyProxyObjects[] {
  return [
    buildFrontObjects(topology, target, pullSecret, secrets),
    ...topology.services.map((s) => buildAnyServiceObjects(topology, s, target, appImage, pullSecret, secrets)),
  ];
}

/** The objects of one proxy in the order they can be applied: what a pod mounts before the Deployment. */
export function proxyManifests(objects: AnyProxyObjects): Manifest[] {
  const { serviceAccount, identitySecret, edgeSecret, configMap, xdsConfigMap } = objects;
  const workloads = isVersioned(objects) ? objects.versions : [objects];
  return [
    serviceAccount,
    ...(identitySecret ? [identitySecret] : []),
    ...(edgeSecret ? [edgeSecret] : []),
    configMap,
    xdsConfigMap,
    ...workloads.flatMap(({ deployment, service, podDisruptionBudget }) => [deployment, service, ...(podDisruptionBudget ? [podDisruptionBudget] : [])]),
  ];
}

/** Every Kubernetes object of the mesh, namespace first, then the pull Secret the ServiceAccounts name. */
export function buildMeshManifests(
  topology: Topology,
  target: MeshTarget,
  appImage: (service: MeshService) => ImageInput,
  pullSecret?: DockerConfigSecretManifest,
  secrets: MeshSecretSources = PLACEHOLDER_SECRET_SOURCES,
): Manifest[] {
  return [
    buildNamespace(target.namespace),
    ...(pullSecret ? [pullSecret] : []),
    ...buildAllProxyObjects(topology, target, appImage, pullSecret?.metadata.name, secrets).flatMap(proxyManifests),
  ];
}
