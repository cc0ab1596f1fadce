/**
 * The Prometheus series each Envoy of the mesh exposes on `/stats/prometheus`, derived from the
 * configs it runs (bootstrap + xDS files): what a dashboard or an alert rule may query.
 *
 * How Envoy names them (facts from envoyproxy/envoy):
 * - A stat name's variable parts become tags by the default tag extractors
 *   (source/common/config/well_known_names.cc): `cluster.<name>.` → tag `envoy.cluster_name`
 *   (`^cluster\.(([^\.]+)\.).*`), `http.<stat_prefix>.` → `envoy.http_conn_manager_prefix`
 *   (`^http\.((.*?)\.)`), `_rq_<d>xx` → `envoy.response_code_class` (`_rq_(\d)xx$`, leaving
 *   `_rq_xx`), `_rq_<ddd>` → `envoy.response_code`, `http.<p>.rds.<route_config>.` → `envoy.rds_route_config`.
 * - The Prometheus name is `envoy_` + the tag-extracted name with every `[^a-zA-Z0-9_]` made `_`,
 *   tag names sanitized the same way (`envoy.cluster_name` → `envoy_cluster_name`); a histogram
 *   is `<name>_bucket{le}`, `<name>_sum` and `<name>_count` (source/server/admin/prometheus_stats.cc).
 * - Cluster stats, outlier detection (only when configured) and circuit breakers per priority:
 *   docs/root/configuration/upstream/cluster_manager/cluster_stats.rst. HTTP connection manager
 *   stats: docs/root/configuration/http/http_conn_man/stats.rst. Server stats, among them
 *   `server.days_until_first_cert_expiring` (ALL_SERVER_STATS in source/server/server.h):
 *   docs/root/configuration/observability/statistics.rst. xDS subscription stats
 *   (`update_rejected` ...): docs/root/configuration/overview/mgmt_server.rst.
 */
import { loadEnvoyConfig, type RenderedEnvoyConfig } from "../envoy/check";
import { CDS_FILE, LDS_FILE } from "../envoy/names";
import type { EnvoyObject } from "../envoy/resources";
import { HTTP_CONNECTION_MANAGER } from "../envoy/typeUrls";
import { CDS_STAT_PREFIX, LDS_STAT_PREFIX } from "../envoy/xds";

/** Tag labels Envoy's default tag extraction adds (prometheus_stats.cc sanitizes `envoy.x` to `envoy_x`). */
export const CLUSTER_LABEL = "envoy_cluster_name";
export const HCM_PREFIX_LABEL = "envoy_http_conn_manager_prefix";
export const RESPONSE_CODE_CLASS_LABEL = "envoy_response_code_class";
export const RESPONSE_CODE_LABEL = "envoy_response_code";
export const RDS_ROUTE_CONFIG_LABEL = "envoy_rds_route_config";
/** A histogram bucket's upper bound (prometheus_stats.cc). */
export const BUCKET_LABEL = "le";

/**
 * The label Prometheus puts on every series of a proxy: its pod's `app.kubernetes.io/name` (the
 * service, or `front-envoy`), copied by PROXY_RELABEL_CONFIGS. It tells one caller's cluster
 * `upstream_x` from another's, so a panel shows one edge.
 */
export const PROXY_LABEL = "mesh_proxy";

/**
 * Relabeling for a Prometheus `kubernetes_sd_configs` pod job that sets PROXY_LABEL (Prometheus
 * names a pod label `__meta_kubernetes_pod_label_<name>` with every invalid character made `_`).
 */
export const PROXY_RELABEL_CONFIGS: readonly Readonly<Record<string, unknown>>[] = [
  { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], target_label: PROXY_LABEL, action: "replace" },
];

/** Labels a scrape adds to every series (Prometheus' own, and the usual Kubernetes pod job's); queries may use them freely. */
export const SCRAPE_LABELS: readonly string[] = ["instance", "job", "namespace", "pod"];

