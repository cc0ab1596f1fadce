import { strict as assert } from "node:assert";
import { buildMeshConfigs, type EnvoyTarget, type ProxyConfig } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology, type Topology } from "../../topology";
import { versionsOf } from "../../envoy/versions";

const TARGET: EnvoyTarget = {
  namespace: "envoy-mesh",
  upstreamHost: (service) => kubernetesEnvoyTarget({ namespace: "envoy-mesh", clusterDomain: "cluster.local" }).upstreamHost(service),
};

/** The seed mesh with service B split 90/10 between v1 and v2. */
const CANARY = {
  extends: "seed",
  services: [{ name: "service-b", versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10, image: { ref: "example.com/b:2.0" } }] }],
};

const configOf = (configs: readonly ProxyConfig[], proxy: string): any => (configs.find((c) => c.proxy === proxy) as ProxyConfig).bootstrap;
const clusters = (bootstrap: any): any[] => bootstrap.static_resources.clusters;
const listener = (bootstrap: any, name: string) => bootstrap.static_resources.listeners.find((l: any) => l.name === name);
const routes = (l: any): any[] => l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;

describe("envoy/versions: weighted traffic to a service's versions", () => {
  let seed: readonly ProxyConfig[];
  let canary: readonly ProxyConfig[];
  before(() => {
    seed = buildMeshConfigs(parseTopology(undefined), TARGET);
    canary = buildMeshConfigs(parseTopology(CANARY), TARGET);
  });

  it("gives the caller one cluster per version, each on that version's headless Service, instead of the service's", () => {
    const a = configOf(canary, "service-a");
    const names = clusters(a).map((c) => c.name);
    assert.deepEqual(names, ["local_app", "upstream_service_b_v1", "upstream_service_b_v2", "upstream_service_c", "admin"]);
    const hostOf = (name: string) => clusters(a).find((c) => c.name === name).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address;
    assert.equal(hostOf("upstream_service_b_v1"), "service-b-v1.envoy-mesh.svc.cluster.local.");
    assert.equal(hostOf("upstream_service_b_v2"), "service-b-v2.envoy-mesh.svc.cluster.local.");
  });

  it("checks the service's identity on every version's cluster, with the same health check and outlier detection", () => {
    const seedB = clusters(configOf(seed, "service-a")).find((c) => c.name === "upstream_service_b");
    for (const version of ["v1", "v2"]) {
      const cluster = clusters(configOf(canary, "service-a")).find((c) => c.name === `upstream_service_b_${version}`);
      assert.deepEqual(cluster.health_checks, seedB.health_checks);
      assert.deepEqual(cluster.outlier_detection, seedB.outlier_detection);
      const tls = JSON.stringify(cluster.transport_socket);
      assert.ok(tls.includes("spiffe://cluster.local/ns/envoy-mesh/sa/service-b"), tls);
      assert.ok(tls.includes(`"sni":"service-b-${version}.envoy-mesh.svc.cluster.local"`), tls);
      // Apart from its name, host and SNI, a version's cluster is the service's.
      const same = (c: any) => JSON.parse(JSON.stringify(c).replace(/upstream_service_b(_v[12])?/g, "B").replace(/service-b(-v[12])?\./g, "b."));
      assert.deepEqual(same(cluster), same(seedB));
    }
  });

  it("routes a pinned request to its version first, then splits the rest by weight, keeping the safe retries", () => {
    const seedRoute = routes(listener(configOf(seed, "service-a"), "egress_service_b"))[0];
    const [v1, v2, weighted, ...rest] = routes(listener(configOf(canary, "service-a"), "egress_service_b"));
    assert.equal(rest.length, 0);
    assert.deepEqual(v1.match, { prefix: "/", headers: [{ name: "x-mesh-version", string_match: { exact: "v1" } }] });
    assert.deepEqual(v2.match, { prefix: "/", headers: [{ name: "x-mesh-version", string_match: { exact: "v2" } }] });
    // Everything else on the route (retries, timeouts) is the unversioned route's.
    assert.deepEqual(v2.route, { ...seedRoute.route, cluster: "upstream_service_b_v2" });
    const unpinned = Object.fromEntries(Object.entries(seedRoute.route).filter(([key]) => key !== "cluster"));
    assert.deepEqual(weighted, {
      match: { prefix: "/" },
      route: { ...unpinned, weighted_clusters: { clusters: [{ name: "upstream_service_b_v1", weight: 90 }, { name: "upstream_service_b_v2", weight: 10 }] } },
    });
    assert.ok(JSON.stringify(seedRoute.route.retry_policy).includes("envoy.retry_host_predicates.previous_hosts"));
  });

  it("leaves the callers of a service without versions as they were", () => {
    assert.deepEqual(listener(configOf(canary, "service-a"), "egress_service_c"), listener(configOf(seed, "service-a"), "egress_service_c"));
  });

  it("splits the front's routes the same way, each with its rewrite, pinned routes before each one", () => {
    const topology = parseTopology({ ...CANARY, front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/b", service: "service-b" }] } });
    const front = configOf(buildMeshConfigs(topology, TARGET), "front-envoy");
    const summary = routes(listener(front, "front")).map((r) => [
      r.match.path ?? r.match.prefix,
      r.match.headers?.[0].string_match.exact ?? "-",
      r.route.cluster ?? r.route.weighted_clusters.clusters.map((c: any) => `${c.name}=${c.weight}`).join(","),
      r.route.prefix_rewrite ?? "-",
    ]);
    assert.deepEqual(summary, [
      ["/b", "v1", "upstream_service_b_v1", "/"],
      ["/b", "v2", "upstream_service_b_v2", "/"],
      ["/b", "-", "upstream_service_b_v1=90,upstream_service_b_v2=10", "/"],
      ["/b/", "v1", "upstream_service_b_v1", "/"],
      ["/b/", "v2", "upstream_service_b_v2", "/"],
      ["/b/", "-", "upstream_service_b_v1=90,upstream_service_b_v2=10", "/"],
      ["/", "-", "upstream_service_a", "-"],
    ]);
    assert.deepEqual(
      clusters(front).map((c) => c.name),
      ["upstream_service_a", "upstream_service_b_v1", "upstream_service_b_v2", "admin"],
    );
    assert.equal(clusters(front)[1].per_connection_buffer_limit_bytes, clusters(front)[0].per_connection_buffer_limit_bytes);
  });

  it("renders configs the strict validator accepts, with mTLS on and off", () => {
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology(CANARY), TARGET), []);
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology({ ...CANARY, security: { mtls: "off" } }), TARGET), []);
  });

  it("gives every version's cluster and route the edge's traffic policy, as the unversioned ones get it", () => {
    const policy = { timeoutMs: 4000, circuitBreakers: { maxRequests: 64 } };
    const plain = parseTopology({ extends: "seed", services: [{ name: "service-a", upstreams: [{ service: "service-b", policy }, "service-c"] }] });
    const split = parseTopology({ ...CANARY, services: [...CANARY.services, { name: "service-a", upstreams: [{ service: "service-b", policy }, "service-c"] }] });
    const a = (topology: typeof plain) => configOf(buildMeshConfigs(topology, TARGET), "service-a");
    const plainB = clusters(a(plain)).find((c) => c.name === "upstream_service_b");
    const plainRoute = routes(listener(a(plain), "egress_service_b"))[0];
    assert.equal(plainRoute.route.timeout, "4s");
    assert.ok(plainB.circuit_breakers, "the policy sets circuit breakers");
    for (const version of ["v1", "v2"]) {
      const cluster = clusters(a(split)).find((c) => c.name === `upstream_service_b_${version}`);
      assert.deepEqual(cluster.circuit_breakers, plainB.circuit_breakers);
    }
    for (const route of routes(listener(a(split), "egress_service_b"))) assert.equal(route.route.timeout, "4s");
    assert.deepEqual(meshEnvoyConfigProblems(split, TARGET), []);
  });

  it("keeps a version of weight 0 in the split, reachable only with the header", () => {
    const topology = parseTopology({ extends: "seed", services: [{ name: "service-b", versions: [{ name: "v1", weight: 100 }, { name: "v2", weight: 0 }] }] });
    const weighted = routes(listener(configOf(buildMeshConfigs(topology, TARGET), "service-a"), "egress_service_b"))[2];
    assert.deepEqual(weighted.route.weighted_clusters.clusters.map((c: any) => c.weight), [100, 0]);
    assert.deepEqual(meshEnvoyConfigProblems(topology, TARGET), []);
  });

  describe("versionsOf", () => {
    it("answers for every service what its entry in the topology says, and for each topology on its own", () => {
      const topology = parseTopology(CANARY);
      for (const s of topology.services) assert.equal(versionsOf(topology, s.name), s.versions, s.name);
      assert.equal(versionsOf(topology, "service-b")?.length, 2);
      assert.equal(versionsOf(topology, "no-such-service"), undefined);
      const without: Topology = { ...topology, services: topology.services.map((s) => ({ ...s, versions: undefined })) };
      assert.equal(versionsOf(without, "service-b"), undefined);
      assert.equal(versionsOf(topology, "service-b")?.length, 2);
    });
  });
});
