/**
 * Tracing and access log objects, one small function each, in the style of resources.ts: the
 * OpenTelemetry tracer every traffic-carrying connection manager reports to, the collector
 * cluster it sends spans to, route decorators that name the spans, and the one JSON access log
 * schema every proxy writes.
 */
import { OTEL_COLLECTOR_CLUSTER } from "./names";
import { makeDnsCluster, type EnvoyObject } from "./resources";
import type { EnvoyTracing } from "./proxies";
import { EARLY_HEADER_MUTATION, EARLY_HEADER_MUTATION_NAME, HTTP_PROTOCOL_OPTIONS, HTTP_PROTOCOL_OPTIONS_NAME, OPENTELEMETRY_CONFIG, OPENTELEMETRY_TRACER_NAME } from "./typeUrls";

/**
 * The tracing settings of one connection manager: Envoy's OpenTelemetry tracer, exporting over
 * OTLP/gRPC through the collector cluster, reporting as `serviceName` (the proxy's name, the
 * `service.name` resource attribute every span carries).
 *
 * Propagation is W3C Trace Context: the tracer reads `traceparent`/`tracestate` from the request
 * and writes them on the request it forwards (Span::injectContext and SpanContextExtractor in
 * source/extensions/tracers/opentelemetry/ of envoyproxy/envoy).
 *
 * Sampling: a request that arrives with a `traceparent` keeps its caller's decision, whatever the
 * percentages here say: with a propagation header, the driver starts the span from the extracted
 * context and the tracer copies its sampled flag ("Respect the previous span's sampled flag",
 * source/extensions/tracers/opentelemetry/tracer.cc); Envoy's own decision (random, client,
 * overall sampling) is only used for a span without a parent
 * (source/extensions/tracers/opentelemetry/opentelemetry_tracer_impl.cc, Driver::startSpan). So
 * the front, where every request arrives without a mesh parent, starts a trace for
 * `samplingPercent` of requests, and every sidecar follows that decision through the app (which
 * forwards `traceparent`, app/tracing.ts): a sampled trace is never cut and an unsampled one never
 * grows spans downstream, and sidecars need no 100% setting for it. The sidecars' own
 * `random_sampling` is the same percentage, used only for a request that reaches them without a
 * `traceparent` (an app that drops it, a port-forward): it starts a new trace at the mesh's rate.
 */
export function makeTracing(tracing: EnvoyTracing, serviceName: string): EnvoyObject {
  return {
    random_sampling: { value: tracing.samplingPercent },
    provider: {
      name: OPENTELEMETRY_TRACER_NAME,
      typed_config: {
        "@type": OPENTELEMETRY_CONFIG,
        grpc_service: { envoy_grpc: { cluster_name: OTEL_COLLECTOR_CLUSTER } },
        service_name: serviceName,
      },
    },
  };
}

/** The W3C Trace Context headers the OpenTelemetry tracer reads. */
export const TRACE_CONTEXT_HEADERS = ["traceparent", "tracestate"] as const;

/**
 * Drops a client's trace context at the edge, before the front's tracer sees it: the connection
 * manager applies early header mutations "before any routing, tracing, or any filter processing"
 * (HttpConnectionManager.early_header_mutation_extensions in
 * api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto).
 * Otherwise a client's `traceparent` with the sampled flag would force a trace of its every
 * request (and choose its trace ID), whatever `samplingPercent` says.
 */
export function makeClientTraceReset(): EnvoyObject {
  return {
    name: EARLY_HEADER_MUTATION_NAME,
    typed_config: { "@type": EARLY_HEADER_MUTATION, mutations: TRACE_CONTEXT_HEADERS.map((header) => ({ remove: header })) },
  };
}

/**
 * The collector every proxy sends its spans to: OTLP over gRPC, so HTTP/2 (explicitly: gRPC needs
 * it, and the cluster has no ALPN to choose with), plain TCP, resolved through DNS like the mesh's
 * own upstreams. No health checks or outlier detection: spans are best effort, and the tracer
 * drops them when the collector cannot take them (OpenTelemetryConfig.grpc_service in
 * api/envoy/config/trace/v3/opentelemetry.proto).
 */
