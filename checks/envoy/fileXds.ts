/**
 * Loads a bootstrap and the xDS files its ConfigSources name the way Envoy reads them from disk,
 * and gives back the equivalent static bootstrap (the listeners of the LDS file and the clusters of
 * the CDS file added to the static ones, each HCM's RDS route configuration inlined back), with
 * every problem a file-by-file check cannot see: a file not delivered, a file holding resources of
 * another type than its subscription takes, an RDS file that is not the one route configuration
 * asked for, an SDS file that is not the one Secret asked for, a route to a cluster nobody
 * defines, a name defined twice, a file nobody reads.
 *
 * Each file is a DiscoveryResponse (envoyproxy/envoy
 * source/extensions/config_subscription/filesystem/filesystem_subscription_impl.cc); its
 * resources are unpacked into the subscription's type, and a resource of another type fails the
 * whole update ("Unable to unpack as <type>", MessageUtil::unpackTo in
 * source/common/protobuf/utility.cc).
 *
 * Works on the plain parsed YAML; the strict proto checks of each file are validateResourceFile's.
 */
import { posix } from "node:path";

type Json = Record<string, unknown>;

export interface XdsProblem {
  /** The file the problem is in: undefined for the bootstrap. */
  readonly file?: string;
  /** Where in that file, as a config path. */
  readonly path: string;
  readonly message: string;
}

export interface FileXdsLoad {
  /** The static bootstrap Envoy ends up running: no `lds_config`/`cds_config`, everything in `static_resources`. */
  readonly bootstrap: Json;
  readonly errors: readonly XdsProblem[];
  readonly warnings: readonly XdsProblem[];
  /** The delivered files some ConfigSource reads. */
  readonly read: ReadonlySet<string>;
}

export interface FileXdsOptions {
  /**
   * The folder every path must lie in (our own output: XDS_DIR, the only folder the xDS files are
   * mounted in). Without it, a path is looked up by its file name among the delivered files: a
   * set written by someone else is checked against the folder its own bootstrap names.
   */
  readonly xdsDir?: string;
  /** Whether a delivered file nothing reads is a problem (off when several bootstraps share the files). */
  readonly reportUnread?: boolean;
}

const PREFIX = "type.googleapis.com/";
export const XDS_RESOURCE_TYPES = {
  LDS: "envoy.config.listener.v3.Listener",
  CDS: "envoy.config.cluster.v3.Cluster",
  RDS: "envoy.config.route.v3.RouteConfiguration",
  SDS: "envoy.extensions.transport_sockets.tls.v3.Secret",
} as const;
type Api = keyof typeof XDS_RESOURCE_TYPES;

