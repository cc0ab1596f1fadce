import { strict as assert } from "node:assert";
import { buildFrontProxyConfig, buildSidecarConfig, type EnvoyTarget } from "../../envoy";
import { envoyConfigProblems, renderEnvoyConfig } from "../../envoy/check";
import { IDEMPOTENT_METHODS, withRoutePolicy } from "../../envoy/policy";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology, type Topology } from "../../topology";

const KIND_NAMES = { namespace: "mesh", clusterDomain: "cluster.local" };
const TARGET: EnvoyTarget = { namespace: "mesh", upstreamHost: (service) => kubernetesEnvoyTarget(KIND_NAMES).upstreamHost(service) };

/** The seed mesh with `override` on A's call to B and `mesh` as topology.policy. */
function seed(override?: unknown, mesh?: unknown, rest: Record<string, unknown> = {}): Topology {
  return parseTopology({
    extends: "seed",
    ...(mesh !== undefined ? { policy: mesh } : {}),
    services: [{ name: "service-a", upstreams: [{ service: "service-b", ...(override !== undefined ? { policy: override } : {}) }, "service-c"] }],
    ...rest,
  });
}

function sidecarA(topology: Topology): any {
  return buildSidecarConfig(topology, topology.services.find((s) => s.name === "service-a")!, TARGET).bootstrap;
}

function egressRoutes(topology: Topology, callee = "service_b"): any[] {
  const listener = sidecarA(topology).static_resources.listeners.find((l: any) => l.name === `egress_${callee}`);
  return listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
}

function upstreamCluster(topology: Topology, callee = "service_b"): any {
  return sidecarA(topology).static_resources.clusters.find((c: any) => c.name === `upstream_${callee}`);
}

function frontRoutes(topology: Topology): any[] {
  const front = buildFrontProxyConfig(topology, TARGET).bootstrap as any;
  return front.static_resources.listeners.find((l: any) => l.name === "front").filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
}

function frontCluster(topology: Topology, service: string): any {
  return (buildFrontProxyConfig(topology, TARGET).bootstrap as any).static_resources.clusters.find((c: any) => c.name === `upstream_${service}`);
}

function strictProblems(topology: Topology): unknown[] {
  const configs = [buildFrontProxyConfig(topology, TARGET), ...topology.services.map((s) => buildSidecarConfig(topology, s, TARGET))];
  return envoyConfigProblems(configs.map(renderEnvoyConfig));
}

