import { strict as assert } from "node:assert";
import fc from "fast-check";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { buildMeshManifests } from "../../k8s";
import { validateManifests } from "../../k8s/validation/schema";
import { ConfigError, parseTopology } from "../../topology";

const TARGET = {
  namespace: "mesh",
  clusterDomain: "cluster.local",
  envoyImage: "envoyproxy/envoy:v1.39.5",
  front: { type: "NodePort", nodePort: 30080 },
} as const;
/** Property runs are bounded so the whole suite stays well inside its time budget. */
const RUNS = { numRuns: 20 };

const serviceName = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/).filter((n) => n !== "front-envoy");

/** Mesh-wide ports, distinct, in the unprivileged range below the app and egress ranges. */
const meshPorts = fc
  .uniqueArray(fc.integer({ min: 1024, max: 9999 }), { minLength: 6, maxLength: 6 })
  .map(([ingress, admin, health, egressBase, front, appHealth]) => ({ ingress, admin, health, egressBase, front, appHealth }));

interface RawUpstream {
  service: string;
  egressPort?: number;
}

/**
 * A valid topology: 1 to 30 services calling random others (cycles and fan-in included, never
 * themselves), random replicas, app ports and explicit egress ports that cannot clash.
 */
const validTopology = fc
  .uniqueArray(serviceName, { minLength: 1, maxLength: 30 })
  .chain((names) =>
    fc.record({
      ports: meshPorts,
      envoy: fc.record({ connectTimeoutMs: fc.integer({ min: 1, max: 60_000 }), concurrency: fc.integer({ min: 1, max: 64 }) }),
      services: fc.tuple(
        ...names.map((name) =>
          fc.record({
            name: fc.constant(name),
            appPort: fc.integer({ min: 30000, max: 39999 }),
            replicas: fc.integer({ min: 0, max: 5 }),
            upstreams: fc
              .shuffledSubarray(names.filter((n) => n !== name))
              .chain((callees) =>
                fc.tuple(
                  ...callees.map((callee, i): fc.Arbitrary<string | RawUpstream> =>
                    fc.oneof(fc.constant(callee), fc.constant({ service: callee, egressPort: 40000 + i }), fc.constant({ service: callee })),
                  ),
                ),
              ),
          }),
        ),
      ),
      front: fc.record({
        replicas: fc.integer({ min: 0, max: 3 }),
        routes: fc
          .uniqueArray(fc.stringMatching(/^\/[a-z0-9/-]{0,12}$/), { minLength: 1, maxLength: 4 })
          .chain((prefixes) => fc.tuple(...prefixes.map((prefix) => fc.constantFrom(...names).map((service) => ({ prefix, service }))))),
      }),
    }),
  );

describe("properties of topologies", () => {
  it("every valid random topology renders Envoy configs that pass strict validation", () => {
    fc.assert(
      fc.property(validTopology, (raw) => {
        const topology = parseTopology(raw);
        assert.deepEqual(meshEnvoyConfigProblems(topology, TARGET), []);
      }),
      RUNS,
    );
  });

  it("every valid random topology renders Kubernetes objects that pass the strict schema check", () => {
    fc.assert(
      fc.property(validTopology, (raw) => {
        const manifests = buildMeshManifests(parseTopology(raw), TARGET, () => "registry.example/app@sha256:" + "0".repeat(64));
        assert.deepEqual(validateManifests(manifests), []);
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
    { name: "an unknown key", apply: (raw) => (raw.services[0].replica = 2), path: /^topology\.services\[0\]\.replica$/ },
    { name: "a route to an unknown service", apply: (raw) => (raw.front.routes[0].service = "no-such-service"), path: /^topology\.front\.routes\[0\]\.service$/ },
    { name: "a prefix without a slash", apply: (raw) => (raw.front.routes[0].prefix = "api"), path: /^topology\.front\.routes\[0\]\.prefix$/ },
    { name: "two mesh ports equal", apply: (raw) => (raw.ports.health = raw.ports.admin), path: /^topology\.ports\.health$/ },
    { name: "a privileged port", apply: (raw) => (raw.services[0].appPort = 80), path: /^topology\.services\[0\]\.appPort$/ },
  ];

  it("every random topology with one mistake is refused with a topology error naming it, never a deeper exception", () => {
    fc.assert(
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

  it("any input at all is either refused with a topology error or renders configs that pass validation", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ services: fc.anything(), front: fc.anything(), ports: fc.anything() })), (raw) => {
        let topology;
        try {
          topology = parseTopology(raw);
        } catch (error) {
          assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
          return;
        }
        assert.deepEqual(meshEnvoyConfigProblems(topology, TARGET), []);
      }),
      { numRuns: 200 },
    );
  });
});
