import { strict as assert } from "node:assert";
import { DEFAULT_EDGE_POLICY, parseTopology } from "../../topology";
import { issueAt, issuesOf, onlyIssue, oneService, webCallsApi } from "./fixtures";

const MESH = "topology.policy";
const UPSTREAM = "topology.services[0].upstreams[0].policy";
const ROUTE = "topology.front.routes[0].policy";

/** web calls api with `override` on the edge and `mesh` as topology.policy. */
function edge(override?: unknown, mesh?: unknown): Record<string, unknown> {
  return webCallsApi([{ service: "api", ...(override !== undefined ? { policy: override } : {}) }], mesh !== undefined ? { policy: mesh } : {});
}

function upstreamPolicy(raw: Record<string, unknown>) {
  const topology = parseTopology(raw);
  return topology.services.find((s) => s.name === "web")!.upstreams[0].policy;
}

describe("topology/policy: traffic policy per edge", () => {
  describe("defaults", () => {
    it("gives every edge the default policy when nothing is written", () => {
      const topology = parseTopology(undefined);
      assert.deepEqual(topology.policy, DEFAULT_EDGE_POLICY);
      for (const upstream of topology.services.flatMap((s) => s.upstreams)) assert.deepEqual(upstream.policy, DEFAULT_EDGE_POLICY);
      for (const route of topology.front.routes) assert.deepEqual(route.policy, DEFAULT_EDGE_POLICY);
    });

    it("keeps issue 8's safe retries: only failures that never reached an app, on hosts not tried yet", () => {
      assert.deepEqual(DEFAULT_EDGE_POLICY.retries.retryOn, ["connect-failure", "refused-stream", "reset-before-request", "not-delivered"]);
      assert.equal(DEFAULT_EDGE_POLICY.retries.previousHosts, true);
      assert.equal(DEFAULT_EDGE_POLICY.retries.count, 2);
    });
  });

  describe("merging", () => {
    it("applies topology.policy to every edge, the front's included", () => {
      const topology = parseTopology(edge(undefined, { timeoutMs: 3000, http2: false }));
      assert.equal(topology.services[2].upstreams[0].policy.timeoutMs, 3000);
      assert.equal(topology.front.routes[0].policy.http2, false);
    });

    it("lays an upstream's override over topology.policy, block by block", () => {
      const policy = upstreamPolicy(edge({ retries: { count: 1 }, outlierDetection: { consecutive5xx: 5 } }, { timeoutMs: 3000, retries: { previousHosts: false } }));
      assert.equal(policy.timeoutMs, 3000);
      assert.equal(policy.retries.count, 1);
      assert.equal(policy.retries.previousHosts, false);
      assert.deepEqual(policy.retries.retryOn, DEFAULT_EDGE_POLICY.retries.retryOn);
      assert.equal(policy.outlierDetection.consecutive5xx, 5);
      assert.equal(policy.outlierDetection.consecutiveLocalOriginFailure, 2);
    });

    it("turns the retry budget off with budget: false, and fills a partial budget from the defaults", () => {
      assert.equal(upstreamPolicy(edge({ retries: { budget: false }, circuitBreakers: { maxRetries: 4 } })).retries.budget, undefined);
      assert.deepEqual(upstreamPolicy(edge({ retries: { budget: { percent: 50 } } })).retries.budget, { percent: 50, minConcurrency: 3 });
      assert.deepEqual(upstreamPolicy(edge({ retries: { budget: { minConcurrency: 1 } } }, { retries: { budget: false } })).retries.budget, { percent: 20, minConcurrency: 1 });
    });

    it("lets a front route override the policy, and other routes keep the mesh's", () => {
      const raw = oneService({}, { front: { routes: [{ prefix: "/", service: "web" }, { prefix: "/slow", service: "web", policy: { timeoutMs: 60000 } }] } });
      const routes = parseTopology(raw).front.routes;
      assert.equal(routes.find((r) => r.prefix === "/slow")!.policy.timeoutMs, 60000);
      assert.equal(routes.find((r) => r.prefix === "/")!.policy.timeoutMs, 15000);
    });
  });

  describe("refusals: path, value and range", () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["a zero request timeout", edge(undefined, { timeoutMs: 0 }), `${MESH}.timeoutMs`, /^0 is not an integer from 1 to 3600000$/],
      ["a fractional per-try timeout", edge({ perTryTimeoutMs: 1.5 }), `${UPSTREAM}.perTryTimeoutMs`, /^1\.5 is not an integer from 0 to 3600000 \(0: none\)$/],
      ["too many retries", edge({ retries: { count: 11 } }), `${UPSTREAM}.retries.count`, /^11 is not an integer from 0 to 10$/],
      ["an unknown retry condition", edge({ retries: { retryOn: ["connect-failure", "5XX"] } }), `${UPSTREAM}.retries.retryOn[1]`, /^"5XX" is not one of connect-failure, refused-stream, reset-before-request, not-delivered, 5xx, gateway-error, reset, retriable-4xx$/],
      ["a repeated retry condition", edge({ retries: { retryOn: ["5xx", "5xx"] } }), `${UPSTREAM}.retries.retryOn[1]`, /^"5xx" is listed twice$/],
      ["no retry condition", edge({ retries: { retryOn: [] } }), `${UPSTREAM}.retries.retryOn`, /set retries\.count: 0 to turn retries off/],
      ["idempotentOnly that is not a boolean", edge({ retries: { idempotentOnly: "yes" } }), `${UPSTREAM}.retries.idempotentOnly`, /^"yes" is not true or false$/],
      ["a budget of 0 percent", edge({ retries: { budget: { percent: 0 } } }), `${UPSTREAM}.retries.budget.percent`, /^0 is not an integer from 1 to 100$/],
      ["a budget written as true", edge({ retries: { budget: true } }), `${UPSTREAM}.retries.budget`, /expected an object/],
      ["no connections allowed", edge({ circuitBreakers: { maxConnections: 0 } }), `${UPSTREAM}.circuitBreakers.maxConnections`, /^0 is not an integer from 1 to 1000000$/],
      ["ejecting more than every host", edge({ outlierDetection: { maxEjectionPercent: 101 } }), `${UPSTREAM}.outlierDetection.maxEjectionPercent`, /^101 is not an integer from 0 to 100 \(Envoy refuses more than 100\)$/],
      ["a 10 ms outlier interval", edge({ outlierDetection: { intervalMs: 10 } }), `${UPSTREAM}.outlierDetection.intervalMs`, /^10 is not an integer from 100 to 3600000$/],
      ["a health check that never fails a host", edge({ healthCheck: { unhealthyThreshold: 0 } }), `${UPSTREAM}.healthCheck.unhealthyThreshold`, /^0 is not an integer from 1 to 100$/],
      ["http2 written as a string", edge({ http2: "on" }), `${UPSTREAM}.http2`, /^"on" is not true or false$/],
      ["an unknown key", edge({ timeout: 5 }), `${UPSTREAM}.timeout`, /^unknown key \(allowed: timeoutMs, perTryTimeoutMs, retries, circuitBreakers, outlierDetection, healthCheck, http2\)$/],
      ["an unknown outlier key", edge(undefined, { outlierDetection: { consecutive_5xx: 3 } }), `${MESH}.outlierDetection.consecutive_5xx`, /^unknown key/],
      ["a policy that is not an object", oneService({}, { front: { routes: [{ prefix: "/", service: "web", policy: 5 }] } }), ROUTE, /^expected an object, got 5$/],
    ];
    for (const [name, raw, path, message] of cases) {
      it(`refuses ${name} at ${path}`, () => {
        assert.match(onlyIssue(raw, path), message);
      });
    }

    it("refuses a per-try timeout that is not below the request timeout, as Envoy would ignore it", () => {
      const message = onlyIssue(edge({ perTryTimeoutMs: 5000, timeoutMs: 5000, retries: { retryOn: ["5xx"] } }), `${UPSTREAM}.perTryTimeoutMs`);
      assert.match(message, /^5000 must be less than timeoutMs \(5000\): Envoy ignores a per-try timeout/);
    });

    it("compares an override's per-try timeout with the mesh's request timeout", () => {
      assert.match(onlyIssue(edge({ perTryTimeoutMs: 4000, retries: { retryOn: ["reset"] } }, { timeoutMs: 3000 }), `${UPSTREAM}.perTryTimeoutMs`), /must be less than timeoutMs \(3000\)/);
    });

    it("refuses a per-try timeout when no condition retries a timed-out try", () => {
      const message = onlyIssue(edge({ perTryTimeoutMs: 1000 }), `${UPSTREAM}.perTryTimeoutMs`);
      assert.match(message, /^1000 has no retry to time: a try that times out is retried only on 5xx, gateway-error, reset \(retries\.retryOn is connect-failure, refused-stream, reset-before-request, not-delivered\)/);
      assert.match(onlyIssue(edge({ perTryTimeoutMs: 1000, retries: { count: 0, retryOn: ["5xx"] } }), `${UPSTREAM}.perTryTimeoutMs`), /off: count 0/);
    });

    it("accepts a per-try timeout below the request timeout with a condition that retries it", () => {
      const policy = upstreamPolicy(edge({ perTryTimeoutMs: 1000, timeoutMs: 5000, retries: { retryOn: ["connect-failure", "gateway-error"] } }));
      assert.equal(policy.perTryTimeoutMs, 1000);
    });

    it("removes a mesh-wide per-try timeout on an edge that writes 0", () => {
      const mesh = { timeoutMs: 5000, perTryTimeoutMs: 1000, retries: { retryOn: ["reset"] } };
      assert.equal(parseTopology(edge(undefined, mesh)).policy.perTryTimeoutMs, 1000);
      const policy = upstreamPolicy(edge({ perTryTimeoutMs: 0, retries: { retryOn: ["connect-failure"] } }, mesh));
      assert.equal(policy.perTryTimeoutMs, undefined);
      assert.ok(!("perTryTimeoutMs" in policy));
    });

    it("refuses maxRetries while a retry budget is set, as Envoy would ignore it", () => {
      assert.match(onlyIssue(edge({ circuitBreakers: { maxRetries: 5 } }), `${UPSTREAM}.circuitBreakers.maxRetries`), /^5 would be ignored: Envoy ignores max_retries while a retry budget is set.*set retries\.budget: false/);
      assert.equal(upstreamPolicy(edge({ circuitBreakers: { maxRetries: 5 }, retries: { budget: false } })).circuitBreakers.maxRetries, 5);
    });

    it("reports a mistake in topology.policy once, there, not on every edge", () => {
      const issues = issuesOf(edge(undefined, { timeoutMs: 2000, perTryTimeoutMs: 2000, retries: { retryOn: ["5xx"] } }));
      assert.deepEqual(issues.map((i) => i.path), [`${MESH}.perTryTimeoutMs`]);
    });

    it("reports every problem at once, across the mesh block, upstreams and routes", () => {
      const raw = {
        ...edge({ outlierDetection: { maxEjectionPercent: 150 }, http2: 1 }, { retries: { count: -1 } }),
        front: { routes: [{ prefix: "/", service: "web", policy: { healthCheck: { timeoutMs: 0 } } }] },
      };
      assert.deepEqual(issuesOf(raw).map((i) => i.path).sort(), [
        `${ROUTE}.healthCheck.timeoutMs`,
        `${MESH}.retries.count`,
        `${UPSTREAM}.http2`,
        `${UPSTREAM}.outlierDetection.maxEjectionPercent`,
      ]);
    });

    it("refuses two front routes to one service that disagree on its cluster's policy, and allows different timeouts", () => {
      const routes = (second: unknown) => oneService({}, { front: { routes: [{ prefix: "/", service: "web" }, { prefix: "/b", service: "web", policy: second }] } });
      const message = issueAt(routes({ circuitBreakers: { maxRequests: 10 } }), "topology.front.routes[1].policy");
      assert.match(message, /^differs from topology\.front\.routes\[0\] in circuitBreakers, retries\.budget, outlierDetection, healthCheck or http2: both routes reach "web" through one cluster/);
      assert.doesNotThrow(() => parseTopology(routes({ timeoutMs: 60000, retries: { count: 1 } })));
    });
  });

  it("keeps an override when the service is merged over the seed", () => {
    const topology = parseTopology({ extends: "seed", policy: { timeoutMs: 4000 }, services: [{ name: "service-a", upstreams: [{ service: "service-b", policy: { timeoutMs: 9000 } }, "service-c"] }] });
    const a = topology.services.find((s) => s.name === "service-a")!;
    assert.deepEqual(a.upstreams.map((u) => [u.service, u.policy.timeoutMs]), [["service-b", 9000], ["service-c", 4000]]);
  });
});
