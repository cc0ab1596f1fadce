/**
 * An edge's traffic policy (topology/policy.ts) as Envoy fields: route timeouts and retries on
 * the caller's routes; circuit breakers with the retry budget, outlier detection, health checks
 * and HTTP/2 on the caller's cluster of the callee. One small function per Envoy object.
 */
import { DELIVERED_RETRY_CONDITIONS, type EdgePolicy, type HealthCheckSettings, type OutlierDetection, type RetryCondition } from "../topology";
import { NOT_DELIVERED_HEADER } from "./names";
import { duration, type DnsClusterOptions, type EnvoyObject } from "./resources";
import { HTTP_PROTOCOL_OPTIONS, HTTP_PROTOCOL_OPTIONS_NAME, PREVIOUS_HOSTS, PREVIOUS_HOSTS_NAME } from "./typeUrls";

/**
 * Idempotent methods (RFC 9110, section 9.2.2): repeating one has the effect of sending it once,
 * so a request the app may already have received can be retried.
 */
export const IDEMPOTENT_METHODS = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] as const;

/** Envoy's retry_on word of each condition; `not-delivered` is a retriable header. */
const RETRY_ON: Readonly<Record<RetryCondition, string>> = {
  "connect-failure": "connect-failure",
  "refused-stream": "refused-stream",
  "reset-before-request": "reset-before-request",
  "not-delivered": "retriable-headers",
  "5xx": "5xx",
  "gateway-error": "gateway-error",
  reset: "reset",
  "retriable-4xx": "retriable-4xx",
};

/** How often previous_hosts may pick again before settling for a host already tried (Envoy's default is 1). */
const HOST_SELECTION_ATTEMPTS = 5;

/**
 * A route retry policy on `conditions` (in a fixed order, whatever order they were written in).
 * Each retry goes to a host not tried yet when `previousHosts` is set.
 */
export function makeRetryPolicy(policy: EdgePolicy, conditions: readonly RetryCondition[]): EnvoyObject {
  const { retries, perTryTimeoutMs } = policy;
  const ordered = (Object.keys(RETRY_ON) as RetryCondition[]).filter((c) => conditions.includes(c));
  return {
    retry_on: ordered.map((c) => RETRY_ON[c]).join(","),
    num_retries: retries.count,
    ...(perTryTimeoutMs !== undefined ? { per_try_timeout: duration(perTryTimeoutMs) } : {}),
    ...(conditions.includes("not-delivered") ? { retriable_headers: [{ name: NOT_DELIVERED_HEADER, string_match: { exact: "true" } }] } : {}),
    ...(retries.previousHosts
      ? {
          retry_host_predicate: [{ name: PREVIOUS_HOSTS_NAME, typed_config: { "@type": PREVIOUS_HOSTS } }],
          host_selection_retry_max_attempts: HOST_SELECTION_ATTEMPTS,
        }
      : {}),
  };
}

/** Matches requests whose method is idempotent. */
export function makeIdempotentMethodMatcher(): EnvoyObject {
  return { name: ":method", string_match: { safe_regex: { regex: `^(${IDEMPOTENT_METHODS.join("|")})$` } } };
}

function withAction(route: EnvoyObject, policy: EdgePolicy, conditions: readonly RetryCondition[]): EnvoyObject {
  // The policy decides both: a retry policy or timeout the route was built with is replaced.
  const action = Object.fromEntries(Object.entries(route.route as EnvoyObject).filter(([key]) => key !== "retry_policy" && key !== "timeout"));
  const retry = policy.retries.count > 0 && conditions.length > 0 ? { retry_policy: makeRetryPolicy(policy, conditions) } : {};
  return { ...route, route: { ...action, timeout: duration(policy.timeoutMs), ...retry } };
}

/**
 * `route` (a route with a `route` action) with the edge's request timeout and retries. When
 * retries may repeat a request the app received (5xx, gateway-error, reset, retriable-4xx) and
 * `idempotentOnly` is set, the route becomes two: idempotent methods get every condition, other
 * methods only the conditions where the request cannot have reached the app. One retry policy
 * cannot say this: its `retriable_request_headers` gate every retry of the route, the safe ones
 * too (api/envoy/config/route/v3/route_components.proto, RetryPolicy.retriable_request_headers).
 */
export function withRoutePolicy(route: EnvoyObject, policy: EdgePolicy): EnvoyObject[] {
  const { retryOn, idempotentOnly, count } = policy.retries;
  const safe = retryOn.filter((c) => !DELIVERED_RETRY_CONDITIONS.includes(c));
  if (!idempotentOnly || count === 0 || safe.length === retryOn.length) return [withAction(route, policy, retryOn)];
  const match = route.match as EnvoyObject;
  const headers = (match.headers as readonly EnvoyObject[] | undefined) ?? [];
  const idempotent = { ...route, match: { ...match, headers: [...headers, makeIdempotentMethodMatcher()] } };
  return [withAction(idempotent, policy, retryOn), withAction(route, policy, safe)];
}

