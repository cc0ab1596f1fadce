/**
 * Edge protection at the front proxy (a token bucket per route, a request body size limit, the
 * edge timeouts) and opt-in fault injection on any edge, as Envoy HTTP filters with per-route
 * settings. A filter is in a chain only where some route uses it, so a mesh without faults
 * renders no fault filter at all.
 */
import type { EdgeProtection, EdgeTimeouts, FaultInjection, FrontProtection, Percentage, RateLimit } from "../topology";
import { duration, type EnvoyObject } from "./resources";

import {
  BUFFER,
  BUFFER_NAME,
  BUFFER_PER_ROUTE,
  FAULT_NAME,
  HTTP_FAULT,
  LOCAL_RATE_LIMIT,
  LOCAL_RATE_LIMIT_NAME,
} from "./typeUrls";

/** Stats of the front's rate limits: `front_rate_limit.http_local_rate_limit.rate_limited` and the like. */
export const RATE_LIMIT_STAT_PREFIX = "front_rate_limit";

/** Bodies of the front proxy's own 429 and 413, which Envoy would otherwise answer with a terse text. */
export const RATE_LIMITED_BODY = "too many requests: this route's rate limit at the front proxy is used up; retry after the number of seconds in the retry-after header\n";
export const TOO_LARGE_BODY = "request body too large: it exceeds this route's maxRequestBytes at the front proxy\n";

/** Whole seconds until the bucket next gains tokens, at least 1 (`retry-after` takes whole seconds, RFC 9110 section 10.2.3). */
export function retryAfterSeconds(limit: RateLimit): number {
  return Math.max(1, Math.ceil(limit.fillIntervalMs / 1000));
}

/**
 * A FractionalPercent: whole percentages over a hundred, others over a million (the topology
 * allows four decimals, so the numerator is exact).
 */
export function fractionalPercent(percentage: Percentage): EnvoyObject {
  return Number.isInteger(percentage)
    ? { numerator: percentage, denominator: "HUNDRED" }
    : { numerator: Math.round(percentage * 10_000), denominator: "MILLION" };
}

const ALWAYS = { default_value: { numerator: 100, denominator: "HUNDRED" } };

/**
 * One route's token bucket. Envoy builds one bucket per route entry and listener, shared by the
 * proxy's workers: a front route `/d` is two route entries (`/d` and `/d/`) on up to two listeners
 * (HTTP and HTTPS), each with its own bucket. Envoy turns the filter on and enforces it only where
 * filter_enabled and filter_enforced say so (both default to off), and refuses a per-route
 * config without a token bucket (source/extensions/filters/http/local_ratelimit/local_ratelimit.cc
 * in envoyproxy/envoy). Over the limit Envoy answers 429 with the headers below.
 */
