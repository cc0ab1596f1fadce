/**
 * The docker target as a compose file (Compose Specification): the same containers, network,
 * hardening and start order as `pulumi up` on a docker stack, derived from the same pure
 * description (docker/mesh.ts), so `docker compose up` runs what the docker target deploys.
 */
import { posix, relative, resolve, sep } from "node:path";
import { EDGE_DIR, IDENTITY_DIR, XDS_DIR, toYaml } from "../envoy";
import { LIVE_ROOT } from "./writeTree";
import { dockerContainers, type DockerContainer, type DockerFile, type DockerHealthcheck, type DockerMesh, type DockerTarget } from "../docker";
import type { ImageBuild, MeshService, Topology } from "../topology";

/** The file's name in the output folder, beside `envoy/`. */
export const COMPOSE_FILE = "docker-compose.yaml";

/** Tag of the app images compose builds: says who built them, and is never `latest` (which would be pulled). */
export const COMPOSE_IMAGE_TAG = "compose";

/** How compose gets a service's app image: a prebuilt reference, or a build of a folder of this repository. */
export interface ComposeAppImage {
  readonly image: string;
  /** Absent for a prebuilt reference. */
  readonly build?: ImageBuild;
}

/**
 * The compose service of a container: its name without the target's prefix (the compose
 * project already carries it), e.g. `service-a-1-envoy`, `front-envoy-1`.
 */
export function composeServiceName(target: DockerTarget, container: DockerContainer): string {
  const prefix = `${target.name}-`;
  return container.name.startsWith(prefix) ? container.name.slice(prefix.length) : container.name;
}

/**
 * Compose interpolates every string of the file (compose-go template/template.go: `$$` is a
 * literal `$`, `$name` and `${name}` are variables, a malformed `${...}` stops compose). The
 * Envoy wrapper script's `$envoy_pid` would silently become empty; the mesh uses no variables,
 * so every `$` is written `$$` and each container gets the exact bytes (scripts, health checks,
 * and any `$` in an Envoy config).
 */
export function escapeInterpolation(value: string): string {
  return value.replace(/\$/g, "$$$$");
}

function escapeAll(value: unknown): unknown {
  if (typeof value === "string") return escapeInterpolation(value);
  if (Array.isArray(value)) return value.map(escapeAll);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeAll(v)]));
  return value;
}

const seconds = (n: number): string => `${n}s`;

function healthcheck(check: DockerHealthcheck): Record<string, unknown> {
  return {
    test: [...check.test],
    interval: seconds(check.intervalSeconds),
    timeout: seconds(check.timeoutSeconds),
    retries: check.retries,
    start_period: seconds(check.startPeriodSeconds),
    start_interval: seconds(check.startIntervalSeconds),
  };
}

function imageString(container: DockerContainer): string {
  if (typeof container.image !== "string") throw new Error(`container ${container.name}: a rendered image must be a plain string`);
  return container.image;
}

/**
 * A build context relative to the compose file's folder, since compose resolves a relative
 * context from there: the file then names no path of this machine, and renders the same bytes
 * in every checkout for the same output folder. It stays valid as long as the output folder
 * keeps its place relative to the repository.
 */
export function composeBuildContext(projectDir: string, outDir: string, build: ImageBuild): string {
  const path = relative(resolve(outDir), resolve(projectDir, build.context)).split(sep).join("/");
  return path === "" ? "." : path;
}

/**
 * Where the render puts an Envoy's file, relative to the output folder, and how compose mounts
 * it: the xDS files in `xds/<proxy>/`, a folder bind-mounted whole (`live`), certificates and
 * keys as compose secrets: `tls/<proxy>/` for its identity, `tls/<proxy>-edge/` for the edge's.
 */
export function renderedFile(proxy: string, file: DockerFile): { readonly path: string; readonly kind: "live" | "secrets" } {
  const folder = posix.dirname(file.path);
  const name = posix.basename(file.path);
  if (folder === XDS_DIR) return { path: `${liveFolder(proxy)}/${name}`, kind: "live" };
  if (folder === IDENTITY_DIR) return { path: `tls/${proxy}/${name}`, kind: "secrets" };
  if (folder === EDGE_DIR) return { path: `tls/${proxy}-edge/${name}`, kind: "secrets" };
  throw new Error(`no rendered place for ${file.path} of ${proxy}`);
}

/** The folder of a proxy's xDS files in the output folder, which render publishes atomically (writeTree.ts). */
export function liveFolder(proxy: string): string {
  return `${LIVE_ROOT}/${proxy}`;
}

/** The top-level secret's name: the proxy and the file's path, e.g. `service-a-etc-mesh-identity-tls.key`. */
export function composeFileName(proxy: string, file: DockerFile): string {
  return `${proxy}${posix.dirname(file.path).replace(/[^A-Za-z0-9]+/g, "-")}-${posix.basename(file.path)}`;
}

/**
 * A certificate or key as compose mounts it. Outside Swarm, compose bind-mounts a `file:` secret
 * read-only with the host file's owner and mode, and ignores `uid`, `gid` and `mode` with a
 * warning (docker/compose issue 12010), so none is set: the host files must be readable by
 * Envoy's uid 101 (docs say how).
 */
function secretMounts(container: DockerContainer) {
  return container.files
    .filter((f) => renderedFile(container.proxy, f).kind === "secrets")
    .map((f) => ({ source: composeFileName(container.proxy, f), target: f.path }));
}

