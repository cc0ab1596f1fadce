/**
 * The PromQL the dashboard and the alert rules share, so that a panel shows exactly what an
 * alert fires on. Every query is aggregated by edge, `by (mesh_proxy, envoy_cluster_name)`: the
 * caller's proxy (PROXY_LABEL) and its cluster (the same cluster name on two callers is two
 * edges), so one query covers every edge of any mesh and its result says which edge each value
 * is. Which edges a query reads is a matcher list (EdgeFilter): every edge of the mesh for the
 * rules and the overview, the Grafana variables' selection for the dashboard's edge panels.
 */
import { upstreamClusterName } from "../envoy/names";
import { CLUSTER_LABEL, PROXY_LABEL, RESPONSE_CODE_CLASS_LABEL } from "./metrics";

/** A label matcher list, values escaped as PromQL strings (Go escapes: `\"` and `\\`). */
export function matchers(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`)
    .join(",")}}`;
}

/** The labels that name an edge in every query's result, and so in every alert: the caller's proxy and its cluster. */
export const EDGE_LABELS: readonly string[] = [PROXY_LABEL, CLUSTER_LABEL];
const BY_EDGE = `by (${EDGE_LABELS.join(", ")})`;

/**
 * The clusters that are edges: a caller's cluster of a callee, `upstream_<service>` or
 * `upstream_<service>_<version>` (envoy/names.ts); not `local_app`, `admin` or the collector's.
 */
export const EDGE_CLUSTER_PATTERN = `${upstreamClusterName("")}.*`;

/** The matchers (inside the braces) choosing which edges a query reads. */
export type EdgeFilter = string;

/** Every edge of the mesh: a cluster of an edge on a proxy of the mesh (a series without mesh_proxy is not one of ours). */
export const ALL_EDGES: EdgeFilter = `${PROXY_LABEL}!="",${CLUSTER_LABEL}=~"${EDGE_CLUSTER_PATTERN}"`;

/** The edges a Grafana variable selection picks: `$caller` and `$cluster` expand to `a|b|c` regexes (or the all value). */
export function variableEdges(callerVariable: string, clusterVariable: string): EdgeFilter {
  return `${PROXY_LABEL}=~"$${callerVariable}",${CLUSTER_LABEL}=~"$${clusterVariable}"`;
}

function selector(metric: string, edges: EdgeFilter, extra = ""): string {
  return `${metric}{${edges}${extra === "" ? "" : `,${extra}`}}`;
}

/** Requests per second each edge's caller sent (every attempt, retries included). */
export function requestRate(edges: EdgeFilter, range: string): string {
  return `sum ${BY_EDGE} (rate(${selector("envoy_cluster_upstream_rq_total", edges)}[${range}]))`;
}

/** Share of each edge's attempts answered 5xx, by the callee or by the caller's Envoy on its behalf (overflow, no healthy host, timeout). */
export function errorRatio(edges: EdgeFilter, range: string): string {
  const errors = `sum ${BY_EDGE} (rate(${selector("envoy_cluster_upstream_rq_xx", edges, `${RESPONSE_CODE_CLASS_LABEL}="5"`)}[${range}]))`;
  return `${errors} / ${requestRate(edges, range)}`;
}

/** A latency quantile (0-1) of each edge's requests in milliseconds, from Envoy's `upstream_rq_time` histogram. */
export function latencyQuantile(edges: EdgeFilter, quantile: number, range: string): string {
  return `histogram_quantile(${quantile}, sum by (le, ${EDGE_LABELS.join(", ")}) (rate(${selector("envoy_cluster_upstream_rq_time_bucket", edges)}[${range}])))`;
}

export function retryRate(edges: EdgeFilter, range: string, stat: "upstream_rq_retry" | "upstream_rq_retry_overflow" = "upstream_rq_retry"): string {
  return `sum ${BY_EDGE} (rate(${selector(`envoy_cluster_${stat}`, edges)}[${range}]))`;
}

/** Hosts of each edge's cluster ejected right now, summed over the caller's pods. */
export function ejectionsActive(edges: EdgeFilter): string {
  return `sum ${BY_EDGE} (${selector("envoy_cluster_outlier_detection_ejections_active", edges)})`;
}

export function ejectionsEnforced(edges: EdgeFilter, range: string): string {
  return `sum ${BY_EDGE} (increase(${selector("envoy_cluster_outlier_detection_ejections_enforced_total", edges)}[${range}]))`;
}

/** The circuit breakers a panel shows: the default priority's, the one the mesh's requests use. */
export const CIRCUIT_BREAKERS = [
  { gauge: "rq_open", legend: "requests" },
  { gauge: "rq_pending_open", legend: "pending requests" },
  { gauge: "cx_open", legend: "connections" },
  { gauge: "rq_retry_open", legend: "retries" },
] as const;

/** Caller pods whose breaker on each edge is at its limit (each reports 1 while it refuses). */
export function circuitBreakerOpen(edges: EdgeFilter, gauge: (typeof CIRCUIT_BREAKERS)[number]["gauge"]): string {
  return `sum ${BY_EDGE} (${selector(`envoy_cluster_circuit_breakers_default_${gauge}`, edges)})`;
}
