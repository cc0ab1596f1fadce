import { strict as assert } from "node:assert";
import { buildMeshConfigs, type EnvoyTarget } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { RATE_LIMITED_BODY, TOO_LARGE_BODY, fractionalPercent, retryAfterSeconds } from "../../envoy/edge";
import { parseTopology, SEED_TOPOLOGY } from "../../topology";

const TARGET: EnvoyTarget = { namespace: "mesh", upstreamHost: (s) => `${s}.mesh.svc.cluster.local.`, edgeHttpsPort: 8443 };

function bootstrapOf(raw: unknown, proxy: string, target: EnvoyTarget = TARGET): any {
  const found = buildMeshConfigs(parseTopology(raw), target).find((c) => c.proxy === proxy);
  assert.ok(found, `no config for ${proxy}`);
  return found.bootstrap;
}
const listener = (bootstrap: any, name: string) => bootstrap.static_resources.listeners.find((l: any) => l.name === name);
const hcm = (l: any) => l.filter_chains[0].filters[0].typed_config;
const routes = (l: any): any[] => hcm(l).route_config.virtual_hosts[0].routes;
const filterNames = (l: any): string[] => hcm(l).http_filters.map((f: any) => f.name);

/** The seed with changes to its front (routes `/` → service-a, `/b` → service-b unless given). */
function seedWith(front: Record<string, unknown> = {}, services?: unknown[]): Record<string, unknown> {
  return {
    extends: "seed",
    front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/b", service: "service-b" }], ...front },
    ...(services ? { services } : {}),
  };
}