/**
 * The proxy's xDS folder, bind-mounted whole and read-only at XDS_DIR, not file by file: a bind
 * mount holds the inode it was given, so a file bound alone would keep its old content after
 * render replaces it, while a bound folder shows every change made inside it. Render swaps the
 * folder's `..data` link by rename (writeTree.ts), which the Envoy's `watched_directory` sees:
 * listeners, routes and clusters reload with no restart. Compose hashes a service's definition
 * (ServiceHash, pkg/compose/hash.go in docker/compose), which names the folder and not its
 * content, so `docker compose up -d` leaves the container running; a `configs:` file would
 * have its content hashed too (ServiceConfigsHash), and a new route would recreate the Envoy.
 * Long syntax, so a missing folder is an error rather than an empty folder created by the engine.
 */
function liveMounts(container: DockerContainer) {
  return container.files.some((f) => renderedFile(container.proxy, f).kind === "live")
    ? [{ type: "bind", source: `./${liveFolder(container.proxy)}`, target: XDS_DIR, read_only: true }]
    : [];
}

interface ComposeOptions {
  readonly projectDir: string;
  readonly outDir: string;
  readonly appImage: (service: MeshService) => ComposeAppImage;
}

function composeService(topology: Topology, container: DockerContainer, names: ReadonlyMap<string, string>, options: ComposeOptions) {
  const nameOf = (containerName: string): string => {
    const name = names.get(containerName);
    if (name === undefined) throw new Error(`container ${container.name} refers to ${containerName}, which the mesh does not run`);
    return name;
  };
  const service = container.role === "app" ? topology.services.find((s) => s.name === container.proxy) : undefined;
  const appImage = service === undefined ? undefined : options.appImage(service);
  const build =
    appImage?.build !== undefined
      ? { build: { context: composeBuildContext(options.projectDir, options.outDir, appImage.build), dockerfile: appImage.build.dockerfile }, pull_policy: "build" }
      : {};
  const networking =
    container.networking.mode === "container"
      ? { network_mode: `service:${nameOf(container.networking.container)}` }
      : { networks: { [container.networking.network]: container.networking.aliases.length > 0 ? { aliases: [...container.networking.aliases] } : {} } };
  return {
    container_name: container.name,
    image: imageString(container),
    ...build,
    ...(container.platform === undefined ? {} : { platform: container.platform }),
    ...(container.entrypoint.length > 0 ? { entrypoint: [...container.entrypoint] } : {}),
    ...(container.command.length > 0 ? { command: [...container.command] } : {}),
    ...(container.environment.length > 0 ? { environment: Object.fromEntries(container.environment.map((e) => [e.name, e.value])) } : {}),
    user: container.user,
    read_only: container.readOnlyRootFilesystem,
    cap_drop: [...container.capDrop],
    security_opt: [...container.securityOpt],
    mem_limit: `${container.memoryMiB}m`,
    mem_reservation: `${container.memoryReservationMiB}m`,
    cpu_shares: container.cpuShares,
    ...networking,
    ...(liveMounts(container).length > 0 ? { volumes: liveMounts(container) } : {}),
    ...(secretMounts(container).length > 0 ? { secrets: secretMounts(container) } : {}),
    ...(container.ports.length > 0
      ? { ports: container.ports.map((p) => ({ target: p.containerPort, host_ip: p.hostIp, published: String(p.hostPort), protocol: p.protocol })) }
      : {}),
    ...(container.dependsOnHealthy.length > 0
      ? { depends_on: Object.fromEntries(container.dependsOnHealthy.map((c) => [nameOf(c), { condition: "service_healthy" }])) }
      : {}),
    healthcheck: healthcheck(container.healthcheck),
    restart: container.restart,
    stop_signal: container.stopSignal,
    stop_grace_period: seconds(container.stopGraceSeconds),
    labels: { ...container.labels },
  };
}

/**
 * The compose document of a docker mesh: one compose service per container (replicas are
 * distinct services sharing the network alias, since an app that shares a namespace cannot
 * follow a replicated service), the network under its own name, the project named after the target.
 */
export function buildComposeDocument(mesh: DockerMesh, target: DockerTarget, topology: Topology, options: ComposeOptions): Record<string, unknown> {
  const containers = dockerContainers(mesh);
  const names = new Map(containers.map((c) => [c.name, composeServiceName(target, c)]));
  const services = Object.fromEntries(containers.map((c) => [names.get(c.name) as string, composeService(topology, c, names, options)]));
  const network = mesh.network;
  const secrets = Object.fromEntries(
    mesh.proxies.flatMap((p) =>
      p.files.filter((f) => renderedFile(p.proxy, f).kind === "secrets").map((f) => [composeFileName(p.proxy, f), { file: `./${renderedFile(p.proxy, f).path}` }]),
    ),
  );
  return escapeAll({
    name: target.name,
    services,
    networks: { [network.name]: { name: network.name, driver: network.driver, labels: { ...network.labels } } },
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
  }) as Record<string, unknown>;
}

/** The file as written: a short header, then the document. */
export function composeFileText(document: Record<string, unknown>): string {
  return [
    "# The mesh on plain Docker, rendered by `npm run render -- --stack docker`: the containers the docker",
    "# target deploys. Run it from this folder with `docker compose up -d --wait`; remove it with `docker compose down`.",
    "# Listeners, routes and clusters are in xds/<proxy>/: render again into this folder and every running Envoy",
    "# reloads them, with no restart. A changed bootstrap (an Envoy's command here) needs `docker compose up -d --wait`.",
    toYaml(document),
  ].join("\n");
}