/** A caller's circuit breakers on one callee; with a retry budget, max_retries is left out (Envoy ignores it). */
export function makeCircuitBreakers(policy: EdgePolicy): EnvoyObject {
  const { maxConnections, maxPendingRequests, maxRequests, maxRetries } = policy.circuitBreakers;
  const budget = policy.retries.budget;
  return {
    thresholds: [
      {
        max_connections: maxConnections,
        max_pending_requests: maxPendingRequests,
        max_requests: maxRequests,
        ...(budget === undefined && maxRetries !== undefined ? { max_retries: maxRetries } : {}),
        ...(budget !== undefined ? { retry_budget: { budget_percent: { value: budget.percent }, min_retry_concurrency: budget.minConcurrency } } : {}),
      },
    ],
  };
}

/**
 * Ejects a host after connection failures in a row (local origin), and, when turned on, after
 * 5xx or gateway errors in a row from the host. Envoy's consecutive_5xx is on unless its
 * enforcement is 0 (api/envoy/config/cluster/v3/outlier_detection.proto), so it is written 0 when off.
 */
export function makeOutlierDetection(outlier: OutlierDetection): EnvoyObject {
  return {
    split_external_local_origin_errors: true,
    consecutive_local_origin_failure: outlier.consecutiveLocalOriginFailure,
    enforcing_consecutive_local_origin_failure: 100,
    ...(outlier.consecutive5xx > 0 ? { consecutive_5xx: outlier.consecutive5xx } : {}),
    enforcing_consecutive_5xx: outlier.consecutive5xx > 0 ? 100 : 0,
    ...(outlier.consecutiveGatewayFailure > 0
      ? { consecutive_gateway_failure: outlier.consecutiveGatewayFailure, enforcing_consecutive_gateway_failure: 100 }
      : {}),
    enforcing_success_rate: 0,
    enforcing_local_origin_success_rate: 0,
    interval: duration(outlier.intervalMs),
    base_ejection_time: duration(outlier.baseEjectionTimeMs),
    max_ejection_percent: outlier.maxEjectionPercent,
  };
}

/**
 * Active HTTP health check of every host on `path`. A non-2xx answer marks a host unhealthy at
 * once; only network failures (no answer, timeout) count towards `unhealthy_threshold`; one
 * success brings a host back (source/extensions/health_checkers/common/health_checker_base_impl.cc
 * in envoyproxy/envoy). A host that DNS adds starts unhealthy until its first check passes
 * (source/common/upstream/upstream_impl.cc). Envoy sends these requests with `user-agent: Envoy/HC`.
 * Over HTTP/2 when the cluster speaks it: with ALPN offering only h2, the callee's connection
 * manager picks its HTTP/2 codec, and an HTTP/1.1 check would fail.
 */
export function makePolicyHealthCheck(check: HealthCheckSettings, path: string, http2: boolean): EnvoyObject {
  return {
    timeout: duration(check.timeoutMs),
    interval: duration(check.intervalMs),
    no_traffic_interval: duration(check.noTrafficIntervalMs),
    unhealthy_threshold: check.unhealthyThreshold,
    healthy_threshold: check.healthyThreshold,
    http_health_check: { path, ...(http2 ? { codec_client_type: "HTTP2" } : {}) },
  };
}

/**
 * Flow-control windows of the edge proxy's HTTP/2 to its upstreams: 64 KiB per stream and 1 MiB
 * per connection instead of Envoy's 256 MiB, so a slow client cannot make the edge buffer a whole
 * response (Envoy's "Configuring Envoy as an edge proxy", docs/root/configuration/best_practices/edge.rst).
 */
const EDGE_HTTP2_WINDOWS = { initial_stream_window_size: 65536, initial_connection_window_size: 1048576 } as const;

/** HTTP/2 to the hosts of a cluster: Envoy's default HTTP/2 settings, or the edge's windows. */
export function makeHttp2ProtocolOptions(edge = false): EnvoyObject {
  return {
    [HTTP_PROTOCOL_OPTIONS_NAME]: { "@type": HTTP_PROTOCOL_OPTIONS, explicit_http_config: { http2_protocol_options: edge ? EDGE_HTTP2_WINDOWS : {} } },
  };
}

/** ALPN a caller offers a callee's sidecar: h2 alone when the edge speaks HTTP/2, so both ends agree on it. */
export function upstreamAlpn(policy: EdgePolicy): readonly string[] | undefined {
  return policy.http2 ? ["h2"] : undefined;
}

/** How an edge's policy watches the hosts of a callee's cluster: health checks on `path` (unless turned off), and outlier detection. */
export function hostChecks(policy: EdgePolicy, path: string): Pick<DnsClusterOptions, "healthChecks" | "outlierDetection"> {
  return {
    ...(policy.healthCheck.enabled ? { healthChecks: [makePolicyHealthCheck(policy.healthCheck, path, policy.http2)] } : {}),
    outlierDetection: makeOutlierDetection(policy.outlierDetection),
  };
}

/** A cluster of a callee's sidecars with the rest of the edge's cluster policy: circuit breakers with the retry budget, and HTTP/2. */
export function withClusterPolicy(cluster: EnvoyObject, policy: EdgePolicy, edge = false): EnvoyObject {
  return {
    ...cluster,
    circuit_breakers: makeCircuitBreakers(policy),
    ...(policy.http2 ? { typed_extension_protocol_options: makeHttp2ProtocolOptions(edge) } : {}),
  };
}