const HCM_TYPE = `${PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
/** Envoy's YAML reading takes a single element where a list belongs. */
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const q = (v: unknown) => JSON.stringify(v);

const without = (o: Json, keys: readonly string[]): Json => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** The path a ConfigSource reads from, if it reads a file (path_config_source, or the deprecated `path`). */
function sourcePath(source: unknown): string | undefined {
  if (!isObject(source)) return undefined;
  const pcs = source.path_config_source;
  return isObject(pcs) ? str(pcs.path) : str(source.path);
}

/**
 * Calls `visit` with every object of a parsed document and a function giving its path, spelled
 * out only when asked (few objects are of interest; a mesh's files hold millions).
 */
function forEachObject(value: unknown, path: string, visit: (node: Json, pathOf: () => string) => void): void {
  const walk = (v: unknown, pathOf: () => string): void => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], () => `${pathOf()}[${i}]`);
    } else if (isObject(v)) {
      visit(v, pathOf);
      for (const k of Object.keys(v)) {
        walk(v[k], () => {
          const at = pathOf();
          return at ? `${at}.${k}` : k;
        });
      }
    }
  };
  walk(value, () => path);
}

export function fromFileXds(bootstrap: unknown, files: Readonly<Record<string, unknown>>, options: FileXdsOptions = {}): FileXdsLoad {
  const errors: XdsProblem[] = [];
  const warnings: XdsProblem[] = [];
  const read = new Set<string>();
  const root = isObject(bootstrap) ? bootstrap : {};
  const staticResources = isObject(root.static_resources) ? root.static_resources : {};
  const staticListeners = asList(staticResources.listeners).filter(isObject);
  const staticClusters = asList(staticResources.clusters).filter(isObject);

  /** The delivered file a ConfigSource at `at` (in `inFile`) reads, or undefined with the problem reported. */
  const resolve = (path: string, api: Api, at: string, inFile: string | undefined, what: string): string | undefined => {
    const name = posix.basename(path);
    if (options.xdsDir !== undefined && posix.dirname(path) !== options.xdsDir) {
      errors.push({ file: inFile, path: at, message: `reads ${what} from ${path}, outside ${options.xdsDir}: only that folder holds the delivered xDS files` });
      return undefined;
    }
    if (!(name in files)) {
      errors.push({ file: inFile, path: at, message: `reads ${what} from ${path}, but no file ${name} is delivered with this config (Envoy would wait for it and never finish initializing that ${api} subscription)` });
      return undefined;
    }
    read.add(name);
    return name;
  };

  const versioned = new Set<string>();
  /** A file's resources of the subscription's type; a wrong type fails the file's whole update in Envoy. */
  const resourcesOf = (file: string, api: Api): Json[] | undefined => {
    const content = files[file];
    if (!isObject(content)) {
      errors.push({ file, path: "", message: `is not a DiscoveryResponse (an object with "resources"), so the ${api} subscription cannot read it` });
      return undefined;
    }
    // Envoy takes a file without one, but then reports an empty version: nobody can tell which
    // content it runs. A warning, as Envoy loads it; SDS files are left out: their Secrets only name
    // certificate files, and no status check compares their version.
    if (api !== "SDS" && !versioned.has(file) && (str(content.version_info) ?? "") === "") {
      versioned.add(file);
      warnings.push({ file, path: "version_info", message: "missing: Envoy accepts the file but reports an empty version, so nobody can tell which content an Envoy runs" });
    }
    const expected = XDS_RESOURCE_TYPES[api];
    const resources = asList(content.resources);
    let ok = true;
    resources.forEach((r, i) => {
      const type = isObject(r) ? str(r["@type"]) : undefined;
      if (type !== `${PREFIX}${expected}`) {
        ok = false;
        errors.push({
          file,
          path: `resources[${i}]`,
          message: `is ${type === undefined ? "a resource without @type" : `a ${type.slice(type.lastIndexOf("/") + 1)}`}, but the ${api} subscription reading this file takes ${expected} resources only (Envoy refuses the whole file: Unable to unpack as ${expected})`,
        });
      }
    });
    return ok ? (resources as Json[]) : undefined;
  };

  const strip = (resource: Json): Json => without(resource, ["@type"]);

  const dynamicResources = isObject(root.dynamic_resources) ? root.dynamic_resources : {};
  const load = (api: "LDS" | "CDS", key: string): { file: string; resources: Json[] } | undefined => {
    const source = dynamicResources[key];
    if (source === undefined) return undefined;
    const path = sourcePath(source);
    if (path === undefined) {
      warnings.push({ path: `dynamic_resources.${key}`, message: `is not a file (path_config_source): its ${api} resources cannot be checked offline` });
      return undefined;
    }
    const file = resolve(path, api, `dynamic_resources.${key}`, undefined, `its ${api} resources`);
    if (file === undefined) return undefined;
    const resources = resourcesOf(file, api);
    return resources === undefined ? undefined : { file, resources: resources.map(strip) };
  };

  const lds = load("LDS", "lds_config");
  const cds = load("CDS", "cds_config");

  /** Names must be unique: Envoy refuses a file naming one twice, and never replaces a static one through xDS. */
  const checkNames = (kind: "listener" | "cluster", statics: readonly Json[], loaded: { file: string; resources: Json[] } | undefined) => {
    const staticNames = new Set(statics.map((r) => str(r.name)).filter((n) => n !== undefined));
    const seen = new Set<string>();
    loaded?.resources.forEach((r, i) => {
      const name = str(r.name);
      if (name === undefined) return;
      if (seen.has(name)) {
        errors.push({ file: loaded.file, path: `resources[${i}].name`, message: `names ${kind} '${name}' a second time (Envoy: duplicate ${kind} ${name} found)` });
      } else if (staticNames.has(name)) {
        errors.push({
          file: loaded.file,
          path: `resources[${i}].name`,
          message: `${kind} '${name}' is also a static ${kind} of the bootstrap: Envoy never replaces a static ${kind} through xDS, so this one would not apply`,
        });
      }
      seen.add(name);
    });
  };
  checkNames("listener", staticListeners, lds);
  checkNames("cluster", staticClusters, cds);

  const clusterNames = new Set([...staticClusters, ...(cds?.resources ?? [])].map((c) => str(c.name)).filter((n) => n !== undefined));
  const cdsWhere = cds ? ` nor ${cds.file}` : "";
  /** A route to a cluster nobody defines: Envoy takes an RDS route table with it, then answers 503 for every such request. */
  const checkRouteClusters = (routeConfig: Json, file: string | undefined, at: string) => {
    if (routeConfig.validate_clusters === false) return;
    const check = (m: Json, field: string, where: string, what: string) => {
      const name = str(m[field]);
      if (name !== undefined && name !== "" && !clusterNames.has(name)) {
        errors.push({ file, path: `${where}.${field}`, message: `routes to ${what}'${name}', which neither static_resources.clusters${cdsWhere} defines (Envoy: route: unknown ${what}'${name}', or a 503 for each request when the route table came by RDS)` });
      }
    };
    asList(routeConfig.virtual_hosts).forEach((vhost, v) => {
      if (!isObject(vhost)) return;
      asList(vhost.routes).forEach((route, r) => {
        const action = isObject(route) ? route.route : undefined;
        if (!isObject(action)) return;
        const where = `${at}.virtual_hosts[${v}].routes[${r}].route`;
        check(action, "cluster", where, "cluster ");
        const weighted = isObject(action.weighted_clusters) ? action.weighted_clusters : {};
        asList(weighted.clusters).forEach((w, i) => isObject(w) && check(w, "name", `${where}.weighted_clusters.clusters[${i}]`, "weighted cluster "));
        asList(action.request_mirror_policies).forEach((m, i) => isObject(m) && check(m, "cluster", `${where}.request_mirror_policies[${i}]`, "shadow cluster "));
      });
    });
  };

  /** The route configuration an RDS file holds: exactly one, of the name asked (source/common/rds/rds_route_config_subscription.cc). */
  const routeConfigFrom = (rds: Json, inFile: string | undefined, at: string): Json | undefined => {
    const name = str(rds.route_config_name) ?? "";
    const path = sourcePath(rds.config_source);
    if (path === undefined) {
      warnings.push({ file: inFile, path: `${at}.config_source`, message: `is not a file (path_config_source): route configuration '${name}' cannot be checked offline` });
      return undefined;
    }
    const file = resolve(path, "RDS", `${at}.config_source`, inFile, `route configuration '${name}'`);
    if (file === undefined) return undefined;
    const resources = resourcesOf(file, "RDS");
    if (resources === undefined) return undefined;
    if (resources.length !== 1) {
      errors.push({
        file,
        path: "resources",
        message:
          resources.length === 0
            ? `holds no route configuration: Envoy keeps '${name}' empty (Missing RouteConfiguration for ${name}), so its listener answers 404`
            : `holds ${resources.length} route configurations, but an RDS subscription takes exactly one (Envoy: Unexpected RDS resource length: ${resources.length})`,
      });
      return undefined;
    }
    const got = str(resources[0].name) ?? "";
    if (got !== name) {
      errors.push({ file, path: "resources[0].name", message: `is '${got}', but ${inFile ?? "the bootstrap"} asks this file for route configuration '${name}' (Envoy: Unexpected RDS configuration (expecting ${name}): ${got})` });
      return undefined;
    }
    const config = strip(resources[0]);
    checkRouteClusters(config, file, "resources[0]");
    return config;
  };

  /** A listener as the static config has it: each HCM's RDS route configuration inlined where `rds` was. */
  const withRoutes = (listener: Json, inFile: string | undefined, at: string, checkInline: boolean): Json => {
    const chains = asList(listener.filter_chains).map((chain, c) => {
      if (!isObject(chain)) return chain;
      const filters = asList(chain.filters).map((filter, f) => {
        const config = isObject(filter) ? filter.typed_config : undefined;
        if (!isObject(filter) || !isObject(config) || config["@type"] !== HCM_TYPE) return filter;
        const where = `${at}.filter_chains[${c}].filters[${f}].typed_config`;
        if (isObject(config.route_config)) {
          if (checkInline) checkRouteClusters(config.route_config, inFile, `${where}.route_config`);
          return filter;
        }
        if (!isObject(config.rds)) return filter;
        const routeConfig = routeConfigFrom(config.rds, inFile, `${where}.rds`);
        if (routeConfig === undefined) return filter;
        const entries = Object.entries(config).map(([k, v]) => (k === "rds" ? ["route_config", routeConfig] : [k, v]));
        return { ...filter, typed_config: Object.fromEntries(entries) };
      });
      return { ...chain, filters };
    });
    return { ...listener, filter_chains: chains };
  };

  /**
   * A gRPC service (the tracer's collector, say) names its cluster. Extensions that check it at
   * load refuse the listener without it ("Unknown gRPC client cluster",
   * source/common/grpc/async_client_manager_impl.cc); the OpenTelemetry tracer skips that check
   * (source/extensions/tracers/opentelemetry/opentelemetry_tracer_impl.cc), so its spans would
   * silently go nowhere. Either way the cluster must be defined, statically or in the CDS file.
   */
  const checkGrpcClusters = (listener: Json, inFile: string | undefined, at: string) => {
    forEachObject(listener, at, (node, pathOf) => {
      const grpc = isObject(node.envoy_grpc) ? node.envoy_grpc : undefined;
      const name = grpc === undefined ? undefined : str(grpc.cluster_name);
      if (name !== undefined && !clusterNames.has(name)) {
        errors.push({
          file: inFile,
          path: `${pathOf()}.envoy_grpc.cluster_name`,
          message: `sends gRPC to cluster '${name}', which neither static_resources.clusters${cdsWhere} defines: nothing sent there arrives (Envoy: Unknown gRPC client cluster '${name}', or, for a tracer, spans silently dropped)`,
        });
      }
    });
  };
  staticListeners.forEach((l, i) => checkGrpcClusters(l, undefined, `static_resources.listeners[${i}]`));
  lds?.resources.forEach((l, i) => checkGrpcClusters(l, lds.file, `resources[${i}]`));

  // Static route tables are checked against the static clusters by the bootstrap's own checks: at
  // startup Envoy builds them before any CDS cluster exists.
  const listeners = [
    ...staticListeners.map((l, i) => withRoutes(l, undefined, `static_resources.listeners[${i}]`, false)),
    ...(lds?.resources ?? []).map((l, i) => withRoutes(l, lds?.file, `resources[${i}]`, true)),
  ];
  const clusters = [...staticClusters, ...(cds?.resources ?? [])];

  // SDS: every SdsSecretConfig reading a file, in the bootstrap and in the loaded resources.
  const sdsRefs: { at: string; file: string | undefined; node: Json }[] = [];
  forEachObject(root, "", (node, pathOf) => {
    if (isObject(node.sds_config)) sdsRefs.push({ at: pathOf(), file: undefined, node });
  });
  for (const loaded of [lds, cds]) {
    loaded?.resources.forEach((r, i) => {
      forEachObject(r, `resources[${i}]`, (node, pathOf) => {
        if (isObject(node.sds_config)) sdsRefs.push({ at: pathOf(), file: loaded.file, node });
      });
    });
  }
  for (const ref of sdsRefs) {
    const name = str(ref.node.name) ?? "";
    const path = sourcePath(ref.node.sds_config);
    if (path === undefined) continue;
    const file = resolve(path, "SDS", ref.at, ref.file, `SDS secret ${q(name)}`);
    if (file === undefined) continue;
    const secrets = resourcesOf(file, "SDS");
    if (secrets === undefined) continue;
    // source/common/secret/sds_api.cc, SdsApi::onConfigUpdate: one Secret, of the name asked.
    if (secrets.length !== 1) {
      errors.push({ file, path: "resources", message: `holds ${secrets.length} secrets, but an SDS config loads exactly one (Envoy: Unexpected SDS secrets length: ${secrets.length})` });
    } else if (str(secrets[0].name) !== name) {
      errors.push({
        file: ref.file,
        path: ref.at,
        message: `asks ${file} for SDS secret ${q(name)}, but its Secret is named ${q(secrets[0].name)}: Envoy would reject the update (Unexpected SDS secret (expecting ${name}): ${String(secrets[0].name)})`,
      });
    }
  }

  if (options.reportUnread ?? true) {
    for (const file of Object.keys(files).sort()) {
      if (!read.has(file)) errors.push({ file, path: "", message: "is delivered but nothing reads it: no ConfigSource of the bootstrap or of its xDS files names it" });
    }
  }

  const otherDynamic = without(dynamicResources, ["lds_config", "cds_config"]);
  const rest = without(root, ["dynamic_resources"]);
  const equivalent: Json = { ...rest, static_resources: { ...staticResources, listeners, clusters } };
  if (Object.keys(otherDynamic).length > 0) equivalent.dynamic_resources = otherDynamic;
  return { bootstrap: equivalent, errors, warnings, read };
}
