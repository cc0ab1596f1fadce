import type { IssueSink } from "./issues";
import { mapKeyPath } from "./issues";
import { AnyValue, DurationValue, fieldPath, messageList as list, subMessage as sub, typeOf, type MessageValue } from "./values";

/**
 * Envoy's load-time refusals for the edge protection and fault filters that their protos do not
 * express, and per-route settings that Envoy would silently never apply.
 */

const HTTP_LOCAL_RATE_LIMIT = "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
/** The network filter shares the token bucket implementation, and so its rule. */
const NETWORK_LOCAL_RATE_LIMIT = "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit";
const FIFTY_MS_IN_NANOS = 50_000_000n;

/**
 * A token bucket that refills more often than every 50 ms: "local rate limit token bucket fill
 * timer must be >= 50ms" (source/extensions/filters/common/local_ratelimit/local_ratelimit_impl.cc
 * in envoyproxy/envoy; a zero interval, which the proto's own rule already refuses, starts no timer).
 */
export function checkLocalRateLimit(m: MessageValue, sink: IssueSink): void {
  const type = typeOf(m)?.typeName;
  if (type !== HTTP_LOCAL_RATE_LIMIT && type !== NETWORK_LOCAL_RATE_LIMIT) return;
  const bucket = sub(m, "token_bucket");
  const interval = bucket?.fill_interval;
  if (bucket && interval instanceof DurationValue && interval.totalNanos > 0n && interval.totalNanos < FIFTY_MS_IN_NANOS) {
    sink.error(fieldPath(bucket, "fill_interval"), "local rate limit token bucket fill timer must be >= 50ms");
  }
}

/** Each per-route filter setting of a route table: where it is, the filter name it is keyed by, and its config. */
function* perFilterConfigs(routeConfig: MessageValue): Generator<{ path: string; name: string; config: AnyValue }> {
  const owners = [routeConfig, ...list(routeConfig, "virtual_hosts").flatMap((vh) => [vh, ...list(vh, "routes")])];
  for (const owner of owners) {
    const configs = owner.typed_per_filter_config;
    if (!(configs instanceof Map)) continue;
    for (const [name, config] of configs) {
      if (config instanceof AnyValue) yield { path: mapKeyPath(fieldPath(owner, "typed_per_filter_config"), name), name, config };
    }
  }
}

/**
 * Per-route settings of a connection manager's inline route table:
 * - Envoy refuses a per-route local rate limit without a token bucket: "local rate limit token
 *   bucket must be set for per filter configs" (source/extensions/filters/http/local_ratelimit/local_ratelimit.cc).
 * - A setting keyed by a name that no HTTP filter of the chain has is parsed and then never
 *   used: Envoy finds a filter's per-route settings by the filter's name (typed_per_filter_config
 *   in route_components.proto), so a fault or limit configured that way would silently do nothing.
 */
export function checkPerFilterConfigs(hcm: MessageValue, sink: IssueSink): void {
  const routeConfig = sub(hcm, "route_config");
  if (!routeConfig) return;
  const filterNames = new Set(list(hcm, "http_filters").map((f) => f.name).filter((n): n is string => typeof n === "string"));
  for (const { path, name, config } of perFilterConfigs(routeConfig)) {
    if (config.typeName === HTTP_LOCAL_RATE_LIMIT && config.message && sub(config.message, "token_bucket") === undefined) {
      sink.error(path, "local rate limit token bucket must be set for per filter configs");
    }
    if (!filterNames.has(name)) {
      sink.warning(
        path,
        `no HTTP filter of this connection manager is named '${name}', so Envoy never applies this per-route config (add the filter to http_filters under that name)`,
      );
    }
  }
}
