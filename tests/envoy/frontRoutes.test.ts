import { strict as assert } from "node:assert";
import { createDemoServer } from "../../app/server";
import { buildFrontProxyConfig } from "../../envoy";
import { envoyConfigProblems, renderEnvoyConfig } from "../../envoy/check";
import { NOT_DELIVERED_HEADER } from "../../envoy/names";
import { parseTopology } from "../../topology";
import { demoConfig, request, ServerPool } from "../app/fixtures";
import { forward } from "../helpers/envoyRouter";
import { kubernetesEnvoyTarget } from "../../k8s";
import type { EnvoyTarget } from "../../envoy";

const CONTEXT: EnvoyTarget = { namespace: "mesh", upstreamHost: (service) => kubernetesEnvoyTarget(KIND_NAMES).upstreamHost(service) };
const KIND_NAMES = { namespace: "envoy-mesh", clusterDomain: "cluster.local" };
const A = "upstream_service_a";
const D = "upstream_service_d";

/** The README's "Adding a service" stack, with the edge route to D it suggests. */
function withRouteToD(route: Record<string, unknown> = {}): any {
  return parseTopology({
    extends: "seed",
    services: [{ name: "service-c", upstreams: ["service-d"] }, { name: "service-d", appPort: 8084 }],
    front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/d", service: "service-d", ...route }] },
  });
}

function frontRoutes(topology: any): any[] {
  const front = buildFrontProxyConfig(topology, CONTEXT).bootstrap as any;
  const listener = front.static_resources.listeners.find((l: any) => l.name === "front");
  return listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
}

describe("the Envoy router model used by these tests", () => {
  // Facts from Envoy's route docs and source: a bare prefix rewrite keeps the separator and
  // a bare prefix matches inside a path segment.
  const bare = [{ match: { prefix: "/d" }, route: { cluster: D, prefix_rewrite: "/" } }];

  it("replaces the matched characters literally: /d + rewrite / turns /d/x into //x", () => {
    assert.deepEqual(forward(bare, "/d/x"), { cluster: D, path: "//x" });
  });

  it("matches a bare prefix inside a segment: /d matches /dx", () => {
    assert.deepEqual(forward(bare, "/dx"), { cluster: D, path: "/x" });
  });

  it("matches path_separated_prefix only at a segment end, and keeps the query in a rewrite", () => {
    const routes = [{ match: { path_separated_prefix: "/d" }, route: { cluster: D, prefix_rewrite: "/e" } }];
    assert.equal(forward(routes, "/dx"), undefined);
    assert.deepEqual(forward(routes, "/d?q=1"), { cluster: D, path: "/e?q=1" });
  });
});

/**
 * Issue 8's retry policy, which the default edge policy keeps: only failures where the request
 * cannot have reached an app, each retry on a host not tried yet.
 */
const SAFE_RETRY_POLICY = {
  retry_on: "connect-failure,refused-stream,reset-before-request,retriable-headers",
  num_retries: 2,
  retriable_headers: [{ name: NOT_DELIVERED_HEADER, string_match: { exact: "true" } }],
  retry_host_predicate: [{ name: "envoy.retry_host_predicates.previous_hosts", typed_config: { "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" } }],
  host_selection_retry_max_attempts: 5,
};

describe("front routes: prefixRewrite", () => {
  it("keeps the seed's single route to service A unchanged, with no rewrite", () => {
    // The edge protection's per-route settings are checked in edge.test.ts.
    assert.deepEqual(frontRoutes(parseTopology(undefined)).map(({ typed_per_filter_config: _edge, ...route }) => route), [
      { match: { prefix: "/" }, route: { cluster: A, timeout: "15s", retry_policy: SAFE_RETRY_POLICY } },
    ]);
  });

  const cases: [string, string, string][] = [
    ["/d", D, "/"],
    ["/d/", D, "/"],
    ["/d/x", D, "/x"],
    ["/d/x/y?q=1", D, "/x/y?q=1"],
    ["/d?q=1", D, "/?q=1"],
    ["/dx", A, "/dx"],
    ["/", A, "/"],
    ["/other", A, "/other"],
  ];
  for (const [requested, cluster, path] of cases) {
    it(`README example {prefix: /d, service: service-d}: ${requested} reaches ${cluster} as ${path}`, () => {
      assert.deepEqual(forward(frontRoutes(withRouteToD()), requested), { cluster, path });
    });
  }

  const rewrites: [Record<string, unknown>, string, string][] = [
    [{ prefixRewrite: "/v1" }, "/d", "/v1"],
    [{ prefixRewrite: "/v1" }, "/d/x", "/v1/x"],
    [{ prefixRewrite: "/v1/" }, "/d", "/v1/"],
    [{ prefixRewrite: "/v1/" }, "/d/x", "/v1/x"],
    [{ prefixRewrite: "/d" }, "/d/x?q", "/d/x?q"],
  ];
  for (const [route, requested, path] of rewrites) {
    it(`prefixRewrite ${JSON.stringify(route.prefixRewrite)}: ${requested} reaches D as ${path}`, () => {
      assert.deepEqual(forward(frontRoutes(withRouteToD(route)), requested), { cluster: D, path });
    });
  }

  it("rewrites under the root prefix too: / with prefixRewrite /v1 sends / as /v1 and /x as /v1/x", () => {
    const routes = frontRoutes(parseTopology({ extends: "seed", front: { routes: [{ prefix: "/", service: "service-a", prefixRewrite: "/v1" }] } }));
    assert.deepEqual(forward(routes, "/"), { cluster: A, path: "/v1" });
    assert.deepEqual(forward(routes, "/x?q"), { cluster: A, path: "/v1/x?q" });
  });

  it("keeps the most specific route first: /api/b before /api before /", () => {
    const topology = parseTopology({
      extends: "seed",
      front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/api/b", service: "service-b" }, { prefix: "/api", service: "service-c" }] },
    });
    const routes = frontRoutes(topology);
    assert.deepEqual(forward(routes, "/api/b/x"), { cluster: "upstream_service_b", path: "/x" });
    assert.deepEqual(forward(routes, "/api/bx"), { cluster: "upstream_service_c", path: "/bx" });
    assert.deepEqual(forward(routes, "/apix"), { cluster: A, path: "/apix" });
  });

  it("passes the strict Envoy check, retries included", () => {
    for (const route of [{}, { prefixRewrite: "/v1" }, { prefixRewrite: "/v1/" }]) {
      const topology = withRouteToD(route);
      assert.deepEqual(envoyConfigProblems([renderEnvoyConfig(buildFrontProxyConfig(topology, CONTEXT))]), []);
      for (const r of frontRoutes(topology)) assert.ok(r.route.retry_policy, `${JSON.stringify(r.match)} has no retry policy`);
    }
  });

  describe("with the real demo app as service D", () => {
    const pool = new ServerPool();
    after(() => pool.closeAll());

    for (const requested of ["/d", "/d/", "/d?verbose=1"]) {
      it(`a request for ${requested} at the edge is answered 200 "Hello from service D"`, async () => {
        const d = await pool.listen(createDemoServer(demoConfig({ serviceName: "service-d", podName: "service-d-1" })));
        const forwarded = forward(frontRoutes(withRouteToD()), requested);
        assert.ok(forwarded !== undefined && "cluster" in forwarded && forwarded.cluster === D, `${requested} does not reach D`);
        const res = await request(`${d}${forwarded.path}`);
        assert.equal(res.status, 200, `D answered ${res.status} ${res.body} to ${forwarded.path}`);
        assert.equal(res.body, "Hello from service D\n");
      });
    }
  });
});
