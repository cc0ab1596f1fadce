import { FRONT_PROXY_NAME, compare, versionWorkloadName, type EdgePolicy, type FrontRoute, type MeshService, type ServiceVersion, type Topology } from "../topology";
import { declaredCallers, spiffeId } from "./identity";
import {
  ADMIN_CLUSTER,
  APP_HEALTH_PATH,
  EDGE_SECRET,
  FRONT_LISTENER,
  FRONT_TLS_LISTENER,
  HEALTH_LISTENER,
  IDENTITY_SECRET,
  INGRESS_LISTENER,
  LOCAL_APP_CLUSTER,
  MESH_CA_SECRET,
  NOT_DELIVERED_HEADER,
  PROMETHEUS_PATH,
  READY_PATH,
  SDS_FILES,
  STATS_PATH,
  egressListenerName,
  egressStatPrefix,
  upstreamClusterName,
  versionClusterName,
} from "./names";
import { splitByVersion, versionsOf } from "./versions";
import {
  ANY_ADDRESS,
  LOOPBACK,
  makeBootstrap,
  makeDnsCluster,
  makeHttpConnectionManager,
  makeHttpsRedirectRoute,
  makeListener,
  makeNotFoundRoute,
  makePathRoute,
  makePrefixRoute,
  makeRoute,
  makeStaticCluster,
  type EnvoyObject,
} from "./resources";
import { hostChecks, upstreamAlpn, withClusterPolicy, withRoutePolicy } from "./policy";
import {
  makeCallerRbacFilter,
  makeDeniedCallerReply,
  makeEdgeDownstreamTls,
  makeEdgeSdsFile,
  makeIdentitySdsFile,
  makeMeshCaSdsFile,
  makeMeshDownstreamTls,
  makeMeshUpstreamTls,
} from "./tls";
import { makeClientTraceReset, makeCollectorCluster, makeJsonLogFormat, makeTracing, spanNames, withDecorator, type LogDirection } from "./telemetry";
import { frontEdgeOptions, frontRouteConfigs, upstreamRouteConfigs, edgeFiltersFor, withFilterConfigs } from "./edge";

/**
 * What the Envoy builders need from the platform the mesh runs on, and nothing else: the DNS
 * name under which a caller finds every replica of a service (each replica's Envoy ingress).
 * Each deploy layer supplies it (k8s: the headless Service's FQDN; docker: the network alias),
 * so listeners, routes and clusters are the same on every target.
 */
export interface EnvoyTarget {
  upstreamHost(service: string): string;
  /** The namespace part of every proxy's SPIFFE ID: the Kubernetes namespace, or the docker target's name. */
  readonly namespace: string;
  /**
   * The port clients reach the front proxy's HTTPS on (8443 on the local targets, 443 behind a
   * cloud load balancer), where a plain HTTP redirect sends them; undefined when the edge has no
   * certificate, so the front proxy serves no HTTPS.
   */
  readonly edgeHttpsPort?: number;
  /** Where every proxy sends its trace spans (OTLP over gRPC), and how many requests it samples; undefined: no tracing. */
  readonly tracing?: EnvoyTracing;
}

/**
 * Distributed tracing of the mesh: every proxy reports spans with Envoy's OpenTelemetry tracer
 * to one collector, and propagates W3C `traceparent`.
 */
export interface EnvoyTracing {
  /** The collector's host name (resolved by DNS, re-resolved as upstreams are) or IP. */
  readonly collectorHost: string;
  /** Its OTLP/gRPC port, 4317 by convention. */
  readonly collectorPort: number;
  /** Percent of requests a trace is started for at the edge (0-100); callers' decisions are kept downstream. */
  readonly samplingPercent: number;
  /**
   * Whether the front continues a trace its client started (the client's `traceparent` decides
   * sampling and the trace ID). Default: false, the front drops the client's trace context and
   * starts its own trace at `samplingPercent`.
   */
  readonly continueClientTraces?: boolean;
}

