import { createHash } from "node:crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  ENVOY_FILES_GROUP,
  FILES_VOLUME_DIR,
  fileFolders,
  filesContainerName,
  filesPublishScript,
  filesVolumeName,
  stagedPath,
  type DockerContainer,
  type DockerFile,
  type DockerProxy,
} from "../docker";
import type { ImageBuildPlan } from "../stack";
import type { MeshService as MeshServiceSpec } from "../topology";
import { serviceDns, type ServiceDns } from "../topology/versions";
import { serviceAlias } from "../docker/target";
import { imageBuild } from "./appImage";
import { DOCKER_FRONT_PROXY_TYPE, DOCKER_MESH_SERVICE_TYPE, LOCAL_IMAGE_TYPE } from "./tokens";

/** How long `pulumi up` waits for a container to report healthy before it fails. */
export const CONTAINER_WAIT_SECONDS = 60;

const seconds = (value: number) => `${value}s`;

/**
 * The provider's arguments for one container of the pure description. `networkMode` is the
 * namespace-sharing mode of an app (`container:<id of its Envoy>`), undefined for an Envoy.
 */
export function containerArgs(
  c: DockerContainer,
  network: pulumi.Input<string>,
  networkMode?: pulumi.Input<string>,
  mounts: readonly docker.types.input.ContainerMount[] = [],
): docker.ContainerArgs {
  return {
    name: c.name,
    image: c.image,
    ...(c.entrypoint.length > 0 ? { entrypoints: [...c.entrypoint] } : {}),
    ...(c.command.length > 0 ? { command: [...c.command] } : {}),
    envs: c.environment.map((e) => `${e.name}=${e.value}`),
    user: c.user,
    ...(c.networking.mode === "container"
      ? { networkMode }
      : { networksAdvanced: [{ name: network, aliases: [...c.networking.aliases] }] }),
    ports: c.ports.map((p) => ({ internal: p.containerPort, external: p.hostPort, ip: p.hostIp, protocol: p.protocol })),
    ...(mounts.length > 0 ? { mounts: [...mounts] } : {}),
    readOnly: c.readOnlyRootFilesystem,
    capabilities: { drops: [...c.capDrop] },
    securityOpts: [...c.securityOpt],
    memory: c.memoryMiB,
    memoryReservation: c.memoryReservationMiB,
    cpuShares: c.cpuShares,
    restart: c.restart,
    healthcheck: {
      tests: [...c.healthcheck.test],
      interval: seconds(c.healthcheck.intervalSeconds),
      timeout: seconds(c.healthcheck.timeoutSeconds),
      retries: c.healthcheck.retries,
      startPeriod: seconds(c.healthcheck.startPeriodSeconds),
      startInterval: seconds(c.healthcheck.startIntervalSeconds),
    },
    stopSignal: c.stopSignal,
    stopTimeout: c.stopGraceSeconds,
    // Stop (signal, then the grace period) before removing, so a replaced or destroyed container drains.
    destroyGraceSeconds: c.stopGraceSeconds,
    // `pulumi up` returns once every container is healthy; an app starts after its Envoy is.
    wait: true,
    waitTimeout: CONTAINER_WAIT_SECONDS,
    labels: Object.entries(c.labels).map(([label, value]) => ({ label, value })),
    ...(c.platform === undefined ? {} : { platform: c.platform }),
  };
}

/**
 * Container names are fixed (and the front holds a host port), so a replacement must remove the
 * old container first: creating the new one beside it would fail on the name or the port.
 */
const REPLACE = { deleteBeforeReplace: true } as const;

export interface DockerProxyArgs {
  readonly proxy: DockerProxy;
  readonly network: docker.Network;
  /** The docker target's name: prefixes the volumes and the files container. */
  readonly targetName: string;
  /** The Envoy image's ID: the files container runs it (it has bash and coreutils). */
  readonly envoyImage: pulumi.Input<string>;
}

/** An upload of the files container; private keys go as Pulumi secrets (encrypted in the state). */
export function fileUpload(file: DockerFile): docker.types.input.ContainerUpload {
  return {
    file: stagedPath(file),
    content: file.secret ? pulumi.secret(file.content) : file.content,
    // Read by the files container only (root); it publishes them 0440 with Envoy's group.
    permissions: "0400",
  };
}

/**
 * The one-shot container that publishes a proxy's files into their volumes (docker/files.ts):
 * uploads into its writable staging folder, then the publish script. `attach` makes `pulumi up`
 * wait until it has run; `mustRun: false` lets it stay exited. It runs as root in Envoy's group
 * (so what it creates belongs to that group) with no capability, no network and no new
 * privileges.
 */
