/**
 * The PromQL the dashboard and the alert rules share, so that a panel shows exactly what an
 * alert fires on. Every selector names the caller's proxy (PROXY_LABEL) and its cluster: the
 * same cluster name on two callers is two edges.
 */
import type { MeshEdge } from "./edges";
import { CLUSTER_LABEL, PROXY_LABEL, RESPONSE_CODE_CLASS_LABEL } from "./metrics";

/** A label matcher list, values escaped as PromQL strings (Go escapes: `\"` and `\\`). */
export function matchers(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`)
    .join(",")}}`;
}

/** A `=~` matcher naming exactly these values (regex metacharacters escaped). */
export function anyOf(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

export function edgeLabels(edge: MeshEdge): Record<string, string> {
  return { [PROXY_LABEL]: edge.caller, [CLUSTER_LABEL]: edge.cluster };
}

/** Requests per second the caller sent on this edge (every attempt, retries included). */
export function requestRate(edge: MeshEdge, range: string): string {
  return `sum(rate(envoy_cluster_upstream_rq_total${matchers(edgeLabels(edge))}[${range}]))`;
}

/** Share of attempts answered 5xx, by the callee or by the caller's Envoy on its behalf (overflow, no healthy host, timeout). */
export function errorRatio(edge: MeshEdge, range: string): string {
  const errors = `sum(rate(envoy_cluster_upstream_rq_xx${matchers({ ...edgeLabels(edge), [RESPONSE_CODE_CLASS_LABEL]: "5" })}[${range}]))`;
  return `${errors} / ${requestRate(edge, range)}`;
}

/** A latency quantile (0-1) of the edge's requests in milliseconds, from Envoy's `upstream_rq_time` histogram. */
export function latencyQuantile(edge: MeshEdge, quantile: number, range: string): string {
  return `histogram_quantile(${quantile}, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket${matchers(edgeLabels(edge))}[${range}])))`;
}

export function retryRate(edge: MeshEdge, range: string, stat: "upstream_rq_retry" | "upstream_rq_retry_overflow" = "upstream_rq_retry"): string {
  return `sum(rate(envoy_cluster_${stat}${matchers(edgeLabels(edge))}[${range}]))`;
}

/** Hosts of the edge's cluster ejected right now, summed over the caller's pods. */
export function ejectionsActive(edge: MeshEdge): string {
  return `sum(envoy_cluster_outlier_detection_ejections_active${matchers(edgeLabels(edge))})`;
}

export function ejectionsEnforced(edge: MeshEdge, range: string): string {
  return `sum(increase(envoy_cluster_outlier_detection_ejections_enforced_total${matchers(edgeLabels(edge))}[${range}]))`;
}

/** The circuit breakers a panel shows: the default priority's, the one the mesh's requests use. */
export const CIRCUIT_BREAKERS = [
  { gauge: "rq_open", legend: "requests" },
  { gauge: "rq_pending_open", legend: "pending requests" },
  { gauge: "cx_open", legend: "connections" },
  { gauge: "rq_retry_open", legend: "retries" },
] as const;

/** Caller pods whose breaker on this edge is at its limit (each reports 1 while it refuses). */
export function circuitBreakerOpen(edge: MeshEdge, gauge: (typeof CIRCUIT_BREAKERS)[number]["gauge"]): string {
  return `sum(envoy_cluster_circuit_breakers_default_${gauge}${matchers(edgeLabels(edge))})`;
}