/** Below the demo app's 65 s keep-alive timeout (KEEP_ALIVE_TIMEOUT_MS in app/server.ts). */
export const APP_IDLE_TIMEOUT_SECONDS = 60;

export interface ProxyConfig {
  /** `front-envoy` or a service name; names the ConfigMap and the rendered file. */
  readonly proxy: string;
  readonly bootstrap: EnvoyObject;
  /**
   * The SDS files the bootstrap reads, by file name (SDS_FILES), each an xDS DiscoveryResponse
   * holding one Secret; every target puts them in ENVOY_CONFIG_DIR next to the bootstrap.
   */
  readonly sdsFiles: Readonly<Record<string, EnvoyObject>>;
}

/**
 * Lets the kubelet reach `/ready`, Prometheus and `npm run status` read stats on the pod IP
 * without exposing the admin API, which stays on 127.0.0.1. Everything else answers 404. It stays
 * in the bootstrap (envoy/xds.ts), so it answers before the xDS files are read.
 */
function makeHealthListener(topology: Topology): EnvoyObject {
  return makeListener({
    name: HEALTH_LISTENER,
    address: ANY_ADDRESS,
    port: topology.ports.health,
    direction: "INBOUND",
    httpConnectionManager: makeHttpConnectionManager({
      statPrefix: HEALTH_LISTENER,
      routeConfigName: HEALTH_LISTENER,
      routes: [makePathRoute(READY_PATH, ADMIN_CLUSTER), makePathRoute(PROMETHEUS_PATH, ADMIN_CLUSTER), makePathRoute(STATS_PATH, ADMIN_CLUSTER), makeNotFoundRoute()],
    }),
  });
}

/**
 * Connect timeout of the admin cluster: a loopback connection inside the pod. Fixed rather than
 * `envoy.connectTimeoutMs`, because this cluster is in the bootstrap (envoy/xds.ts): a timeout
 * change for the mesh's clusters then reloads live instead of rolling every pod.
 */
export const ADMIN_CONNECT_TIMEOUT_MS = 250;

function makeAdminCluster(topology: Topology): EnvoyObject {
  return makeStaticCluster(ADMIN_CLUSTER, LOOPBACK, topology.ports.admin, ADMIN_CONNECT_TIMEOUT_MS);
}

/**
 * Cluster on the name of every replica of a service (a headless Service, a network alias), aimed at the callee's sidecar ingress. Each pod
 * is health-checked on the app's `/healthz` through that ingress, which tests the sidecar and
 * the app together: a pod whose app is draining (503) or gone (the sidecar's 503) stops getting
 * requests within one check interval, however long DNS keeps listing it.
 */
function makeUpstreamCluster(service: string, policy: EdgePolicy, topology: Topology, target: EnvoyTarget, edge = false, version?: ServiceVersion): EnvoyObject {
  // A version's pods have their own name; they hold the service's identity, which mTLS checks.
  const host = target.upstreamHost(version === undefined ? service : versionWorkloadName(service, version.name));
  const name = version === undefined ? upstreamClusterName(service) : versionClusterName(service, version.name);
  const cluster = makeDnsCluster(name, host, topology.ports.ingress, topology.envoy.connectTimeoutMs, {
    edge,
    ...hostChecks(policy, APP_HEALTH_PATH),
    ...(mtls(topology) ? { transportSocket: makeMeshUpstreamTls(sniOf(host), proxyIdentity(topology, target, service), upstreamAlpn(policy)) } : {}),
  });
  return withClusterPolicy(cluster, policy, edge);
}

/** A caller's clusters for `service`: one, or one per version, each with the edge's policy. */
function makeUpstreamClusters(service: string, policy: EdgePolicy, topology: Topology, target: EnvoyTarget, edge = false): EnvoyObject[] {
  const versions = versionsOf(topology, service);
  if (versions === undefined) return [makeUpstreamCluster(service, policy, topology, target, edge)];
  return versions.map((version) => makeUpstreamCluster(service, policy, topology, target, edge, version));
}

