/**
 * Live configuration without a control plane: a proxy's static config (what the builders in
 * proxies.ts assemble) split into a bootstrap that only points at files, and the xDS resource
 * files Envoy watches and reloads (LDS, CDS, one RDS file per route configuration, SDS).
 *
 * What stays in the bootstrap cannot change while the pod runs: the node, the admin address, the
 * health listener the kubelet probes and the admin cluster it routes to. Everything a topology
 * change touches (routes, weights, timeouts, retries, circuit breakers, rate limits, upstreams)
 * is in the files, so a change replaces files, never the bootstrap, and no pod restarts.
 *
 * Routes go through RDS rather than inline in LDS: a route change then updates the route table in
 * place, while a listener change would drain the old listener's connections.
 */
import { createHash } from "node:crypto";
import { ADMIN_CLUSTER, CDS_FILE, HEALTH_LISTENER, LDS_FILE, SDS_FILES, XDS_DIR, rdsFileName } from "./names";
import type { ProxyConfig } from "./proxies";
import type { EnvoyObject } from "./resources";
import { CLUSTER, HTTP_CONNECTION_MANAGER, LISTENER, ROUTE_CONFIGURATION } from "./typeUrls";

/** A proxy's config as every target delivers it: the bootstrap, and the xDS files by file name. */
export interface FileXdsConfig {
  readonly proxy: string;
  /** The bootstrap: node, admin, the health listener and admin cluster, and where LDS and CDS are. */
  readonly bootstrap: EnvoyObject;
  /** Every xDS file Envoy reads from XDS_DIR, by file name, sorted: each a DiscoveryResponse with a `version_info`. */
  readonly files: Readonly<Record<string, EnvoyObject>>;
}

/** Listeners and clusters that stay in the bootstrap: the health endpoint must answer from the first second. */
export const STATIC_LISTENERS: readonly string[] = [HEALTH_LISTENER];
export const STATIC_CLUSTERS: readonly string[] = [ADMIN_CLUSTER];

/** The LDS and CDS stat roots (docs/root/configuration/overview/mgmt_server.rst, subscription statistics). */
export const LDS_STAT_PREFIX = "listener_manager.lds";
export const CDS_STAT_PREFIX = "cluster_manager.cds";

/** RDS stats live under `http.<stat_prefix>.rds.<route_config_name>` (":" becomes "_"; docs/root/configuration/http/http_conn_man/rds.rst). */
export function rdsStatPrefix(httpStatPrefix: string, routeConfig: string): string {
  return `http.${httpStatPrefix}.rds.${routeConfig.replace(/:/g, "_")}`;
}

const VERSION_LENGTH = 16;

/** A file's `version_info`: a digest of its resources, so the same content always has the same version. */
export function xdsVersion(resources: readonly EnvoyObject[]): string {
  return createHash("sha256").update(JSON.stringify(resources)).digest("hex").slice(0, VERSION_LENGTH);
}

/** A file as a filesystem subscription reads it: a DiscoveryResponse (filesystem_subscription_impl.cc in envoyproxy/envoy). */
function discoveryResponse(resources: readonly EnvoyObject[]): EnvoyObject {
  return { version_info: xdsVersion(resources), resources };
}

/**
 * Where a subscription reads its file. Watching XDS_DIR (not the file) is what catches the
 * kubelet's atomic swap: the file names are links through `..data`, and only the folder sees the
 * rename (WatchedDirectory, source/common/config/watched_directory.cc in envoyproxy/envoy).
 */
export function xdsFileSource(file: string): EnvoyObject {
  return { resource_api_version: "V3", path_config_source: { path: `${XDS_DIR}/${file}`, watched_directory: { path: XDS_DIR } } };
}

interface Hcm {
  readonly typed_config: { readonly stat_prefix: string; readonly route_config?: { readonly name: string } } & EnvoyObject;
}

function isHcm(filter: unknown): filter is Hcm {
  return (filter as { typed_config?: { "@type"?: unknown } } | null)?.typed_config?.["@type"] === HTTP_CONNECTION_MANAGER;
}

/** One RDS subscription of a proxy: its file, its route configuration's name and its stat root. */
export interface RdsSubscription {
  readonly file: string;
  readonly routeConfig: string;
  readonly statPrefix: string;
}

/** A listener whose connection managers read their routes through RDS, and the route configurations taken out. */
function withRds(listener: EnvoyObject): { listener: EnvoyObject; routes: { config: EnvoyObject; subscription: RdsSubscription }[] } {
  const routes: { config: EnvoyObject; subscription: RdsSubscription }[] = [];
  const chains = (listener.filter_chains as readonly EnvoyObject[]).map((chain) => ({
    ...chain,
    filters: (chain.filters as readonly EnvoyObject[]).map((filter) => {
      if (!isHcm(filter) || filter.typed_config.route_config === undefined) return filter;
      const { route_config: config, ...rest } = filter.typed_config;
      const file = rdsFileName(config.name);
      routes.push({ config, subscription: { file, routeConfig: config.name, statPrefix: rdsStatPrefix(rest.stat_prefix, config.name) } });
      // `rds` takes the place `route_config` had, so the filter's fields keep their order.
      const entries = Object.entries(filter.typed_config).map(([k, v]) =>
        k === "route_config" ? ["rds", { config_source: xdsFileSource(file), route_config_name: config.name }] : [k, v],
      );
      return { ...filter, typed_config: Object.fromEntries(entries) };
    }),
  }));
  return { listener: { ...listener, filter_chains: chains }, routes };
}

