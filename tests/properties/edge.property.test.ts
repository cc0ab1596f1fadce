import { strict as assert } from "node:assert";
import fc from "fast-check";
import { buildMeshConfigs } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology } from "../../topology";
import { faultyEdges } from "../../topology/edge";
import { assertProperty } from "../helpers/properties";
import { validTopology, type RawUpstream } from "../helpers/topologyArbitraries";

/** Built inside the tests: a builder bug fails a test instead of aborting the run. */
const target = () => kubernetesEnvoyTarget({ namespace: "mesh", clusterDomain: "cluster.local", edgeHttpsPort: 8443 });
const RUNS = { numRuns: 20 };

/** A percentage the topology accepts: whole, or with up to four decimals. */
const percentage = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 1_000_000 }).map((n) => n / 10_000));
const delay = fc.record({ fixedDelayMs: fc.integer({ min: 1, max: 3_600_000 }), percentage });
const abort = fc.record({ httpStatus: fc.integer({ min: 200, max: 599 }), percentage });
const fault = fc.oneof(fc.record({ delay }), fc.record({ abort }), fc.record({ delay, abort }));
const rateLimit = fc.oneof(
  fc.constant(false as const),
  fc.record(
    { maxTokens: fc.integer({ min: 1, max: 4_294_967_295 }), tokensPerFill: fc.integer({ min: 1, max: 4_294_967_295 }), fillIntervalMs: fc.integer({ min: 50, max: 86_400_000 }) },
    { requiredKeys: [] },
  ),
);
const protection = fc.record({ rateLimit, maxRequestBytes: fc.integer({ min: 1, max: 64 * 1024 * 1024 }) }, { requiredKeys: [] });
const timeout = fc.integer({ min: 0, max: 86_400_000 });
const frontProtection = fc.record(
  { rateLimit, maxRequestBytes: fc.integer({ min: 1, max: 64 * 1024 * 1024 }), timeouts: fc.record({ requestMs: timeout, requestHeadersMs: timeout, streamIdleMs: timeout, idleMs: timeout }, { requiredKeys: [] }) },
  { requiredKeys: [] },
);

/** A valid random topology with random edge protection and faults on random edges. */
const withEdges = validTopology.chain((raw) =>
  fc
    .record({
      front: frontProtection,
      routes: fc.tuple(...raw.front.routes.map(() => fc.record({ protection, fault }, { requiredKeys: [] }))),
      upstreams: fc.tuple(...raw.services.map((s) => fc.tuple(...s.upstreams.map(() => fc.option(fault, { nil: undefined }))))),
    })
    .map(({ front, routes, upstreams }) => ({
      ...raw,
      front: { ...raw.front, protection: front, routes: raw.front.routes.map((r, i) => ({ ...r, ...routes[i] })) },
      services: raw.services.map((s, i) => ({
        ...s,
        upstreams: s.upstreams.map((u: string | RawUpstream, j) => {
          const f = upstreams[i][j];
          if (f === undefined) return u;
          return { ...(typeof u === "string" ? { service: u } : u), fault: f };
        }),
      })),
    })),
);

describe("properties of edge protection and faults", () => {
  it("every valid random topology with random edge settings and faults renders configs that pass strict validation", function () {
    assertProperty(
      this.test,
      fc.property(withEdges, (raw) => assert.deepEqual(meshEnvoyConfigProblems(parseTopology(raw), target()), [])),
      RUNS,
    );
  });

  it("a fault filter is in a chain exactly when an edge of that chain has a fault, and every faulty edge is named", function () {
    assertProperty(
      this.test,
      fc.property(withEdges, (raw) => {
        const topology = parseTopology(raw);
        const configs = buildMeshConfigs(topology, target());
        let faultyChains = 0;
        for (const { bootstrap } of configs) {
          for (const listener of (bootstrap as any).static_resources.listeners) {
            const hcm = listener.filter_chains[0].filters[0].typed_config;
            const routes: any[] = hcm.route_config.virtual_hosts[0].routes;
            const hasFilter = hcm.http_filters.some((f: any) => f.name === "envoy.filters.http.fault");
            const faultyRoute = routes.some((r) => r.typed_per_filter_config?.["envoy.filters.http.fault"] !== undefined);
            assert.equal(hasFilter, faultyRoute, `${listener.name}`);
            if (hasFilter && !listener.name.startsWith("front")) faultyChains += 1;
          }
        }
        const upstreamFaults = topology.services.flatMap((s) => s.upstreams.filter((u) => u.fault !== undefined));
        assert.equal(faultyChains, upstreamFaults.length);
        assert.equal(faultyEdges(topology).length, upstreamFaults.length + topology.front.routes.filter((r) => r.fault !== undefined).length);
      }),
      RUNS,
    );
  });
});
