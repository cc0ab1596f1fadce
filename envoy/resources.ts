/**
 * One small function per Envoy v3 object. They return plain objects in proto3 JSON field
 * names, which serialize to JSON that Envoy loads as a static bootstrap.
 */
import {
  HTTP_CONNECTION_MANAGER,
  HTTP_CONNECTION_MANAGER_NAME,
  HTTP_PROTOCOL_OPTIONS,
  HTTP_PROTOCOL_OPTIONS_NAME,
  ROUTER,
  ROUTER_NAME,
  STDOUT_ACCESS_LOG,
  STDOUT_ACCESS_LOG_NAME,
} from "./typeUrls";

export type EnvoyObject = { readonly [field: string]: unknown };

/**
 * Listeners that take traffic on the pod IP bind the IPv6 wildcard with `ipv4_compat`, so one
 * socket accepts IPv4 and IPv6: pod IPs are IPv4, IPv6 or both depending on the cluster, and
 * Envoy's default DNS lookup family (AUTO) resolves a dual-stack name to its IPv6 address.
 * This needs a kernel with IPv6 support (not booted with `ipv6.disable=1`).
 */
export const ANY_ADDRESS = "::";
export const LOOPBACK = "127.0.0.1";

/** Edge hardening from Envoy's "configuring Envoy as an edge proxy" guidance. */
const EDGE_BUFFER_LIMIT_BYTES = 32768;

export function socketAddress(address: string, port: number): EnvoyObject {
  return { socket_address: { address, port_value: port, ...(address === ANY_ADDRESS ? { ipv4_compat: true } : {}) } };
}

/** proto3 JSON Duration: seconds with an `s` suffix ("0.25s"; "250ms" is refused). */
export function duration(milliseconds: number): string {
  return `${milliseconds / 1000}s`;
}

function loadAssignment(clusterName: string, host: string, port: number): EnvoyObject {
  return {
    cluster_name: clusterName,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, port) } }] }],
  };
}

/**
 * HTTP/1.1 to an upstream, closing pooled connections idle for `idleTimeoutSeconds`: shorter
 * than the upstream's own keep-alive, so Envoy never reuses a connection the upstream is closing.
 */
function httpProtocolOptions(idleTimeoutSeconds: number): EnvoyObject {
  return {
    [HTTP_PROTOCOL_OPTIONS_NAME]: {
      "@type": HTTP_PROTOCOL_OPTIONS,
      common_http_protocol_options: { idle_timeout: `${idleTimeoutSeconds}s` },
      explicit_http_config: { http_protocol_options: {} },
    },
  };
}

/** A cluster of one fixed IP, such as the local app or the local admin API. */
export function makeStaticCluster(
  name: string,
  ip: string,
  port: number,
  connectTimeoutMs: number,
  options: { readonly idleTimeoutSeconds?: number } = {},
): EnvoyObject {
  return {
    name,
    type: "STATIC",
    connect_timeout: duration(connectTimeoutMs),
    ...(options.idleTimeoutSeconds !== undefined
      ? { typed_extension_protocol_options: httpProtocolOptions(options.idleTimeoutSeconds) }
      : {}),
    load_assignment: loadAssignment(name, ip, port),
  };
}

export interface DnsClusterOptions {
  /** Per-connection buffer limit of an edge proxy. Default: false. */
  readonly edge?: boolean;
  /** Active health checks of every host. Default: none. */
  readonly healthChecks?: readonly EnvoyObject[];
  /** When to eject a host. Default: never. */
  readonly outlierDetection?: EnvoyObject;
  /** How connections to the hosts are secured (TLS). Default: plain TCP. */
  readonly transportSocket?: EnvoyObject;
}

/**
 * A cluster resolved through DNS. On a headless Service name this yields every ready pod IP,
 * re-resolved every 5 s (Envoy's default), and Envoy balances across them round robin.
 */
export function makeDnsCluster(
  name: string,
  host: string,
  port: number,
  connectTimeoutMs: number,
  options: DnsClusterOptions = {},
): EnvoyObject {
  return {
    name,
    type: "STRICT_DNS",
    connect_timeout: duration(connectTimeoutMs),
    lb_policy: "ROUND_ROBIN",
    ...(options.edge ? { per_connection_buffer_limit_bytes: EDGE_BUFFER_LIMIT_BYTES } : {}),
    ...(options.healthChecks !== undefined ? { health_checks: options.healthChecks } : {}),
    ...(options.outlierDetection !== undefined ? { outlier_detection: options.outlierDetection } : {}),
    load_assignment: loadAssignment(name, host, port),
    ...(options.transportSocket !== undefined ? { transport_socket: options.transportSocket } : {}),
  };
}

