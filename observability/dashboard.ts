/**
 * A Grafana dashboard for a mesh, of the same size whatever the mesh: the edges (each caller's
 * cluster for a callee, one per version) are chosen with template variables, not laid out one row
 * each. An overview row answers "which edges are bad right now" over the whole mesh (highest 5xx
 * ratios and p99 latencies, edges with ejected hosts or open circuit breakers); below it, the six
 * edge panels (request rate, error ratio, p50/p99 latency, retries, ejections, open circuit
 * breakers) draw one line per selected edge, named `caller → cluster`. The variables' values come
 * from Prometheus (label_values), so a new service shows up without a new dashboard. The
 * Prometheus data source is a template variable too, so the same JSON imports into any Grafana;
 * ids and uid are fixed, so the same input always gives the same bytes.
 *
 * Grafana's dashboard JSON model (kinds/dashboard/dashboard_kind.cue and
 * packages/grafana-data/src/types/templateVars.ts in grafana/grafana): a `query` variable holds a
 * data source query (for Prometheus, `label_values(<selector>, <label>)`), `multi` and
 * `includeAll` allow several values and "All"; `refresh` 2 re-reads the values when the time range
 * changes (VariableRefresh.onTimeRangeChanged), `sort` 1 sorts them alphabetically. A multi-value
 * variable expands to `(a|b|c)` in a `=~` matcher. A row can be repeated per value of a variable
 * (`repeat`), but with "All" at 1,000 services that lays out 3,000 rows of panels again: the edge
 * panels instead aggregate `by (mesh_proxy, envoy_cluster_name)`, one query each, one line per edge.
 */
import type { Topology } from "../topology";
import { ERROR_RATIO_CRITICAL, ERROR_RATIO_WARNING } from "./alerts";
import { CLUSTER_LABEL, PROXY_LABEL } from "./metrics";
import {
  ALL_EDGES,
  CIRCUIT_BREAKERS,
  EDGE_CLUSTER_PATTERN,
  circuitBreakerOpen,
  ejectionsActive,
  ejectionsEnforced,
  errorRatio,
  latencyQuantile,
  requestRate,
  retryRate,
  variableEdges,
} from "./queries";

/** The newest dashboard schema Grafana migrates to (LATEST_VERSION in apps/dashboard/pkg/migration/schemaversion/migrations.go of grafana/grafana). */
export const DASHBOARD_SCHEMA_VERSION = 42;
export const DASHBOARD_UID = "envoy-mesh-edges";
export const DASHBOARD_TITLE = "Envoy mesh: edges";
/** The template variable holding the Prometheus data source. */
export const DATASOURCE_VARIABLE = "datasource";
/** The template variables choosing the edges the edge panels draw: callers (proxies), then their clusters. */
export const CALLER_VARIABLE = "caller";
export const CLUSTER_VARIABLE = "cluster";
/** Grafana's own rate window: at least four scrape intervals whatever the zoom. */
export const DASHBOARD_RATE_WINDOW = "$__rate_interval";
/** How many edges the overview's "highest" tables list. */
export const OVERVIEW_TOP = 10;

const DATASOURCE = { type: "prometheus", uid: `\${${DATASOURCE_VARIABLE}}` } as const;
const PANEL_WIDTH = 4;
const PANEL_HEIGHT = 8;
const OVERVIEW_WIDTH = 6;
/** Every line of an edge panel is one edge: `service-a → upstream_service_b`. */
const EDGE_LEGEND = `{{${PROXY_LABEL}}} → {{${CLUSTER_LABEL}}}`;

export interface DashboardTarget {
  readonly refId: string;
  readonly datasource: typeof DATASOURCE;
  readonly expr: string;
  readonly legendFormat: string;
  /** Overview tables: one value per edge now, as a table. */
  readonly instant?: boolean;
  readonly range?: boolean;
  readonly format?: "table";
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: "timeseries" | "table" | "row";
  readonly title: string;
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
  readonly targets?: readonly DashboardTarget[];
  readonly [key: string]: unknown;
}

/** A template variable of the dashboard (Grafana's VariableModel). */
export interface DashboardVariable {
  readonly name: string;
  readonly type: "datasource" | "query";
  readonly query: string;
  readonly [key: string]: unknown;
}

export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly DashboardPanel[];
  readonly templating?: { readonly list: readonly DashboardVariable[] };
  readonly [key: string]: unknown;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly { readonly expr: string; readonly legend: string }[];
  readonly thresholds?: readonly { readonly value: number; readonly color: string }[];
}

