import { isServiceName } from "../app/names";
import {
  DEFAULT_APP_RESOURCES,
  DEFAULT_DOCKERFILE,
  DEFAULT_ENVOY_RESOURCES,
  DEFAULT_ENVOY_SETTINGS,
  DEFAULT_FRONT_RESOURCES,
  DEFAULT_PLAIN_HTTP,
  DEFAULT_PORTS,
  DEFAULT_PREFIX_REWRITE,
  DEFAULT_SECURITY,
  DEFAULT_REPLICAS,
  FRONT_PROXY_NAME,
} from "./defaults";
import { checkBuild } from "./buildContext";
import { completeFrontProtection, completeRouteProtection, readFault, readFrontProtection, readRouteProtection, type FrontProtectionDraft, type ProtectionDraft } from "./edge";
import { isPinnedImageRef } from "./imageRef";
import { planEgressPorts } from "./ports";
import { DEFAULT_EDGE_POLICY, clusterPolicyOf, readPolicy, resolvePolicy, type PolicyDraft } from "./policy";
import { ConfigError, IssueCollector, show } from "./reader";
import { SEED_TOPOLOGY } from "./seed";
import { checkWorkloadNames, completeVersions, readVersions, type VersionDraft } from "./versions";
import {
  ENVOY_LOG_LEVELS,
  MTLS_MODES,
  PLAIN_HTTP_MODES,
  type CertificateLifetimes,
  type ContainerResources,
  type EdgePolicy,
  type EnvoySettings,
  type FaultInjection,
  type FrontProxy,
  type FrontRoute,
  type ImageSource,
  type MeshPorts,
  type MeshService,
  type PlainHttpMode,
  type SecuritySettings,
  type Topology,
} from "./types";

/** Config path of the topology, used as the root of every issue path. */
export const TOPOLOGY_PATH = "topology";
/** Where a problem in a seed service the user did not rewrite comes from. */
const SEED_PATH = `${TOPOLOGY_PATH}.extends(seed)`;

const DEFAULT_IMAGE: ImageSource = { kind: "build", build: { context: "app", dockerfile: DEFAULT_DOCKERFILE } };
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
/** Containers run as non-root without added capabilities, so they cannot bind below 1024. */
const MIN_PORT = 1024;
const MAX_PORT = 65535;
const NON_ROOT_PORT = " (containers run as non-root, so ports start at 1024)";
const MAX_REPLICAS = 1000;
/** The front Service is a NodePort or LoadBalancer, which pulumi up waits on until it has an endpoint. */
const FRONT_MIN_REPLICAS = " (the edge proxy needs a replica: with none, its Service gets no endpoint and pulumi up waits for one until it times out)";

/** A service as written by the user: any field may be missing until defaults apply. */
interface ServiceDraft {
  readonly path: string;
  readonly name: string;
  readonly appPort?: number;
  readonly replicas?: number;
  readonly image?: ImageSource;
  /** Set when an image was written but refused, so that the default is not checked in its place. */
  readonly imageRefused?: true;
  readonly upstreams?: readonly UpstreamDraft[];
  readonly resources?: { readonly app?: Partial<ContainerResources>; readonly envoy?: Partial<ContainerResources> };
  readonly versions?: readonly VersionDraft[];
}

interface UpstreamDraft {
  readonly path: string;
  readonly service: string;
  readonly egressPort?: number;
  readonly fault?: FaultInjection;
  readonly policy?: PolicyDraft;
}

/** A front route as written: its policy override and protection are still to be merged. */
type RouteDraft = Omit<FrontRoute, "policy" | "protection"> & { readonly path: string; readonly policy?: PolicyDraft; readonly protection?: ProtectionDraft };

interface FrontDraft {
  readonly replicas?: number;
  readonly plainHttp?: PlainHttpMode;
  readonly routes?: readonly RouteDraft[];
  readonly resources?: Partial<ContainerResources>;
  readonly protection?: FrontProtectionDraft;
}

interface TopologyDraft {
  readonly services: readonly ServiceDraft[];
  readonly front: FrontDraft;
  readonly ports: Partial<MeshPorts>;
  readonly envoy: Partial<EnvoySettings>;
  readonly security: SecurityDraft;
  readonly policy?: PolicyDraft;
}

interface SecurityDraft {
  readonly mtls?: SecuritySettings["mtls"];
  readonly trustDomain?: string;
  readonly certificates?: Partial<CertificateLifetimes>;
}

