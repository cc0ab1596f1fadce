import assert from "node:assert/strict";
import { validateBootstrap } from "../../../checks/envoy";
import type { ValidationIssue } from "../../../checks/envoy";
import { buildSidecarConfig } from "../../../envoy";
import { kubernetesEnvoyTarget } from "../../../k8s";
import { parseTopology } from "../../../topology";
import { loadFixture } from "./fixtures";

const HCM = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[0]`;
const CLUSTER = "static_resources.clusters[0]";

const route = (c: any): any => c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0];
const cluster = (c: any): any => c.static_resources.clusters[0];

function show(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

/** The errors of a strict check (warnings included), as `path: message` lines. */
function strictErrors(config: unknown): ValidationIssue[] {
  return [...validateBootstrap(config, { strict: true }).errors];
}

function assertOnly(config: unknown, path: string, message: RegExp): void {
  const errors = strictErrors(config);
  assert.equal(errors.length, 1, show(errors));
  assert.equal(errors[0].path, path, show(errors));
  assert.match(errors[0].message, message);
}

function withRetry(retry: Record<string, unknown>, timeout?: string): any {
  const config = loadFixture("v3/front-proxy.yaml");
  const action = route(config).route;
  if (timeout === undefined) delete action.timeout;
  else action.timeout = timeout;
  action.retry_policy = { retry_on: "connect-failure", num_retries: 2, ...retry };
  return config;
}

function withCluster(fields: Record<string, unknown>): any {
  const config = loadFixture("v3/front-proxy.yaml");
  Object.assign(cluster(config), fields);
  return config;
}

describe("validateBootstrap: traffic policy Envoy would ignore or refuse", () => {
  describe("per_try_timeout", () => {
    it("accepts a per-try timeout below the route timeout", () => {
      assert.deepEqual(strictErrors(withRetry({ retry_on: "5xx", per_try_timeout: "1s" }, "3s")), []);
    });

    it("accepts any per-try timeout when the route timeout is 0 (none)", () => {
      assert.deepEqual(strictErrors(withRetry({ retry_on: "5xx", per_try_timeout: "60s" }, "0s")), []);
    });

    it("reports a per-try timeout equal to the route timeout, which Envoy drops", () => {
      assertOnly(withRetry({ per_try_timeout: "3s" }, "3s"), `${ROUTE}.route.retry_policy.per_try_timeout`, /^per_try_timeout 3s is not less than the route timeout 3s: Envoy ignores it/);
    });

    it("compares with Envoy's 15 s default when the route sets no timeout", () => {
      assertOnly(withRetry({ per_try_timeout: "20s" }), `${ROUTE}.route.retry_policy.per_try_timeout`, /20s is not less than the route timeout 15s \(the default\)/);
      assert.deepEqual(strictErrors(withRetry({ per_try_timeout: "14s" })), []);
    });

    it("refuses a negative per-try timeout (a PGV rule)", () => {
      const errors = strictErrors(withRetry({ per_try_timeout: "-1s" }, "3s"));
      assert.ok(errors.some((e) => e.path === `${ROUTE}.route.retry_policy.per_try_timeout`), show(errors));
    });
  });

  describe("retry_on", () => {
    it("accepts every condition Envoy knows, HTTP and gRPC", () => {
      const all = "5xx,gateway-error,reset,reset-before-request,connect-failure,envoy-ratelimited,retriable-4xx,refused-stream,retriable-status-codes,retriable-headers,http3-post-connect-failure,cancelled,deadline-exceeded,internal,resource-exhausted,unavailable";
      assert.deepEqual(strictErrors(withRetry({ retry_on: all })), []);
    });

    it("reports a misspelt condition, which Envoy drops without a word", () => {
      assertOnly(withRetry({ retry_on: "connect-failure,5XX" }), `${ROUTE}.route.retry_policy.retry_on`, /^unknown retry condition '5XX': Envoy ignores it/);
    });
  });

  describe("circuit breakers", () => {
    const budget = { retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: 3 } };

    it("accepts thresholds with a retry budget, and thresholds with max_retries", () => {
      assert.deepEqual(strictErrors(withCluster({ circuit_breakers: { thresholds: [{ max_connections: 10, ...budget }] } })), []);
      assert.deepEqual(strictErrors(withCluster({ circuit_breakers: { thresholds: [{ max_retries: 5 }] } })), []);
    });

    it("reports max_retries next to a retry budget, which overrides it", () => {
      assertOnly(
        withCluster({ circuit_breakers: { thresholds: [{ max_retries: 5, ...budget }] } }),
        `${CLUSTER}.circuit_breakers.thresholds[0].max_retries`,
        /^max_retries is ignored: the retry_budget/,
      );
    });

    it("refuses a budget above 100 percent (a PGV rule on envoy.type.v3.Percent)", () => {
      const errors = strictErrors(withCluster({ circuit_breakers: { thresholds: [{ retry_budget: { budget_percent: { value: 120 } } }] } }));
      assert.equal(errors.length, 1, show(errors));
      assert.equal(errors[0].path, `${CLUSTER}.circuit_breakers.thresholds[0].retry_budget.budget_percent.value`);
    });

    it("refuses an unknown priority and a negative threshold", () => {
      const errors = strictErrors(withCluster({ circuit_breakers: { thresholds: [{ priority: "URGENT", max_requests: -1 }] } }));
      const paths = errors.map((e) => e.path);
      assert.ok(paths.includes(`${CLUSTER}.circuit_breakers.thresholds[0].priority`), show(errors));
      assert.ok(paths.includes(`${CLUSTER}.circuit_breakers.thresholds[0].max_requests`), show(errors));
    });
  });

  describe("outlier detection", () => {
    it("accepts max_ejection_percent 100", () => {
      assert.deepEqual(strictErrors(withCluster({ outlier_detection: { max_ejection_percent: 100 } })), []);
    });

    it("refuses max_ejection_percent above 100 (a PGV rule)", () => {
      assertOnly(withCluster({ outlier_detection: { max_ejection_percent: 101 } }), `${CLUSTER}.outlier_detection.max_ejection_percent`, /100/);
    });

    it("refuses a zero interval (a PGV rule: gt 0s)", () => {
      assertOnly(withCluster({ outlier_detection: { interval: "0s" } }), `${CLUSTER}.outlier_detection.interval`, /0s/);
    });
  });

  describe("HTTP/2 by ALPN", () => {
    const serviceA = (): any => {
      const topology = parseTopology(undefined);
      return structuredClone(buildSidecarConfig(topology, topology.services[0], kubernetesEnvoyTarget({ namespace: "mesh", clusterDomain: "cluster.local" })).bootstrap);
    };
    const upstreamB = (c: any) => c.static_resources.clusters.find((x: any) => x.name === "upstream_service_b");
    const at = (c: any) => `static_resources.clusters[${c.static_resources.clusters.findIndex((x: any) => x.name === "upstream_service_b")}]`;

    it("accepts the generated cluster: h2 by ALPN, HTTP/2 protocol options, HTTP/2 health checks", () => {
      assert.deepEqual(strictErrors(serviceA()), []);
    });

    it("reports a cluster that offers only h2 but speaks HTTP/1.1", () => {
      const config = serviceA();
      delete upstreamB(config).typed_extension_protocol_options;
      assertOnly(config, `${at(config)}.transport_socket.typed_config.common_tls_context.alpn_protocols`, /offers only h2 by ALPN, but the cluster speaks HTTP\/1\.1/);
    });

    it("reports an HTTP/1.1 health check on a cluster that offers only h2", () => {
      const config = serviceA();
      delete upstreamB(config).health_checks[0].http_health_check.codec_client_type;
      assertOnly(config, `${at(config)}.health_checks[0].http_health_check.codec_client_type`, /every check fails/);
    });
  });
});
