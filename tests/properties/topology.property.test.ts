import { strict as assert } from "node:assert";
import fc from "fast-check";
import { buildFrontProxyConfig } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { upstreamClusterName } from "../../envoy/names";
import { forward } from "../helpers/envoyRouter";
import { buildMeshManifests, kubernetesEnvoyTarget } from "../../k8s";
import { validateManifests } from "../../checks/kubernetes/schema";
import { ConfigError, parseTopology } from "../../topology";
import { assertProperty } from "../helpers/properties";
import { BUILDER_TEST_ENVOY_IMAGE } from "../helpers/images";
import { calleeName, validTopology, type RawUpstream } from "../helpers/topologyArbitraries";

const TARGET = {
  namespace: "mesh",
  clusterDomain: "cluster.local",
  envoyImage: BUILDER_TEST_ENVOY_IMAGE,
  front: { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 },
} as const;
/** Property runs are bounded so the whole suite stays well inside its time budget. */
const RUNS = { numRuns: 20 };

describe("properties of topologies", () => {
  it("every valid random topology renders Envoy configs that pass strict validation", function () {
    assertProperty(
      this.test,
      fc.property(validTopology, (raw) => {
        const topology = parseTopology(raw);
        assert.deepEqual(meshEnvoyConfigProblems(topology, kubernetesEnvoyTarget(TARGET)), []);
      }),
      RUNS,
    );
  });

  it("every valid random topology renders Kubernetes objects that pass the strict schema check", function () {
    assertProperty(
      this.test,
      fc.property(validTopology, (raw) => {
        const manifests = buildMeshManifests(parseTopology(raw), TARGET, () => "registry.example/app@sha256:" + "0".repeat(64));
        assert.deepEqual(validateManifests(manifests), []);
      }),
      RUNS,
    );
  });

  it("every front route sends its prefix as prefixRewrite, and paths below it below prefixRewrite, query kept", function () {
    assertProperty(
      this.test,
      fc.property(validTopology, (raw) => {
        const topology = parseTopology(raw);
        const front = buildFrontProxyConfig(topology, kubernetesEnvoyTarget(TARGET)).bootstrap as any;
        const routes = front.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
        for (const { prefix, service, prefixRewrite } of topology.front.routes) {
          const cluster = upstreamClusterName(service);
          const below = prefixRewrite.endsWith("/") ? prefixRewrite : `${prefixRewrite}/`;
          // `_` is never in a generated prefix, so no longer route can take these paths.
          assert.deepEqual(forward(routes, `${prefix}?q=1`), { cluster, path: `${prefixRewrite}?q=1` });
          assert.deepEqual(forward(routes, `${prefix === "/" ? "" : prefix}/_x?q=1`), { cluster, path: `${below}_x?q=1` });
          if (prefix !== "/") assert.notDeepEqual(forward(routes, `${prefix}_x`), { cluster, path: `${below}x` });
        }
      }),
      RUNS,
    );
  });

  /** One mistake a user can make, and where the error must point. */
  const mistakes: readonly { name: string; apply(raw: any): void; path: RegExp }[] = [
    { name: "a name that is not a DNS label", apply: (raw) => (raw.services[0].name = "Bad_Name"), path: /^topology\.services\[0\]\.name$/ },
    { name: "a duplicate name", apply: (raw) => raw.services.push({ ...raw.services[0], upstreams: [] }), path: /^topology\.services\[\d+\]\.name$/ },
    { name: "an unknown upstream", apply: (raw) => raw.services[0].upstreams.push("no-such-service"), path: /^topology\.services\[0\]\.upstreams\[\d+\]$/ },
    { name: "a service calling itself", apply: (raw) => raw.services[0].upstreams.push(raw.services[0].name), path: /^topology\.services\[0\]\.upstreams\[\d+\]/ },
    { name: "an app port on the admin port", apply: (raw) => (raw.services[0].appPort = raw.ports.admin), path: /^topology\.services\[0\]\.appPort$/ },
    { name: "negative replicas", apply: (raw) => (raw.services[0].replicas = -1), path: /^topology\.services\[0\]\.replicas$/ },
    { name: "fractional replicas", apply: (raw) => (raw.front.replicas = 1.5), path: /^topology\.front\.replicas$/ },
    { name: "no front replica", apply: (raw) => (raw.front.replicas = 0), path: /^topology\.front\.replicas$/ },
    { name: "an unknown key", apply: (raw) => (raw.services[0].replica = 2), path: /^topology\.services\[0\]\.replica$/ },
    { name: "a route to an unknown service", apply: (raw) => (raw.front.routes[0].service = "no-such-service"), path: /^topology\.front\.routes\[0\]\.service$/ },
    { name: "a prefix without a slash", apply: (raw) => (raw.front.routes[0].prefix = "api"), path: /^topology\.front\.routes\[0\]\.prefix$/ },
    { name: "two mesh ports equal", apply: (raw) => (raw.ports.health = raw.ports.admin), path: /^topology\.ports\.health$/ },
    { name: "a privileged port", apply: (raw) => (raw.services[0].appPort = 80), path: /^topology\.services\[0\]\.appPort$/ },
  ];

  it("every random topology with one mistake is refused with a topology error naming it, never a deeper exception", function () {
    assertProperty(
      this.test,
      fc.property(validTopology, fc.constantFrom(...mistakes), (valid, mistake) => {
        const raw = structuredClone(valid);
        mistake.apply(raw);
        let error: unknown;
        try {
          parseTopology(raw);
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof ConfigError, `${mistake.name}: expected a ConfigError, got ${String(error)}`);
        assert.ok(
          error.issues.some((issue) => mistake.path.test(issue.path)),
          `${mistake.name}: no issue at ${mistake.path}; got ${error.issues.map((i) => i.path).join(", ")}`,
        );
      }),
      { numRuns: 60 },
    );
  });

  it("every call cycle added to a valid topology is refused, naming a cycle that is really in it", function () {
    const withCycle = validTopology
      .filter((raw) => raw.services.length >= 2)
      .chain((raw) =>
        fc.record({
          raw: fc.constant(raw),
          cycle: fc.shuffledSubarray(raw.services.map((s) => s.name), { minLength: 2, maxLength: Math.min(4, raw.services.length) }),
        }),
      );
    assertProperty(
      this.test,
      fc.property(withCycle, ({ raw: valid, cycle }) => {
        const raw = structuredClone(valid);
        const callees = (name: string) => (raw.services.find((s) => s.name === name) as { upstreams: (string | RawUpstream)[] }).upstreams;
        cycle.forEach((caller, i) => {
          const callee = cycle[(i + 1) % cycle.length];
          if (!callees(caller).map(calleeName).includes(callee)) callees(caller).push(callee);
        });
        let error: unknown;
        try {
          parseTopology(raw);
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof ConfigError, `expected a ConfigError for the cycle ${cycle.join(" → ")}`);
        const named = error.issues.map((i) => /^calls (.+?): /.exec(i.message)?.[1].split(" → ")).filter((c) => c !== undefined);
        assert.ok(named.length > 0, `no cycle named; got ${error.message}`);
        for (const path of named) {
          assert.equal(path[0], path[path.length - 1], `${path.join(" → ")} is not closed`);
          for (let i = 0; i + 1 < path.length; i++) {
            assert.ok(callees(path[i]).map(calleeName).includes(path[i + 1]), `${path[i]} does not call ${path[i + 1]}`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("any input at all is either refused with a topology error or renders configs that pass validation", function () {
    assertProperty(
      this.test,
      fc.property(fc.oneof(fc.anything(), fc.record({ services: fc.anything(), front: fc.anything(), ports: fc.anything() })), (raw) => {
        let topology;
        try {
          topology = parseTopology(raw);
        } catch (error) {
          assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
          return;
        }
        assert.deepEqual(meshEnvoyConfigProblems(topology, kubernetesEnvoyTarget(TARGET)), []);
      }),
      { numRuns: 200 },
    );
  });
});
