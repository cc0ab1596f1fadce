import { strict as assert } from "node:assert";
import { declaredCallers } from "../../envoy/identity";
import { FRONT_PROXY_NAME, compare, parseTopology, type Topology } from "../../topology";
import { syntheticTopology } from "../../scripts/bench-render";

/** The definition, computed directly: every service listing `service` as an upstream, and the front for a routed one. */
function callersByDefinition(topology: Topology, service: string): string[] {
  const callers = topology.services.filter((s) => s.upstreams.some((u) => u.service === service)).map((s) => s.name);
  if (topology.front.routes.some((r) => r.service === service)) callers.push(FRONT_PROXY_NAME);
  return [...new Set(callers)].sort(compare);
}

describe("envoy/identity declaredCallers", () => {
  let topology: Topology;
  before(() => {
    topology = parseTopology(syntheticTopology(60));
  });

  it("names, for every service, exactly the services that call it and the front when it routes there, sorted", () => {
    for (const s of topology.services) assert.deepEqual(declaredCallers(topology, s.name), callersByDefinition(topology, s.name), s.name);
    assert.ok(declaredCallers(topology, topology.services[59].name).includes(FRONT_PROXY_NAME));
    assert.deepEqual(declaredCallers(topology, "no-such-service"), []);
  });

  it("answers for each topology on its own, and a caller changing the list it got changes no later answer", () => {
    const first = topology.services[0].name;
    const before = declaredCallers(topology, first);
    const other: Topology = { ...topology, services: topology.services.map((s) => ({ ...s, upstreams: [] })) };
    assert.deepEqual(declaredCallers(other, first), []);
    declaredCallers(topology, first).push("intruder");
    assert.deepEqual(declaredCallers(topology, first), before);
    assert.deepEqual(before, callersByDefinition(topology, first));
  });
});
