import { strict as assert } from "node:assert";
import { DEFAULT_EDGE_POLICY, DEFAULT_PORTS, SEED_TOPOLOGY, parseTopology, type MeshService, type Topology } from "../../topology";
import { onlyIssue } from "./fixtures";

function service(topology: Topology, name: string): MeshService {
  const found = topology.services.find((s) => s.name === name);
  assert.ok(found, `no service ${name} in ${topology.services.map((s) => s.name).join(", ")}`);
  return found;
}

describe("topology/seed and extends: seed", () => {
  describe("the seed mesh", () => {
    let seed: Topology;
    before(() => (seed = parseTopology(undefined)));

    it("has services A, B and C", () => {
      assert.deepEqual(
        seed.services.map((s) => s.name),
        ["service-a", "service-b", "service-c"],
      );
    });

    it("has A call B then C on egress ports 10001 and 10002", () => {
      assert.deepEqual(service(seed, "service-a").upstreams, [
        { service: "service-b", egressPort: 10001, policy: DEFAULT_EDGE_POLICY },
        { service: "service-c", egressPort: 10002, policy: DEFAULT_EDGE_POLICY },
      ]);
    });

    it("has B and C call nobody", () => {
      assert.deepEqual(service(seed, "service-b").upstreams, []);
      assert.deepEqual(service(seed, "service-c").upstreams, []);
    });

    it("routes / at the edge to service A", () => {
      assert.deepEqual(routing(seed.front.routes), [{ prefix: "/", service: "service-a", prefixRewrite: "/", policy: DEFAULT_EDGE_POLICY }]);
    });

    it("builds every service from app/", () => {
      for (const s of seed.services) assert.deepEqual(s.image, { kind: "build", build: { context: "app", dockerfile: "Dockerfile" } });
    });

    it("is what `extends: seed` alone gives", () => {
      assert.deepEqual(parseTopology({ extends: "seed" }), seed);
    });

    it("is not changed by parsing (the raw seed is shared)", () => {
      const before = JSON.stringify(SEED_TOPOLOGY);
      parseTopology({ extends: "seed", services: [{ name: "service-a", upstreams: [] }] });
      assert.equal(JSON.stringify(SEED_TOPOLOGY), before);
    });
  });

  describe("merging over the seed", () => {
    it("overrides only the fields given for a seed service", () => {
      const merged = service(parseTopology({ extends: "seed", services: [{ name: "service-b", replicas: 3 }] }), "service-b");
      assert.equal(merged.replicas, 3);
      assert.equal(merged.appPort, 8082);
      assert.deepEqual(merged.image, { kind: "build", build: { context: "app", dockerfile: "Dockerfile" } });
    });

    it("leaves the other seed services as they were", () => {
      const seed = parseTopology(undefined);
      const merged = parseTopology({ extends: "seed", services: [{ name: "service-b", replicas: 3 }] });
      assert.deepEqual(service(merged, "service-a"), service(seed, "service-a"));
      assert.deepEqual(service(merged, "service-c"), service(seed, "service-c"));
    });

    it("adds a service with a new name", () => {
      const merged = parseTopology({
        extends: "seed",
        services: [{ name: "service-d", appPort: 8084, image: { ref: "nginx:1.27" } }],
      });
      assert.deepEqual(
        merged.services.map((s) => s.name),
        ["service-a", "service-b", "service-c", "service-d"],
      );
      assert.deepEqual(service(merged, "service-d").image, { kind: "ref", ref: "nginx:1.27" });
    });

    it("requires appPort of an added service, at the user's path", () => {
      assert.match(onlyIssue({ extends: "seed", services: [{ name: "service-d" }] }, "topology.services[0].appPort"), /^required/);
    });

    it("replaces a seed service's upstreams wholesale, replanning the ports", () => {
      const merged = parseTopology({ extends: "seed", services: [{ name: "service-a", upstreams: ["service-c"] }] });
      assert.deepEqual(service(merged, "service-a").upstreams, [{ service: "service-c", egressPort: 10001, policy: DEFAULT_EDGE_POLICY }]);
    });

    it("empties a seed service's upstreams with an empty list", () => {
      const merged = parseTopology({ extends: "seed", services: [{ name: "service-a", upstreams: [] }] });
      assert.deepEqual(service(merged, "service-a").upstreams, []);
    });

    it("refuses a name repeated in the user's list instead of folding the two together", () => {
      const raw = {
        extends: "seed",
        services: [
          { name: "service-b", replicas: 2 },
          { name: "service-b", replicas: 3 },
        ],
      };
      assert.equal(onlyIssue(raw, "topology.services[1].name"), 'duplicate service name "service-b"');
    });

    it("checks a user's upstream against the merged services", () => {
      const raw = { extends: "seed", services: [{ name: "service-b", upstreams: ["service-z"] }] };
      assert.equal(onlyIssue(raw, "topology.services[0].upstreams[0]"), 'unknown service "service-z" (known: service-a, service-b, service-c)');
    });

    it("keeps the seed routes when front sets only other fields", () => {
      const merged = parseTopology({ extends: "seed", front: { replicas: 2 } });
      assert.equal(merged.front.replicas, 2);
      assert.deepEqual(routing(merged.front.routes), [{ prefix: "/", service: "service-a", prefixRewrite: "/", policy: DEFAULT_EDGE_POLICY }]);
    });

    it("replaces the seed routes when front sets routes", () => {
      const merged = parseTopology({ extends: "seed", front: { routes: [{ prefix: "/b", service: "service-b" }] } });
      assert.deepEqual(routing(merged.front.routes), [{ prefix: "/b", service: "service-b", prefixRewrite: "/", policy: DEFAULT_EDGE_POLICY }]);
    });

    it("merges ports and envoy settings field by field over the defaults", () => {
      const merged = parseTopology({ extends: "seed", ports: { egressBase: 11000 }, envoy: { logLevel: "debug" } });
      assert.deepEqual(merged.ports, { ...DEFAULT_PORTS, egressBase: 11000 });
      assert.equal(merged.envoy.logLevel, "debug");
      assert.deepEqual(service(merged, "service-a").upstreams.map((u) => u.egressPort), [11000, 11001]);
    });
  });

  describe("order of the result", () => {
    it("sorts services by name whatever the input order", () => {
      const raw = {
        services: [
          { name: "zeta", appPort: 8081 },
          { name: "alpha", appPort: 8082 },
          { name: "mid", appPort: 8083 },
        ],
        front: { routes: [{ prefix: "/", service: "zeta" }] },
      };
      assert.deepEqual(
        parseTopology(raw).services.map((s) => s.name),
        ["alpha", "mid", "zeta"],
      );
    });

    it("sorts added services among the seed's by name", () => {
      const merged = parseTopology({ extends: "seed", services: [{ name: "gateway", appPort: 8090 }] });
      assert.deepEqual(
        merged.services.map((s) => s.name),
        ["gateway", "service-a", "service-b", "service-c"],
      );
    });

    it("sorts routes longest prefix first, then by prefix", () => {
      const routes = [
        { prefix: "/", service: "service-a" },
        { prefix: "/b", service: "service-b" },
        { prefix: "/api/c", service: "service-c" },
        { prefix: "/a", service: "service-a" },
      ];
      assert.deepEqual(
        parseTopology({ extends: "seed", front: { routes } }).front.routes.map((r) => r.prefix),
        ["/api/c", "/a", "/b", "/"],
      );
    });
  });
});

/** What a front route routes, with its policy (its edge protection is tested in edge.test.ts). */
function routing<R extends { prefix: string; service: string; prefixRewrite: string; policy: unknown }>(routes: readonly R[]) {
  return routes.map(({ prefix, service, prefixRewrite, policy }) => ({ prefix, service, prefixRewrite, policy }));
}
