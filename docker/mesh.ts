/**
 * Everything the docker target runs, from the topology and the target: pure and deterministic.
 * Per service and replica, an Envoy container on the mesh's network, carrying the service's
 * alias, and an app container inside that Envoy's network namespace (the pod of the Kubernetes
 * targets); the front proxy's Envoy is published on the host's loopback address only.
 */
import { createHash } from "node:crypto";
import type { Input } from "@pulumi/pulumi";
import {
  CA_FILE,
  CERTIFICATE_FILE,
  EDGE_DIR,
  IDENTITY_DIR,
  PRIVATE_KEY_FILE,
  XDS_DIR,
  buildFrontProxyConfig,
  buildSidecarConfig,
} from "../envoy";
import { renderEnvoyConfig, type RenderedEnvoyConfig } from "../envoy/check";
import { APP_UID, ENVOY_BINARY, ENVOY_UID, envoyArgs } from "../k8s/pod";
import { appEnvironment } from "../k8s/objects";
import { PART_OF } from "../k8s/labels";
import { FRONT_PROXY_NAME, serviceWorkloads, versionWorkloadName, type ContainerResources, type MeshService, type ServiceVersion, type Topology } from "../topology";
import { ConfigError, type ConfigIssue } from "../topology/reader";
import {
  MAX_INLINE_CONFIG_BYTES,
  appHealthcheck,
  appStopGraceSeconds,
  envoyHealthcheck,
  envoyStopGraceSeconds,
  envoyWrapperScript,
  hardening,
  type DockerContainer,
  type DockerFile,
  type DockerImageInput,
  type PublishedPort,
} from "./containers";
import { dockerEnvoyTarget, serviceAlias, type DockerTarget } from "./target";

export interface DockerNetwork {
  /** The target's name. */
  readonly name: string;
  readonly driver: "bridge";
  readonly labels: Readonly<Record<string, string>>;
}

/** One replica: its Envoy, and for a service the app that shares the Envoy's network namespace. */
export interface DockerReplica {
  readonly replica: number;
  /** The version this replica runs, for a service with versions; its replicas are numbered from 1 per version. */
  readonly version?: string;
  readonly envoy: DockerContainer;
  readonly app?: DockerContainer;
}

export interface DockerProxy {
  /** `front-envoy` or the service's name; also names the rendered `envoy/<proxy>.yaml`. */
  readonly proxy: string;
  /**
   * The bootstrap, byte for byte what every replica's Envoy is given (`--config-yaml`): only what
   * cannot change while the Envoy runs. A change here replaces the proxy's Envoy containers.
   */
  readonly envoyYaml: string;
  /**
   * The files every replica's Envoy gets (the same for each replica), sorted by path: the xDS
   * files (LDS, CDS, RDS, SDS) in XDS_DIR, which a running Envoy reloads, and the certificates.
   * They reach the Envoy through the files container only, so a change here replaces no Envoy.
   */
  readonly files: readonly DockerFile[];
  /** Replicas in order, from 1. */
  readonly replicas: readonly DockerReplica[];
}

/** The xDS files of a proxy (LDS, CDS, RDS, SDS) as its Envoy reads them from XDS_DIR, by file name, sorted. */
export function xdsFilesOf(proxy: Pick<DockerProxy, "files">): Record<string, string> {
  const prefix = `${XDS_DIR}/`;
  return Object.fromEntries(
    proxy.files.filter((f) => f.path.startsWith(prefix) && typeof f.content === "string").map((f) => [f.path.slice(prefix.length), f.content as string]),
  );
}

export interface DockerMesh {
  readonly network: DockerNetwork;
  /** The front proxy first, then the services by name. */
  readonly proxies: readonly DockerProxy[];
}

/** Images the containers run: the Envoy image (reference or pulled image ID) and each service's app image. */
export interface DockerImages {
  readonly envoy: DockerImageInput;
  readonly app: (service: MeshService) => DockerImageInput;
}