export interface RouteOptions {
  /**
   * Replaces the matched prefix or path, character for character; the rest of the path and the
   * query are kept (Envoy's prefix_rewrite).
   */
  readonly prefixRewrite?: string;
}

/** A route to `cluster` for requests matching `match` (`{prefix}` or `{path}`). */
export function makeRoute(match: EnvoyObject, cluster: string, options: RouteOptions = {}): EnvoyObject {
  return {
    match,
    route: {
      cluster,
      ...(options.prefixRewrite !== undefined ? { prefix_rewrite: options.prefixRewrite } : {}),
    },
  };
}

export function makePrefixRoute(prefix: string, cluster: string, options: RouteOptions = {}): EnvoyObject {
  return makeRoute({ prefix }, cluster, options);
}

export function makePathRoute(path: string, cluster: string): EnvoyObject {
  return { match: { path }, route: { cluster } };
}

/** Answers every request with a 301 to the same host and path over HTTPS on `port`. */
export function makeHttpsRedirectRoute(port: number): EnvoyObject {
  return { match: { prefix: "/" }, redirect: { https_redirect: true, port_redirect: port } };
}

export function makeNotFoundRoute(): EnvoyObject {
  return { match: { prefix: "/" }, direct_response: { status: 404 } };
}

/** User agents of probes, which would otherwise fill the access log: Envoy's health checks and the kubelet's. */
export const PROBE_USER_AGENT_PATTERN = "^(Envoy/HC|kube-probe/)";

/**
 * Logs every request to stdout except probes (a request without a user agent is logged), in
 * Envoy's default format unless `logFormat` (a SubstitutionFormatString) is given.
 */
export function makeStdoutAccessLog(logFormat?: EnvoyObject): EnvoyObject {
  return {
    name: STDOUT_ACCESS_LOG_NAME,
    filter: {
      header_filter: {
        header: {
          name: "user-agent",
          string_match: { safe_regex: { regex: PROBE_USER_AGENT_PATTERN } },
          invert_match: true,
          treat_missing_header_as_empty: true,
        },
      },
    },
    typed_config: { "@type": STDOUT_ACCESS_LOG, ...(logFormat !== undefined ? { log_format: logFormat } : {}) },
  };
}

/**
 * Response flags of a local reply sent because the upstream was never reached: connection
 * failure (UF), no healthy host (UH), circuit breaker overflow (UO). Never a flag that can follow
 * a request that was sent (UC, UT, URX, ...).
 */
export const NOT_DELIVERED_FLAGS = ["UF", "UH", "UO"] as const;

