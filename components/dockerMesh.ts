import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { buildDockerMesh, dockerCertificateProblems, type DockerCertificateFiles, type DockerImageInput, type DockerTarget } from "../docker";
import { describeTarget, imageBuildPlans, planFor, type DockerStackSettings, type ImageBuildPlan } from "../stack";
import { FRONT_PROXY_NAME, type MeshService as MeshServiceSpec, type Topology } from "../topology";
import { ConfigError, type ConfigIssue } from "../topology/reader";
import type { RenderedEnvoyConfig } from "../envoy/check";
import type { MeshCertificateSet } from "./certificates";
import type { ServiceEndpoint } from "./meshService";
import { DockerFrontProxy, DockerMeshService, LocalImage, pulledImageName } from "./dockerContainers";

export interface DeployedMesh {
  readonly frontUrl: pulumi.Output<string>;
  /** The Docker network's name on this target. */
  readonly namespace: string;
  readonly services: Readonly<Record<string, ServiceEndpoint>>;
}

/**
 * The certificates as the docker description takes them, or every reason they cannot be used, at
 * once: an edge certificate that is a Kubernetes Secret's name has no meaning on Docker (there is
 * no Secret to mount; give the certificate and key as PEM), and under strict mTLS every proxy
 * needs its identity and the front its edge certificate (dockerCertificateProblems).
 */
export function dockerCertificateFiles(certificates: MeshCertificateSet, topology: Topology, target: DockerTarget): DockerCertificateFiles {
  const edge = certificates.edge;
  const problems: ConfigIssue[] = [];
  if (edge !== undefined && edge.kind !== "pem") {
    problems.push({
      path: "certificates.edge",
      message:
        `the edge certificate is the Kubernetes Secret ${JSON.stringify(edge.name)} (edgeCertificateSecret), which the docker target ` +
        "cannot mount: there is no Kubernetes on Docker. Give the certificate and its key as PEM instead",
    });
  }
  const files: DockerCertificateFiles = {
    identities: certificates.identities,
    ...(edge?.kind === "pem" ? { edge: { certificatePem: edge.certificatePem, privateKeyPem: edge.privateKeyPem } } : {}),
  };
  // A Secret-named edge is already reported: do not report it again as missing.
  problems.push(...dockerCertificateProblems(topology, files, target).filter((p) => !(edge !== undefined && p.path === "certificates.edge")));
  if (problems.length > 0) throw new pulumi.RunError(new ConfigError(problems, `the docker target ${target.name} cannot deliver every Envoy's certificates`).message);
  return files;
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
  /** Every proxy's config, rendered for the checks with the same topology and target (envoyTargetOf is dockerEnvoyTarget of settings.docker). */
  renderedConfigs?: ReadonlyMap<string, RenderedEnvoyConfig>,
): DeployedMesh {
  const { topology, docker: target } = settings;
  // Checked before anything is registered: a refused set leaves no half-built mesh behind.
  const certificateFiles = dockerCertificateFiles(certificates, topology, target);
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

  const described = buildDockerMesh(topology, target, { envoy: envoyImage, app: appImage }, certificateFiles, renderedConfigs);
  const networkSpec = described.network;
  const network = new docker.Network(
    `${name}-network`,
    { name: networkSpec.name, driver: networkSpec.driver, labels: Object.entries(networkSpec.labels).map(([label, value]) => ({ label, value })) },
    { ...resourceOpts, deleteBeforeReplace: true },
  );

  const services: Record<string, ServiceEndpoint> = {};
  const serviceComponents: pulumi.Resource[] = [];
  for (const spec of topology.services) {
    const proxy = described.proxies.find((p) => p.proxy === spec.name);
    if (proxy === undefined) throw new Error(`no containers described for service ${spec.name}`);
    const egressPorts = Object.fromEntries(spec.upstreams.map((u) => [u.service, u.egressPort]));
    const component = new DockerMeshService(spec.name, { proxy, service: spec, network, targetName: target.name, envoyImage, egressPorts }, childOpts);
    serviceComponents.push(component);
    services[spec.name] = { ...component.dns, egressPorts };
  }
  const frontProxy = described.proxies.find((p) => p.proxy === FRONT_PROXY_NAME);
  if (frontProxy === undefined) throw new Error("no containers described for the front proxy");
  const url = describeTarget(settings.target).fixedFrontUrl ?? `http://${target.front.hostIp}:${target.front.hostPort}`;
  // The front starts once the services run and stops first: it never takes traffic it cannot route.
  const front = new DockerFrontProxy(frontProxy.proxy, { proxy: frontProxy, network, targetName: target.name, envoyImage, url, dependsOn: serviceComponents }, childOpts);
  return { frontUrl: front.url, namespace: target.name, services };
}