/**
 * Validates a topology as written in stack config (or the seed when `raw` is undefined),
 * applies defaults and plans ports. Throws a ConfigError listing every problem, each with
 * its config path and bad value; returns a topology nothing downstream needs to re-check.
 */
export interface ParseOptions {
  /**
   * The project (repository) folder: build contexts are checked to be folders in it, with their
   * Dockerfile, and made relative to it. Without it, files are not looked at.
   */
  readonly projectDir?: string;
}

export function parseTopology(raw: unknown, options: ParseOptions = {}): Topology {
  const collector = new IssueCollector();
  const topology = readTopology(collector, raw === undefined ? SEED_TOPOLOGY : raw, options);
  if (collector.issues.length > 0 || topology === undefined) {
    throw new ConfigError(collector.issues, "invalid mesh topology");
  }
  return topology;
}

function readTopology(c: IssueCollector, raw: unknown, options: ParseOptions): Topology | undefined {
  const top = c.object(raw, TOPOLOGY_PATH, ["extends", "services", "front", "ports", "envoy", "security", "policy"]);
  if (top === undefined) return undefined;
  const user = readDraft(c, top, TOPOLOGY_PATH);
  // Checked before the seed merge, which would otherwise fold a repeated name into one service.
  checkDuplicateNames(c, user.services);
  let draft = user;
  if (top.extends !== undefined) {
    c.oneOf(top.extends, `${TOPOLOGY_PATH}.extends`, ["seed"] as const);
    draft = mergeOverSeed(readDraft(new IssueCollector(), SEED_TOPOLOGY, SEED_PATH), user);
  } else if (top.services === undefined) {
    c.report(`${TOPOLOGY_PATH}.services`, `required (or set ${TOPOLOGY_PATH}.extends: seed to start from the seed mesh)`);
  }
  if (draft.services.length === 0 && top.services !== undefined) {
    c.report(`${TOPOLOGY_PATH}.services`, "must list at least one service");
  }
  return complete(c, draft, options);
}

function checkDuplicateNames(c: IssueCollector, services: readonly ServiceDraft[]): void {
  const seen = new Set<string>();
  for (const service of services) {
    if (seen.has(service.name)) c.report(`${service.path}.name`, `duplicate service name ${show(service.name)}`);
    seen.add(service.name);
  }
}

function readDraft(c: IssueCollector, top: Record<string, unknown>, root: string): TopologyDraft {
  const services: ServiceDraft[] = [];
  if (top.services !== undefined) {
    const list = c.array(top.services, `${root}.services`) ?? [];
    list.forEach((entry, i) => {
      const service = readService(c, entry, `${root}.services[${i}]`);
      if (service !== undefined) services.push(service);
    });
  }
  return {
    services,
    front: top.front === undefined ? {} : readFront(c, top.front, `${root}.front`),
    ports: top.ports === undefined ? {} : readPorts(c, top.ports, `${root}.ports`),
    envoy: top.envoy === undefined ? {} : readEnvoy(c, top.envoy, `${root}.envoy`),
    security: top.security === undefined ? {} : readSecurity(c, top.security, `${root}.security`),
    policy: top.policy === undefined ? undefined : readPolicy(c, top.policy, `${root}.policy`),
  };
}

function readService(c: IssueCollector, raw: unknown, path: string): ServiceDraft | undefined {
  const obj = c.object(raw, path, ["name", "appPort", "replicas", "image", "upstreams", "resources", "versions"]);
  if (obj === undefined) return undefined;
  // Every field is read even when the name is bad, so that all problems surface in one round.
  const name = readName(c, obj.name, `${path}.name`);
  const image = obj.image === undefined ? undefined : readImage(c, obj.image, `${path}.image`);
  const service = {
    path,
    appPort: obj.appPort === undefined ? undefined : c.integer(obj.appPort, `${path}.appPort`, MIN_PORT, MAX_PORT, NON_ROOT_PORT),
    replicas: readReplicas(c, obj.replicas, `${path}.replicas`),
    image,
    imageRefused: obj.image !== undefined && image === undefined ? (true as const) : undefined,
    upstreams: obj.upstreams === undefined ? undefined : readUpstreams(c, obj.upstreams, `${path}.upstreams`),
    resources: obj.resources === undefined ? undefined : readServiceResources(c, obj.resources, `${path}.resources`),
    versions: obj.versions === undefined ? undefined : readVersions(c, obj.versions, `${path}.versions`, readImage),
  };
  return name === undefined ? undefined : { ...service, name };
}