/** Whether proxies talk mutual TLS and check callers (`security.mtls: strict`). */
function mtls(topology: Topology): boolean {
  return topology.security.mtls === "strict";
}

/** A proxy's SPIFFE ID on this target. */
export function proxyIdentity(topology: Topology, target: EnvoyTarget, proxy: string): string {
  return spiffeId(topology.security.trustDomain, target.namespace, proxy);
}

/** The TLS server name of a host: a DNS name has no trailing dot in SNI (RFC 6066, section 3). */
export function sniOf(host: string): string {
  return host.replace(/\.$/, "");
}

/** The SDS files a proxy's bootstrap reads: its identity and the mesh CA with mTLS, the edge certificate on an HTTPS front. */
function sdsFilesOf(topology: Topology, edge: boolean): Record<string, EnvoyObject> {
  return {
    ...(mtls(topology) ? { [SDS_FILES[IDENTITY_SECRET]]: makeIdentitySdsFile(), [SDS_FILES[MESH_CA_SECRET]]: makeMeshCaSdsFile() } : {}),
    ...(edge ? { [SDS_FILES[EDGE_SECRET]]: makeEdgeSdsFile() } : {}),
  };
}

/**
 * One front route as Envoy routes. prefix_rewrite swaps exactly the matched characters, and a
 * bare prefix `/d` also matches `/dx` (route_components.proto; source/common/router/config_impl.cc
 * in envoyproxy/envoy), so a prefix `/d` with rewrite `/` becomes two routes: the exact path `/d`
 * rewritten to `/`, and the prefix `/d/` rewritten to `/` (`/d/x` → `/x`). A rewrite that leaves
 * the matched text as it is is left out, so the root route `/` stays one plain prefix route.
 */
export function makeFrontRoutes(route: FrontRoute, cluster: string): EnvoyObject[] {
  const { prefix, prefixRewrite } = route;
  const rewrite = (matched: string, to: string) => ({ prefixRewrite: matched === to ? undefined : to });
  const below = prefixRewrite.endsWith("/") ? prefixRewrite : `${prefixRewrite}/`;
  if (prefix === "/" && prefixRewrite === "/") return withRoutePolicy(makePrefixRoute("/", cluster), route.policy);
  const exact = makeRoute({ path: prefix }, cluster, rewrite(prefix, prefixRewrite));
  const under = prefix === "/" ? "/" : `${prefix}/`;
  return [exact, makePrefixRoute(under, cluster, rewrite(under, below))].flatMap((r) => withRoutePolicy(r, route.policy));
}

/**
 * What every traffic-carrying connection manager of `proxy` shares (never the health listener's):
 * the mesh's one JSON access log schema, with the caller's identity when mTLS is on, and the
 * tracer when the target traces.
 */
function telemetryOptions(topology: Topology, target: EnvoyTarget, proxy: string, direction: LogDirection) {
  return {
    accessLog: true,
    accessLogFormat: makeJsonLogFormat(proxy, direction, mtls(topology)),
    ...(target.tracing !== undefined ? { tracing: makeTracing(target.tracing, proxy) } : {}),
  };
}

/** `routes` named for tracing as `operation` when the target traces; as they are otherwise. */
function decorated(routes: readonly EnvoyObject[], target: EnvoyTarget, operation: string): EnvoyObject[] {
  return target.tracing === undefined ? [...routes] : routes.map((route) => withDecorator(route, operation));
}

/** The collector cluster every proxy sends its spans to, when the target traces. */
function collectorClusters(topology: Topology, target: EnvoyTarget): EnvoyObject[] {
  return target.tracing === undefined ? [] : [makeCollectorCluster(target.tracing, topology.envoy.connectTimeoutMs)];
}

