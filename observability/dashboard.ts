/**
 * A Grafana dashboard for a mesh: one row per edge (each caller's cluster for a callee, one per
 * version), with its request rate, error ratio, p50/p99 latency, retries, ejections and open
 * circuit breakers, all from the caller's Envoy. The Prometheus data source is a template
 * variable, so the same JSON imports into any Grafana. Ids and uid are fixed by position, so the
 * same topology always gives the same bytes.
 */
import type { Topology } from "../topology";
import { ERROR_RATIO_CRITICAL, ERROR_RATIO_WARNING } from "./alerts";
import { edgeTitle, meshEdges, type MeshEdge } from "./edges";
import { CIRCUIT_BREAKERS, circuitBreakerOpen, ejectionsActive, ejectionsEnforced, errorRatio, latencyQuantile, requestRate, retryRate } from "./queries";

/** The newest dashboard schema Grafana migrates to (LATEST_VERSION in apps/dashboard/pkg/migration/schemaversion/migrations.go of grafana/grafana). */
export const DASHBOARD_SCHEMA_VERSION = 42;
export const DASHBOARD_UID = "envoy-mesh-edges";
export const DASHBOARD_TITLE = "Envoy mesh: edges";
/** The template variable holding the Prometheus data source. */
export const DATASOURCE_VARIABLE = "datasource";
/** Grafana's own rate window: at least four scrape intervals whatever the zoom. */
export const DASHBOARD_RATE_WINDOW = "$__rate_interval";

const DATASOURCE = { type: "prometheus", uid: `\${${DATASOURCE_VARIABLE}}` } as const;
const PANEL_WIDTH = 4;
const PANEL_HEIGHT = 8;

export interface DashboardTarget {
  readonly refId: string;
  readonly datasource: typeof DATASOURCE;
  readonly expr: string;
  readonly legendFormat: string;
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: "timeseries" | "row";
  readonly title: string;
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
  readonly targets?: readonly DashboardTarget[];
  readonly [key: string]: unknown;
}

export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly DashboardPanel[];
  readonly [key: string]: unknown;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly { readonly expr: string; readonly legend: string }[];
  readonly thresholds?: readonly { readonly value: number; readonly color: string }[];
}

function edgePanels(edge: MeshEdge): PanelSpec[] {
  const w = DASHBOARD_RATE_WINDOW;
  return [
    {
      title: "Request rate",
      description: `Requests per second ${edge.caller}'s Envoy sent on cluster ${edge.cluster}, every attempt (retries included).`,
      unit: "reqps",
      queries: [{ expr: requestRate(edge, w), legend: "requests" }],
    },
    {
      title: "Error ratio (5xx)",
      description: `Share of attempts answered 5xx, by ${edge.callee} or by ${edge.caller}'s Envoy on its behalf (overflow, no healthy host, timeout). Lines: the warning and critical alert thresholds.`,
      unit: "percentunit",
      queries: [{ expr: errorRatio(edge, w), legend: "5xx ratio" }],
      thresholds: [
        { value: ERROR_RATIO_WARNING.ratio, color: "orange" },
        { value: ERROR_RATIO_CRITICAL.ratio, color: "red" },
      ],
    },
    {
      title: "Latency p50 / p99",
      description: `Time from the first byte of the request sent to the last byte of the response received (Envoy's upstream_rq_time histogram), in milliseconds.`,
      unit: "ms",
      queries: [
        { expr: latencyQuantile(edge, 0.5, w), legend: "p50" },
        { expr: latencyQuantile(edge, 0.99, w), legend: "p99" },
      ],
    },
    {
      title: "Retries",
      description: "Retries per second, and retries refused because the retry budget or breaker was exhausted.",
      unit: "reqps",
      queries: [
        { expr: retryRate(edge, w), legend: "retries" },
        { expr: retryRate(edge, w, "upstream_rq_retry_overflow"), legend: "retries refused" },
      ],
    },
    {
      title: "Ejections",
      description: "Hosts ejected by outlier detection now (summed over the caller's pods), and ejections enforced per interval.",
      unit: "short",
      queries: [
        { expr: ejectionsActive(edge), legend: "hosts ejected" },
        { expr: ejectionsEnforced(edge, w), legend: "ejections" },
      ],
    },
    {
      title: "Open circuit breakers",
      description: "Caller pods whose circuit breaker on this edge is at its limit (refusing), per breaker.",
      unit: "short",
      queries: CIRCUIT_BREAKERS.map((b) => ({ expr: circuitBreakerOpen(edge, b.gauge), legend: b.legend })),
    },
  ];
}

/** An object and everything in it made read-only: parts every panel of a kind shares. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const PANEL_OPTIONS = deepFreeze({ legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "none" } });

/** One field config per unit and thresholds, shared (frozen) by the panels of that kind: thousands of panels at 1,000 services. */
const fieldConfigs = new Map<string, object>();

function fieldConfig(spec: PanelSpec): object {
  const key = JSON.stringify([spec.unit, spec.thresholds ?? null]);
  let config = fieldConfigs.get(key);
  if (config === undefined) {
    config = deepFreeze({
      defaults: {
        unit: spec.unit,
        min: 0,
        custom: { drawStyle: "line", fillOpacity: 10, showPoints: "never", ...(spec.thresholds ? { thresholdsStyle: { mode: "dashed" } } : {}) },
        thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, ...(spec.thresholds ?? [])] },
      },
      overrides: [],
    });
    fieldConfigs.set(key, config);
  }
  return config;
}

function panel(spec: PanelSpec, id: number, x: number, y: number): DashboardPanel {
  return {
    id,
    type: "timeseries",
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { h: PANEL_HEIGHT, w: PANEL_WIDTH, x, y },
    fieldConfig: fieldConfig(spec),
    options: PANEL_OPTIONS,
    targets: spec.queries.map((q, i) => ({ refId: String.fromCharCode(65 + i), datasource: DATASOURCE, expr: q.expr, legendFormat: q.legend })),
  };
}

export interface DashboardOptions {
  readonly uid?: string;
  readonly title?: string;
}

/** The dashboard JSON model for a mesh: a row per edge, six panels in it. */
export function meshDashboard(topology: Topology, options: DashboardOptions = {}): GrafanaDashboard {
  let id = 0;
  const panels = meshEdges(topology).flatMap((edge, row) => {
    const y = row * (PANEL_HEIGHT + 1);
    const header: DashboardPanel = { id: ++id, type: "row", title: edgeTitle(edge), collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] };
    return [header, ...edgePanels(edge).map((spec, i) => panel(spec, ++id, i * PANEL_WIDTH, y + 1))];
  });
  return {
    uid: options.uid ?? DASHBOARD_UID,
    title: options.title ?? DASHBOARD_TITLE,
    description: "Per edge of the mesh, as the caller's Envoy sees it. Generated by npm run render from the topology.",
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
    templating: {
      list: [{ name: DATASOURCE_VARIABLE, label: "Prometheus", type: "datasource", query: "prometheus", regex: "", hide: 0, refresh: 1, current: {}, options: [] }],
    },
    panels,
  };
}

/** The dashboard as written to `out/observability/grafana-dashboard.json`. */
export function dashboardJson(dashboard: GrafanaDashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
