import { strict as assert } from "node:assert";
import { DEFAULT_FRONT_PROTECTION, parseTopology } from "../../topology";
import { faultWarning, faultyEdges } from "../../topology/edge";
import { issuesOf, oneService, onlyIssue, webCallsApi } from "./fixtures";

/** `web` behind `/` and `/w`, with the given front protection and route fields. */
function twoRoutes(front: Record<string, unknown> = {}, route: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    services: [{ name: "web", appPort: 8081 }],
    front: { routes: [{ prefix: "/", service: "web" }, { prefix: "/w", service: "web", ...route }], ...front },
  };
}

const routeOf = (raw: unknown, prefix: string) => {
  const found = parseTopology(raw).front.routes.find((r) => r.prefix === prefix);
  assert.ok(found, `no route ${prefix}`);
  return found;
};

describe("topology/edge: edge protection at the front proxy", () => {
  describe("defaults", () => {
    it("gives every route the documented rate limit (burst 1000, 1000 a second) and a 1 MiB body limit", () => {
      const { front } = parseTopology(undefined);
      assert.deepEqual(front.routes[0].protection, {
        rateLimit: { maxTokens: 1000, tokensPerFill: 1000, fillIntervalMs: 1000 },
        maxRequestBytes: 1048576,
      });
      assert.deepEqual(front.protection, DEFAULT_FRONT_PROTECTION);
    });

    it("keeps today's edge timeouts (10 s headers, 1 h idle connection) and adds Envoy's edge guidance (5 min request and stream idle)", () => {
      assert.deepEqual(parseTopology(undefined).front.protection.timeouts, {
        requestMs: 300_000,
        requestHeadersMs: 10_000,
        streamIdleMs: 300_000,
        idleMs: 3_600_000,
      });
    });

    it("injects no fault anywhere", () => {
      const topology = parseTopology(undefined);
      assert.ok(topology.front.routes.every((r) => r.fault === undefined));
      assert.ok(topology.services.every((s) => s.upstreams.every((u) => u.fault === undefined)));
      assert.equal(faultWarning(topology), undefined);
    });
  });

  describe("mesh-wide settings and per-route overrides", () => {
    it("applies front.protection to every route, field by field over the defaults", () => {
      const raw = twoRoutes({ protection: { rateLimit: { maxTokens: 50 }, maxRequestBytes: 4096, timeouts: { requestMs: 0 } } });
      for (const prefix of ["/", "/w"]) {
        assert.deepEqual(routeOf(raw, prefix).protection, { rateLimit: { maxTokens: 50, tokensPerFill: 1000, fillIntervalMs: 1000 }, maxRequestBytes: 4096 });
      }
      assert.deepEqual(parseTopology(raw).front.protection.timeouts, { requestMs: 0, requestHeadersMs: 10_000, streamIdleMs: 300_000, idleMs: 3_600_000 });
    });

    it("lets a route override the mesh-wide values, and only that route", () => {
      const raw = twoRoutes({ protection: { rateLimit: { maxTokens: 50 } } }, { protection: { rateLimit: { tokensPerFill: 5, fillIntervalMs: 200 }, maxRequestBytes: 10 } });
      assert.deepEqual(routeOf(raw, "/w").protection, { rateLimit: { maxTokens: 50, tokensPerFill: 5, fillIntervalMs: 200 }, maxRequestBytes: 10 });
      assert.deepEqual(routeOf(raw, "/").protection.rateLimit, { maxTokens: 50, tokensPerFill: 1000, fillIntervalMs: 1000 });
    });

    it("turns the rate limit off mesh-wide with rateLimit: false, and a route can turn it back on", () => {
      const raw = twoRoutes({ protection: { rateLimit: false } }, { protection: { rateLimit: { maxTokens: 3 } } });
      assert.equal(routeOf(raw, "/").protection.rateLimit, undefined);
      assert.deepEqual(routeOf(raw, "/w").protection.rateLimit, { maxTokens: 3, tokensPerFill: 1000, fillIntervalMs: 1000 });
    });

    it("turns one route's rate limit off", () => {
      const raw = twoRoutes({}, { protection: { rateLimit: false } });
      assert.equal(routeOf(raw, "/w").protection.rateLimit, undefined);
      assert.ok(routeOf(raw, "/").protection.rateLimit);
    });

    it("keeps front.protection when extending the seed", () => {
      const topology = parseTopology({ extends: "seed", front: { protection: { maxRequestBytes: 2048 } } });
      assert.equal(topology.front.routes[0].protection.maxRequestBytes, 2048);
    });
  });

  describe("refusals, with path, value and range", () => {
    const refused: [string, Record<string, unknown>, string, RegExp][] = [
      ["a zero max_tokens (Envoy's proto: max_tokens > 0)", { protection: { rateLimit: { maxTokens: 0 } } }, "topology.front.protection.rateLimit.maxTokens", /^0 is not an integer from 1 to 4294967295$/],
      ["a zero tokensPerFill", { protection: { rateLimit: { tokensPerFill: 0 } } }, "topology.front.protection.rateLimit.tokensPerFill", /^0 is not an integer from 1 to/],
      ["a fill interval under 50 ms, which Envoy refuses", { protection: { rateLimit: { fillIntervalMs: 49 } } }, "topology.front.protection.rateLimit.fillIntervalMs", /^49 is not an integer from 50 to 86400000 \(Envoy's token bucket fill timer must be at least 50 ms\)$/],
      ["a fractional fill interval", { protection: { rateLimit: { fillIntervalMs: 100.5 } } }, "topology.front.protection.rateLimit.fillIntervalMs", /^100\.5 is not an integer/],
      ["rateLimit: true", { protection: { rateLimit: true } }, "topology.front.protection.rateLimit", /write an object .* or false to turn it off/],
      ["an unknown rate limit key", { protection: { rateLimit: { burst: 5 } } }, "topology.front.protection.rateLimit.burst", /unknown key \(allowed: maxTokens, tokensPerFill, fillIntervalMs\)/],
      ["a zero body limit", { protection: { maxRequestBytes: 0 } }, "topology.front.protection.maxRequestBytes", /^0 is not an integer from 1 to 67108864 \(the front proxy holds/],
      ["a body limit above 64 MiB", { protection: { maxRequestBytes: 67108865 } }, "topology.front.protection.maxRequestBytes", /^67108865 is not an integer from 1 to 67108864/],
      ["a negative timeout", { protection: { timeouts: { idleMs: -1 } } }, "topology.front.protection.timeouts.idleMs", /^-1 is not an integer from 0 to 86400000 \(0 turns it off\)$/],
      ["an unknown timeout", { protection: { timeouts: { connectMs: 5 } } }, "topology.front.protection.timeouts.connectMs", /unknown key \(allowed: requestMs, requestHeadersMs, streamIdleMs, idleMs\)/],
    ];
    for (const [what, front, path, message] of refused) {
      it(`refuses ${what}`, () => assert.match(onlyIssue(twoRoutes(front), path), message));
    }

    it("refuses timeouts on a route, saying where they belong", () => {
      assert.match(
        onlyIssue(twoRoutes({}, { protection: { timeouts: { requestMs: 5 } } }), "topology.front.routes[1].protection.timeouts"),
        /apply to the whole front proxy .* set them in topology\.front\.protection\.timeouts/,
      );
    });

    it("reports every problem at once", () => {
      const raw = twoRoutes(
        { protection: { rateLimit: { maxTokens: 0, fillIntervalMs: 10 }, maxRequestBytes: "1MB" } },
        { protection: { rateLimit: { tokensPerFill: -1 } }, fault: { abort: { httpStatus: 700, percentage: 101 } } },
      );
      assert.deepEqual(issuesOf(raw).map((i) => i.path), [
        "topology.front.routes[1].protection.rateLimit.tokensPerFill",
        "topology.front.routes[1].fault.abort.httpStatus",
        "topology.front.routes[1].fault.abort.percentage",
        "topology.front.protection.rateLimit.maxTokens",
        "topology.front.protection.rateLimit.fillIntervalMs",
        "topology.front.protection.maxRequestBytes",
      ]);
    });
  });
});

describe("topology/edge: fault injection", () => {
  it("reads a fault on a front route and on an upstream object", () => {
    const raw = webCallsApi([{ service: "api", fault: { delay: { fixedDelayMs: 250, percentage: 10 } } }, "db"], {
      front: { routes: [{ prefix: "/", service: "web", fault: { abort: { httpStatus: 503, percentage: 12.5 } } }] },
    });
    const topology = parseTopology(raw);
    assert.deepEqual(topology.front.routes[0].fault, { abort: { httpStatus: 503, percentage: 12.5 } });
    const web = topology.services.find((s) => s.name === "web");
    assert.deepEqual(web?.upstreams.find((u) => u.service === "api")?.fault, { delay: { fixedDelayMs: 250, percentage: 10 } });
    assert.equal(web?.upstreams.find((u) => u.service === "db")?.fault, undefined);
  });

  it("takes a delay and an abort together", () => {
    const fault = { delay: { fixedDelayMs: 1, percentage: 100 }, abort: { httpStatus: 200, percentage: 0 } };
    assert.deepEqual(parseTopology(oneService({}, { front: { routes: [{ prefix: "/", service: "web", fault }] } })).front.routes[0].fault, fault);
  });

  const refused: [string, unknown, string, RegExp][] = [
    ["an empty fault", {}, "", /set delay, abort or both \(or leave fault out\)/],
    ["a percentage above 100", { abort: { httpStatus: 503, percentage: 100.5 } }, ".abort.percentage", /^100\.5 is not a percentage from 0 to 100 \(at most 4 decimals\)$/],
    ["a negative percentage", { delay: { fixedDelayMs: 5, percentage: -1 } }, ".delay.percentage", /^-1 is not a percentage/],
    ["a percentage with 5 decimals", { delay: { fixedDelayMs: 5, percentage: 0.00001 } }, ".delay.percentage", /is not a percentage from 0 to 100 \(at most 4 decimals\)/],
    ["a percentage as text", { delay: { fixedDelayMs: 5, percentage: "50%" } }, ".delay.percentage", /^"50%" is not a percentage/],
    ["a missing percentage", { delay: { fixedDelayMs: 5 } }, ".delay.percentage", /^required$/],
    ["a zero delay (Envoy's proto: fixed_delay > 0)", { delay: { fixedDelayMs: 0, percentage: 5 } }, ".delay.fixedDelayMs", /^0 is not an integer from 1 to 3600000$/],
    ["an abort status Envoy refuses (below 200)", { abort: { httpStatus: 199, percentage: 5 } }, ".abort.httpStatus", /^199 is not an integer from 200 to 599$/],
    ["an abort status Envoy refuses (600)", { abort: { httpStatus: 600, percentage: 5 } }, ".abort.httpStatus", /^600 is not an integer from 200 to 599$/],
    ["an unknown fault key", { abort: { httpStatus: 503, percentage: 5 }, rateLimitKbps: 10 }, ".rateLimitKbps", /unknown key \(allowed: delay, abort\)/],
  ];
  for (const [what, fault, suffix, message] of refused) {
    it(`refuses ${what}, on a route and on an upstream`, () => {
      assert.match(onlyIssue(oneService({}, { front: { routes: [{ prefix: "/", service: "web", fault }] } }), `topology.front.routes[0].fault${suffix}`), message);
      assert.match(onlyIssue(webCallsApi([{ service: "api", fault }]), `topology.services[0].upstreams[0].fault${suffix}`), message);
    });
  }

  it("refuses a fault on the short upstream form, which has no keys", () => {
    assert.match(onlyIssue(webCallsApi([{ service: "api", fault: 5 }]), "topology.services[0].upstreams[0].fault"), /expected an object, got 5/);
  });

  it("names every faulty edge, the front's routes first, then each caller's upstreams by name", () => {
    const raw = webCallsApi(
      [
        { service: "db", fault: { abort: { httpStatus: 503, percentage: 50 } } },
        { service: "api", fault: { delay: { fixedDelayMs: 100, percentage: 10 }, abort: { httpStatus: 500, percentage: 1 } } },
      ],
      { front: { routes: [{ prefix: "/", service: "web", fault: { delay: { fixedDelayMs: 2000, percentage: 100 } } }] } },
    );
    const topology = parseTopology(raw);
    assert.deepEqual(faultyEdges(topology), [
      "front-envoy → web (route /): delay 2000 ms for 100%",
      "web → api: delay 100 ms for 10% and abort with HTTP 500 for 1%",
      "web → db: abort with HTTP 503 for 50%",
    ]);
    assert.equal(
      faultWarning(topology),
      "warning: fault injection is on for 3 edges, for testing only: front-envoy → web (route /): delay 2000 ms for 100%; " +
        "web → api: delay 100 ms for 10% and abort with HTTP 500 for 1%; web → db: abort with HTTP 503 for 50%",
    );
  });
});