export function makeCollectorCluster(tracing: EnvoyTracing, connectTimeoutMs: number): EnvoyObject {
  return {
    ...makeDnsCluster(OTEL_COLLECTOR_CLUSTER, tracing.collectorHost, tracing.collectorPort, connectTimeoutMs),
    typed_extension_protocol_options: {
      [HTTP_PROTOCOL_OPTIONS_NAME]: { "@type": HTTP_PROTOCOL_OPTIONS, explicit_http_config: { http2_protocol_options: {} } },
    },
  };
}

/**
 * Names the span a route's requests get (Route.decorator.operation in
 * api/envoy/config/route/v3/route_components.proto). `propagate: false`: otherwise the router sends
 * the name on as `x-envoy-decorator-operation`, and the next proxy's server span would take the
 * caller's name instead of its own (the header overrides an inbound span's name).
 */
export function withDecorator(route: EnvoyObject, operation: string): EnvoyObject {
  return { ...route, decorator: { operation, propagate: false } };
}

/** Span names: what a reader of a trace looks for, a hop of the topology. */
export const spanNames = {
  /** The front's span of one front route: `front /d → service-d`. */
  front: (prefix: string, service: string) => `front ${prefix} → ${service}`,
  /** The front's plain HTTP redirect to HTTPS. */
  frontRedirect: () => "front → https redirect",
  /** A caller's client span of one edge: `service-a → service-b`. */
  egress: (caller: string, callee: string) => `${caller} → ${callee}`,
  /** A sidecar's server span, around its app: `service-b ingress`. */
  ingress: (service: string) => `${service} ingress`,
} as const;

/** Which way a logged request went through the proxy: into the pod (front, ingress), or out of it to an upstream (egress). */
export type LogDirection = "inbound" | "outbound";

/**
 * The JSON access log every proxy writes, one object per request on stdout, the same keys on
 * every proxy of a mesh. Command operators that stand alone in a value render typed: numbers as
 * numbers, an unknown value as null (SubstitutionFormatString.json_format in
 * api/envoy/config/core/v3/substitution_format_string.proto: "Values are rendered as strings,
 * numbers, or boolean values as appropriate"). `trace_id` is the request's span's trace ID
 * (%TRACE_ID%, TraceIDFormatter in source/common/formatter/http_specific_formatter.cc), null
 * without tracing: it joins a log line to its trace, and a request's lines on every proxy to one
 * another, as `request_id` (x-request-id, which every hop forwards) does too. `caller`, with mTLS
 * only, is the verified client certificate's URI SAN (its SPIFFE ID), null where no client
 * certificate is asked (the front, egress listeners).
 */
export function accessLogFields(proxy: string, direction: LogDirection, withCaller: boolean): Readonly<Record<string, string>> {
  return {
    time: "%START_TIME%",
    trace_id: "%TRACE_ID%",
    request_id: "%REQ(X-REQUEST-ID)%",
    method: "%REQ(:METHOD)%",
    path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    protocol: "%PROTOCOL%",
    status: "%RESPONSE_CODE%",
    response_flags: "%RESPONSE_FLAGS%",
    duration_ms: "%DURATION%",
    upstream_host: "%UPSTREAM_HOST%",
    upstream_cluster: "%UPSTREAM_CLUSTER%",
    bytes_received: "%BYTES_RECEIVED%",
    bytes_sent: "%BYTES_SENT%",
    user_agent: "%REQ(USER-AGENT)%",
    authority: "%REQ(:AUTHORITY)%",
    ...(withCaller ? { caller: "%DOWNSTREAM_PEER_URI_SAN%" } : {}),
    proxy,
    direction,
  };
}

/** The access log format of one connection manager: the JSON object of accessLogFields. */
export function makeJsonLogFormat(proxy: string, direction: LogDirection, withCaller: boolean): EnvoyObject {
  return { json_format: accessLogFields(proxy, direction, withCaller) };
}