const ERROR_THRESHOLDS = [
  { value: ERROR_RATIO_WARNING.ratio, color: "orange" },
  { value: ERROR_RATIO_CRITICAL.ratio, color: "red" },
];

/** The six panels of the selected edges, each line one edge. */
function edgePanels(): PanelSpec[] {
  const w = DASHBOARD_RATE_WINDOW;
  const edges = variableEdges(CALLER_VARIABLE, CLUSTER_VARIABLE);
  return [
    {
      title: "Request rate",
      description: "Requests per second each caller's Envoy sent on the edge's cluster, every attempt (retries included).",
      unit: "reqps",
      queries: [{ expr: requestRate(edges, w), legend: EDGE_LEGEND }],
    },
    {
      title: "Error ratio (5xx)",
      description: "Share of attempts answered 5xx, by the callee or by the caller's Envoy on its behalf (overflow, no healthy host, timeout). Lines: the warning and critical alert thresholds.",
      unit: "percentunit",
      queries: [{ expr: errorRatio(edges, w), legend: EDGE_LEGEND }],
      thresholds: ERROR_THRESHOLDS,
    },
    {
      title: "Latency p50 / p99",
      description: "Time from the first byte of the request sent to the last byte of the response received (Envoy's upstream_rq_time histogram), in milliseconds.",
      unit: "ms",
      queries: [
        { expr: latencyQuantile(edges, 0.5, w), legend: `p50 ${EDGE_LEGEND}` },
        { expr: latencyQuantile(edges, 0.99, w), legend: `p99 ${EDGE_LEGEND}` },
      ],
    },
    {
      title: "Retries",
      description: "Retries per second, and retries refused because the retry budget or breaker was exhausted.",
      unit: "reqps",
      queries: [
        { expr: retryRate(edges, w), legend: `retries ${EDGE_LEGEND}` },
        { expr: retryRate(edges, w, "upstream_rq_retry_overflow"), legend: `refused ${EDGE_LEGEND}` },
      ],
    },
    {
      title: "Ejections",
      description: "Hosts ejected by outlier detection now (summed over the caller's pods), and ejections enforced per interval.",
      unit: "short",
      queries: [
        { expr: ejectionsActive(edges), legend: `ejected ${EDGE_LEGEND}` },
        { expr: ejectionsEnforced(edges, w), legend: `ejections ${EDGE_LEGEND}` },
      ],
    },
    {
      title: "Open circuit breakers",
      description: "Caller pods whose circuit breaker on the edge is at its limit (refusing), per breaker.",
      unit: "short",
      queries: CIRCUIT_BREAKERS.map((b) => ({ expr: circuitBreakerOpen(edges, b.gauge), legend: `${b.legend} ${EDGE_LEGEND}` })),
    },
  ];
}

/** The overview over every edge of the mesh: a value per edge now, worst first. */
function overviewPanels(): PanelSpec[] {
  const w = DASHBOARD_RATE_WINDOW;
  return [
    {
      title: `Highest 5xx ratio (top ${OVERVIEW_TOP} edges)`,
      description: "The edges whose attempts are most often answered 5xx now, whatever the variables select. Orange and red: the alert thresholds.",
      unit: "percentunit",
      queries: [{ expr: `topk(${OVERVIEW_TOP}, ${errorRatio(ALL_EDGES, w)})`, legend: EDGE_LEGEND }],
      thresholds: ERROR_THRESHOLDS,
    },
    {
      title: `Slowest p99 (top ${OVERVIEW_TOP} edges)`,
      description: "The edges with the highest 99th percentile latency now, in milliseconds.",
      unit: "ms",
      queries: [{ expr: `topk(${OVERVIEW_TOP}, ${latencyQuantile(ALL_EDGES, 0.99, w)})`, legend: EDGE_LEGEND }],
    },
    {
      title: "Edges with ejected hosts",
      description: "Every edge whose caller has hosts of its cluster ejected by outlier detection now.",
      unit: "short",
      queries: [{ expr: `${ejectionsActive(ALL_EDGES)} > 0`, legend: EDGE_LEGEND }],
    },
    {
      title: "Edges with open circuit breakers",
      description: "Every edge with caller pods whose circuit breaker is at its limit now, per breaker.",
      unit: "short",
      queries: CIRCUIT_BREAKERS.map((b) => ({ expr: `${circuitBreakerOpen(ALL_EDGES, b.gauge)} > 0`, legend: `${b.legend} ${EDGE_LEGEND}` })),
    },
  ];
}