describe("envoy/policy: an edge's policy as Envoy fields", () => {
  describe("request timeout", () => {
    it("writes Envoy's 15 s default on every route to a sidecar", () => {
      assert.equal(egressRoutes(seed())[0].route.timeout, "15s");
      assert.equal(frontRoutes(seed())[0].route.timeout, "15s");
    });

    it("writes an override on that edge only", () => {
      const topology = seed({ timeoutMs: 2500 });
      assert.equal(egressRoutes(topology)[0].route.timeout, "2.5s");
      assert.equal(egressRoutes(topology, "service_c")[0].route.timeout, "15s");
    });
  });

  describe("retries", () => {
    it("by default: the safe conditions, twice, on hosts not tried yet, no per-try timeout", () => {
      const retry = egressRoutes(seed())[0].route.retry_policy;
      assert.equal(retry.retry_on, "connect-failure,refused-stream,reset-before-request,retriable-headers");
      assert.equal(retry.num_retries, 2);
      assert.equal(retry.per_try_timeout, undefined);
      assert.deepEqual(retry.retriable_headers, [{ name: "x-mesh-not-delivered", string_match: { exact: "true" } }]);
      assert.equal(retry.retry_host_predicate[0].name, "envoy.retry_host_predicates.previous_hosts");
    });

    it("writes count, per-try timeout and conditions; not-delivered becomes the retriable header", () => {
      const routes = egressRoutes(seed({ timeoutMs: 5000, perTryTimeoutMs: 1000, retries: { count: 3, retryOn: ["reset", "connect-failure"], idempotentOnly: false } }));
      assert.equal(routes.length, 1);
      const retry = routes[0].route.retry_policy;
      assert.equal(retry.retry_on, "connect-failure,reset");
      assert.equal(retry.num_retries, 3);
      assert.equal(retry.per_try_timeout, "1s");
      assert.equal(retry.retriable_headers, undefined);
    });

    it("leaves the retry policy out with count 0", () => {
      const routes = egressRoutes(seed({ retries: { count: 0 } }));
      assert.equal(routes[0].route.retry_policy, undefined);
      assert.equal(routes[0].route.timeout, "15s");
    });

    it("leaves previous_hosts out when turned off", () => {
      const retry = egressRoutes(seed({ retries: { previousHosts: false } }))[0].route.retry_policy;
      assert.equal(retry.retry_host_predicate, undefined);
      assert.equal(retry.host_selection_retry_max_attempts, undefined);
    });

    it("retries a request the app may have received only for idempotent methods: two routes, idempotent first", () => {
      const routes = egressRoutes(seed({ retries: { retryOn: ["connect-failure", "not-delivered", "5xx"] } }));
      assert.equal(routes.length, 2);
      const [idempotent, other] = routes;
      assert.deepEqual(idempotent.match, { prefix: "/", headers: [{ name: ":method", string_match: { safe_regex: { regex: "^(GET|HEAD|OPTIONS|TRACE|PUT|DELETE)$" } } }] });
      assert.equal(idempotent.route.retry_policy.retry_on, "connect-failure,retriable-headers,5xx");
      assert.deepEqual(other.match, { prefix: "/" });
      assert.equal(other.route.retry_policy.retry_on, "connect-failure,retriable-headers");
      const methods = new RegExp(idempotent.match.headers[0].string_match.safe_regex.regex);
      for (const method of IDEMPOTENT_METHODS) assert.ok(methods.test(method), method);
      for (const method of ["POST", "PATCH", "CONNECT", "get", "GETX"]) assert.ok(!methods.test(method), method);
    });

    it("gives other methods no retry policy when every condition may repeat a received request", () => {
      const [, other] = egressRoutes(seed({ retries: { retryOn: ["gateway-error"] } }));
      assert.equal(other.route.retry_policy, undefined);
      assert.equal(other.route.timeout, "15s");
    });

    it("keeps one route for every method with idempotentOnly: false", () => {
      const routes = egressRoutes(seed({ retries: { retryOn: ["5xx"], idempotentOnly: false } }));
      assert.equal(routes.length, 1);
      assert.equal(routes[0].route.retry_policy.retry_on, "5xx");
    });

    it("splits each front route the same way, prefix rewrites kept", () => {
      const topology = seed(undefined, undefined, { front: { routes: [{ prefix: "/d", service: "service-a", prefixRewrite: "/v1", policy: { retries: { retryOn: ["reset"] } } }] } });
      const routes = frontRoutes(topology);
      assert.deepEqual(routes.map((r) => [r.match.path ?? r.match.prefix, r.match.headers !== undefined, r.route.prefix_rewrite, r.route.retry_policy !== undefined]), [
        ["/d", true, "/v1", true],
        ["/d", false, "/v1", false],
        ["/d/", true, "/v1/", true],
        ["/d/", false, "/v1/", false],
      ]);
    });
  });

  it("replaces a retry policy and timeout the route was built with", () => {
    const built = { match: { prefix: "/" }, route: { cluster: "c", timeout: "1s", retry_policy: { retry_on: "5xx" } } };
    const [route] = withRoutePolicy(built, parseTopology({ extends: "seed", policy: { retries: { count: 0 } } }).policy);
    assert.deepEqual(route, { match: { prefix: "/" }, route: { cluster: "c", timeout: "15s" } });
  });

  describe("circuit breakers and the retry budget", () => {
    it("by default: Envoy's limits written out and a 20% budget with 3 concurrent retries, no max_retries", () => {
      assert.deepEqual(upstreamCluster(seed()).circuit_breakers, {
        thresholds: [{ max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: 3 } }],
      });
    });

    it("writes overrides, and max_retries only without a budget", () => {
      const budgeted = upstreamCluster(seed({ circuitBreakers: { maxConnections: 10, maxPendingRequests: 20, maxRequests: 30 }, retries: { budget: { percent: 50, minConcurrency: 0 } } }));
      assert.deepEqual(budgeted.circuit_breakers.thresholds, [{ max_connections: 10, max_pending_requests: 20, max_requests: 30, retry_budget: { budget_percent: { value: 50 }, min_retry_concurrency: 0 } }]);
      const capped = upstreamCluster(seed({ circuitBreakers: { maxRetries: 7 }, retries: { budget: false } }));
      assert.deepEqual(capped.circuit_breakers.thresholds, [{ max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 7 }]);
    });
  });

  describe("outlier detection", () => {
    it("by default: local-origin failures only, Envoy's interval and ejection time, half the hosts at most", () => {
      assert.deepEqual(upstreamCluster(seed()).outlier_detection, {
        split_external_local_origin_errors: true,
        consecutive_local_origin_failure: 2,
        enforcing_consecutive_local_origin_failure: 100,
        enforcing_consecutive_5xx: 0,
        enforcing_success_rate: 0,
        enforcing_local_origin_success_rate: 0,
        interval: "10s",
        base_ejection_time: "30s",
        max_ejection_percent: 50,
      });
    });

    it("turns on 5xx and gateway-failure ejection when asked, with the timings given", () => {
      const od = upstreamCluster(seed({ outlierDetection: { consecutive5xx: 5, consecutiveGatewayFailure: 3, intervalMs: 500, baseEjectionTimeMs: 60000, maxEjectionPercent: 100, consecutiveLocalOriginFailure: 4 } })).outlier_detection;
      assert.equal(od.consecutive_5xx, 5);
      assert.equal(od.enforcing_consecutive_5xx, 100);
      assert.equal(od.consecutive_gateway_failure, 3);
      assert.equal(od.enforcing_consecutive_gateway_failure, 100);
      assert.equal(od.consecutive_local_origin_failure, 4);
      assert.equal(od.interval, "0.5s");
      assert.equal(od.base_ejection_time, "60s");
      assert.equal(od.max_ejection_percent, 100);
    });
  });

  describe("health checks", () => {
    it("by default: /healthz every 2 s over HTTP/2", () => {
      const [check] = upstreamCluster(seed()).health_checks;
      assert.deepEqual(check, {
        timeout: "1s",
        interval: "2s",
        no_traffic_interval: "5s",
        unhealthy_threshold: 2,
        healthy_threshold: 1,
        http_health_check: { path: "/healthz", codec_client_type: "HTTP2" },
      });
    });

    it("writes tuned values, and no health check when turned off (outlier detection stays)", () => {
      const [check] = upstreamCluster(seed({ healthCheck: { intervalMs: 500, noTrafficIntervalMs: 60000, timeoutMs: 250, unhealthyThreshold: 3, healthyThreshold: 2 } })).health_checks;
      assert.deepEqual([check.interval, check.no_traffic_interval, check.timeout, check.unhealthy_threshold, check.healthy_threshold], ["0.5s", "60s", "0.25s", 3, 2]);
      const off = upstreamCluster(seed({ healthCheck: { enabled: false } }));
      assert.equal(off.health_checks, undefined);
      assert.ok(off.outlier_detection);
    });
  });

  describe("HTTP/2 between sidecars", () => {
    it("by default: HTTP/2 to the callee's sidecar, offered as h2 by ALPN; the callee accepts h2 and HTTP/1.1", () => {
      const topology = seed();
      const cluster = upstreamCluster(topology);
      const options = cluster.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
      assert.deepEqual(options.explicit_http_config, { http2_protocol_options: {} });
      assert.deepEqual(cluster.transport_socket.typed_config.common_tls_context.alpn_protocols, ["h2"]);
      const b = buildSidecarConfig(topology, topology.services.find((s) => s.name === "service-b")!, TARGET).bootstrap as any;
      const ingress = b.static_resources.listeners.find((l: any) => l.name === "ingress");
      assert.deepEqual(ingress.filter_chains[0].transport_socket.typed_config.common_tls_context.alpn_protocols, ["h2", "http/1.1"]);
      assert.equal(ingress.filter_chains[0].filters[0].typed_config.codec_type, "AUTO");
    });

    it("limits the front's HTTP/2 windows as Envoy's edge guidance says; sidecars keep Envoy's defaults", () => {
      const front = frontCluster(seed(), "service_a").typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
      assert.deepEqual(front.explicit_http_config.http2_protocol_options, { initial_stream_window_size: 65536, initial_connection_window_size: 1048576 });
    });

    it("keeps the app's own cluster on HTTP/1.1", () => {
      const local = sidecarA(seed()).static_resources.clusters.find((c: any) => c.name === "local_app");
      assert.deepEqual(local.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config, { http_protocol_options: {} });
    });

    it("with http2: false, speaks HTTP/1.1: no protocol options, no ALPN, HTTP/1.1 health checks", () => {
      const cluster = upstreamCluster(seed({ http2: false }));
      assert.equal(cluster.typed_extension_protocol_options, undefined);
      assert.equal(cluster.transport_socket.typed_config.common_tls_context.alpn_protocols, undefined);
      assert.deepEqual(cluster.health_checks[0].http_health_check, { path: "/healthz" });
    });

    it("applies a front route's cluster policy to the front's cluster of its service", () => {
      const topology = seed(undefined, undefined, { front: { routes: [{ prefix: "/", service: "service-a", policy: { http2: false, circuitBreakers: { maxRequests: 99 } } }] } });
      const cluster = frontCluster(topology, "service_a");
      assert.equal(cluster.typed_extension_protocol_options, undefined);
      assert.equal(cluster.circuit_breakers.thresholds[0].max_requests, 99);
    });
  });

  it("passes the strict Envoy check with every field overridden, mTLS on and off", () => {
    const policy = {
      timeoutMs: 4000,
      perTryTimeoutMs: 1500,
      retries: { count: 3, retryOn: ["connect-failure", "refused-stream", "not-delivered", "5xx", "gateway-error", "reset", "retriable-4xx", "reset-before-request"], idempotentOnly: true, previousHosts: false, budget: false },
      circuitBreakers: { maxConnections: 5, maxPendingRequests: 6, maxRequests: 7, maxRetries: 1 },
      outlierDetection: { consecutiveLocalOriginFailure: 1, consecutive5xx: 3, consecutiveGatewayFailure: 2, intervalMs: 100, baseEjectionTimeMs: 100, maxEjectionPercent: 100 },
      healthCheck: { enabled: true, intervalMs: 100, noTrafficIntervalMs: 100, timeoutMs: 1, unhealthyThreshold: 100, healthyThreshold: 100 },
      http2: false,
    };
    for (const mtls of ["strict", "off"]) {
      assert.deepEqual(strictProblems(seed(policy, { http2: true }, { security: { mtls } })), []);
    }
  });
});
