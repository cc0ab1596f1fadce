import assert from "node:assert/strict";
import { validateBootstrap } from "../../../checks/envoy";
import type { ValidationIssue } from "../../../checks/envoy";

const LOCAL_RATE_LIMIT = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
const FAULT = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
const HCM = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[0]`;

const show = (issues: readonly ValidationIssue[]) => issues.map((i) => `${i.path}: ${i.message}`).join("\n");

/**
 * A listener in the shape of Envoy's documented route-specific local rate limit: the filter in
 * the chain without a bucket, the bucket on the route, enabled and enforced for every request.
 */
function config(options: { filters?: object[]; perRoute?: Record<string, object>; filterBucket?: object } = {}): any {
  const perRoute = options.perRoute ?? {
    "envoy.filters.http.local_ratelimit": {
      "@type": LOCAL_RATE_LIMIT,
      stat_prefix: "per_route",
      token_bucket: { max_tokens: 10, tokens_per_fill: 10, fill_interval: "1s" },
      filter_enabled: { runtime_key: "rl_enabled", default_value: { numerator: 100, denominator: "HUNDRED" } },
      filter_enforced: { runtime_key: "rl_enforced", default_value: { numerator: 100, denominator: "HUNDRED" } },
      response_headers_to_add: [{ append_action: "OVERWRITE_IF_EXISTS_OR_ADD", header: { key: "x-limited", value: "yes" } }],
    },
  };
  const filters = options.filters ?? [
    { name: "envoy.filters.http.local_ratelimit", typed_config: { "@type": LOCAL_RATE_LIMIT, stat_prefix: "chain", ...(options.filterBucket ? { token_bucket: options.filterBucket } : {}) } },
  ];
  return {
    static_resources: {
      listeners: [
        {
          name: "edge",
          address: { socket_address: { address: "0.0.0.0", port_value: 8000 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "edge",
                    http_filters: [...filters, { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                    route_config: {
                      name: "r",
                      virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/limited" }, route: { cluster: "app" }, typed_per_filter_config: perRoute }] }],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [{ name: "app", load_assignment: { cluster_name: "app", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: 8080 } } } }] }] } }],
    },
  };
}

function withInterval(fillInterval: string): any {
  const c = config();
  c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].typed_per_filter_config[
    "envoy.filters.http.local_ratelimit"
  ].token_bucket.fill_interval = fillInterval;
  return c;
}

const BUCKET_PATH = `${ROUTE}.typed_per_filter_config["envoy.filters.http.local_ratelimit"]`;

describe("validateBootstrap: edge protection and fault filters", () => {
  it("accepts a route-specific local rate limit in the shape Envoy documents", () => {
    const result = validateBootstrap(config(), { strict: true });
    assert.deepEqual(result.errors, [], show(result.errors));
  });

  describe("token bucket fill interval (Envoy: must be >= 50ms)", () => {
    for (const ok of ["0.05s", "1s", "3600s"]) {
      it(`accepts ${ok}`, () => assert.deepEqual(validateBootstrap(withInterval(ok)).errors, []));
    }
    for (const bad of ["0.049s", "0.001s", "0.000000001s"]) {
      it(`refuses ${bad} with Envoy's words`, () => {
        assert.deepEqual(validateBootstrap(withInterval(bad)).errors, [
          { path: `${BUCKET_PATH}.token_bucket.fill_interval`, message: "local rate limit token bucket fill timer must be >= 50ms" },
        ]);
      });
    }

    it("refuses it in the filter's own config too", () => {
      const result = validateBootstrap(config({ filterBucket: { max_tokens: 1, fill_interval: "0.01s" } }));
      assert.deepEqual(result.errors.map((e) => e.message), ["local rate limit token bucket fill timer must be >= 50ms"]);
    });

    it("leaves a zero interval to the proto's own rule (gt 0), without a second error", () => {
      const messages = validateBootstrap(withInterval("0s")).errors.map((e) => e.message);
      assert.equal(messages.length, 1, messages.join("\n"));
      assert.doesNotMatch(messages[0], /50ms/);
    });

    it("refuses a zero max_tokens, by the proto's rule", () => {
      const c = config();
      c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].typed_per_filter_config[
        "envoy.filters.http.local_ratelimit"
      ].token_bucket.max_tokens = 0;
      const errors = validateBootstrap(c).errors;
      assert.deepEqual(errors.map((e) => e.path), [`${BUCKET_PATH}.token_bucket.max_tokens`], show(errors));
    });
  });

  describe("per-route local rate limit (Envoy: token bucket must be set for per filter configs)", () => {
    it("refuses one without a token bucket", () => {
      const result = validateBootstrap(config({ perRoute: { "envoy.filters.http.local_ratelimit": { "@type": LOCAL_RATE_LIMIT, stat_prefix: "r" } } }));
      assert.deepEqual(result.errors, [{ path: BUCKET_PATH, message: "local rate limit token bucket must be set for per filter configs" }]);
    });

    it("accepts the filter's own config without one (it limits nothing by itself)", () => {
      assert.deepEqual(validateBootstrap(config()).errors, []);
    });
  });

  describe("a per-route config must name a filter of the chain, or Envoy never applies it", () => {
    const fault = { "envoy.filters.http.fault": { "@type": FAULT, abort: { http_status: 503, percentage: { numerator: 50 } } } };

    it("flags a per-route fault whose filter is not in the chain: a warning, an error in strict mode", () => {
      const loose = validateBootstrap(config({ perRoute: fault }));
      assert.deepEqual(loose.errors, []);
      assert.equal(loose.warnings.length, 1, show(loose.warnings));
      assert.equal(loose.warnings[0].path, `${ROUTE}.typed_per_filter_config["envoy.filters.http.fault"]`);
      assert.match(loose.warnings[0].message, /no HTTP filter of this connection manager is named 'envoy.filters.http.fault', so Envoy never applies/);
      assert.equal(validateBootstrap(config({ perRoute: fault }), { strict: true }).ok, false);
    });

    it("accepts it once the fault filter is in the chain", () => {
      const result = validateBootstrap(config({ perRoute: fault, filters: [{ name: "envoy.filters.http.fault", typed_config: { "@type": FAULT } }] }), { strict: true });
      assert.deepEqual(result.errors, [], show(result.errors));
    });

    it("refuses an abort status Envoy refuses (600), by the proto's rule", () => {
      const bad = { "envoy.filters.http.fault": { "@type": FAULT, abort: { http_status: 600, percentage: { numerator: 50 } } } };
      const errors = validateBootstrap(config({ perRoute: bad, filters: [{ name: "envoy.filters.http.fault", typed_config: { "@type": FAULT } }] })).errors;
      assert.deepEqual(errors.map((e) => e.path), [`${ROUTE}.typed_per_filter_config["envoy.filters.http.fault"].abort.http_status`], show(errors));
    });
  });
});
