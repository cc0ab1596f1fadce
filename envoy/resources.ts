/**
 * One small function per Envoy v3 object. They return plain objects in proto3 JSON field
 * names, which serialize to YAML that Envoy loads as a static bootstrap.
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

export const ANY_ADDRESS = "0.0.0.0";
export const LOOPBACK = "127.0.0.1";

/** Edge hardening from Envoy's "configuring Envoy as an edge proxy" guidance. */
const EDGE_BUFFER_LIMIT_BYTES = 32768;

export function socketAddress(address: string, port: number): EnvoyObject {
  return { socket_address: { address, port_value: port } };
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

/**
 * A cluster resolved through DNS. On a headless Service name this yields every ready pod IP,
 * re-resolved every 5 s (Envoy's default), and Envoy balances across them round robin.
 */
export function makeDnsCluster(
  name: string,
  host: string,
  port: number,
  connectTimeoutMs: number,
  options: { readonly edge?: boolean } = {},
): EnvoyObject {
  return {
    name,
    type: "STRICT_DNS",
    connect_timeout: duration(connectTimeoutMs),
    lb_policy: "ROUND_ROBIN",
    ...(options.edge ? { per_connection_buffer_limit_bytes: EDGE_BUFFER_LIMIT_BYTES } : {}),
    load_assignment: loadAssignment(name, host, port),
  };
}

/**
 * Retries only failures where the request cannot have reached the app (no connection, or a
 * stream refused), so they are safe for every method; they hide a pod that is going away.
 */
const SAFE_RETRY_POLICY: EnvoyObject = { retry_on: "connect-failure,refused-stream", num_retries: 2 };

export interface RouteOptions {
  readonly retry?: boolean;
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
      ...(options.retry ? { retry_policy: SAFE_RETRY_POLICY } : {}),
    },
  };
}

export function makePrefixRoute(prefix: string, cluster: string, options: RouteOptions = {}): EnvoyObject {
  return makeRoute({ prefix }, cluster, options);
}

export function makePathRoute(path: string, cluster: string): EnvoyObject {
  return { match: { path }, route: { cluster } };
}

export function makeNotFoundRoute(): EnvoyObject {
  return { match: { prefix: "/" }, direct_response: { status: 404 } };
}

export function makeStdoutAccessLog(): EnvoyObject {
  return { name: STDOUT_ACCESS_LOG_NAME, typed_config: { "@type": STDOUT_ACCESS_LOG } };
}

export interface HttpConnectionManagerOptions {
  readonly statPrefix: string;
  readonly routeConfigName: string;
  readonly routes: readonly EnvoyObject[];
  /** Log every request to stdout. Default: false. */
  readonly accessLog?: boolean;
  /** Settings for a proxy that faces clients outside the mesh. Default: false. */
  readonly edge?: boolean;
}

export function makeHttpConnectionManager(options: HttpConnectionManagerOptions): EnvoyObject {
  const edgeSettings = {
    // The edge sees the real client address and starts the request ID every hop forwards.
    use_remote_address: true,
    generate_request_id: true,
    normalize_path: true,
    merge_slashes: true,
    request_headers_timeout: "10s",
    common_http_protocol_options: { idle_timeout: "3600s", headers_with_underscores_action: "REJECT_REQUEST" },
  };
  return {
    name: HTTP_CONNECTION_MANAGER_NAME,
    typed_config: {
      "@type": HTTP_CONNECTION_MANAGER,
      stat_prefix: options.statPrefix,
      codec_type: "AUTO",
      ...(options.edge ? edgeSettings : {}),
      ...(options.accessLog ? { access_log: [makeStdoutAccessLog()] } : {}),
      route_config: {
        name: options.routeConfigName,
        virtual_hosts: [{ name: options.routeConfigName, domains: ["*"], routes: options.routes }],
      },
      // The router must be the last HTTP filter.
      http_filters: [{ name: ROUTER_NAME, typed_config: { "@type": ROUTER } }],
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
}

export function makeListener(options: ListenerOptions): EnvoyObject {
  return {
    name: options.name,
    address: socketAddress(options.address, options.port),
    traffic_direction: options.direction,
    ...(options.edge ? { per_connection_buffer_limit_bytes: EDGE_BUFFER_LIMIT_BYTES } : {}),
    filter_chains: [{ filters: [options.httpConnectionManager] }],
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
