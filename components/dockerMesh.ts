import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { buildDockerMesh, type DockerCertificateFiles, type DockerImageInput } from "../docker";
import { describeTarget, imageBuildPlans, planFor, type DockerStackSettings, type ImageBuildPlan } from "../stack";
import { FRONT_PROXY_NAME, type MeshService as MeshServiceSpec } from "../topology";
import type { MeshCertificateSet } from "./certificates";
import { DockerFrontProxy, DockerMeshService, LocalImage, pulledImageName } from "./dockerContainers";

export interface DeployedMesh {
  readonly frontUrl: pulumi.Output<string>;
  /** The Docker network's name on this target. */
  readonly namespace: string;
  readonly services: Readonly<Record<string, { readonly dns: string; readonly egressPorts: Readonly<Record<string, number>> }>>;
}

/**
 * The certificates as the docker description takes them. An edge certificate that is a
 * Kubernetes Secret's name has no meaning on Docker, so it is refused.
 */
export function dockerCertificateFiles(certificates: MeshCertificateSet): DockerCertificateFiles {
  const edge = certificates.edge;
  if (edge !== undefined && edge.kind !== "pem") {
    throw new Error(`the docker target needs the edge certificate as PEM files; it cannot use the Kubernetes Secret ${edge.name}`);
  }
  return {
    identities: certificates.identities,
    ...(edge === undefined ? {} : { edge: { certificatePem: edge.certificatePem, privateKeyPem: edge.privateKeyPem } }),
  };
}

/**
 * The docker target under `parent`: one Docker provider (the ambient engine: DOCKER_HOST or the
 * local socket), the network, images (built locally, or pulled, and used by image ID), a
 * DockerMeshService per service and the DockerFrontProxy. Each Envoy gets its files (SDS files,
 * its identity from `certificates`, the front's edge certificate) through volumes that a files
 * container fills (docker/files.ts).
 */
export function deployDockerMesh(
  name: string,
  settings: DockerStackSettings,
  projectDir: string,
  imageTag: string,
  parent: pulumi.Resource,
  certificates: MeshCertificateSet,
): DeployedMesh {
  const { topology, docker: target } = settings;
  const provider = new docker.Provider(`${name}-docker`, {}, { parent });
  const childOpts = { parent, providers: { docker: provider } };
  const resourceOpts = { parent, provider };

  const pulled = new Map<string, pulumi.Output<string>>();
  const pull = (ref: string): pulumi.Output<string> => {
    let id = pulled.get(ref);
    if (id === undefined) {
      const image = new docker.RemoteImage(
        pulledImageName(name, ref),
        // Kept on destroy: other containers may use the image.
        { name: ref, keepLocally: true, ...(target.platform === undefined ? {} : { platform: target.platform }) },
        resourceOpts,
      );
      id = image.imageId;
      pulled.set(ref, id);
    }
    return id;
  };
  const envoyImage = pull(target.envoyImage);

  const plans = imageBuildPlans(topology, undefined, imageTag);
  const built = new Map(
    plans.map((plan) => [plan.key, new LocalImage(`${name}-${plan.key}`, { plan, projectDir, ...(target.platform === undefined ? {} : { platform: target.platform }) }, childOpts)]),
  );
  const appImage = (service: MeshServiceSpec): DockerImageInput =>
    service.image.kind === "ref" ? pull(service.image.ref) : (built.get((planFor(service, plans) as ImageBuildPlan).key) as LocalImage).id;

  const described = buildDockerMesh(topology, target, { envoy: envoyImage, app: appImage }, dockerCertificateFiles(certificates));
  const networkSpec = described.network;
  const network = new docker.Network(
    `${name}-network`,
    { name: networkSpec.name, driver: networkSpec.driver, labels: Object.entries(networkSpec.labels).map(([label, value]) => ({ label, value })) },
    { ...resourceOpts, deleteBeforeReplace: true },
  );

  const services: Record<string, { dns: string; egressPorts: Record<string, number> }> = {};
  const serviceComponents: pulumi.Resource[] = [];
  for (const spec of topology.services) {
    const proxy = described.proxies.find((p) => p.proxy === spec.name);
    if (proxy === undefined) throw new Error(`no containers described for service ${spec.name}`);
    const egressPorts = Object.fromEntries(spec.upstreams.map((u) => [u.service, u.egressPort]));
    const component = new DockerMeshService(spec.name, { proxy, network, targetName: target.name, envoyImage, egressPorts }, childOpts);
    serviceComponents.push(component);
    services[spec.name] = { dns: component.dnsName, egressPorts };
  }
  const frontProxy = described.proxies.find((p) => p.proxy === FRONT_PROXY_NAME);
  if (frontProxy === undefined) throw new Error("no containers described for the front proxy");
  const url = describeTarget(settings.target).fixedFrontUrl ?? `http://${target.front.hostIp}:${target.front.hostPort}`;
  // The front starts once the services run and stops first: it never takes traffic it cannot route.
  const front = new DockerFrontProxy(frontProxy.proxy, { proxy: frontProxy, network, targetName: target.name, envoyImage, url, dependsOn: serviceComponents }, childOpts);
  return { frontUrl: front.url, namespace: target.name, services };
}