export type MetricType = "counter" | "gauge" | "histogram";

/** One series Envoy exposes, by its Prometheus name and the identifying labels (the proxy included). */
export interface MetricSeries {
  readonly name: string;
  readonly type: MetricType;
  /** Identifying labels: PROXY_LABEL and Envoy's tags. A histogram's `_bucket` also has `le`. */
  readonly labels: Readonly<Record<string, string>>;
}

/** One series' identifying labels; a label set is shared by every metric name of its family. */
export type LabelSet = Readonly<Record<string, string>>;

/**
 * The kinds of series a proxy has: each is a list of metric names that every label set of the
 * kind has (every cluster has all the cluster counters, ...). A mesh of many proxies is a few
 * label sets per cluster and prefix, not one object per series (~400,000 at 1,000 services).
 */
export type SeriesFamily = "cluster" | "clusterResponseClass" | "outlierDetection" | "healthCheck" | "hcm" | "hcmResponseClass" | "rds" | "lds" | "cds" | "server";

/** What one proxy's configs define, and the series they produce. */
export interface ProxyMetrics {
  readonly proxy: string;
  /** Cluster names: the bootstrap's static clusters and the CDS file's, sorted. */
  readonly clusters: readonly string[];
  /** Clusters with outlier detection (only they have `outlier_detection.*` stats). */
  readonly outlierClusters: readonly string[];
  /** Clusters with active health checks (`health_check.*` stats). */
  readonly healthCheckedClusters: readonly string[];
  /** Stat prefixes of every HTTP connection manager, static and LDS listeners, sorted. */
  readonly hcmPrefixes: readonly string[];
  /** Route configurations read over RDS, by the stat prefix of the connection manager that reads them. */
  readonly rdsRouteConfigs: readonly { readonly prefix: string; readonly routeConfig: string }[];
  /** The label sets of each family of series (FAMILY_NAMES gives each family's metric names). */
  readonly families: ReadonlyMap<SeriesFamily, readonly LabelSet[]>;
  /** Every series, one object each: made on first use from `families`. */
  readonly series: readonly MetricSeries[];
}

/** The whole mesh's series: every proxy's, and the set of metric names. */
export interface MeshMetrics {
  readonly proxies: readonly ProxyMetrics[];
  /** Every series of every proxy, one object each: made on first use (the checks use labelSets). */
  readonly series: readonly MetricSeries[];
  /** Every metric name (histograms by their `_bucket`, `_sum` and `_count` names) and its type. */
  readonly names: ReadonlyMap<string, MetricType>;
  /** Each metric name's series, by their label sets. Names of one family share one array. */
  readonly labelSets: ReadonlyMap<string, readonly LabelSet[]>;
}