/**
 * A front listener: `routes` with the edge settings, the access log and the tracer, over TLS when
 * `transportSocket` is given.
 */
function makeFrontListener(name: string, port: number, routes: readonly EnvoyObject[], topology: Topology, target: EnvoyTarget, transportSocket?: EnvoyObject): EnvoyObject {
  return makeListener({
    name,
    address: ANY_ADDRESS,
    port,
    direction: "INBOUND",
    edge: true,
    httpConnectionManager: makeHttpConnectionManager({
      statPrefix: name,
      routeConfigName: name,
      routes,
      ...telemetryOptions(topology, target, FRONT_PROXY_NAME, "inbound"),
      ...(target.tracing !== undefined && target.tracing.continueClientTraces !== true ? { earlyHeaderMutations: [makeClientTraceReset()] } : {}),
      edge: true,
      // Edge protection and faults (envoy/edge.ts): the filters its routes use, their answers' bodies, the timeouts.
      ...frontEdgeOptions(topology.front.protection, routes),
    }),
    ...(transportSocket !== undefined ? { transportSocket } : {}),
  });
}

/** The cluster policy of the front's cluster of `service`: every route to it agrees on it (topology/parse.ts). */
function frontClusterPolicy(topology: Topology, service: string): EdgePolicy {
  return topology.front.routes.find((r) => r.service === service)?.policy ?? topology.policy;
}

/**
 * The edge proxy: routes each prefix to its service's sidecars, logs every request. HTTPS on
 * `ports.frontTls` when the target has an edge certificate; plain HTTP on `ports.front` serves
 * the same routes, redirects to HTTPS, or is off (`front.plainHttp`).
 */
export function buildFrontProxyConfig(topology: Topology, target: EnvoyTarget): ProxyConfig {
  const routed = [...new Set(topology.front.routes.map((r) => r.service))].sort(compare);
  const routes = topology.front.routes.flatMap((r) =>
    splitByVersion(
      decorated(makeFrontRoutes(r, upstreamClusterName(r.service)), target, spanNames.front(r.prefix, r.service)).map((route) =>
        withFilterConfigs(route, frontRouteConfigs(r.protection, r.fault)),
      ),
      r.service,
      versionsOf(topology, r.service),
    ),
  );
  const { plainHttp } = topology.front;
  const httpsPort = target.edgeHttpsPort;
  if (plainHttp !== "serve" && httpsPort === undefined) {
    throw new Error(
      `front.plainHttp is "${plainHttp}", but this target has no edge certificate, so the front proxy serves no HTTPS: ` +
        `nothing would answer. Give the target an edge certificate, or set front.plainHttp to "serve".`,
    );
  }
  const plain =
    plainHttp === "off"
      ? []
      : [
          makeFrontListener(
            FRONT_LISTENER,
            topology.ports.front,
            plainHttp === "redirect" && httpsPort !== undefined ? decorated([makeHttpsRedirectRoute(httpsPort)], target, spanNames.frontRedirect()) : routes,
            topology,
            target,
          ),
        ];
  const https = httpsPort === undefined ? [] : [makeFrontListener(FRONT_TLS_LISTENER, topology.ports.frontTls, routes, topology, target, makeEdgeDownstreamTls())];
  return {
    proxy: FRONT_PROXY_NAME,
    sdsFiles: sdsFilesOf(topology, httpsPort !== undefined),
    bootstrap: makeBootstrap({
      nodeCluster: FRONT_PROXY_NAME,
      adminPort: topology.ports.admin,
      listeners: [...plain, ...https, makeHealthListener(topology)],
      clusters: [
        ...routed.flatMap((s) => makeUpstreamClusters(s, frontClusterPolicy(topology, s), topology, target, true)),
        ...collectorClusters(topology, target),
        makeAdminCluster(topology),
      ],
    }),
  };
}