function readName(c: IssueCollector, raw: unknown, path: string): string | undefined {
  if (raw === undefined || raw === null) return c.required(path, raw);
  if (typeof raw !== "string" || !isServiceName(raw)) {
    return c.report(
      path,
      `${show(raw)} is not a valid name: use at most 63 lowercase letters, digits and '-', starting with a letter and not ending with '-' (a DNS-1035 label)`,
    );
  }
  return raw;
}

/** A service may scale to zero: its Service is headless, and pulumi up does not wait on those. */
function readReplicas(c: IssueCollector, raw: unknown, path: string, min = 0, why = ""): number | undefined {
  return raw === undefined ? undefined : c.integer(raw, path, min, MAX_REPLICAS, why);
}

function readImage(c: IssueCollector, raw: unknown, path: string): ImageSource | undefined {
  const obj = c.object(raw, path, ["build", "ref"]);
  if (obj === undefined) return undefined;
  if ((obj.build === undefined) === (obj.ref === undefined)) {
    return c.report(path, `set exactly one of build or ref, got ${show(obj)}`);
  }
  if (obj.ref !== undefined) {
    const ref = c.string(obj.ref, `${path}.ref`);
    if (ref === undefined) return undefined;
    if (!isPinnedImageRef(ref)) {
      return c.report(`${path}.ref`, `${show(ref)} must pin a tag or digest other than latest, so that pods roll only when it changes`);
    }
    return { kind: "ref", ref };
  }
  const build = c.object(obj.build, `${path}.build`, ["context", "dockerfile"]);
  if (build === undefined) return undefined;
  const context = c.string(build.context, `${path}.build.context`);
  const dockerfile = build.dockerfile === undefined ? DEFAULT_DOCKERFILE : c.string(build.dockerfile, `${path}.build.dockerfile`);
  if (context === undefined || dockerfile === undefined) return undefined;
  return { kind: "build", build: { context, dockerfile } };
}

function readUpstreams(c: IssueCollector, raw: unknown, path: string): readonly UpstreamDraft[] | undefined {
  const list = c.array(raw, path);
  if (list === undefined) return undefined;
  const upstreams: UpstreamDraft[] = [];
  list.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (typeof entry === "string") {
      const service = readName(c, entry, at);
      if (service !== undefined) upstreams.push({ path: at, service });
      return;
    }
    const obj = c.object(entry, at, ["service", "egressPort", "policy", "fault"]);
    if (obj === undefined) return;
    const service = readName(c, obj.service, `${at}.service`);
    const egressPort =
      obj.egressPort === undefined ? undefined : c.integer(obj.egressPort, `${at}.egressPort`, MIN_PORT, MAX_PORT, NON_ROOT_PORT);
    const policy = obj.policy === undefined ? undefined : readPolicy(c, obj.policy, `${at}.policy`);
    const fault = obj.fault === undefined ? undefined : readFault(c, obj.fault, `${at}.fault`);
    if (service !== undefined) upstreams.push({ path: `${at}.service`, service, egressPort, policy, ...(fault ? { fault } : {}) });
  });
  return upstreams;
}