export function filesContainerArgs(args: DockerProxyArgs, volumes: ReadonlyMap<string, pulumi.Input<string>>): docker.ContainerArgs {
  const folders = fileFolders(args.proxy.files);
  return {
    name: filesContainerName({ name: args.targetName }, args.proxy.proxy),
    image: args.envoyImage,
    entrypoints: ["/bin/bash", "-c", filesPublishScript(folders)],
    user: `0:${ENVOY_FILES_GROUP}`,
    networkMode: "none",
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    uploads: args.proxy.files.map(fileUpload),
    mounts: folders.map((folder) => ({ type: "volume", source: volumes.get(folder) as pulumi.Input<string>, target: `${FILES_VOLUME_DIR}${folder}` })),
    mustRun: false,
    attach: true,
    logs: true,
    restart: "no",
    labels: [
      { label: "envoy-mesh.part-of", value: args.targetName },
      { label: "envoy-mesh.proxy", value: args.proxy.proxy },
      { label: "envoy-mesh.role", value: "files" },
    ],
  };
}

/**
 * Why a files container's exit code means its files were not published; undefined when they were.
 * The provider waits for an attached container to stop but never looks at how it stopped: create
 * waits with ContainerWait(WaitConditionNotRunning) and then reads the container, recording
 * `exit_code` for a stopped one (resourceDockerContainerCreate / resourceDockerContainerRead,
 * resource_docker_container_funcs.go in kreuzwerker/terraform-provider-docker). Unchecked, a failed
 * publish would leave every Envoy of the proxy on its previous files (a renewal silently not
 * delivered) while the state says the new certificate is in place.
 */
export function filesExitProblem(container: string, exitCode: number | undefined): string | undefined {
  // Not reported: the mock engine, or a provider that has not read the container back.
  if (exitCode === undefined || exitCode === 0) return undefined;
  return (
    `the files container ${container} exited with code ${exitCode}: its Envoys still have their previous files ` +
    `(certificates and SDS files) or none. See \`docker logs ${container}\`, fix the cause, then run ` +
    "`pulumi up` with `--replace` on that container to publish again"
  );
}

/** The volumes of a proxy's files and the container that fills them; undefined when the proxy has no files. */
function registerFiles(name: string, args: DockerProxyArgs, parent: pulumi.Resource) {
  if (args.proxy.files.length === 0) return undefined;
  const volumes = new Map<string, docker.Volume>();
  for (const folder of fileFolders(args.proxy.files)) {
    const volumeName = filesVolumeName({ name: args.targetName }, args.proxy.proxy, folder);
    volumes.set(
      folder,
      new docker.Volume(`${name}${folder.replace(/[^A-Za-z0-9]+/g, "-")}`, { name: volumeName, labels: [{ label: "envoy-mesh.part-of", value: args.targetName }] }, { parent, deleteBeforeReplace: true }),
    );
  }
  const names = new Map([...volumes].map(([folder, volume]) => [folder, volume.name]));
  const writerArgs = filesContainerArgs(args, names);
  const writer = new docker.Container(`${name}-files`, writerArgs, { parent, dependsOn: [...volumes.values()], ...REPLACE });
  // Fails `pulumi up` (through the component's outputs) when the publish script failed.
  const published = writer.exitCode.apply((code) => {
    const problem = filesExitProblem(String(writerArgs.name), code);
    if (problem !== undefined) throw new pulumi.ResourceError(problem, writer, true);
    return true;
  });
  // Every replica's Envoy reads the same volumes, read-only; noCopy keeps the image's own files out.
  const mounts: docker.types.input.ContainerMount[] = [...names].map(([folder, volume]) => ({
    type: "volume",
    source: volume,
    target: folder,
    readOnly: true,
    volumeOptions: { noCopy: true },
  }));
  return { writer, mounts, published };
}
/**
 * Registers the proxy's files, then each replica's Envoy, and its app inside the Envoy's network
 * namespace, named `${name}-<replica>-envoy|app`. `filesPublished` is true once the files
 * container published (or when the proxy has no files), and fails when it did not.
 */
