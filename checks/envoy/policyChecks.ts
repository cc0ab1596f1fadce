import type { IssueSink } from "./issues";
import { AnyValue, DurationValue, WrapperValue, fieldPath, messageList as list, subMessage as sub, type MessageValue } from "./values";

/**
 * Traffic policy settings Envoy loads without complaint but then ignores, so the config does not
 * do what it says. Reported as warnings (errors in strict mode), quoting the source that ignores them.
 */

export const ROUTE_ACTION_TYPE = "envoy.config.route.v3.RouteAction";
export const RETRY_POLICY_TYPE = "envoy.config.route.v3.RetryPolicy";
export const THRESHOLDS_TYPE = "envoy.config.cluster.v3.CircuitBreakers.Thresholds";
export const CLUSTER_TYPE = "envoy.config.cluster.v3.Cluster";

/**
 * Every retry_on word Envoy knows: the HTTP conditions (RetryStateImpl::parseRetryOn) and the
 * gRPC ones (parseRetryGrpcOn), source/common/router/retry_state_impl.cc in envoyproxy/envoy; any
 * other word is dropped without a message.
 */
export const ENVOY_RETRY_ON = [
  "5xx",
  "gateway-error",
  "reset",
  "reset-before-request",
  "connect-failure",
  "envoy-ratelimited",
  "retriable-4xx",
  "refused-stream",
  "retriable-status-codes",
  "retriable-headers",
  "http3-post-connect-failure",
  "cancelled",
  "deadline-exceeded",
  "internal",
  "resource-exhausted",
  "unavailable",
] as const;

/** RouteAction.timeout when unset (api/envoy/config/route/v3/route_components.proto). */
const DEFAULT_ROUTE_TIMEOUT_NANOS = 15_000_000_000n;

function nanos(v: unknown): bigint | undefined {
  return v instanceof DurationValue ? v.totalNanos : undefined;
}

function seconds(n: bigint): string {
  return `${Number(n) / 1e9}s`;
}

/**
 * A per-try timeout that is not below the request timeout is dropped: Envoy sets it to 0 when it
 * is at least the global timeout, unless that is 0 (no timeout)
 * (source/common/router/router.cc in envoyproxy/envoy, FilterUtility::finalTimeout).
 */
export function checkRouteActionPolicy(action: MessageValue, sink: IssueSink): void {
  const retry = sub(action, "retry_policy");
  const perTry = nanos(retry?.per_try_timeout);
  const negative = [...(retry !== undefined && perTry !== undefined && perTry < 0n ? ([[retry, "per_try_timeout"]] as const) : []), ...((nanos(action.timeout) ?? 0n) < 0n ? ([[action, "timeout"]] as const) : [])];
  for (const [m, field] of negative) {
    // Envoy reads both with PROTOBUF_GET_MS_OR_DEFAULT, whose DurationUtil::durationToMilliseconds
    // throws on a negative duration (source/common/protobuf/utility.cc in envoyproxy/envoy).
    sink.error(fieldPath(m, field), "Expected positive duration (Envoy refuses a negative duration here)");
  }
  if (retry === undefined || perTry === undefined || perTry <= 0n) return;
  const global = nanos(action.timeout) ?? DEFAULT_ROUTE_TIMEOUT_NANOS;
  if (global !== 0n && perTry >= global) {
    sink.warning(
      fieldPath(retry, "per_try_timeout"),
      `per_try_timeout ${seconds(perTry)} is not less than the route timeout ${seconds(global)}${action.timeout === undefined ? " (the default)" : ""}: ` +
        "Envoy ignores it (FilterUtility::finalTimeout sets a per-try timeout at or above the global timeout to 0)",
    );
  }
}

/** Envoy drops retry_on words it does not know, so a misspelt condition silently retries nothing. */
export function checkRetryPolicy(retry: MessageValue, sink: IssueSink): void {
  const retryOn = retry.retry_on;
  if (typeof retryOn !== "string") return;
  const known: readonly string[] = ENVOY_RETRY_ON;
  for (const word of retryOn.split(",").map((w) => w.trim()).filter((w) => w !== "")) {
    if (!known.includes(word)) {
      sink.warning(
        fieldPath(retry, "retry_on"),
        `unknown retry condition '${word}': Envoy ignores it (known: ${ENVOY_RETRY_ON.join(", ")})`,
      );
    }
  }
}

/**
 * "If this field is set, the retry budget will override any configured retry circuit breaker"
 * (api/envoy/config/cluster/v3/circuit_breaker.proto, Thresholds.retry_budget).
 */
export function checkThresholds(thresholds: MessageValue, sink: IssueSink): void {
  if (sub(thresholds, "retry_budget") !== undefined && thresholds.max_retries instanceof WrapperValue) {
    sink.warning(
      fieldPath(thresholds, "max_retries"),
      "max_retries is ignored: the retry_budget of the same thresholds overrides the retry circuit breaker (circuit_breaker.proto, Thresholds.retry_budget)",
    );
  }
}

const UPSTREAM_TLS_TYPE = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const HTTP_PROTOCOL_OPTIONS_TYPE = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/**
 * A cluster whose TLS offers only h2 by ALPN makes the server pick HTTP/2; if the cluster itself
 * speaks HTTP/1.1 (no explicit or auto HTTP/2 in its protocol options), every request fails at
 * the codec. Envoy loads such a cluster; its requests then fail.
 */
export function checkClusterAlpn(cluster: MessageValue, sink: IssueSink): void {
  const socket = sub(cluster, "transport_socket");
  const tls = socket?.typed_config;
  if (!(tls instanceof AnyValue) || tls.typeName !== UPSTREAM_TLS_TYPE || !tls.message) return;
  const context = sub(tls.message, "common_tls_context");
  const alpn = context?.alpn_protocols;
  if (!Array.isArray(alpn) || alpn.length !== 1 || alpn[0] !== "h2") return;
  const options = cluster.typed_extension_protocol_options;
  const http = options instanceof Map ? options.get(HTTP_PROTOCOL_OPTIONS_TYPE) : undefined;
  const message = http instanceof AnyValue ? http.message : undefined;
  const explicit = sub(message, "explicit_http_config");
  const speaksH2 = sub(explicit, "http2_protocol_options") !== undefined || sub(message, "auto_config") !== undefined;
  if (!speaksH2) {
    sink.warning(
      fieldPath(context as MessageValue, "alpn_protocols"),
      "offers only h2 by ALPN, but the cluster speaks HTTP/1.1: the server picks HTTP/2 and every request fails (set explicit_http_config.http2_protocol_options in its HttpProtocolOptions)",
    );
  }
  // The health checker connects through the same transport socket, so its codec must be HTTP/2 too.
  for (const check of list(cluster, "health_checks")) {
    const http = sub(check, "http_health_check");
    if (http !== undefined && (http.codec_client_type ?? HTTP1) !== HTTP2) {
      sink.warning(
        fieldPath(http, "codec_client_type"),
        "is HTTP/1.1 (the default), but the cluster's TLS offers only h2 by ALPN: the server picks HTTP/2 and every check fails (set codec_client_type: HTTP2)",
      );
    }
  }
}

/** envoy.type.v3.CodecClientType. */
const HTTP1 = 0;
const HTTP2 = 1;