/**
 * A service's sidecar: ingress on the pod IP to the local app, one loopback egress listener per
 * upstream (sorted, so the app's call order does not change the config), and the health listener.
 */
export function buildSidecarConfig(topology: Topology, service: MeshService, target: EnvoyTarget): ProxyConfig {
  const upstreams = [...service.upstreams].sort((a, b) => compare(a.service, b.service));
  const { connectTimeoutMs } = topology.envoy;
  // With mTLS: only TLS with a mesh client certificate gets in, only declared callers get past
  // RBAC (403 naming the caller otherwise), the log says who called (telemetryOptions), and the app is told.
  const callers = declaredCallers(topology, service.name).map((caller) => proxyIdentity(topology, target, caller));
  const secured = mtls(topology)
    ? {
        replyMappers: [makeDeniedCallerReply(service.name)],
        httpFilters: [makeCallerRbacFilter(callers)],
        forwardClientIdentity: true,
      }
    : {};
  const ingress = makeListener({
    name: INGRESS_LISTENER,
    address: ANY_ADDRESS,
    port: topology.ports.ingress,
    direction: "INBOUND",
    httpConnectionManager: makeHttpConnectionManager({
      statPrefix: INGRESS_LISTENER,
      routeConfigName: INGRESS_LISTENER,
      routes: decorated([makePrefixRoute("/", LOCAL_APP_CLUSTER)], target, spanNames.ingress(service.name)),
      ...telemetryOptions(topology, target, service.name, "inbound"),
      // Callers retry a request the app never received on another pod; nothing else.
      notDeliveredHeader: NOT_DELIVERED_HEADER,
      ...secured,
    }),
    ...(mtls(topology) ? { transportSocket: makeMeshDownstreamTls() } : {}),
  });
  const egress = upstreams.map((u) => {
    // An injected fault on this edge (opt-in): the fault filter with the route's settings.
    const routes = splitByVersion(
      decorated(withRoutePolicy(makePrefixRoute("/", upstreamClusterName(u.service)), u.policy), target, spanNames.egress(service.name, u.service)).map((r) =>
        withFilterConfigs(r, upstreamRouteConfigs(u.fault)),
      ),
      u.service,
      versionsOf(topology, u.service),
    );
    return makeListener({
      name: egressListenerName(u.service),
      address: LOOPBACK,
      port: u.egressPort,
      direction: "OUTBOUND",
      httpConnectionManager: makeHttpConnectionManager({
        statPrefix: egressStatPrefix(u.service),
        routeConfigName: egressListenerName(u.service),
        routes,
        httpFilters: edgeFiltersFor(routes),
        // Egress logs too: what only the caller sees (its retries' last host, a circuit breaker's
        // UO, an ejected or unreachable callee's UH/UF, its timeouts) never reaches the callee's log.
        ...telemetryOptions(topology, target, service.name, "outbound"),
      }),
    });
  });
  return {
    proxy: service.name,
    sdsFiles: sdsFilesOf(topology, false),
    bootstrap: makeBootstrap({
      nodeCluster: service.name,
      adminPort: topology.ports.admin,
      listeners: [ingress, ...egress, makeHealthListener(topology)],
      clusters: [
        makeStaticCluster(LOCAL_APP_CLUSTER, LOOPBACK, service.appPort, connectTimeoutMs, { idleTimeoutSeconds: APP_IDLE_TIMEOUT_SECONDS }),
        ...upstreams.flatMap((u) => makeUpstreamClusters(u.service, u.policy, topology, target)),
        ...collectorClusters(topology, target),
        makeAdminCluster(topology),
      ],
    }),
  };
}

/** Every proxy of the mesh: the front proxy first, then each service's sidecar by name. */
export function buildMeshConfigs(topology: Topology, target: EnvoyTarget): readonly ProxyConfig[] {
  return [
    buildFrontProxyConfig(topology, target),
    ...topology.services.map((service) => buildSidecarConfig(topology, service, target)),
  ];
}