/** Counters and gauges under `cluster.<name>.` that every cluster has (cluster_stats.rst). */
const CLUSTER_COUNTERS = [
  "upstream_rq_total",
  "upstream_rq_timeout",
  "upstream_rq_per_try_timeout",
  "upstream_rq_retry",
  "upstream_rq_retry_success",
  "upstream_rq_retry_overflow",
  "upstream_rq_retry_limit_exceeded",
  "upstream_rq_pending_overflow",
  "upstream_rq_rx_reset",
  "upstream_rq_tx_reset",
  "upstream_cx_total",
  "upstream_cx_connect_fail",
  "upstream_cx_connect_timeout",
  "upstream_cx_overflow",
  "upstream_cx_none_healthy",
] as const;
const CLUSTER_GAUGES = ["upstream_rq_active", "upstream_rq_pending_active", "upstream_cx_active", "membership_healthy", "membership_total"] as const;
const CLUSTER_HISTOGRAMS = ["upstream_rq_time", "upstream_cx_connect_ms"] as const;
/** `cluster.<name>.circuit_breakers.<priority>.<gauge>`: every cluster has both priorities (cluster_stats.rst). */
const CIRCUIT_BREAKER_PRIORITIES = ["default", "high"] as const;
const CIRCUIT_BREAKER_GAUGES = ["cx_open", "cx_pool_open", "rq_pending_open", "rq_open", "rq_retry_open", "remaining_cx", "remaining_pending", "remaining_rq", "remaining_retries"] as const;
/** `cluster.<name>.outlier_detection.*`, only when the cluster configures outlier detection. */
const OUTLIER_COUNTERS = [
  "ejections_enforced_total",
  "ejections_overflow",
  "ejections_enforced_consecutive_5xx",
  "ejections_detected_consecutive_5xx",
  "ejections_enforced_consecutive_gateway_failure",
  "ejections_detected_consecutive_gateway_failure",
  "ejections_enforced_consecutive_local_origin_failure",
  "ejections_detected_consecutive_local_origin_failure",
] as const;
const OUTLIER_GAUGES = ["ejections_active"] as const;
const HEALTH_CHECK_COUNTERS = ["attempt", "success", "failure", "network_failure"] as const;
const HEALTH_CHECK_GAUGES = ["healthy"] as const;
/** `http.<stat_prefix>.` (docs/root/configuration/http/http_conn_man/stats.rst). */
const HCM_COUNTERS = ["downstream_rq_total", "downstream_cx_total", "downstream_rq_timeout", "downstream_rq_rx_reset", "downstream_rq_tx_reset"] as const;
const HCM_GAUGES = ["downstream_rq_active", "downstream_cx_active"] as const;
const HCM_HISTOGRAMS = ["downstream_rq_time"] as const;
/** Every xDS subscription's stats (mgmt_server.rst, subscription statistics). */
const SUBSCRIPTION_COUNTERS = ["update_attempt", "update_success", "update_failure", "update_rejected"] as const;
const SUBSCRIPTION_GAUGES = ["version"] as const;
/** `server.` (statistics.rst; ALL_SERVER_STATS in source/server/server.h). */
const SERVER_GAUGES = ["days_until_first_cert_expiring", "live", "uptime", "memory_allocated"] as const;
/** The response code classes Envoy counts (`upstream_rq_<d>xx`, `downstream_rq_<d>xx`). */
export const RESPONSE_CODE_CLASSES: readonly string[] = ["1", "2", "3", "4", "5"];