export function makeRouteRateLimit(limit: RateLimit): EnvoyObject {
  return {
    "@type": LOCAL_RATE_LIMIT,
    stat_prefix: RATE_LIMIT_STAT_PREFIX,
    token_bucket: { max_tokens: limit.maxTokens, tokens_per_fill: limit.tokensPerFill, fill_interval: duration(limit.fillIntervalMs) },
    filter_enabled: ALWAYS,
    filter_enforced: ALWAYS,
    response_headers_to_add: [{ header: { key: "retry-after", value: String(retryAfterSeconds(limit)) }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
    // x-ratelimit-limit, -remaining and -reset on every answer of a limited route.
    enable_x_ratelimit_headers: "DRAFT_VERSION_03",
  };
}

/**
 * One route's body size limit. The connection manager has no body size limit of its own (the
 * listener's per_connection_buffer_limit_bytes is a flow-control watermark, not a cap), so the
 * buffer filter does it: it raises the stream's buffer limit to max_request_bytes, holds the whole
 * body, and the connection manager answers 413 once the body passes the limit; a request without
 * a body is not held (source/extensions/filters/http/buffer/buffer_filter.cc in envoyproxy/envoy).
 */
export function makeRouteBodyLimit(maxRequestBytes: number): EnvoyObject {
  return { "@type": BUFFER_PER_ROUTE, buffer: { max_request_bytes: maxRequestBytes } };
}

/** One edge's faults; an HTTPFault with neither delay nor abort injects nothing. */
export function makeFault(fault: FaultInjection = {}): EnvoyObject {
  return {
    "@type": HTTP_FAULT,
    ...(fault.delay ? { delay: { fixed_delay: duration(fault.delay.fixedDelayMs), percentage: fractionalPercent(fault.delay.percentage) } } : {}),
    ...(fault.abort ? { abort: { http_status: fault.abort.httpStatus, percentage: fractionalPercent(fault.abort.percentage) } } : {}),
  };
}

/** The route with Envoy's per-route settings of each named filter added (typed_per_filter_config). */
export function withFilterConfigs(route: EnvoyObject, configs: Readonly<Record<string, EnvoyObject>>): EnvoyObject {
  if (Object.keys(configs).length === 0) return route;
  const own = (route.typed_per_filter_config ?? {}) as Record<string, EnvoyObject>;
  return { ...route, typed_per_filter_config: { ...own, ...configs } };
}

/** A front route's per-route settings: its rate limit (when it has one), its body limit, its faults. */
export function frontRouteConfigs(protection: EdgeProtection, fault?: FaultInjection): Record<string, EnvoyObject> {
  return {
    ...(protection.rateLimit ? { [LOCAL_RATE_LIMIT_NAME]: makeRouteRateLimit(protection.rateLimit) } : {}),
    [BUFFER_NAME]: makeRouteBodyLimit(protection.maxRequestBytes),
    ...(fault ? { [FAULT_NAME]: makeFault(fault) } : {}),
  };
}

/** An upstream edge's per-route settings in the caller's egress route: its faults, if any. */
export function upstreamRouteConfigs(fault?: FaultInjection): Record<string, EnvoyObject> {
  return fault ? { [FAULT_NAME]: makeFault(fault) } : {};
}

/**
 * The HTTP filters a chain needs for `routes`, in order: the rate limit first (it is cheapest and
 * sheds a flood before bodies are buffered), then the body limit, then faults. Each filter-level
 * config does nothing by itself: no token bucket, the mesh-wide body limit, no fault; the routes
 * carry the settings.
 */
export function edgeFiltersFor(routes: readonly EnvoyObject[], defaultMaxRequestBytes?: number): EnvoyObject[] {
  const used = new Set(routes.flatMap((r) => Object.keys((r.typed_per_filter_config ?? {}) as object)));
  if (used.has(BUFFER_NAME) && defaultMaxRequestBytes === undefined) throw new Error("a body size limit needs the chain's default maxRequestBytes");
  return [
    ...(used.has(LOCAL_RATE_LIMIT_NAME) ? [{ name: LOCAL_RATE_LIMIT_NAME, typed_config: { "@type": LOCAL_RATE_LIMIT, stat_prefix: RATE_LIMIT_STAT_PREFIX } }] : []),
    ...(used.has(BUFFER_NAME) ? [{ name: BUFFER_NAME, typed_config: { "@type": BUFFER, max_request_bytes: defaultMaxRequestBytes } }] : []),
    ...(used.has(FAULT_NAME) ? [{ name: FAULT_NAME, typed_config: makeFault() }] : []),
  ];
}

/** A local reply mapper giving the front proxy's own answer with `status` a clear body. */
function makeBodyMapper(status: number, body: string): EnvoyObject {
  return {
    filter: { status_code_filter: { comparison: { op: "EQ", value: { default_value: status, runtime_key: `front.local_reply_${status}` } } } },
    body: { inline_string: body },
  };
}

/** Clear bodies for the answers of the filters in the chain: 429 for the rate limit, 413 for the body limit. */
export function edgeReplyMappers(filters: readonly EnvoyObject[]): EnvoyObject[] {
  const names = new Set(filters.map((f) => f.name));
  return [
    ...(names.has(LOCAL_RATE_LIMIT_NAME) ? [makeBodyMapper(429, RATE_LIMITED_BODY)] : []),
    ...(names.has(BUFFER_NAME) ? [makeBodyMapper(413, TOO_LARGE_BODY)] : []),
  ];
}

/** The front's connection manager timeouts, as Envoy durations ("0s" turns one off). */
export function edgeTimeoutFields(timeouts: EdgeTimeouts): { requestTimeout: string; requestHeadersTimeout: string; streamIdleTimeout: string; idleTimeout: string } {
  return {
    requestTimeout: duration(timeouts.requestMs),
    requestHeadersTimeout: duration(timeouts.requestHeadersMs),
    streamIdleTimeout: duration(timeouts.streamIdleMs),
    idleTimeout: duration(timeouts.idleMs),
  };
}

/** What a front listener's connection manager gets for `routes`: filters, reply bodies and timeouts. */
export function frontEdgeOptions(protection: FrontProtection, routes: readonly EnvoyObject[]) {
  const httpFilters = edgeFiltersFor(routes, protection.maxRequestBytes);
  return { httpFilters, replyMappers: edgeReplyMappers(httpFilters), edgeTimeouts: edgeTimeoutFields(protection.timeouts) };
}