describe("envoy/edge: edge protection at the front proxy", () => {
  describe("defaults, on both front listeners", () => {
    const bootstrap = () => bootstrapOf(undefined, "front-envoy");

    it("puts the rate limit, then the body limit, before the router, and no fault filter", () => {
      for (const name of ["front", "front_tls"]) {
        assert.deepEqual(filterNames(listener(bootstrap(), name)), ["envoy.filters.http.local_ratelimit", "envoy.filters.http.buffer", "envoy.filters.http.router"]);
      }
    });

    it("gives the route a token bucket Envoy enforces, answering 429 with retry-after and x-ratelimit headers", () => {
      const limit = routes(listener(bootstrap(), "front"))[0].typed_per_filter_config["envoy.filters.http.local_ratelimit"];
      assert.equal(limit["@type"], "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit");
      assert.deepEqual(limit.token_bucket, { max_tokens: 1000, tokens_per_fill: 1000, fill_interval: "1s" });
      // Both default to 0%: without them Envoy neither counts nor rejects.
      assert.deepEqual(limit.filter_enabled, { default_value: { numerator: 100, denominator: "HUNDRED" } });
      assert.deepEqual(limit.filter_enforced, { default_value: { numerator: 100, denominator: "HUNDRED" } });
      assert.equal(limit.status, undefined, "Envoy's default status is 429 Too Many Requests");
      assert.deepEqual(limit.response_headers_to_add, [{ header: { key: "retry-after", value: "1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }]);
      assert.equal(limit.enable_x_ratelimit_headers, "DRAFT_VERSION_03");
    });

    it("limits request bodies to 1 MiB on the route and in the filter", () => {
      const front = listener(bootstrap(), "front");
      assert.deepEqual(routes(front)[0].typed_per_filter_config["envoy.filters.http.buffer"], {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
        buffer: { max_request_bytes: 1048576 },
      });
      assert.equal(hcm(front).http_filters[1].typed_config.max_request_bytes, 1048576);
    });

    it("gives the front's own 429 and 413 a clear body, and nothing else", () => {
      const mappers = hcm(listener(bootstrap(), "front")).local_reply_config.mappers;
      assert.deepEqual(
        mappers.map((m: any) => [m.filter.status_code_filter.comparison.op, m.filter.status_code_filter.comparison.value.default_value, m.body.inline_string]),
        [["EQ", 429, RATE_LIMITED_BODY], ["EQ", 413, TOO_LARGE_BODY]],
      );
      assert.match(RATE_LIMITED_BODY, /retry-after/);
    });

    it("sets the edge timeouts on the connection manager: today's two and Envoy's edge guidance for the others", () => {
      const manager = hcm(listener(bootstrap(), "front_tls"));
      assert.equal(manager.request_headers_timeout, "10s");
      assert.equal(manager.request_timeout, "300s");
      assert.equal(manager.stream_idle_timeout, "300s");
      assert.equal(manager.common_http_protocol_options.idle_timeout, "3600s");
    });

    it("adds none of it to the sidecars", () => {
      for (const service of ["service-a", "service-b", "service-c"]) {
        for (const l of bootstrapOf(undefined, service).static_resources.listeners) {
          const manager = hcm(l);
          assert.ok(!manager.http_filters.some((f: any) => /local_ratelimit|buffer|fault/.test(f.name)), `${service} ${l.name}`);
          assert.equal(manager.request_timeout, undefined);
          for (const route of routes(l)) assert.equal(route.typed_per_filter_config, undefined);
        }
      }
    });
  });

  describe("topology → Envoy fields", () => {
    it("uses each route's own limits, and the mesh-wide body limit in the filter", () => {
      const raw = seedWith({ protection: { maxRequestBytes: 2048, rateLimit: { maxTokens: 20, tokensPerFill: 2, fillIntervalMs: 2500 } } });
      (raw.front as any).routes[1].protection = { rateLimit: { maxTokens: 5 }, maxRequestBytes: 10 };
      const front = listener(bootstrapOf(raw, "front-envoy"), "front");
      const byPath = (r: any) => r.match.prefix ?? r.match.path;
      const configs = Object.fromEntries(routes(front).map((r) => [byPath(r), r.typed_per_filter_config]));
      // /b is two Envoy routes (the path /b and the prefix /b/), each with the route's settings.
      for (const match of ["/b", "/b/"]) {
        assert.deepEqual(configs[match]["envoy.filters.http.local_ratelimit"].token_bucket, { max_tokens: 5, tokens_per_fill: 2, fill_interval: "2.5s" });
        assert.deepEqual(configs[match]["envoy.filters.http.local_ratelimit"].response_headers_to_add[0].header, { key: "retry-after", value: "3" });
        assert.equal(configs[match]["envoy.filters.http.buffer"].buffer.max_request_bytes, 10);
      }
      assert.deepEqual(configs["/"]["envoy.filters.http.local_ratelimit"].token_bucket, { max_tokens: 20, tokens_per_fill: 2, fill_interval: "2.5s" });
      assert.equal(configs["/"]["envoy.filters.http.buffer"].buffer.max_request_bytes, 2048);
      assert.equal(hcm(front).http_filters[1].typed_config.max_request_bytes, 2048);
    });

    it("leaves the rate limit filter and its 429 body out when no route has a rate limit", () => {
      const front = listener(bootstrapOf(seedWith({ protection: { rateLimit: false } }), "front-envoy"), "front");
      assert.deepEqual(filterNames(front), ["envoy.filters.http.buffer", "envoy.filters.http.router"]);
      assert.deepEqual(hcm(front).local_reply_config.mappers.map((m: any) => m.filter.status_code_filter.comparison.value.default_value), [413]);
    });

    it("writes configured timeouts, 0 as 0s (off)", () => {
      const raw = seedWith({ protection: { timeouts: { requestMs: 0, requestHeadersMs: 2500, streamIdleMs: 60_000, idleMs: 0 } } });
      const manager = hcm(listener(bootstrapOf(raw, "front-envoy"), "front"));
      assert.deepEqual(
        [manager.request_timeout, manager.request_headers_timeout, manager.stream_idle_timeout, manager.common_http_protocol_options.idle_timeout],
        ["0s", "2.5s", "60s", "0s"],
      );
    });

    it("keeps the timeouts but no route filters on a plain HTTP listener that only redirects", () => {
      const manager = hcm(listener(bootstrapOf(seedWith({ plainHttp: "redirect" }), "front-envoy"), "front"));
      assert.deepEqual(manager.http_filters.map((f: any) => f.name), ["envoy.filters.http.router"]);
      assert.equal(manager.local_reply_config, undefined);
      assert.equal(manager.request_timeout, "300s");
    });

    it("rounds retry-after up to whole seconds, at least 1", () => {
      assert.deepEqual([50, 999, 1000, 1001, 60_000].map((ms) => retryAfterSeconds({ maxTokens: 1, tokensPerFill: 1, fillIntervalMs: ms })), [1, 1, 1, 2, 60]);
    });
  });
});

describe("envoy/edge: fault injection", () => {
  const faultyMesh = () =>
    seedWith({}, [
      {
        name: "service-a",
        upstreams: [{ service: "service-b", fault: { delay: { fixedDelayMs: 1500, percentage: 10 } } }, { service: "service-c", fault: { abort: { httpStatus: 503, percentage: 50 } } }],
      },
    ]);

  it("puts the fault filter in the caller's egress chain with the edge's faults on its route, only for faulty edges", () => {
    const a = bootstrapOf(faultyMesh(), "service-a");
    const toB = listener(a, "egress_service_b");
    assert.deepEqual(filterNames(toB), ["envoy.filters.http.fault", "envoy.filters.http.router"]);
    assert.deepEqual(hcm(toB).http_filters[0].typed_config, { "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault" }, "the filter alone injects nothing");
    assert.deepEqual(routes(toB)[0].typed_per_filter_config, {
      "envoy.filters.http.fault": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        delay: { fixed_delay: "1.5s", percentage: { numerator: 10, denominator: "HUNDRED" } },
      },
    });
    const toC = routes(listener(a, "egress_service_c"))[0].typed_per_filter_config["envoy.filters.http.fault"];
    assert.deepEqual(toC.abort, { http_status: 503, percentage: { numerator: 50, denominator: "HUNDRED" } });
    assert.equal(toC.delay, undefined);
    // The safe retries stay on the route.
    assert.ok(routes(toB)[0].route.retry_policy);
  });

  it("adds nothing to an edge without a fault, nor to the callee", () => {
    const raw = seedWith({}, [{ name: "service-a", upstreams: [{ service: "service-b", fault: { abort: { httpStatus: 500, percentage: 1 } } }, "service-c"] }]);
    const toC = listener(bootstrapOf(raw, "service-a"), "egress_service_c");
    assert.deepEqual(filterNames(toC), ["envoy.filters.http.router"]);
    assert.equal(routes(toC)[0].typed_per_filter_config, undefined);
    assert.deepEqual(filterNames(listener(bootstrapOf(raw, "service-b"), "ingress")), filterNames(listener(bootstrapOf(undefined, "service-b"), "ingress")));
  });

  it("puts a front route's fault after the rate limit and body limit, on that route only", () => {
    const raw = seedWith();
    (raw.front as any).routes[1].fault = { abort: { httpStatus: 429, percentage: 0.5 } };
    const front = listener(bootstrapOf(raw, "front-envoy"), "front_tls");
    assert.deepEqual(filterNames(front), ["envoy.filters.http.local_ratelimit", "envoy.filters.http.buffer", "envoy.filters.http.fault", "envoy.filters.http.router"]);
    const faulty = routes(front).filter((r) => r.typed_per_filter_config["envoy.filters.http.fault"] !== undefined);
    assert.deepEqual(faulty.map((r) => r.match.prefix ?? r.match.path), ["/b", "/b/"]);
    assert.deepEqual(faulty[0].typed_per_filter_config["envoy.filters.http.fault"].abort.percentage, { numerator: 5000, denominator: "MILLION" });
  });

  it("writes whole percentages over a hundred and others exactly over a million", () => {
    assert.deepEqual(
      [0, 100, 12.5, 0.0001, 33.3333].map(fractionalPercent),
      [
        { numerator: 0, denominator: "HUNDRED" },
        { numerator: 100, denominator: "HUNDRED" },
        { numerator: 125000, denominator: "MILLION" },
        { numerator: 1, denominator: "MILLION" },
        { numerator: 333333, denominator: "MILLION" },
      ],
    );
  });
});

describe("envoy/edge: every rendered config passes the strict Envoy check", () => {
  const cases: [string, unknown][] = [
    ["the seed (default protection)", undefined],
    ["rate limits off", seedWith({ protection: { rateLimit: false } })],
    ["every knob set, faults on every edge", (() => {
      const raw = seedWith({ protection: { rateLimit: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 50 }, maxRequestBytes: 1, timeouts: { requestMs: 0, requestHeadersMs: 0, streamIdleMs: 0, idleMs: 0 } } }, [
        { name: "service-a", upstreams: [{ service: "service-b", fault: { delay: { fixedDelayMs: 1, percentage: 0.0001 }, abort: { httpStatus: 599, percentage: 100 } } }, { service: "service-c", fault: { abort: { httpStatus: 200, percentage: 0 } } }] },
      ]);
      (raw.front as any).routes[0].fault = { delay: { fixedDelayMs: 3_600_000, percentage: 99.9999 } };
      (raw.front as any).routes[1].protection = { rateLimit: { maxTokens: 4294967295, tokensPerFill: 4294967295, fillIntervalMs: 86_400_000 }, maxRequestBytes: 67108864 };
      return raw;
    })()],
    ["mtls off, plain HTTP only", { ...seedWith(), security: { mtls: "off" } }],
  ];
  for (const [what, raw] of cases) {
    it(what, () => {
      const target: EnvoyTarget = (raw as any)?.security?.mtls === "off" ? { namespace: "mesh", upstreamHost: TARGET.upstreamHost } : TARGET;
      assert.deepEqual(meshEnvoyConfigProblems(parseTopology(raw ?? SEED_TOPOLOGY), target), []);
    });
  }
});
