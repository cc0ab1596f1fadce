import { strict as assert } from "node:assert";
import fc from "fast-check";
import { parseTopology } from "../../topology";

const SERVICES = [
  { name: "web", appPort: 8081, upstreams: ["api", { service: "auth", egressPort: 12000 }], replicas: 2 },
  { name: "api", appPort: 8082, upstreams: ["db"] },
  { name: "auth", appPort: 8083, image: { ref: "ghcr.io/acme/auth:1.2.3" } },
  { name: "db", appPort: 8084 },
];
const ROUTES = [
  { prefix: "/", service: "web" },
  { prefix: "/api", service: "api" },
  { prefix: "/auth", service: "auth" },
  { prefix: "/api/v2", service: "api" },
];

const permutation = <T>(items: readonly T[]) => fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });

describe("topology/parse: determinism", () => {
  it("gives deep-equal results for the same services and routes in any order", () => {
    const reference = parseTopology({ services: SERVICES, front: { routes: ROUTES } });
    fc.assert(
      fc.property(permutation(SERVICES), permutation(ROUTES), (services, routes) => {
        assert.deepEqual(parseTopology({ services, front: { routes } }), reference);
      }),
      { numRuns: 40 },
    );
  });

  it("gives the same result for the same input twice", () => {
    const raw = { services: SERVICES, front: { routes: ROUTES } };
    assert.equal(JSON.stringify(parseTopology(raw)), JSON.stringify(parseTopology(raw)));
  });
});