const typed = (type: string) => (resource: EnvoyObject): EnvoyObject => ({ "@type": type, ...resource });
const named = (names: readonly string[]) => (resource: EnvoyObject) => names.includes(resource.name as string);

/** Sorted by name, so a record's key order (and so its text) never depends on insertion order. */
function sortedRecord<T>(entries: readonly (readonly [string, T])[]): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Splits a proxy's static config into the bootstrap and the xDS files. Pure and deterministic;
 * `fromFileXds` in the checks inverts it, which the tests hold it to.
 */
export function toFileXds(config: ProxyConfig): FileXdsConfig {
  const { static_resources: resources, ...bootstrapRest } = config.bootstrap as { static_resources: { listeners: EnvoyObject[]; clusters: EnvoyObject[] } } & EnvoyObject;
  const staticListener = named(STATIC_LISTENERS);
  const staticCluster = named(STATIC_CLUSTERS);
  const dynamic = resources.listeners.filter((l) => !staticListener(l)).map(withRds);
  const files: [string, EnvoyObject][] = [
    [LDS_FILE, discoveryResponse(dynamic.map((d) => typed(LISTENER)(d.listener)))],
    [CDS_FILE, discoveryResponse(resources.clusters.filter((c) => !staticCluster(c)).map(typed(CLUSTER)))],
    ...dynamic.flatMap((d) => d.routes).map(({ config: route, subscription }): [string, EnvoyObject] => [subscription.file, discoveryResponse([typed(ROUTE_CONFIGURATION)(route)])]),
    ...Object.entries(config.sdsFiles).map(([file, content]): [string, EnvoyObject] => [file, discoveryResponse(content.resources as EnvoyObject[])]),
  ];
  return {
    proxy: config.proxy,
    bootstrap: {
      ...bootstrapRest,
      static_resources: { listeners: resources.listeners.filter(staticListener), clusters: resources.clusters.filter(staticCluster) },
      dynamic_resources: { lds_config: xdsFileSource(LDS_FILE), cds_config: xdsFileSource(CDS_FILE) },
    },
    files: sortedRecord(files),
  };
}

/** One xDS subscription whose version `npm run status` compares: its stat root and the version it must report. */
export interface ExpectedVersion {
  readonly statPrefix: string;
  readonly file: string;
  readonly version: string;
}

/**
 * What each Envoy of a proxy reports once it runs the delivered files: LDS, CDS and every RDS
 * subscription, by stat root (sorted). SDS files only name certificate files, which never change
 * with the topology; certificate renewals are watched through their own folders.
 */
export function expectedVersions(config: FileXdsConfig): ExpectedVersion[] {
  const version = (file: string) => (config.files[file] as { version_info: string }).version_info;
  const rds = ((config.files[LDS_FILE].resources ?? []) as readonly EnvoyObject[]).flatMap((listener) =>
    (listener.filter_chains as readonly EnvoyObject[]).flatMap((chain) =>
      (chain.filters as readonly EnvoyObject[]).flatMap((filter) => {
        const rdsConfig = isHcm(filter) ? (filter.typed_config.rds as { route_config_name: string } | undefined) : undefined;
        if (!isHcm(filter) || rdsConfig === undefined) return [];
        const file = rdsFileName(rdsConfig.route_config_name);
        return [{ statPrefix: rdsStatPrefix(filter.typed_config.stat_prefix, rdsConfig.route_config_name), file, version: version(file) }];
      }),
    ),
  );
  const all = [{ statPrefix: LDS_STAT_PREFIX, file: LDS_FILE, version: version(LDS_FILE) }, { statPrefix: CDS_STAT_PREFIX, file: CDS_FILE, version: version(CDS_FILE) }, ...rds];
  return all.sort((a, b) => (a.statPrefix < b.statPrefix ? -1 : a.statPrefix > b.statPrefix ? 1 : 0));
}

/** The SDS files every proxy may carry, for checks that must tell them apart from LDS/CDS/RDS files. */
export const SDS_FILE_NAMES: readonly string[] = Object.values(SDS_FILES);

/** A bootstrap's version: a digest of its bytes; when it changes, the proxy's pods (containers) are replaced. */
export function bootstrapVersion(bootstrap: string): string {
  return createHash("sha256").update(bootstrap).digest("hex").slice(0, VERSION_LENGTH);
}

/**
 * One proxy in the stack output `envoyConfig`, which `pulumi preview` diffs and `npm run status`
 * reads: a change under `bootstrap` rolls the proxy's pods; a change under `live` only replaces
 * xDS files, which every running Envoy reloads.
 */
export interface LiveConfigSummary {
  readonly bootstrap: string;
  /** Stat root of each subscription (LDS, CDS, each RDS) → the version its Envoys must report. */
  readonly live: Readonly<Record<string, string>>;
}

/** The `envoyConfig` entry of a proxy, from its bootstrap's text (as shipped) and its split config. */
export function liveConfigSummary(bootstrap: string, config: FileXdsConfig): LiveConfigSummary {
  return { bootstrap: bootstrapVersion(bootstrap), live: Object.fromEntries(expectedVersions(config).map((e) => [e.statPrefix, e.version])) };
}