function registerReplicas(
  name: string,
  args: DockerProxyArgs,
  parent: pulumi.Resource,
  dependsOn: readonly pulumi.Resource[] = [],
): { containers: docker.Container[]; filesPublished: pulumi.Output<boolean> } {
  const networkName = args.network.name;
  const files = registerFiles(name, args, parent);
  const containers = args.proxy.replicas.flatMap(({ replica, version, envoy, app }) => {
    // A version's replicas are numbered from 1 too: its name keeps them apart.
    const key = version === undefined ? `${replica}` : `${version}-${replica}`;
    const envoyContainer = new docker.Container(`${name}-${key}-envoy`, containerArgs(envoy, networkName, undefined, files?.mounts ?? []), {
      parent,
      // Not replaced when the files change: the files container publishes new ones into the volumes.
      dependsOn: [args.network, ...(files === undefined ? [] : [files.writer]), ...dependsOn],
      ...REPLACE,
    });
    if (app === undefined) return [envoyContainer];
    const appContainer = new docker.Container(
      `${name}-${key}-app`,
      containerArgs(app, networkName, pulumi.interpolate`container:${envoyContainer.id}`),
      // Started once its Envoy is healthy (the Envoy waits for health), stopped before it.
      { parent, dependsOn: [envoyContainer], ...REPLACE },
    );
    return [envoyContainer, appContainer];
  });
  return { containers, filesPublished: files?.published ?? pulumi.output(true) };
}

/** One service on Docker: per replica an Envoy carrying the service's alias and the app in its namespace. */
export class DockerMeshService extends pulumi.ComponentResource {
  /** Name every caller's Envoy resolves to reach this service's replicas; with versions, each version's. */
  readonly dns: ServiceDns;
  readonly containers: readonly docker.Container[];
  /** True once the service's files are published into its volumes; fails `pulumi up` when they were not. */
  readonly filesPublished: pulumi.Output<boolean>;

  constructor(
    name: string,
    args: DockerProxyArgs & { readonly service: MeshServiceSpec; readonly egressPorts: Readonly<Record<string, number>> },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(DOCKER_MESH_SERVICE_TYPE, name, {}, opts);
    ({ containers: this.containers, filesPublished: this.filesPublished } = registerReplicas(name, args, this));
    this.dns = serviceDns(args.service, serviceAlias);
    this.registerOutputs({ ...this.dns, egressPorts: args.egressPorts, filesPublished: this.filesPublished });
  }
}

/** The edge Envoy on Docker, published on the host's loopback address. */
export class DockerFrontProxy extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  /** True once the front's files are published into its volumes; fails `pulumi up` when they were not. */
  readonly filesPublished: pulumi.Output<boolean>;

  constructor(name: string, args: DockerProxyArgs & { readonly url: string; readonly dependsOn: readonly pulumi.Resource[] }, opts?: pulumi.ComponentResourceOptions) {
    super(DOCKER_FRONT_PROXY_TYPE, name, {}, opts);
    // A component in dependsOn stands for all its children: the front waits for every service container.
    ({ filesPublished: this.filesPublished } = registerReplicas(name, args, this, args.dependsOn));
    this.url = pulumi.output(args.url);
    this.registerOutputs({ url: this.url, filesPublished: this.filesPublished });
  }
}

export interface LocalImageArgs {
  readonly plan: ImageBuildPlan;
  readonly projectDir: string;
  /** Platform to build for; undefined means the Docker engine's own. */
  readonly platform?: string;
}

export function localImageArgs(args: LocalImageArgs): docker.ImageArgs {
  return {
    imageName: args.plan.imageName,
    build: imageBuild(args.plan, args.projectDir, args.platform),
    // The containers run on the engine that built the image: nothing is pushed, no registry is needed.
    skipPush: true,
  };
}

/**
 * Builds one app image into the local engine. `id` is the local image ID (`repoDigest` of an
 * image that is not pushed): containers use it, so changed code replaces them and unchanged
 * code leaves them alone.
 */
export class LocalImage extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;

  constructor(name: string, args: LocalImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LOCAL_IMAGE_TYPE, name, {}, opts);
    const image = new docker.Image(`${name}-image`, localImageArgs(args), { parent: this });
    this.id = image.repoDigest;
    this.registerOutputs({ id: this.id });
  }
}

/** Resource name for a pulled image: readable, and unique per reference. */
export function pulledImageName(prefix: string, ref: string): string {
  const readable = ref.replace(/[@:].*$/, "").split("/").pop()?.replace(/[^a-z0-9-]+/g, "-") ?? "image";
  return `${prefix}-${readable}-${createHash("sha256").update(ref).digest("hex").slice(0, 8)}`;
}