/** An object and everything in it made read-only: parts panels of a kind share. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const PANEL_OPTIONS = deepFreeze({ legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } });
const TABLE_OPTIONS = deepFreeze({ showHeader: true, sortBy: [{ displayName: "Value", desc: true }] });

function fieldConfig(spec: PanelSpec, table: boolean): object {
  return {
    defaults: {
      unit: spec.unit,
      min: 0,
      ...(table ? {} : { custom: { drawStyle: "line", fillOpacity: 10, showPoints: "never", ...(spec.thresholds ? { thresholdsStyle: { mode: "dashed" } } : {}) } }),
      thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, ...(spec.thresholds ?? [])] },
    },
    overrides: [],
  };
}

function panel(spec: PanelSpec, id: number, gridPos: DashboardPanel["gridPos"], table = false): DashboardPanel {
  return {
    id,
    type: table ? "table" : "timeseries",
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: fieldConfig(spec, table),
    options: table ? TABLE_OPTIONS : PANEL_OPTIONS,
    targets: spec.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend,
      ...(table ? { instant: true, range: false, format: "table" as const } : {}),
    })),
  };
}

/** `label_values(<metric>{<matchers>}, <label>)`: a variable's values, as Grafana's Prometheus data source reads them (packages/grafana-prometheus/src/metric_find_query.ts in grafana/grafana: the label's values among the series the selector matches). */
function queryVariable(name: string, label: string, description: string, metricSelector: string, valueLabel: string): DashboardVariable {
  const query = `label_values(${metricSelector}, ${valueLabel})`;
  return {
    name,
    label,
    description,
    type: "query",
    datasource: DATASOURCE,
    definition: query,
    query,
    regex: "",
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: true,
    current: {},
    options: [],
    hide: 0,
  };
}

/** The dashboard's variables: the data source, then the callers, then the callers' edge clusters. */
function variables(): DashboardVariable[] {
  const edgeClusters = `${CLUSTER_LABEL}=~"${EDGE_CLUSTER_PATTERN}"`;
  return [
    { name: DATASOURCE_VARIABLE, label: "Prometheus", type: "datasource", query: "prometheus", regex: "", hide: 0, refresh: 1, current: {}, options: [] },
    queryVariable(CALLER_VARIABLE, "Caller", "The proxies whose edges the edge panels draw (front-envoy or a service).", `envoy_cluster_upstream_rq_total{${edgeClusters}}`, PROXY_LABEL),
    queryVariable(
      CLUSTER_VARIABLE,
      "Cluster",
      "The selected callers' clusters to draw: upstream_<callee>, or upstream_<callee>_<version> for a version.",
      `envoy_cluster_upstream_rq_total{${PROXY_LABEL}=~"$${CALLER_VARIABLE}",${edgeClusters}}`,
      CLUSTER_LABEL,
    ),
  ];
}

export interface DashboardOptions {
  readonly uid?: string;
  readonly title?: string;
}

/**
 * The dashboard JSON model: the overview row, then the selected edges' row. The same for every
 * mesh (the variables find the edges in Prometheus); the topology parameter stays so that
 * callers need not know that.
 */
export function meshDashboard(_topology: Topology, options: DashboardOptions = {}): GrafanaDashboard {
  let id = 0;
  const overviewY = 1;
  const edgesY = overviewY + PANEL_HEIGHT + 1;
  const panels: DashboardPanel[] = [
    { id: ++id, type: "row", title: "Which edges are bad (whole mesh, now)", collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: 0 }, panels: [] },
    ...overviewPanels().map((spec, i) => panel(spec, ++id, { h: PANEL_HEIGHT, w: OVERVIEW_WIDTH, x: i * OVERVIEW_WIDTH, y: overviewY }, true)),
    { id: ++id, type: "row", title: `Selected edges: $${CALLER_VARIABLE} / $${CLUSTER_VARIABLE}`, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: edgesY - 1 }, panels: [] },
    ...edgePanels().map((spec, i) => panel(spec, ++id, { h: PANEL_HEIGHT, w: PANEL_WIDTH, x: i * PANEL_WIDTH, y: edgesY })),
  ];
  return {
    uid: options.uid ?? DASHBOARD_UID,
    title: options.title ?? DASHBOARD_TITLE,
    description: "The mesh's edges as each caller's Envoy sees them: the worst edges now, and the edges the Caller and Cluster variables select. Generated by npm run render.",
    tags: ["envoy", "mesh"],
    timezone: "browser",
    editable: true,
    graphTooltip: 1,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    version: 1,
    links: [],
    annotations: { list: [] },
    templating: { list: variables() },
    panels,
  };
}

/** The dashboard as written to `out/observability/grafana-dashboard.json`. */
export function dashboardJson(dashboard: GrafanaDashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