/** One proxy's mesh identity as file contents: plain strings when rendered, Pulumi outputs when deployed. */
export interface DockerIdentityFiles {
  readonly certificatePem: Input<string>;
  readonly privateKeyPem: Input<string>;
  readonly caPem: Input<string>;
}

/** The front proxy's certificate for clients. */
export interface DockerEdgeFiles {
  readonly certificatePem: Input<string>;
  readonly privateKeyPem: Input<string>;
}

/**
 * The certificates the docker target delivers as files: each proxy's identity (by proxy name;
 * only used when `security.mtls` is strict) and the front's edge certificate.
 */
export interface DockerCertificateFiles {
  readonly identities: ReadonlyMap<string, DockerIdentityFiles>;
  readonly edge?: DockerEdgeFiles;
}

/** Label keys on every network and container of the mesh. */
export const DOCKER_LABELS = {
  partOf: `${PART_OF}.part-of`,
  proxy: `${PART_OF}.proxy`,
  replica: `${PART_OF}.replica`,
  role: `${PART_OF}.role`,
  configHash: `${PART_OF}.config-hash`,
  version: `${PART_OF}.version`,
} as const;

export function envoyContainerName(target: DockerTarget, proxy: string, replica: number): string {
  return proxy === FRONT_PROXY_NAME ? `${target.name}-${proxy}-${replica}` : `${target.name}-${proxy}-${replica}-envoy`;
}

export function appContainerName(target: DockerTarget, proxy: string, replica: number): string {
  return `${target.name}-${proxy}-${replica}-app`;
}

function sortedRecord(entries: readonly (readonly [string, string])[]): Record<string, string> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function configHash(envoyYaml: string): string {
  return createHash("sha256").update(envoyYaml).digest("hex").slice(0, 12);
}

function labels(target: DockerTarget, proxy: string, replica: number, role: string, extra: readonly (readonly [string, string])[] = []) {
  return sortedRecord([
    [DOCKER_LABELS.partOf, target.name],
    [DOCKER_LABELS.proxy, proxy],
    [DOCKER_LABELS.replica, String(replica)],
    [DOCKER_LABELS.role, role],
    ...extra,
  ]);
}

/** The bootstrap goes inline, so it must fit in one command-line argument. */
function checkInlineSize(proxy: string, envoyYaml: string): void {
  const bytes = Buffer.byteLength(envoyYaml, "utf8");
  if (bytes > MAX_INLINE_CONFIG_BYTES) {
    throw new Error(`the Envoy config of ${proxy} is ${bytes} bytes; the docker target passes it as one argument, at most ${MAX_INLINE_CONFIG_BYTES} bytes`);
  }
}

interface EnvoyOptions {
  readonly target: DockerTarget;
  readonly topology: Topology;
  readonly proxy: string;
  readonly replica: number;
  /** The version the replica runs: it names the container `<service>-<version>` and labels it. Default: none. */
  readonly version?: ServiceVersion;
  readonly envoyYaml: string;
  readonly image: DockerImageInput;
  readonly resources: ContainerResources;
  readonly aliases: readonly string[];
  readonly ports: readonly PublishedPort[];
  readonly inboundOnlyDrain: boolean;
  /** Containers that must be healthy before this Envoy starts. Default: none. */
  readonly dependsOnHealthy?: readonly string[];
  readonly files: readonly DockerFile[];
}

