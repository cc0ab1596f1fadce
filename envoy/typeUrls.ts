/** `@type` URLs of the v3 extensions the generated configs use. */
const PREFIX = "type.googleapis.com/";

export const HTTP_CONNECTION_MANAGER =
  `${PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const ROUTER = `${PREFIX}envoy.extensions.filters.http.router.v3.Router`;
export const HTTP_PROTOCOL_OPTIONS = `${PREFIX}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`;
export const STDOUT_ACCESS_LOG = `${PREFIX}envoy.extensions.access_loggers.stream.v3.StdoutAccessLog`;
export const PREVIOUS_HOSTS = `${PREFIX}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate`;

/** The resources of the LDS, CDS and RDS files. */
export const LISTENER = `${PREFIX}envoy.config.listener.v3.Listener`;
export const CLUSTER = `${PREFIX}envoy.config.cluster.v3.Cluster`;
export const ROUTE_CONFIGURATION = `${PREFIX}envoy.config.route.v3.RouteConfiguration`;

/** Header mutations a connection manager applies before routing and tracing (the edge's trace reset). */
export const EARLY_HEADER_MUTATION = `${PREFIX}envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation`;
export const EARLY_HEADER_MUTATION_NAME = "envoy.http.early_header_mutation.header_mutation";

/** Canonical extension names; since Envoy 1.22 the `@type` is what selects the extension. */
export const HTTP_CONNECTION_MANAGER_NAME = "envoy.filters.network.http_connection_manager";
export const ROUTER_NAME = "envoy.filters.http.router";
export const STDOUT_ACCESS_LOG_NAME = "envoy.access_loggers.stdout";
export const PREVIOUS_HOSTS_NAME = "envoy.retry_host_predicates.previous_hosts";
/** Key under a cluster's typed_extension_protocol_options. */
export const HTTP_PROTOCOL_OPTIONS_NAME = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/* Mutual TLS, SDS and authorization. */
export const DOWNSTREAM_TLS_CONTEXT = `${PREFIX}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`;
export const UPSTREAM_TLS_CONTEXT = `${PREFIX}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`;
/** The resource an SDS file holds. */
export const TLS_SECRET = `${PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`;
export const RBAC = `${PREFIX}envoy.extensions.filters.http.rbac.v3.RBAC`;
export const TLS_TRANSPORT_SOCKET_NAME = "envoy.transport_sockets.tls";
export const RBAC_NAME = "envoy.filters.http.rbac";

/** The front proxy's edge protection and the opt-in fault injection. */
export const LOCAL_RATE_LIMIT = `${PREFIX}envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit`;
export const BUFFER = `${PREFIX}envoy.extensions.filters.http.buffer.v3.Buffer`;
export const BUFFER_PER_ROUTE = `${PREFIX}envoy.extensions.filters.http.buffer.v3.BufferPerRoute`;
export const HTTP_FAULT = `${PREFIX}envoy.extensions.filters.http.fault.v3.HTTPFault`;
export const LOCAL_RATE_LIMIT_NAME = "envoy.filters.http.local_ratelimit";
export const BUFFER_NAME = "envoy.filters.http.buffer";
export const FAULT_NAME = "envoy.filters.http.fault";

/** Distributed tracing: Envoy's OpenTelemetry tracer (OTLP/gRPC export, W3C Trace Context propagation). */
export const OPENTELEMETRY_CONFIG = `${PREFIX}envoy.config.trace.v3.OpenTelemetryConfig`;
export const OPENTELEMETRY_TRACER_NAME = "envoy.tracers.opentelemetry";