/** Marks this proxy's own replies for requests that never reached its upstream with `header: true`. */
function makeNotDeliveredMapper(header: string): EnvoyObject {
  return {
    filter: { response_flag_filter: { flags: NOT_DELIVERED_FLAGS } },
    headers_to_add: [{ header: { key: header, value: "true" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
  };
}

export interface HttpConnectionManagerOptions {
  readonly statPrefix: string;
  readonly routeConfigName: string;
  readonly routes: readonly EnvoyObject[];
  /** Log every request to stdout. Default: false. */
  readonly accessLog?: boolean;
  /** Settings for a proxy that faces clients outside the mesh. Default: false. */
  readonly edge?: boolean;
  /** Header that marks this proxy's replies for requests its upstream never received. Default: none. */
  readonly notDeliveredHeader?: string;
  /** Access log format (a SubstitutionFormatString); default: Envoy's own. */
  readonly accessLogFormat?: EnvoyObject;
  /** The connection manager's `tracing` (envoy/telemetry.ts); default: none. */
  readonly tracing?: EnvoyObject;
  /** Header mutations applied before routing and tracing; default: none. */
  readonly earlyHeaderMutations?: readonly EnvoyObject[];
  /** More local reply mappers, after the not-delivered one; the first that matches applies. */
  readonly replyMappers?: readonly EnvoyObject[];
  /** HTTP filters before the router, in order. */
  readonly httpFilters?: readonly EnvoyObject[];
  /**
   * Pass the app the verified client certificate's URI SAN (its caller's identity) in
   * `x-forwarded-client-cert`, replacing whatever the client sent. Default: false.
   */
  readonly forwardClientIdentity?: boolean;
  /** Timeouts of an edge connection manager as Envoy durations. Default: `EDGE_TIMEOUTS`. */
  readonly edgeTimeouts?: EdgeTimeoutFields;
}

export interface EdgeTimeoutFields {
  readonly requestTimeout?: string;
  readonly requestHeadersTimeout: string;
  readonly streamIdleTimeout?: string;
  readonly idleTimeout: string;
}

/** The edge's timeouts when none are given: 10 s for request headers, 1 hour per idle connection. */
export const EDGE_TIMEOUTS: EdgeTimeoutFields = { requestHeadersTimeout: "10s", idleTimeout: "3600s" };

export function makeHttpConnectionManager(options: HttpConnectionManagerOptions): EnvoyObject {
  const timeouts = options.edgeTimeouts ?? EDGE_TIMEOUTS;
  const edgeSettings = {
    // The edge sees the real client address and starts the request ID every hop forwards.
    use_remote_address: true,
    generate_request_id: true,
    normalize_path: true,
    merge_slashes: true,
    request_headers_timeout: timeouts.requestHeadersTimeout,
    ...(timeouts.requestTimeout !== undefined ? { request_timeout: timeouts.requestTimeout } : {}),
    ...(timeouts.streamIdleTimeout !== undefined ? { stream_idle_timeout: timeouts.streamIdleTimeout } : {}),
    common_http_protocol_options: { idle_timeout: timeouts.idleTimeout, headers_with_underscores_action: "REJECT_REQUEST" },
  };
  const mappers = [
    ...(options.notDeliveredHeader !== undefined ? [makeNotDeliveredMapper(options.notDeliveredHeader)] : []),
    ...(options.replyMappers ?? []),
  ];
  return {
    name: HTTP_CONNECTION_MANAGER_NAME,
    typed_config: {
      "@type": HTTP_CONNECTION_MANAGER,
      stat_prefix: options.statPrefix,
      codec_type: "AUTO",
      ...(options.edge ? edgeSettings : {}),
      ...(options.forwardClientIdentity ? { forward_client_cert_details: "SANITIZE_SET", set_current_client_cert_details: { uri: true } } : {}),
      ...(options.accessLog ? { access_log: [makeStdoutAccessLog(options.accessLogFormat)] } : {}),
      ...(options.tracing !== undefined ? { tracing: options.tracing } : {}),
      ...(options.earlyHeaderMutations !== undefined ? { early_header_mutation_extensions: options.earlyHeaderMutations } : {}),
      ...(mappers.length > 0 ? { local_reply_config: { mappers } } : {}),
      route_config: {
        name: options.routeConfigName,
        virtual_hosts: [{ name: options.routeConfigName, domains: ["*"], routes: options.routes }],
      },
      // The router must be the last HTTP filter.
      http_filters: [...(options.httpFilters ?? []), { name: ROUTER_NAME, typed_config: { "@type": ROUTER } }],
    },
  };
}

export interface ListenerOptions {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly direction: "INBOUND" | "OUTBOUND";
  readonly httpConnectionManager: EnvoyObject;
  readonly edge?: boolean;
  /** TLS for the accepted connections. Default: plain TCP. */
  readonly transportSocket?: EnvoyObject;
}

export function makeListener(options: ListenerOptions): EnvoyObject {
  return {
    name: options.name,
    address: socketAddress(options.address, options.port),
    traffic_direction: options.direction,
    ...(options.edge ? { per_connection_buffer_limit_bytes: EDGE_BUFFER_LIMIT_BYTES } : {}),
    filter_chains: [
      {
        filters: [options.httpConnectionManager],
        ...(options.transportSocket !== undefined ? { transport_socket: options.transportSocket } : {}),
      },
    ],
  };
}

export interface BootstrapOptions {
  /** Node cluster name, shown in Envoy's stats and admin pages. */
  readonly nodeCluster: string;
  readonly adminPort: number;
  readonly listeners: readonly EnvoyObject[];
  readonly clusters: readonly EnvoyObject[];
}

export function makeBootstrap(options: BootstrapOptions): EnvoyObject {
  return {
    // `--service-node` sets the pod's own node id at start.
    node: { id: options.nodeCluster, cluster: options.nodeCluster },
    // Admin can change server state, so it stays on loopback; see the health listener.
    admin: { address: socketAddress(LOOPBACK, options.adminPort) },
    static_resources: { listeners: options.listeners, clusters: options.clusters },
  };
}