const byPath = (a: DockerFile, b: DockerFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * What the certificate set lacks for the mesh this topology describes on Docker, every problem at
 * once: under strict mTLS each proxy needs its identity (an Envoy without one fails to load its
 * SDS files at start, and skipping it would quietly leave that proxy out of the mesh), and the
 * front needs the edge certificate for its HTTPS listener (the docker target always publishes one).
 */
export function dockerCertificateProblems(topology: Topology, certificates: DockerCertificateFiles, target: DockerTarget): ConfigIssue[] {
  const problems: ConfigIssue[] = [];
  if (topology.security.mtls === "strict") {
    const have = [...certificates.identities.keys()].sort();
    for (const proxy of [FRONT_PROXY_NAME, ...topology.services.map((s) => s.name)]) {
      if (certificates.identities.has(proxy)) continue;
      problems.push({
        path: `certificates.identities.${proxy}`,
        message:
          `security.mtls is strict, but the certificate set has no identity for ${proxy}, so its Envoy would have no ` +
          `${IDENTITY_DIR}/${CERTIFICATE_FILE} to serve (identities present: ${have.length > 0 ? have.join(", ") : "none"})`,
      });
    }
  }
  if (certificates.edge === undefined) {
    problems.push({
      path: "certificates.edge",
      message:
        `the front's HTTPS listener (published on ${target.front.hostIp}:${target.front.tlsHostPort}) needs the edge certificate ` +
        `in ${EDGE_DIR}, and the certificate set has none`,
    });
  }
  return problems;
}

/**
 * What a proxy's Envoy finds on disk, on every target the same layout: the xDS files of its
 * rendered config (LDS, CDS, RDS, SDS) in XDS_DIR, its identity and the mesh CA (IDENTITY_DIR)
 * when mTLS is strict, and for the front its edge certificate (EDGE_DIR). Private keys are marked secret.
 */
export function envoyFiles(topology: Topology, rendered: RenderedEnvoyConfig, certificates: DockerCertificateFiles): DockerFile[] {
  const files: DockerFile[] = Object.entries(rendered.xdsFiles).map(([file, yaml]) => ({ path: `${XDS_DIR}/${file}`, content: yaml, secret: false }));
  const identity = topology.security.mtls === "strict" ? certificates.identities.get(rendered.proxy) : undefined;
  if (topology.security.mtls === "strict" && identity === undefined) {
    throw new Error(`security.mtls is strict, but there is no identity for ${rendered.proxy} to deliver to its Envoy`);
  }
  if (identity !== undefined) {
    files.push(
      { path: `${IDENTITY_DIR}/${CERTIFICATE_FILE}`, content: identity.certificatePem, secret: false },
      { path: `${IDENTITY_DIR}/${PRIVATE_KEY_FILE}`, content: identity.privateKeyPem, secret: true },
      { path: `${IDENTITY_DIR}/${CA_FILE}`, content: identity.caPem, secret: false },
    );
  }
  if (rendered.proxy === FRONT_PROXY_NAME && certificates.edge !== undefined) {
    files.push(
      { path: `${EDGE_DIR}/${CERTIFICATE_FILE}`, content: certificates.edge.certificatePem, secret: false },
      { path: `${EDGE_DIR}/${PRIVATE_KEY_FILE}`, content: certificates.edge.privateKeyPem, secret: true },
    );
  }
  return files.sort(byPath);
}

/**
 * The bootstrap is passed with `--config-yaml`, the bytes of the rendered file: a read-only root
 * filesystem rules out copying a file in (the daemon refuses to extract an archive into a
 * read-only rootfs: daemon/archive.go in moby/moby), and a bind mount would need the file on the
 * engine's host. The bootstrap is part of the container's command, so a changed bootstrap replaces
 * this container and no other. Nothing else of the proxy's config is in its definition: the
 * `files` it carries are delivered by the files container, through volumes named by folder.
 */
function envoyContainer(options: EnvoyOptions): DockerContainer {
  const { target, topology, proxy, replica, envoyYaml } = options;
  checkInlineSize(proxy, envoyYaml);
  const name = envoyContainerName(target, workloadName(proxy, options.version), replica);
  return {
    name,
    proxy,
    replica,
    role: "envoy",
    image: options.image,
    entrypoint: ["/bin/bash", "-c", envoyWrapperScript(topology, options.inboundOnlyDrain), ENVOY_BINARY],
    command: envoyArgs(["--config-yaml", envoyYaml], proxy, name, topology),
    environment: [],
    networking: { mode: "network", network: target.name, aliases: options.aliases },
    ports: options.ports,
    ...hardening(ENVOY_UID, options.resources),
    healthcheck: envoyHealthcheck(topology),
    stopGraceSeconds: envoyStopGraceSeconds(topology),
    files: options.files,
    dependsOnHealthy: options.dependsOnHealthy ?? [],
    labels: labels(target, proxy, replica, "envoy", [[DOCKER_LABELS.configHash, configHash(envoyYaml)], ...versionLabel(options.version)]),
    ...(target.platform === undefined ? {} : { platform: target.platform }),
  };
}

/** Containers of a version are named after `<service>-<version>`, as its Kubernetes objects are. */
function workloadName(proxy: string, version?: ServiceVersion): string {
  return version === undefined ? proxy : versionWorkloadName(proxy, version.name);
}

function versionLabel(version?: ServiceVersion): [string, string][] {
  return version === undefined ? [] : [[DOCKER_LABELS.version, version.name]];
}

/** The app's environment as on Kubernetes, with the replica's container name for POD_NAME. */
export function dockerAppEnvironment(service: MeshService, topology: Topology, podName: string, version?: ServiceVersion): DockerContainer["environment"] {
  return appEnvironment(service, topology, version)
    .map((entry) => {
      if ("value" in entry && entry.value !== undefined) return { name: entry.name, value: entry.value };
      if (entry.name === "POD_NAME") return { name: entry.name, value: podName };
      throw new Error(`no Docker value for the app's environment variable ${entry.name}`);
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function appContainer(
  target: DockerTarget,
  topology: Topology,
  service: MeshService,
  replica: number,
  envoy: DockerContainer,
  image: DockerImageInput,
  version?: ServiceVersion,
): DockerContainer {
  const name = appContainerName(target, workloadName(service.name, version), replica);
  return {
    name,
    proxy: service.name,
    replica,
    role: "app",
    image,
    entrypoint: [],
    command: [],
    environment: dockerAppEnvironment(service, topology, name, version),
    // The pod: the app listens on 127.0.0.1 of the Envoy's namespace and is reachable only through it.
    networking: { mode: "container", container: envoy.name },
    ports: [],
    ...hardening(APP_UID, service.resources.app),
    healthcheck: appHealthcheck(topology),
    stopGraceSeconds: appStopGraceSeconds(topology),
    // The app never sees a certificate or key: those are its Envoy's alone.
    files: [],
    dependsOnHealthy: [envoy.name],
    labels: labels(target, service.name, replica, "app", versionLabel(version)),
    ...(target.platform === undefined ? {} : { platform: target.platform }),
  };
}

function replicaNumbers(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}

export function buildDockerServiceProxy(
  topology: Topology,
  service: MeshService,
  target: DockerTarget,
  images: DockerImages,
  certificates: DockerCertificateFiles,
  renderedConfigs?: ReadonlyMap<string, RenderedEnvoyConfig>,
): DockerProxy {
  const rendered = renderedConfigs?.get(service.name) ?? renderEnvoyConfig(buildSidecarConfig(topology, service, dockerEnvoyTarget(target)));
  const envoyYaml = rendered.yaml;
  const files = envoyFiles(topology, rendered, certificates);
  return {
    proxy: service.name,
    envoyYaml,
    files,
    // A service with versions: each version's replicas, with the version's alias, image and name.
    replicas: serviceWorkloads(service).flatMap(({ workload, version }) =>
      replicaNumbers(workload.replicas).map((replica) => {
        const envoy = envoyContainer({
          target,
          topology,
          proxy: service.name,
          replica,
          ...(version !== undefined ? { version } : {}),
          envoyYaml,
          image: images.envoy,
          resources: service.resources.envoy,
          aliases: [serviceAlias(workloadName(service.name, version))],
          ports: [],
          inboundOnlyDrain: true,
          files,
        });
        const app = appContainer(target, topology, service, replica, envoy, images.app(workload), version);
        return { replica, ...(version !== undefined ? { version: version.name } : {}), envoy, app };
      }),
    ),
  };
}

/**
 * The front's published ports, on the target's host address only: HTTPS (`tlsHostPort` to the
 * front's `frontTls` listener), and plain HTTP unless `front.plainHttp` is `off` (no listener).
 */
export function frontPorts(topology: Topology, target: DockerTarget): PublishedPort[] {
  const publish = (hostPort: number, containerPort: number): PublishedPort => ({ hostIp: target.front.hostIp, hostPort, containerPort, protocol: "tcp" });
  return [
    ...(topology.front.plainHttp === "off" ? [] : [publish(target.front.hostPort, topology.ports.front)]),
    publish(target.front.tlsHostPort, topology.ports.frontTls),
  ];
}

/**
 * The edge Envoy, published on the target's host address only. One host port can be bound once,
 * so the docker target runs one front replica (the stack settings refuse more).
 */
export function buildDockerFrontProxy(
  topology: Topology,
  target: DockerTarget,
  images: Pick<DockerImages, "envoy">,
  certificates: DockerCertificateFiles,
  dependsOnHealthy: readonly string[] = [],
  renderedConfigs?: ReadonlyMap<string, RenderedEnvoyConfig>,
): DockerProxy {
  const rendered = renderedConfigs?.get(FRONT_PROXY_NAME) ?? renderEnvoyConfig(buildFrontProxyConfig(topology, dockerEnvoyTarget(target)));
  const envoyYaml = rendered.yaml;
  const files = envoyFiles(topology, rendered, certificates);
  return {
    proxy: FRONT_PROXY_NAME,
    envoyYaml,
    files,
    replicas: replicaNumbers(topology.front.replicas).map((replica) => ({
      replica,
      envoy: envoyContainer({
        target,
        topology,
        proxy: FRONT_PROXY_NAME,
        replica,
        envoyYaml,
        image: images.envoy,
        resources: topology.front.resources,
        aliases: [],
        ports: frontPorts(topology, target),
        inboundOnlyDrain: false,
        dependsOnHealthy,
        files,
      }),
    })),
  };
}

export function buildDockerNetwork(target: DockerTarget): DockerNetwork {
  return { name: target.name, driver: "bridge", labels: { [DOCKER_LABELS.partOf]: target.name } };
}

/**
 * The whole mesh on one Docker engine. The front starts once every service container is healthy,
 * so its first requests find the services ready (as `pulumi up` orders it, and compose too).
 */
/**
 * `renderedConfigs`: every proxy's config, by proxy name, rendered already for the same topology
 * and target (ServiceMesh renders them once for its checks); absent, each is built here.
 */
export function buildDockerMesh(
  topology: Topology,
  target: DockerTarget,
  images: DockerImages,
  certificates: DockerCertificateFiles,
  renderedConfigs?: ReadonlyMap<string, RenderedEnvoyConfig>,
): DockerMesh {
  const problems = dockerCertificateProblems(topology, certificates, target);
  if (problems.length > 0) throw new ConfigError(problems, "the docker target cannot deliver every Envoy's certificates");
  const services = topology.services.map((s) => buildDockerServiceProxy(topology, s, target, images, certificates, renderedConfigs));
  const serviceContainers = services.flatMap(proxyContainers).map((c) => c.name);
  return {
    network: buildDockerNetwork(target),
    proxies: [buildDockerFrontProxy(topology, target, images, certificates, serviceContainers, renderedConfigs), ...services],
  };
}

function proxyContainers(proxy: DockerProxy): DockerContainer[] {
  return proxy.replicas.flatMap((r) => (r.app === undefined ? [r.envoy] : [r.envoy, r.app]));
}

/** Every container, in an order they can be started in: the services (each replica's Envoy before its app), then the front. */
export function dockerContainers(mesh: DockerMesh): DockerContainer[] {
  const isFront = (p: DockerProxy) => p.proxy === FRONT_PROXY_NAME;
  return [...mesh.proxies.filter((p) => !isFront(p)), ...mesh.proxies.filter(isFront)].flatMap(proxyContainers);
}