function readResources(c: IssueCollector, raw: unknown, path: string): Partial<ContainerResources> {
  const obj = c.object(raw, path, ["cpuRequest", "memoryRequest", "memoryLimit"]);
  if (obj === undefined) return {};
  const result: { -readonly [K in keyof ContainerResources]?: string } = {};
  for (const key of ["cpuRequest", "memoryRequest", "memoryLimit"] as const) {
    const value = obj[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || !QUANTITY.test(value)) {
      c.report(`${path}.${key}`, `${show(value)} is not a Kubernetes quantity such as "50m", "64Mi" or "1"`);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function readServiceResources(c: IssueCollector, raw: unknown, path: string): ServiceDraft["resources"] {
  const obj = c.object(raw, path, ["app", "envoy"]);
  if (obj === undefined) return undefined;
  return {
    app: obj.app === undefined ? undefined : readResources(c, obj.app, `${path}.app`),
    envoy: obj.envoy === undefined ? undefined : readResources(c, obj.envoy, `${path}.envoy`),
  };
}

function readFront(c: IssueCollector, raw: unknown, path: string): FrontDraft {
  const obj = c.object(raw, path, ["replicas", "plainHttp", "routes", "resources", "protection"]);
  if (obj === undefined) return {};
  let routes: RouteDraft[] | undefined;
  if (obj.routes !== undefined) {
    routes = [];
    const list = c.array(obj.routes, `${path}.routes`) ?? [];
    if (Array.isArray(obj.routes) && list.length === 0) c.report(`${path}.routes`, "must list at least one route");
    list.forEach((entry, i) => {
      const at = `${path}.routes[${i}]`;
      const route = c.object(entry, at, ["prefix", "service", "prefixRewrite", "policy", "protection", "fault"]);
      if (route === undefined) return;
      const prefix = readPathPrefix(c, route.prefix, `${at}.prefix`);
      const service = readName(c, route.service, `${at}.service`);
      const prefixRewrite = route.prefixRewrite === undefined ? DEFAULT_PREFIX_REWRITE : readPrefixRewrite(c, route.prefixRewrite, `${at}.prefixRewrite`);
      const policy = route.policy === undefined ? undefined : readPolicy(c, route.policy, `${at}.policy`);
      const protection = route.protection === undefined ? undefined : readRouteProtection(c, route.protection, `${at}.protection`);
      const fault = route.fault === undefined ? undefined : readFault(c, route.fault, `${at}.fault`);
      if (prefix !== undefined && service !== undefined && prefixRewrite !== undefined) {
        routes?.push({ path: at, prefix, service, prefixRewrite, policy, ...(protection ? { protection } : {}), ...(fault ? { fault } : {}) });
      }
    });
  }
  return {
    replicas: readReplicas(c, obj.replicas, `${path}.replicas`, 1, FRONT_MIN_REPLICAS),
    plainHttp: obj.plainHttp === undefined ? undefined : c.oneOf(obj.plainHttp, `${path}.plainHttp`, PLAIN_HTTP_MODES),
    routes,
    resources: obj.resources === undefined ? undefined : readResources(c, obj.resources, `${path}.resources`),
    protection: obj.protection === undefined ? undefined : readFrontProtection(c, obj.protection, `${path}.protection`),
  };
}

/** Characters a URL path segment carries unencoded (RFC 3986 `pchar`, `%` for escapes). */
const PATH_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]+$/;

/**
 * A front route prefix: `/`, or whole path segments without a trailing `/`, so that `/d` matches
 * `/d` and the paths below `/d/` but not `/dx`. The edge merges slashes and resolves `.` and `..`
 * before routing (normalize_path, merge_slashes), so a prefix with those could never match.
 */
function readPathPrefix(c: IssueCollector, raw: unknown, path: string): string | undefined {
  const prefix = c.string(raw, path);
  if (prefix === undefined) return undefined;
  if (!prefix.startsWith("/")) return c.report(path, `${show(prefix)} must start with "/"`);
  if (prefix === "/") return prefix;
  if (/[?#]/.test(prefix)) return c.report(path, `${show(prefix)} must not contain "?" or "#": it matches the path only`);
  if (prefix.endsWith("/")) {
    const bare = prefix.replace(/\/+$/, "");
    return c.report(path, `${show(prefix)} must not end with "/": ${show(bare)} already matches ${show(bare)} and every path below ${show(`${bare}/`)}`);
  }
  const segments = prefix.slice(1).split("/");
  if (segments.includes("")) return c.report(path, `${show(prefix)} must not contain an empty segment ("//"): the edge merges slashes, so no request path has one`);
  if (segments.some((s) => s === "." || s === "..")) {
    return c.report(path, `${show(prefix)} must not contain a "." or ".." segment: the edge resolves them, so no request path has one`);
  }
  const bad = segments.join("").split("").find((ch) => !PATH_SEGMENT.test(ch));
  if (bad !== undefined) return c.report(path, `${show(prefix)} must not contain ${show(bad)}: use only characters a URL path carries unencoded (RFC 3986)`);
  return prefix;
}

/** What replaces the matched prefix: a path, without a query (Envoy keeps the request's). */
function readPrefixRewrite(c: IssueCollector, raw: unknown, path: string): string | undefined {
  const rewrite = c.string(raw, path);
  if (rewrite === undefined) return undefined;
  if (!rewrite.startsWith("/")) return c.report(path, `${show(rewrite)} must start with "/"`);
  if (/[?#]/.test(rewrite)) return c.report(path, `${show(rewrite)} must not contain "?" or "#": it replaces the path only, the query is kept`);
  if (rewrite.includes("//")) return c.report(path, `${show(rewrite)} must not contain an empty segment ("//")`);
  return rewrite;
}

function readPorts(c: IssueCollector, raw: unknown, path: string): Partial<MeshPorts> {
  const keys = ["ingress", "admin", "health", "egressBase", "front", "frontTls", "appHealth"] as const;
  const obj = c.object(raw, path, keys);
  if (obj === undefined) return {};
  const result: { -readonly [K in keyof MeshPorts]?: number } = {};
  for (const key of keys) {
    if (obj[key] !== undefined) result[key] = c.integer(obj[key], `${path}.${key}`, MIN_PORT, MAX_PORT, NON_ROOT_PORT);
  }
  return result;
}

function readEnvoy(c: IssueCollector, raw: unknown, path: string): Partial<EnvoySettings> {
  const obj = c.object(raw, path, ["connectTimeoutMs", "concurrency", "drainSeconds", "logLevel"]);
  if (obj === undefined) return {};
  const optional = <T>(key: string, read: (value: unknown, at: string) => T | undefined): T | undefined =>
    obj[key] === undefined ? undefined : read(obj[key], `${path}.${key}`);
  return {
    connectTimeoutMs: optional("connectTimeoutMs", (v, at) => c.integer(v, at, 1, 60_000)),
    concurrency: optional("concurrency", (v, at) => c.integer(v, at, 1, 64)),
    drainSeconds: optional("drainSeconds", (v, at) => c.integer(v, at, 1, 300)),
    logLevel: optional("logLevel", (v, at) => c.oneOf(v, at, ENVOY_LOG_LEVELS)),
  };
}

/**
 * A SPIFFE trust domain: lowercase letters, digits, ".", "-" and "_" (SPIFFE ID standard, section
 * 2.1 "Trust Domain"), at most 255 characters.
 */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
/** Longest certificate lifetime accepted: 100 years. */
const MAX_HOURS = 876_000;

function readSecurity(c: IssueCollector, raw: unknown, path: string): SecurityDraft {
  const obj = c.object(raw, path, ["mtls", "trustDomain", "certificates"]);
  if (obj === undefined) return {};
  let trustDomain: string | undefined;
  if (obj.trustDomain !== undefined) {
    trustDomain = c.string(obj.trustDomain, `${path}.trustDomain`);
    if (trustDomain !== undefined && (!TRUST_DOMAIN.test(trustDomain) || trustDomain.length > 255)) {
      trustDomain = c.report(`${path}.trustDomain`, `${show(trustDomain)} is not a SPIFFE trust domain (lowercase letters, digits, ".", "-" and "_", such as cluster.local)`);
    }
  }
  let certificates: Partial<CertificateLifetimes> | undefined;
  if (obj.certificates !== undefined) {
    const at = `${path}.certificates`;
    const lifetimes = c.object(obj.certificates, at, ["validityHours", "renewBeforeHours", "caValidityHours"]);
    const hours = (key: keyof CertificateLifetimes) =>
      lifetimes?.[key] === undefined ? undefined : c.integer(lifetimes[key], `${at}.${key}`, 1, MAX_HOURS);
    certificates = { validityHours: hours("validityHours"), renewBeforeHours: hours("renewBeforeHours"), caValidityHours: hours("caValidityHours") };
  }
  return {
    mtls: obj.mtls === undefined ? undefined : c.oneOf(obj.mtls, `${path}.mtls`, MTLS_MODES),
    trustDomain,
    certificates,
  };
}

/** A certificate must be renewed before it expires, and a leaf cannot outlive the CA that signs it. */
function completeSecurity(c: IssueCollector, draft: SecurityDraft): SecuritySettings {
  const certificates = { ...DEFAULT_SECURITY.certificates, ...definedFields(draft.certificates ?? {}) };
  const at = `${TOPOLOGY_PATH}.security.certificates`;
  const failed = (key: string) => c.issues.some((i) => i.path === `${at}.${key}`);
  if (!failed("renewBeforeHours") && !failed("validityHours") && certificates.renewBeforeHours >= certificates.validityHours) {
    c.report(`${at}.renewBeforeHours`, `${certificates.renewBeforeHours} must be less than validityHours (${certificates.validityHours}): a certificate would be renewed on every pulumi up`);
  }
  if (!failed("caValidityHours") && !failed("validityHours") && certificates.validityHours > certificates.caValidityHours) {
    c.report(`${at}.validityHours`, `${certificates.validityHours} is more than caValidityHours (${certificates.caValidityHours}): a certificate cannot outlive the CA that signs it`);
  }
  return { ...DEFAULT_SECURITY, ...definedFields({ mtls: draft.mtls, trustDomain: draft.trustDomain }), certificates };
}

/** `extends: seed`: user services replace the seed's fields by name; new names are added. */
function mergeOverSeed(seed: TopologyDraft, user: TopologyDraft): TopologyDraft {
  const byName = new Map(seed.services.map((s) => [s.name, s]));
  for (const service of user.services) {
    const base = byName.get(service.name);
    byName.set(service.name, base === undefined ? service : { ...base, ...definedFields(service) });
  }
  return {
    services: [...byName.values()],
    front: { ...seed.front, ...definedFields(user.front) },
    ports: { ...seed.ports, ...definedFields(user.ports) },
    envoy: { ...seed.envoy, ...definedFields(user.envoy) },
    security: { ...seed.security, ...definedFields(user.security) },
    policy: user.policy ?? seed.policy,
  };
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function complete(c: IssueCollector, draft: TopologyDraft, options: ParseOptions): Topology | undefined {
  const ports: MeshPorts = { ...DEFAULT_PORTS, ...definedFields(draft.ports) };
  const envoy: EnvoySettings = { ...DEFAULT_ENVOY_SETTINGS, ...definedFields(draft.envoy) };
  checkMeshPorts(c, ports);
  const security = completeSecurity(c, draft.security);
  const policy = resolvePolicy(c, DEFAULT_EDGE_POLICY, draft.policy);

  const known = new Set<string>();
  for (const service of draft.services) {
    if (service.name === FRONT_PROXY_NAME) {
      c.report(`${service.path}.name`, `"${FRONT_PROXY_NAME}" is reserved for the edge proxy`);
    }
    known.add(service.name);
  }

  checkCallCycles(c, draft.services);
  checkWorkloadNames(c, draft.services);

  const services: MeshService[] = [];
  for (const draftService of draft.services) {
    const service = completeService(c, draftService, known, ports, policy, options);
    if (service !== undefined) services.push(service);
  }
  services.sort((a, b) => compare(a.name, b.name));

  // A front given without routes would deploy an edge proxy that answers 404 to everything.
  if (draft.front.routes === undefined && !c.issues.some((i) => i.path === `${TOPOLOGY_PATH}.front`)) {
    c.report(`${TOPOLOGY_PATH}.front.routes`, "required: the edge proxy needs at least one route");
  }
  const front = completeFront(c, draft.front, known, policy);
  if (c.issues.length > 0) return undefined;
  return { services, front, ports, envoy, security, policy };
}

/**
 * The demo app calls every upstream on each request, so a request that reaches a cycle goes
 * round it until a timeout ends it, like a self-call (refused in completeService). Each cycle is
 * reported at the call that closes it in a depth-first walk in the order written; together those
 * calls are a set whose removal leaves no cycle.
 */
function checkCallCycles(c: IssueCollector, services: readonly ServiceDraft[]): void {
  const byName = new Map(services.map((s) => [s.name, s]));
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (service: ServiceDraft): void => {
    state.set(service.name, "active");
    stack.push(service.name);
    for (const upstream of service.upstreams ?? []) {
      const callee = byName.get(upstream.service);
      // Self-calls and unknown names are reported on their own.
      if (callee === undefined || callee === service) continue;
      const seen = state.get(callee.name);
      if (seen === "active") {
        const cycle = [service.name, ...stack.slice(stack.indexOf(callee.name))];
        c.report(upstream.path, `calls ${cycle.join(" → ")}: the demo app calls every upstream on each request, so a request would go round this cycle until it times out`);
      } else if (seen === undefined) {
        visit(callee);
      }
    }
    stack.pop();
    state.set(service.name, "done");
  };
  for (const service of services) if (!state.has(service.name)) visit(service);
}

function checkMeshPorts(c: IssueCollector, ports: MeshPorts): void {
  const seen = new Map<number, string>();
  for (const key of ["ingress", "admin", "health", "front", "frontTls", "appHealth"] as const) {
    const other = seen.get(ports[key]);
    // ingress and the front's listeners never share a pod, so only they may coincide.
    if (other !== undefined && !(other === "ingress" && (key === "front" || key === "frontTls"))) {
      c.report(`${TOPOLOGY_PATH}.ports.${key}`, `${ports[key]} is already the ${other} port`);
    }
    if (!seen.has(ports[key])) seen.set(ports[key], key);
  }
}

function completeService(
  c: IssueCollector,
  draft: ServiceDraft,
  known: ReadonlySet<string>,
  ports: MeshPorts,
  policy: EdgePolicy,
  options: ParseOptions,
): MeshService | undefined {
  const image = readImageFiles(c, draft, options);
  if (draft.appPort === undefined && !c.issues.some((i) => i.path === `${draft.path}.appPort`)) {
    c.report(`${draft.path}.appPort`, "required: the port the app listens on inside its pod");
  }
  const seenUpstreams = new Set<string>();
  for (const upstream of draft.upstreams ?? []) {
    if (!known.has(upstream.service)) {
      c.report(upstream.path, `unknown service ${show(upstream.service)} (known: ${[...known].sort().join(", ")})`);
    }
    if (seenUpstreams.has(upstream.service)) c.report(upstream.path, `${show(upstream.service)} is listed twice`);
    if (upstream.service === draft.name) {
      c.report(upstream.path, `${show(upstream.service)} calls itself: every request would call it again until it times out`);
    }
    seenUpstreams.add(upstream.service);
  }
  const policies = new Map((draft.upstreams ?? []).map((u) => [u.service, resolvePolicy(c, policy, u.policy)]));
  const versions =
    draft.versions === undefined
      ? undefined
      : completeVersions(c, { path: draft.path, name: draft.name, replicas: draft.replicas ?? DEFAULT_REPLICAS, image }, draft.versions, (own, at) =>
          own.kind !== "build" || options.projectDir === undefined ? own : mapBuild(checkBuild(c, options.projectDir, own.build, at, false)),
        );
  if (draft.appPort === undefined || image === undefined || (draft.versions !== undefined && versions === undefined)) return undefined;

  const reserved = new Map<number, string>([
    [ports.ingress, "the Envoy ingress port (topology.ports.ingress)"],
    [ports.admin, "the Envoy admin port (topology.ports.admin)"],
    [ports.health, "the Envoy health port (topology.ports.health)"],
    [ports.appHealth, "the app health port (topology.ports.appHealth)"],
  ]);
  const clash = reserved.get(draft.appPort);
  if (clash !== undefined) c.report(`${draft.path}.appPort`, `${draft.appPort} clashes with ${clash} in pod ${draft.name}`);
  reserved.set(draft.appPort, `the app port (${draft.path}.appPort)`);

  const plan = planEgressPorts(draft.upstreams ?? [], reserved, ports.egressBase, MAX_PORT);
  for (const { upstream, clashesWith } of plan.clashes) {
    // Only the object form sets egressPort, and its path ends at `.service`; the clash is the port's.
    c.report(upstream.path.replace(/\.service$/, ".egressPort"), `egress port ${upstream.egressPort} clashes with ${clashesWith} in pod ${draft.name}`);
  }
  for (const upstream of plan.unassigned) {
    c.report(upstream.path, `no free egress port left between topology.ports.egressBase (${ports.egressBase}) and ${MAX_PORT}`);
  }

  const resources = {
    app: { ...DEFAULT_APP_RESOURCES, ...draft.resources?.app },
    envoy: { ...DEFAULT_ENVOY_RESOURCES, ...draft.resources?.envoy },
  };
  checkMemoryFits(c, resources.app, draft.resources?.app, `${draft.path}.resources.app`);
  checkMemoryFits(c, resources.envoy, draft.resources?.envoy, `${draft.path}.resources.envoy`);
  return {
    name: draft.name,
    appPort: draft.appPort,
    replicas: draft.replicas ?? DEFAULT_REPLICAS,
    image,
    // A fault belongs to its edge: carried from the draft by the callee's name (listed once).
    upstreams: plan.assigned.map((u) => {
      const fault = draft.upstreams?.find((d) => d.service === u.service)?.fault;
      return { ...u, policy: policies.get(u.service) ?? policy, ...(fault ? { fault } : {}) };
    }),
    resources,
    ...(versions !== undefined ? { versions } : {}),
  };
}

function mapBuild(build: ReturnType<typeof checkBuild>): ImageSource | undefined {
  return build === undefined ? undefined : { kind: "build", build };
}

/** The service's image (the demo app by default), with its build context checked when the project is known. */
function readImageFiles(c: IssueCollector, draft: ServiceDraft, options: ParseOptions): ImageSource | undefined {
  if (draft.imageRefused) return undefined;
  const image = draft.image ?? DEFAULT_IMAGE;
  if (image.kind !== "build" || options.projectDir === undefined) return image;
  const build = checkBuild(c, options.projectDir, image.build, `${draft.path}.image`, draft.image === undefined);
  return build === undefined ? undefined : { kind: "build", build };
}

function completeFront(c: IssueCollector, draft: FrontDraft, known: ReadonlySet<string>, meshPolicy: EdgePolicy): FrontProxy {
  const routes = (draft.routes ?? []).map((r) => ({ ...r, policy: resolvePolicy(c, meshPolicy, r.policy) }));
  checkSharedClusterPolicies(c, routes);
  const prefixes = new Set<string>();
  for (const route of routes) {
    if (!known.has(route.service)) {
      c.report(`${route.path}.service`, `unknown service ${show(route.service)} (known: ${[...known].sort().join(", ")})`);
    }
    if (prefixes.has(route.prefix)) c.report(`${route.path}.prefix`, `duplicate prefix ${show(route.prefix)}`);
    prefixes.add(route.prefix);
  }
  const resources = { ...DEFAULT_FRONT_RESOURCES, ...draft.resources };
  checkMemoryFits(c, resources, draft.resources, `${TOPOLOGY_PATH}.front.resources`);
  const protection = completeFrontProtection(draft.protection);
  return {
    replicas: draft.replicas ?? DEFAULT_REPLICAS,
    plainHttp: draft.plainHttp ?? DEFAULT_PLAIN_HTTP,
    routes: routes
      .map(({ prefix, service, prefixRewrite, policy, protection: own, fault }) => ({
        prefix,
        service,
        prefixRewrite,
        policy,
        protection: completeRouteProtection(protection, own),
        ...(fault ? { fault } : {}),
      }))
      .sort((a, b) => b.prefix.length - a.prefix.length || compare(a.prefix, b.prefix)),
    resources,
    protection,
  };
}

/**
 * The front proxy has one cluster per service, shared by every route to it, so the routes to a
 * service must agree on the policy fields that belong to that cluster (circuit breakers, retry
 * budget, outlier detection, health checks, HTTP/2); timeouts and retries are per route.
 */
function checkSharedClusterPolicies(c: IssueCollector, routes: readonly (Pick<FrontRoute, "service" | "policy"> & { readonly path: string })[]): void {
  const first = new Map<string, { path: string; text: string }>();
  for (const route of routes) {
    const text = JSON.stringify(clusterPolicyOf(route.policy));
    const seen = first.get(route.service);
    if (seen === undefined) first.set(route.service, { path: route.path, text });
    else if (seen.text !== text) {
      c.report(
        `${route.path}.policy`,
        `differs from ${seen.path} in circuitBreakers, retries.budget, outlierDetection, healthCheck or http2: both routes reach ${show(route.service)} through one cluster, so these must be the same (timeouts and retries may differ)`,
      );
    }
  }
}

const QUANTITY_FACTORS: Readonly<Record<string, number>> = {
  "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

/** A valid Kubernetes quantity's value: bytes for memory, cores for CPU ("50m" is 0.05). */
export function quantityValue(quantity: string): number {
  const [, number, suffix] = /^([0-9.]+)(.*)$/.exec(quantity) as RegExpExecArray;
  return Number(number) * QUANTITY_FACTORS[suffix];
}

/**
 * Kubernetes refuses a container whose memory request exceeds its limit; say so before deploying,
 * at the field the user wrote, and not at all when one of the two was already refused.
 */
function checkMemoryFits(c: IssueCollector, resources: ContainerResources, written: Partial<ContainerResources> | undefined, path: string): void {
  if (c.issues.some((i) => i.path === `${path}.memoryRequest` || i.path === `${path}.memoryLimit`)) return;
  const { memoryRequest, memoryLimit } = resources;
  if (quantityValue(memoryRequest) <= quantityValue(memoryLimit)) return;
  if (written?.memoryRequest === undefined) {
    c.report(`${path}.memoryLimit`, `${show(memoryLimit)} is less than the default memory request ${show(memoryRequest)} (set memoryRequest too)`);
  } else if (written.memoryLimit === undefined) {
    c.report(`${path}.memoryRequest`, `${show(memoryRequest)} is more than the default memory limit ${show(memoryLimit)} (set memoryLimit too)`);
  } else {
    c.report(`${path}.memoryRequest`, `${show(memoryRequest)} is more than the memory limit ${show(memoryLimit)}`);
  }
}

/** Locale-independent ordering, so output bytes never depend on the machine. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