/** `envoy_` + the tag-extracted stat name, sanitized (prometheus_stats.cc, metricName). */
export function prometheusName(tagExtractedStatName: string): string {
  return `envoy_${tagExtractedStatName.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/** Every name a stat of this type has in Prometheus: a histogram's three. */
export function exposedNames(name: string, type: MetricType): string[] {
  return type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

/** `<root>.<stat>` for each stat, by its exposed names. */
function statNames(root: string, stats: readonly string[], type: MetricType): [string, MetricType][] {
  return stats.flatMap((stat) => exposedNames(prometheusName(`${root}.${stat}`), type).map((n): [string, MetricType] => [n, type]));
}

const subscriptionNames = (root: string) => [...statNames(root, SUBSCRIPTION_COUNTERS, "counter"), ...statNames(root, SUBSCRIPTION_GAUGES, "gauge")];

/** Each family's metric names and types, in the order a proxy's series list them. */
export const FAMILY_NAMES: ReadonlyMap<SeriesFamily, readonly (readonly [string, MetricType])[]> = new Map<SeriesFamily, [string, MetricType][]>([
  [
    "cluster",
    [
      ...statNames("cluster", CLUSTER_COUNTERS, "counter"),
      ...statNames("cluster", CLUSTER_GAUGES, "gauge"),
      ...statNames("cluster", CLUSTER_HISTOGRAMS, "histogram"),
      ...CIRCUIT_BREAKER_PRIORITIES.flatMap((p) => statNames(`cluster.circuit_breakers.${p}`, CIRCUIT_BREAKER_GAUGES, "gauge")),
    ],
  ],
  // `cluster.<name>.upstream_rq_5xx` → `envoy_cluster_upstream_rq_xx{envoy_response_code_class="5"}`.
  ["clusterResponseClass", statNames("cluster", ["upstream_rq_xx"], "counter")],
  ["outlierDetection", [...statNames("cluster.outlier_detection", OUTLIER_COUNTERS, "counter"), ...statNames("cluster.outlier_detection", OUTLIER_GAUGES, "gauge")]],
  ["healthCheck", [...statNames("cluster.health_check", HEALTH_CHECK_COUNTERS, "counter"), ...statNames("cluster.health_check", HEALTH_CHECK_GAUGES, "gauge")]],
  ["hcm", [...statNames("http", HCM_COUNTERS, "counter"), ...statNames("http", HCM_GAUGES, "gauge"), ...statNames("http", HCM_HISTOGRAMS, "histogram")]],
  ["hcmResponseClass", statNames("http", ["downstream_rq_xx"], "counter")],
  ["rds", subscriptionNames("http.rds")],
  ["lds", subscriptionNames(LDS_STAT_PREFIX)],
  ["cds", subscriptionNames(CDS_STAT_PREFIX)],
  ["server", statNames("server", SERVER_GAUGES, "gauge")],
]);

/** Every series of these families: one object per metric name and label set. */
function expandFamilies(families: ReadonlyMap<SeriesFamily, readonly LabelSet[]>): MetricSeries[] {
  const series: MetricSeries[] = [];
  for (const [family, names] of FAMILY_NAMES) {
    for (const labels of families.get(family) ?? []) for (const [name, type] of names) series.push({ name, type, labels });
  }
  return series;
}

/** `value` with a `series` property made on first read, then kept. */
function withLazySeries<T extends object>(value: T, make: () => readonly MetricSeries[]): T & { readonly series: readonly MetricSeries[] } {
  let series: readonly MetricSeries[] | undefined;
  return Object.defineProperty(value, "series", { enumerable: true, get: () => (series ??= make()) }) as T & { readonly series: readonly MetricSeries[] };
}

function hcmsOf(listener: EnvoyObject): EnvoyObject[] {
  return ((listener.filter_chains ?? []) as EnvoyObject[])
    .flatMap((chain) => (chain.filters ?? []) as EnvoyObject[])
    .map((filter) => filter.typed_config as EnvoyObject | undefined)
    .filter((config): config is EnvoyObject => config?.["@type"] === HTTP_CONNECTION_MANAGER);
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** A proxy's series, from its bootstrap and xDS files as loaded objects. */
export function proxyMetricsOf(proxy: string, bootstrap: EnvoyObject, files: Readonly<Record<string, EnvoyObject>>): ProxyMetrics {
  const staticResources = (bootstrap.static_resources ?? {}) as { listeners?: EnvoyObject[]; clusters?: EnvoyObject[] };
  const resourcesOf = (file: string) => ((files[file]?.resources ?? []) as EnvoyObject[]);
  const clusterObjects = [...(staticResources.clusters ?? []), ...resourcesOf(CDS_FILE)];
  const listeners = [...(staticResources.listeners ?? []), ...resourcesOf(LDS_FILE)];
  const hcms = listeners.flatMap(hcmsOf);
  const clusters = sorted(clusterObjects.map((c) => c.name as string));
  const outlierClusters = sorted(clusterObjects.filter((c) => c.outlier_detection !== undefined).map((c) => c.name as string));
  const healthCheckedClusters = sorted(clusterObjects.filter((c) => ((c.health_checks ?? []) as unknown[]).length > 0).map((c) => c.name as string));
  const hcmPrefixes = sorted(hcms.map((h) => h.stat_prefix as string));
  const rdsRouteConfigs = hcms
    .filter((h) => h.rds !== undefined)
    .map((h) => ({ prefix: h.stat_prefix as string, routeConfig: ((h.rds as EnvoyObject).route_config_name as string).replace(/:/g, "_") }))
    .sort((a, b) => (a.prefix + a.routeConfig < b.prefix + b.routeConfig ? -1 : 1));
  const own = { [PROXY_LABEL]: proxy };
  const outliers = new Set(outlierClusters);
  const healthChecked = new Set(healthCheckedClusters);
  const clusterLabels = clusters.map((cluster) => ({ ...own, [CLUSTER_LABEL]: cluster }));
  const hcmLabels = hcmPrefixes.map((prefix) => ({ ...own, [HCM_PREFIX_LABEL]: prefix }));
  const withClasses = (labels: LabelSet) => RESPONSE_CODE_CLASSES.map((c) => ({ ...labels, [RESPONSE_CODE_CLASS_LABEL]: c }));
  const dynamic = (bootstrap.dynamic_resources ?? {}) as EnvoyObject;
  const families = new Map<SeriesFamily, readonly LabelSet[]>([
    ["cluster", clusterLabels],
    ["clusterResponseClass", clusterLabels.flatMap(withClasses)],
    ["outlierDetection", clusterLabels.filter((l) => outliers.has(l[CLUSTER_LABEL]))],
    ["healthCheck", clusterLabels.filter((l) => healthChecked.has(l[CLUSTER_LABEL]))],
    ["hcm", hcmLabels],
    ["hcmResponseClass", hcmLabels.flatMap(withClasses)],
    ["rds", rdsRouteConfigs.map(({ prefix, routeConfig }) => ({ ...own, [HCM_PREFIX_LABEL]: prefix, [RDS_ROUTE_CONFIG_LABEL]: routeConfig }))],
    ["lds", dynamic.lds_config !== undefined ? [own] : []],
    ["cds", dynamic.cds_config !== undefined ? [own] : []],
    ["server", [own]],
  ]);
  return withLazySeries({ proxy, clusters, outlierClusters, healthCheckedClusters, hcmPrefixes, rdsRouteConfigs, families }, () => expandFamilies(families));
}

/**
 * A proxy's series, from its config exactly as rendered, parsed once for this and the Envoy checks
 * (loadEnvoyConfig). A text that is not JSON counts as empty here: envoyConfigProblems reports it.
 */
export function proxyMetrics(config: RenderedEnvoyConfig): ProxyMetrics {
  const loaded = loadEnvoyConfig(config);
  const files = Object.fromEntries(Object.entries(loaded.files).map(([file, content]) => [file, objectOrEmpty(content)]));
  return proxyMetricsOf(config.proxy, objectOrEmpty(loaded.bootstrap), files);
}

function objectOrEmpty(value: unknown): EnvoyObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as EnvoyObject) : {};
}

/** Every proxy's series of a rendered mesh, and the names they use. */
export function meshMetrics(configs: readonly RenderedEnvoyConfig[]): MeshMetrics {
  return meshMetricsOf(configs.map(proxyMetrics));
}

/** The mesh's series from its proxies': each family's label sets joined once, shared by the family's names. */
export function meshMetricsOf(proxies: readonly ProxyMetrics[]): MeshMetrics {
  const labelSets = new Map<string, readonly LabelSet[]>();
  const names = new Map<string, MetricType>();
  for (const [family, familyNames] of FAMILY_NAMES) {
    const sets = proxies.flatMap((p) => p.families.get(family) ?? []);
    if (sets.length === 0) continue;
    for (const [name, type] of familyNames) {
      const known = labelSets.get(name);
      labelSets.set(name, known === undefined ? sets : [...known, ...sets]);
      names.set(name, type);
    }
  }
  return withLazySeries(
    { proxies, names: new Map([...names].sort(([a], [b]) => (a < b ? -1 : 1))), labelSets },
    () => proxies.flatMap((p) => p.series),
  );
}
