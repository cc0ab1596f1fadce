import { FRONT_PROXY_NAME, compare, type FrontRoute, type MeshService, type Topology } from "../topology";
import {
  ADMIN_CLUSTER,
  APP_HEALTH_PATH,
  FRONT_LISTENER,
  HEALTH_LISTENER,
  INGRESS_LISTENER,
  LOCAL_APP_CLUSTER,
  NOT_DELIVERED_HEADER,
  PROMETHEUS_PATH,
  READY_PATH,
  egressListenerName,
  egressStatPrefix,
  upstreamClusterName,
} from "./names";
import {
  ANY_ADDRESS,
  LOOPBACK,
  makeBootstrap,
  makeDnsCluster,
  makeHttpConnectionManager,
  makeListener,
  makeNotFoundRoute,
  makePathRoute,
  makePrefixRoute,
  makeRoute,
  makeStaticCluster,
  type EnvoyObject,
} from "./resources";

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
 * Lets the kubelet reach `/ready` and Prometheus stats on the pod IP without exposing the
 * admin API, which stays on 127.0.0.1. Everything else answers 404.
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
      routes: [makePathRoute(READY_PATH, ADMIN_CLUSTER), makePathRoute(PROMETHEUS_PATH, ADMIN_CLUSTER), makeNotFoundRoute()],
    }),
  });
}

function makeAdminCluster(topology: Topology): EnvoyObject {
  return makeStaticCluster(ADMIN_CLUSTER, LOOPBACK, topology.ports.admin, topology.envoy.connectTimeoutMs);
}

/**
 * Cluster on the name of every replica of a service (a headless Service, a network alias), aimed at the callee's sidecar ingress. Each pod
 * is health-checked on the app's `/healthz` through that ingress, which tests the sidecar and
 * the app together: a pod whose app is draining (503) or gone (the sidecar's 503) stops getting
 * requests within one check interval, however long DNS keeps listing it.
 */
function makeUpstreamCluster(service: string, topology: Topology, target: EnvoyTarget, edge = false): EnvoyObject {
  return makeDnsCluster(
    upstreamClusterName(service),
    target.upstreamHost(service),
    topology.ports.ingress,
    topology.envoy.connectTimeoutMs,
    { edge, healthCheckPath: APP_HEALTH_PATH },
  );
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
  const rewrite = (matched: string, to: string) => ({ retry: true, prefixRewrite: matched === to ? undefined : to });
  const below = prefixRewrite.endsWith("/") ? prefixRewrite : `${prefixRewrite}/`;
  if (prefix === "/" && prefixRewrite === "/") return [makePrefixRoute("/", cluster, { retry: true })];
  const exact = makeRoute({ path: prefix }, cluster, rewrite(prefix, prefixRewrite));
  const under = prefix === "/" ? "/" : `${prefix}/`;
  return [exact, makePrefixRoute(under, cluster, rewrite(under, below))];
}

/** The edge proxy: routes each prefix to its service's sidecars, logs every request. */
export function buildFrontProxyConfig(topology: Topology, target: EnvoyTarget): ProxyConfig {
  const routed = [...new Set(topology.front.routes.map((r) => r.service))].sort(compare);
  const listener = makeListener({
    name: FRONT_LISTENER,
    address: ANY_ADDRESS,
    port: topology.ports.front,
    direction: "INBOUND",
    edge: true,
    httpConnectionManager: makeHttpConnectionManager({
      statPrefix: FRONT_LISTENER,
      routeConfigName: FRONT_LISTENER,
      routes: topology.front.routes.flatMap((r) => makeFrontRoutes(r, upstreamClusterName(r.service))),
      accessLog: true,
      edge: true,
    }),
  });
  return {
    proxy: FRONT_PROXY_NAME,
    sdsFiles: {},
    bootstrap: makeBootstrap({
      nodeCluster: FRONT_PROXY_NAME,
      adminPort: topology.ports.admin,
      listeners: [listener, makeHealthListener(topology)],
      clusters: [...routed.map((s) => makeUpstreamCluster(s, topology, target, true)), makeAdminCluster(topology)],
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
  const ingress = makeListener({
    name: INGRESS_LISTENER,
    address: ANY_ADDRESS,
    port: topology.ports.ingress,
    direction: "INBOUND",
    httpConnectionManager: makeHttpConnectionManager({
      statPrefix: INGRESS_LISTENER,
      routeConfigName: INGRESS_LISTENER,
      routes: [makePrefixRoute("/", LOCAL_APP_CLUSTER)],
      accessLog: true,
      // Callers retry a request the app never received on another pod; nothing else.
      notDeliveredHeader: NOT_DELIVERED_HEADER,
    }),
  });
  const egress = upstreams.map((u) =>
    makeListener({
      name: egressListenerName(u.service),
      address: LOOPBACK,
      port: u.egressPort,
      direction: "OUTBOUND",
      httpConnectionManager: makeHttpConnectionManager({
        statPrefix: egressStatPrefix(u.service),
        routeConfigName: egressListenerName(u.service),
        routes: [makePrefixRoute("/", upstreamClusterName(u.service), { retry: true })],
      }),
    }),
  );
  return {
    proxy: service.name,
    sdsFiles: {},
    bootstrap: makeBootstrap({
      nodeCluster: service.name,
      adminPort: topology.ports.admin,
      listeners: [ingress, ...egress, makeHealthListener(topology)],
      clusters: [
        makeStaticCluster(LOCAL_APP_CLUSTER, LOOPBACK, service.appPort, connectTimeoutMs, { idleTimeoutSeconds: APP_IDLE_TIMEOUT_SECONDS }),
        ...upstreams.map((u) => makeUpstreamCluster(u.service, topology, target)),
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
