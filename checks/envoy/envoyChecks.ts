import { isIP } from "node:net";
import type { DescMessage, DescOneof } from "@bufbuild/protobuf";
import type { IssueSink } from "./issues";
import { checkLocalRateLimit, checkPerFilterConfigs } from "./edgeChecks";
import { re2SyntaxError } from "./re2";
import { checkTlsMessage, staticSecrets } from "./tlsChecks";
import { CLUSTER_TYPE, RETRY_POLICY_TYPE, ROUTE_ACTION_TYPE, THRESHOLDS_TYPE, checkClusterAlpn, checkRetryPolicy, checkRouteActionPolicy, checkThresholds } from "./policyChecks";
import {
  AnyValue,
  WrapperValue,
  fieldPath,
  isMessageValue,
  messageList as list,
  pathOf,
  subMessage as sub,
  typeOf,
  wasUnreadable,
  type MessageValue,
  type Value,
} from "./values";

/**
 * Checks Envoy makes while loading a bootstrap that the protos do not express. Each runs on the
 * parsed config (see protoJson.ts), so field spellings and enum letter case no longer matter,
 * and reports with the paths as written in the input. Messages quote Envoy's own wording where
 * it has one, so a search for the error Envoy would print finds the rule here too.
 */

const HCM_TYPE = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER_TYPE = "envoy.extensions.filters.http.router.v3.Router";
const UPSTREAM_CODEC_TYPE = "envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec";

/** Network filters that end a filter chain (Envoy's `isTerminalFilterByProto`). */
const TERMINAL_NETWORK_FILTERS = new Set([
  HCM_TYPE,
  "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
  "envoy.extensions.filters.network.direct_response.v3.Config",
  "envoy.extensions.filters.network.echo.v3.Echo",
  "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy",
  "envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy",
  "envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy",
  "envoy.extensions.filters.network.generic_proxy.v3.GenericProxy",
]);

const TERMINAL_HTTP_FILTERS = new Set([ROUTER_TYPE, UPSTREAM_CODEC_TYPE]);

/**
 * What an extension slot accepts, by the `@type` of its typed_config: Envoy looks the type up
 * among the factories of the slot's category and refuses one from another category.
 */
interface SlotCategory {
  readonly what: string;
  readonly prefixes: readonly string[];
}

const HTTP_FILTER_SLOT: SlotCategory = {
  what: "an HTTP filter",
  prefixes: ["envoy.extensions.filters.http.", "envoy.extensions.common.matching.v3.ExtensionWithMatcher"],
};
const NETWORK_FILTER_SLOT: SlotCategory = { what: "a network filter", prefixes: ["envoy.extensions.filters.network."] };
const LISTENER_FILTER_SLOT: SlotCategory = {
  what: "a listener filter",
  prefixes: ["envoy.extensions.filters.listener.", "envoy.extensions.common.matching.v3.ExtensionWithMatcher"],
};
/**
 * The listener filters of a UDP listener that is not QUIC are UDP listener filters (the UDP
 * proxy, the DNS filter): Envoy's ListenerImpl::createListenerFilterFactories looks them up
 * among the UDP listener filter factories (envoyproxy/envoy
 * source/common/listener_manager/listener_impl.cc).
 */
const UDP_LISTENER_FILTER_SLOT: SlotCategory = { what: "a UDP listener filter", prefixes: ["envoy.extensions.filters.udp."] };
const ACCESS_LOG_SLOT: SlotCategory = { what: "an access logger", prefixes: ["envoy.extensions.access_loggers."] };
const TRANSPORT_SOCKET_SLOT: SlotCategory = { what: "a transport socket", prefixes: ["envoy.extensions.transport_sockets."] };

/** Message types that hold an extension, by the kind of extension they take. */
const SLOTS: Readonly<Record<string, SlotCategory>> = {
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter": HTTP_FILTER_SLOT,
  "envoy.config.listener.v3.Filter": NETWORK_FILTER_SLOT,
  "envoy.config.accesslog.v3.AccessLog": ACCESS_LOG_SLOT,
  "envoy.config.core.v3.TransportSocket": TRANSPORT_SOCKET_SLOT,
};

