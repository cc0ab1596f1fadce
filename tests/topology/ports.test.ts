import { strict as assert } from "node:assert";
import fc from "fast-check";
import { parseTopology, type Topology } from "../../topology";
import { planEgressPorts, type UpstreamRequest } from "../../topology/ports";
import { onlyIssue } from "./fixtures";

/** `caller` (routed from `/`) calls each of `callees` with the given entries; every callee exists. */
function caller(upstreams: unknown[], callees: readonly string[], rest: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    services: [{ name: "caller", appPort: 8081, upstreams }, ...callees.map((name, i) => ({ name, appPort: 8100 + i }))],
    front: { routes: [{ prefix: "/", service: "caller" }] },
    ...rest,
  };
}

function portsOf(topology: Topology): Record<string, number> {
  const found = topology.services.find((s) => s.name === "caller");
  assert.ok(found);
  return Object.fromEntries(found.upstreams.map((u) => [u.service, u.egressPort]));
}

function callOrder(topology: Topology): string[] {
  return (topology.services.find((s) => s.name === "caller")?.upstreams ?? []).map((u) => u.service);
}

const CALLEES = ["alpha", "bravo", "charlie", "delta"];

describe("topology/ports: egress port plan", () => {
  it("keeps explicit egress ports", () => {
    const topology = parseTopology(caller([{ service: "alpha", egressPort: 15000 }, { service: "bravo", egressPort: 12000 }], CALLEES));
    assert.deepEqual(portsOf(topology), { alpha: 15000, bravo: 12000 });
  });

  it("assigns open ports from egressBase in order of service name, not of the list", () => {
    const topology = parseTopology(caller(["charlie", "alpha", "bravo"], CALLEES));
    assert.deepEqual(portsOf(topology), { alpha: 10001, bravo: 10002, charlie: 10003 });
  });

  it("keeps the call order of the list in upstreams", () => {
    assert.deepEqual(callOrder(parseTopology(caller(["charlie", "alpha", "bravo"], CALLEES))), ["charlie", "alpha", "bravo"]);
  });

  it("starts at a changed egressBase", () => {
    assert.deepEqual(portsOf(parseTopology(caller(["alpha", "bravo"], CALLEES, { ports: { egressBase: 20000 } }))), { alpha: 20000, bravo: 20001 });
  });

  it("skips a port taken by an explicit egress port in the same pod", () => {
    const topology = parseTopology(caller([{ service: "bravo", egressPort: 10001 }, "alpha", "charlie"], CALLEES));
    assert.deepEqual(portsOf(topology), { alpha: 10002, bravo: 10001, charlie: 10003 });
  });

  it("skips the pod's app port", () => {
    const raw = { ...caller(["alpha", "bravo"], CALLEES) };
    (raw.services as { appPort: number }[])[0].appPort = 10001;
    assert.deepEqual(portsOf(parseTopology(raw)), { alpha: 10002, bravo: 10003 });
  });

  it("skips the Envoy admin and health ports and the app health port", () => {
    assert.deepEqual(portsOf(parseTopology(caller(["alpha", "bravo"], CALLEES, { ports: { egressBase: 9901 } }))), { alpha: 9904, bravo: 9905 });
  });

  it("does not skip ports taken in another pod", () => {
    const raw = caller(["alpha"], CALLEES);
    (raw.services as { appPort: number }[])[1].appPort = 10001;
    assert.deepEqual(portsOf(parseTopology(raw)), { alpha: 10001 });
  });

  it("never moves a port when the upstream list is reordered, and keeps each order as the call order", () => {
    const entries: unknown[] = ["alpha", { service: "bravo", egressPort: 10002 }, "charlie", "delta"];
    const name = (entry: unknown) => (typeof entry === "string" ? entry : (entry as { service: string }).service);
    const reference = portsOf(parseTopology(caller(entries, CALLEES)));
    fc.assert(
      fc.property(fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }), (shuffled) => {
        const topology = parseTopology(caller(shuffled, CALLEES));
        assert.deepEqual(portsOf(topology), reference);
        assert.deepEqual(callOrder(topology), shuffled.map(name));
      }),
      { numRuns: 30 },
    );
  });

  it("reports the upstream that finds no free port, naming the range", () => {
    const raw = caller(["bravo", "alpha"], CALLEES, { ports: { egressBase: 65535 } });
    assert.equal(onlyIssue(raw, "topology.services[0].upstreams[0]"), "no free egress port left between topology.ports.egressBase (65535) and 65535");
  });

  describe("planEgressPorts", () => {
    const request = (service: string, egressPort?: number): UpstreamRequest => ({ path: `p.${service}`, service, egressPort });

    it("returns the assignments in the caller's order", () => {
      const plan = planEgressPorts([request("b"), request("a", 7000)], new Map(), 5000, 65535);
      assert.deepEqual(plan.assigned, [
        { service: "b", egressPort: 5000 },
        { service: "a", egressPort: 7000 },
      ]);
    });

    it("reports an explicit port that is reserved, naming what holds it", () => {
      const plan = planEgressPorts([request("a", 5000)], new Map([[5000, "the app port"]]), 5000, 65535);
      assert.deepEqual(plan.clashes, [{ upstream: request("a", 5000), clashesWith: "the app port" }]);
    });

    it("leaves upstreams unassigned past max, in name order", () => {
      const plan = planEgressPorts([request("c"), request("b"), request("a")], new Map(), 5000, 5001);
      assert.deepEqual(plan.assigned.map((u) => u.service), ["b", "a"]);
      assert.deepEqual(plan.unassigned, [request("c")]);
    });
  });
});