/** Cluster.DiscoveryType.STATIC, also the default. */
const STATIC = 0;
/** Cluster.DiscoveryType.EDS. */
const EDS = 3;
/** SocketAddress.Protocol.UDP. */
const UDP = 1;
/** HttpConnectionManager.CodecType.HTTP3. */
const HTTP3 = 3;

const REGEX_MATCHER_TYPES = new Set(["envoy.type.matcher.v3.RegexMatcher", "xds.type.matcher.v3.RegexMatcher"]);
const GOOGLE_RE2_TYPE = "envoy.extensions.regex_engines.v3.GoogleRE2";

function str(m: MessageValue | undefined, name: string): string | undefined {
  const v = m?.[name];
  return typeof v === "string" ? v : undefined;
}

/** Content of an Any field: its type name and, when parsed, its message. */
function anyOf(m: MessageValue | undefined, name: string): AnyValue | undefined {
  const v = m?.[name];
  return v instanceof AnyValue ? v : undefined;
}

/** Visits every parsed message in the tree, including the contents of Any fields. */
export function forEachMessage(root: Value, visit: (m: MessageValue) => void): void {
  const walk = (v: Value): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v instanceof Map) v.forEach(walk);
    else if (v instanceof AnyValue) {
      if (v.message) walk(v.message);
    } else if (isMessageValue(v)) {
      visit(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(root);
}

/** Runs every Envoy load-time check on a parsed bootstrap. */
export function checkBootstrap(bootstrap: MessageValue, sink: IssueSink): void {
  const staticResources = sub(bootstrap, "static_resources");
  const clusters = list(staticResources, "clusters");
  const clusterNames = checkClusters(clusters, sink);
  checkListeners(list(staticResources, "listeners"), sink);
  checkAdmin(sub(bootstrap, "admin"), sink);
  const engine = anyOf(sub(bootstrap, "default_regex_engine"), "typed_config");
  const re2 = engine === undefined || engine.typeName === GOOGLE_RE2_TYPE;
  checkEveryMessage(bootstrap, { secrets: staticSecrets(list(staticResources, "secrets")), re2, clusterNames }, sink);
}

interface MessageCheckContext {
  readonly secrets: ReturnType<typeof staticSecrets>;
  /** Whether regexes are RE2's (the default engine). */
  readonly re2: boolean;
  /** The clusters an inline route table may name; undefined when they are only known across files. */
  readonly clusterNames: ReadonlySet<string> | undefined;
}

/** The checks that apply to a message wherever it is: in a bootstrap or in a resource of an xDS file. */
function checkEveryMessage(root: Value, context: MessageCheckContext, sink: IssueSink): void {
  forEachMessage(root, (m) => {
    checkExtensionConfig(m, sink);
    checkTlsMessage(m, context.secrets, sink);
    const type = typeOf(m)?.typeName ?? "";
    if (type === HCM_TYPE) checkHttpConnectionManager(m, context.clusterNames, sink);
    checkLocalRateLimit(m, sink);
    if (type === ROUTE_ACTION_TYPE) checkRouteActionPolicy(m, sink);
    if (type === RETRY_POLICY_TYPE) checkRetryPolicy(m, sink);
    if (type === THRESHOLDS_TYPE) checkThresholds(m, sink);
    if (type === CLUSTER_TYPE) checkClusterAlpn(m, sink);
    if (context.re2 && REGEX_MATCHER_TYPES.has(type)) checkRegex(m, sink);
    const slot = SLOTS[type];
    if (slot) checkSlot(m, slot, sink);
  });
}

const SECRET_TYPE = "envoy.extensions.transport_sockets.tls.v3.Secret";
const LISTENER_TYPE = "envoy.config.listener.v3.Listener";
const ROUTE_CONFIGURATION_TYPE = "envoy.config.route.v3.RouteConfiguration";
const NO_STATIC_SECRETS = staticSecrets([]);

/** What the checks across the resources of one xDS file need to know of one resource. */
export interface ResourceSummary {
  readonly typeName: string;
  readonly cluster?: ClusterKey;
  readonly listener?: ListenerKey;
}

/** The checks on a resource's own content use no static secrets, RE2 regexes, and leave route clusters to fileXds.ts. */
const RESOURCE_CONTEXT: MessageCheckContext = { secrets: NO_STATIC_SECRETS, re2: true, clusterNames: undefined };

/**
 * Checks on an xDS resource file (a DiscoveryResponse read from disk), for the resources it
 * holds: the listeners of an LDS file, the clusters of a CDS file and the route configuration of
 * an RDS file get the checks the same resources get in a bootstrap's static_resources (names,
 * addresses, filter order, route tables), except which clusters a route may name, which only the
 * bootstrap and the CDS file together tell (checks/envoy/fileXds.ts).
 *
 * This part looks at one resource alone, so its verdict is the same wherever the resource is
 * (see resourceVerdicts.ts); what needs several resources is {@link checkAcrossResources}'s.
 * Envoy, too, builds each resource of an update on its own and compares them only for duplicate
 * names (envoyproxy/envoy source/common/upstream/cds_api_helper.cc, "duplicate cluster";
 * source/common/listener_manager/lds_api.cc, "duplicate listener").
 */
export function checkResource(resource: AnyValue, sink: IssueSink): ResourceSummary {
  const message = resource.message;
  const summary: { typeName: string; cluster?: ClusterKey; listener?: ListenerKey } = { typeName: resource.typeName };
  if (message !== undefined && resource.typeName === CLUSTER_TYPE) {
    checkCluster(message, sink);
    summary.cluster = clusterKey(message);
  }
  if (message !== undefined && resource.typeName === LISTENER_TYPE) {
    checkListener(message, sink);
    summary.listener = listenerKey(message);
  }
  if (message !== undefined && resource.typeName === ROUTE_CONFIGURATION_TYPE) checkRouteTable(message, undefined, sink);
  checkEveryMessage(resource, RESOURCE_CONTEXT, sink);
  return summary;
}

/**
 * The checks of an xDS file across its resources, and those on the file's own fields (the
 * resources in `response` are not looked into: that is {@link checkResource}'s). An SDS
 * subscription takes exactly one Secret, the one named by its SdsSecretConfig (envoyproxy/envoy
 * source/common/secret/sds_api.cc, SdsApi::onConfigUpdate): a file with two secrets is refused,
 * so each secret needs a file of its own. Names (and listener addresses) must be unique.
 */
export function checkAcrossResources(response: MessageValue, resources: readonly ResourceSummary[], sink: IssueSink): void {
  const secrets = resources.filter((r) => r.typeName === SECRET_TYPE).length;
  if (secrets > 1) {
    sink.error(
      fieldPath(response, "resources"),
      `Unexpected SDS secrets length: ${secrets} (an SDS config loads exactly one Secret from its file; give each secret a file of its own)`,
    );
  }
  checkClusterNames(resources.flatMap((r) => (r.cluster ? [r.cluster] : [])), sink);
  checkListenerKeys(resources.flatMap((r) => (r.listener ? [r.listener] : [])), sink);
  checkEveryMessage(response, RESOURCE_CONTEXT, sink);
}

/** Refuses a typed_config whose type belongs to another kind of extension. */
function checkSlot(extension: MessageValue, slot: SlotCategory, sink: IssueSink, hint = ""): void {
  const config = anyOf(extension, "typed_config");
  if (!config?.messageType) return;
  if (slot.prefixes.some((p) => config.typeName.startsWith(p))) return;
  const name = str(extension, "name") ?? "";
  sink.error(
    fieldPath(extension, "typed_config"),
    `${config.typeName} is not ${slot.what}${hint} (Envoy: Didn't find a registered implementation for '${name}' with type URL: '${config.typeName}')`,
  );
}

/**
 * Envoy compiles every RE2 regex when it loads the config and refuses one that does not
 * compile with RE2's own error text (envoyproxy/envoy source/common/common/regex.cc:
 * `throw EnvoyException(regex_.error())`). RE2's program-size limit is not checked: it needs
 * RE2's own compiler.
 */
function checkRegex(matcher: MessageValue, sink: IssueSink): void {
  const regex = str(matcher, "regex");
  if (regex === undefined) return;
  const error = re2SyntaxError(regex);
  if (error !== undefined) {
    sink.error(fieldPath(matcher, "regex"), `${JSON.stringify(regex)} is not a valid RE2 regex (Envoy: ${error})`);
  }
}

/** A stable text form of parsed values, for comparing them. */
function stableText(v: Value | undefined): string {
  return JSON.stringify(v ?? {}, (_k, x: unknown) => {
    if (typeof x === "bigint") return x.toString();
    if (x instanceof Uint8Array) return Buffer.from(x).toString("base64");
    if (x instanceof Map) return Object.fromEntries([...x.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    if (x !== null && typeof x === "object" && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return x;
  });
}

function describeAddress(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Where a cluster is and what it is called: all the duplicate-name check needs. */
export interface ClusterKey {
  readonly name: string | undefined;
  readonly namePath: string;
  readonly path: string;
}

function clusterKey(cluster: MessageValue): ClusterKey {
  return { name: str(cluster, "name"), namePath: fieldPath(cluster, "name"), path: pathOf(cluster) };
}

function checkClusters(clusters: readonly MessageValue[], sink: IssueSink): Set<string> {
  for (const cluster of clusters) checkCluster(cluster, sink);
  return checkClusterNames(clusters.map(clusterKey), sink);
}

/** Cluster names are unique; returns them. */
function checkClusterNames(clusters: readonly ClusterKey[], sink: IssueSink): Set<string> {
  const seen = new Map<string, string>();
  for (const { name, namePath, path } of clusters) {
    if (name === undefined || name === "") continue;
    const first = seen.get(name);
    if (first !== undefined) sink.error(namePath, `cluster manager: duplicate cluster '${name}' (first defined at ${first})`);
    else seen.set(name, path);
  }
  return new Set(seen.keys());
}

/** The checks on one cluster alone. */
function checkCluster(cluster: MessageValue, sink: IssueSink): void {
  const type = cluster.type ?? STATIC;
  if (type === STATIC && cluster.cluster_type === undefined) checkStaticEndpoints(cluster, sink);
  // envoyproxy/envoy source/extensions/clusters/eds/eds.cc, EdsClusterFactory::createClusterImpl.
  if (type === EDS && cluster.eds_cluster_config === undefined && !wasUnreadable(cluster, "eds_cluster_config")) {
    sink.error(
      fieldPath(cluster, "type"),
      'cannot create an EDS cluster without an EDS config (set "eds_cluster_config" with an "eds_config")',
    );
  }
}

/** A STATIC cluster's endpoints are used as they are: they must be IP literals. */
function checkStaticEndpoints(cluster: MessageValue, sink: IssueSink): void {
  for (const locality of list(sub(cluster, "load_assignment"), "endpoints")) {
    for (const lbEndpoint of list(locality, "lb_endpoints")) {
      const socket = sub(sub(sub(lbEndpoint, "endpoint"), "address"), "socket_address");
      const address = str(socket, "address");
      if (!socket || address === undefined || str(socket, "resolver_name")) continue;
      if (isIP(address) === 0) {
        sink.error(
          fieldPath(socket, "address"),
          `malformed IP address: ${address} (a STATIC cluster takes IP addresses; use type STRICT_DNS to resolve a name)`,
        );
      }
    }
  }
}

/** Where a listener is, what it is called and where it binds: all the checks across listeners need. */
export interface ListenerKey {
  readonly name: string;
  readonly namePath: string;
  readonly path: string;
  readonly addressPath: string;
  /** The address and port it binds to, when it binds to a port of an IP address. */
  readonly binds?: { readonly key: string; readonly address: string; readonly port: number };
}

function listenerKey(listener: MessageValue): ListenerKey {
  const name = str(listener, "name") ?? "";
  const key = { name, namePath: fieldPath(listener, "name"), path: pathOf(listener), addressPath: fieldPath(listener, "address") };
  const socket = sub(sub(listener, "address"), "socket_address");
  const address = str(socket, "address");
  if (!socket || address === undefined || str(socket, "resolver_name") || isIP(address) === 0) return key;
  const port = typeof socket.port_value === "number" ? socket.port_value : 0;
  const bind = listener.bind_to_port;
  const binds = !(bind instanceof WrapperValue && bind.value === false);
  const protocol = typeof socket.protocol === "number" ? socket.protocol : 0;
  return port !== 0 && binds ? { ...key, binds: { key: `${address}|${port}|${protocol}`, address, port } } : key;
}

function checkListeners(listeners: readonly MessageValue[], sink: IssueSink): void {
  for (const listener of listeners) checkListener(listener, sink);
  checkListenerKeys(listeners.map(listenerKey), sink);
}

/** Listener names are unique, and no two listeners bind the same address and port. */
function checkListenerKeys(listeners: readonly ListenerKey[], sink: IssueSink): void {
  const names = new Map<string, string>();
  const addresses = new Map<string, { name: string; path: string }>();
  for (const { name, namePath, path, addressPath, binds } of listeners) {
    if (name !== "") {
      const first = names.get(name);
      if (first !== undefined) sink.error(namePath, `duplicate listener name '${name}' (first used at ${first})`);
      else names.set(name, path);
    }
    if (binds === undefined) continue;
    const first = addresses.get(binds.key);
    if (first) {
      sink.error(
        addressPath,
        `error adding listener: '${name}' has duplicate address '${describeAddress(binds.address, binds.port)}' as existing listener '${first.name}' (${first.path})`,
      );
    } else addresses.set(binds.key, { name, path });
  }
}

/** The checks on one listener alone. */
function checkListener(listener: MessageValue, sink: IssueSink): void {
  const name = str(listener, "name") ?? "";
  const socket = sub(sub(listener, "address"), "socket_address");
  const address = str(socket, "address");
  if (socket && address !== undefined && !str(socket, "resolver_name") && isIP(address) === 0) {
    sink.error(fieldPath(socket, "address"), `malformed IP address: ${address} (a listener binds to an IP address)`);
  }
  const matches = new Map<string, string>();
  for (const chain of list(listener, "filter_chains")) {
    const match = stableText(chain.filter_chain_match);
    const first = matches.get(match);
    if (first !== undefined) {
      sink.error(
        pathOf(chain),
        `error adding listener '${name}': multiple filter chains with the same matching rules are defined (same filter_chain_match as ${first})`,
      );
    } else matches.set(match, pathOf(chain));
  }
  const chains = [...list(listener, "filter_chains")];
  const defaultChain = sub(listener, "default_filter_chain");
  if (defaultChain) chains.push(defaultChain);
  // Envoy's ListenerInfoImpl: a listener is QUIC when udp_listener_config has quic_options;
  // a UDP address makes a datagram listener (envoyproxy/envoy source/common/listener_manager).
  const udp = socket !== undefined && socket.protocol === UDP;
  const quic = sub(sub(listener, "udp_listener_config"), "quic_options") !== undefined;
  for (const filter of list(listener, "listener_filters")) {
    if (udp && !quic) checkSlot(filter, UDP_LISTENER_FILTER_SLOT, sink);
    else {
      const udpFilter = anyOf(filter, "typed_config")?.typeName.startsWith(UDP_LISTENER_FILTER_SLOT.prefixes[0]) ?? false;
      checkSlot(filter, LISTENER_FILTER_SLOT, sink, !udp && udpFilter ? LISTENER_FILTER_HINT : "");
    }
  }
  for (const chain of chains) {
    const filters = list(chain, "filters");
    checkFilterOrder(filters, "network", TERMINAL_NETWORK_FILTERS, sink);
    for (const filter of filters) checkCodecForListener(filter, quic, sink);
  }
}

const LISTENER_FILTER_HINT = " (a UDP listener filter such as the UDP proxy needs protocol: UDP in the listener's socket_address)";

/**
 * envoyproxy/envoy source/extensions/filters/network/http_connection_manager/config.cc: the
 * HTTP/3 codec needs a QUIC listener, and a QUIC listener needs the HTTP/3 codec.
 */
function checkCodecForListener(filter: MessageValue, quic: boolean, sink: IssueSink): void {
  const config = anyOf(filter, "typed_config");
  if (config?.typeName !== HCM_TYPE || !config.message) return;
  const hcm = config.message;
  const http3 = hcm.codec_type === HTTP3;
  if (http3 && !quic) {
    sink.error(
      fieldPath(hcm, "codec_type"),
      "HTTP/3 codec configured on non-QUIC listener. (HTTP/3 needs a UDP listener with udp_listener_config.quic_options)",
    );
  } else if (!http3 && quic) {
    sink.error(
      hcm.codec_type === undefined ? pathOf(hcm) : fieldPath(hcm, "codec_type"),
      "Non-HTTP/3 codec configured on QUIC listener. (set codec_type: HTTP3)",
    );
  }
}

function checkAdmin(admin: MessageValue | undefined, sink: IssueSink): void {
  const socket = sub(sub(admin, "address"), "socket_address");
  const address = str(socket, "address");
  if (socket && address !== undefined && !str(socket, "resolver_name") && isIP(address) === 0) {
    sink.error(fieldPath(socket, "address"), `malformed IP address: ${address} (the admin listener binds to an IP address)`);
  }
}

/**
 * Filters, access loggers, transport sockets, tracers and the like name their implementation
 * by the `@type` of `typed_config`; without it (or an extension config discovery source) Envoy
 * has nothing to instantiate.
 */
function checkExtensionConfig(m: MessageValue, sink: IssueSink): void {
  const type = typeOf(m);
  const oneof = type === undefined ? undefined : configTypeOneof(type);
  // A typed_config that was given but could not be read (unknown "@type") is reported there.
  if (!oneof || oneof.fields.some((f) => m[f.name] !== undefined || wasUnreadable(m, f.name))) return;
  const name = str(m, "name");
  const options = oneof.fields.map((f) => `"${f.name}"`).join(" or ");
  sink.error(
    pathOf(m),
    name
      ? `'${name}' has no typed_config: Envoy finds the implementation by the "@type" in typed_config (Envoy: Didn't find a registered implementation for name: '${name}'); set ${options}`
      : `no typed_config: set ${options}`,
  );
}

/** The `config_type` oneof holding a `typed_config`, per message type (null: none). */
const configTypeOneofs = new WeakMap<DescMessage, DescOneof | null>();

function configTypeOneof(type: DescMessage): DescOneof | undefined {
  let oneof = configTypeOneofs.get(type);
  if (oneof === undefined) {
    oneof = type.oneofs.find((o) => o.name === "config_type" && o.fields.some((f) => f.name === "typed_config")) ?? null;
    configTypeOneofs.set(type, oneof);
  }
  return oneof ?? undefined;
}

/** Envoy: the terminal filter must be last, and the last filter must be terminal. */
function checkFilterOrder(
  filters: readonly MessageValue[],
  kind: "network" | "http" | "http upgrade",
  terminal: ReadonlySet<string>,
  sink: IssueSink,
): void {
  filters.forEach((filter, i) => {
    const config = anyOf(filter, "typed_config");
    if (!config) return;
    const name = str(filter, "name") ?? "";
    const isLast = i === filters.length - 1;
    const isTerminal = terminal.has(config.typeName);
    if (isTerminal && !isLast) {
      sink.error(
        pathOf(filter),
        `terminal filter named ${name} of type ${config.typeName} must be the last filter in a ${kind} filter chain.`,
      );
    } else if (!isTerminal && isLast && config.messageType !== undefined) {
      sink.error(
        pathOf(filter),
        `non-terminal filter named ${name} of type ${config.typeName} is the last filter in a ${kind} filter chain.`,
      );
    }
  });
}

function checkHttpConnectionManager(hcm: MessageValue, clusterNames: ReadonlySet<string> | undefined, sink: IssueSink): void {
  checkFilterOrder(list(hcm, "http_filters"), "http", TERMINAL_HTTP_FILTERS, sink);
  for (const upgrade of list(hcm, "upgrade_configs")) {
    checkFilterOrder(list(upgrade, "filters"), "http upgrade", TERMINAL_HTTP_FILTERS, sink);
  }
  checkPerFilterConfigs(hcm, sink);
  const routeConfig = sub(hcm, "route_config");
  if (routeConfig) checkRouteTable(routeConfig, clusterNames, sink);
}

/** A route table, inline or from an RDS file; its clusters are checked when they are known. */
function checkRouteTable(routeConfig: MessageValue, clusterNames: ReadonlySet<string> | undefined, sink: IssueSink): void {
  if (clusterNames !== undefined) checkRouteClusters(routeConfig, clusterNames, sink);
  checkWeightedClusters(routeConfig, sink);
  checkDomains(routeConfig, sink);
}

/** Envoy: a domain may appear in only one virtual host of a route table. */
function checkDomains(routeConfig: MessageValue, sink: IssueSink): void {
  const seen = new Map<string, string>();
  for (const vhost of list(routeConfig, "virtual_hosts")) {
    const domains = vhost.domains;
    if (!Array.isArray(domains)) continue;
    domains.forEach((d, i) => {
      if (typeof d !== "string") return;
      const key = d.toLowerCase();
      const first = seen.get(key);
      const path = `${fieldPath(vhost, "domains")}[${i}]`;
      if (first !== undefined) {
        sink.error(
          path,
          `Only unique values for domains are permitted. Duplicate entry of domain ${key} in route ${str(routeConfig, "name") ?? ""} (first at ${first})`,
        );
      } else seen.set(key, path);
    });
  }
}

const MAX_UINT32 = 4294967295;

/**
 * Envoy's rules for weighted_clusters (source/common/router/weighted_cluster_specifier.cc in
 * envoyproxy/envoy): every entry needs its weight (PROTOBUF_GET_WRAPPED_REQUIRED), and the sum of
 * the weights must be above 0 and fit in 32 bits; `total_weight` is deprecated and not used.
 */
function checkWeightedClusters(routeConfig: MessageValue, sink: IssueSink): void {
  for (const vhost of list(routeConfig, "virtual_hosts")) {
    for (const route of list(vhost, "routes")) {
      const weighted = sub(sub(route, "route"), "weighted_clusters");
      if (!weighted) continue;
      let sum = 0;
      for (const entry of list(weighted, "clusters")) {
        const weight = entry.weight;
        if (weight instanceof WrapperValue) sum += Number(weight.value);
        else if (!wasUnreadable(entry, "weight")) sink.error(pathOf(entry), `Field 'weight' is missing in: ${str(entry, "name") ?? "a weighted cluster"} (every weighted cluster needs its weight)`);
      }
      const name = str(route, "name") ?? "";
      if (sum === 0) sink.error(fieldPath(weighted, "clusters"), "Sum of weights in the weighted_cluster must be greater than 0.");
      else if (sum > MAX_UINT32) sink.error(fieldPath(weighted, "clusters"), `The sum of weights of all weighted clusters of route ${name} exceeds ${MAX_UINT32}`);
    }
  }
}

/** Inline route tables are checked against the static clusters unless validate_clusters is false. */
function checkRouteClusters(routeConfig: MessageValue, clusterNames: ReadonlySet<string>, sink: IssueSink): void {
  const validate = routeConfig.validate_clusters;
  if (validate instanceof WrapperValue && validate.value === false) return;
  const check = (m: MessageValue, field: string, what: string): void => {
    const name = str(m, field);
    if (name !== undefined && name !== "" && !clusterNames.has(name)) {
      sink.error(fieldPath(m, field), `route: unknown ${what}'${name}' (no such cluster in static_resources.clusters)`);
    }
  };
  for (const vhost of list(routeConfig, "virtual_hosts")) {
    for (const route of list(vhost, "routes")) {
      const action = sub(route, "route");
      if (!action) continue;
      check(action, "cluster", "cluster ");
      for (const weighted of list(sub(action, "weighted_clusters"), "clusters")) check(weighted, "name", "weighted cluster ");
      for (const mirror of list(action, "request_mirror_policies")) check(mirror, "cluster", "shadow cluster ");
    }
  }
}
