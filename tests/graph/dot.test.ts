import { strict as assert } from "node:assert";
import { dotString, duration, faultLines, leftJustified, meshDot } from "../../graph/dot";
import { parseTopology } from "../../topology";

describe("graph/dot: the topology as DOT", () => {
  it("quotes strings, escaping quotes and backslashes, joining lines with \\n", () => {
    assert.equal(dotString('a "b"', "c\\d"), '"a \\"b\\"\\nc\\\\d"');
    assert.equal(dotString("x\\"), '"x\\\\"', "a trailing backslash cannot escape the closing quote");
    assert.equal(leftJustified("a", "b"), '"a\\lb\\l"');
  });

  it("writes durations in their shortest exact form", () => {
    assert.deepEqual([15_000, 2500, 250, 1000, 1001].map(duration), ["15s", "2.5s", "250ms", "1s", "1001ms"]);
  });

  it("names both faults of an edge, and none when there is none", () => {
    assert.deepEqual(faultLines({ delay: { fixedDelayMs: 2000, percentage: 10 }, abort: { httpStatus: 503, percentage: 0.5 } }), ["FAULT: delay 2s 10%, abort 503 0.5%"]);
    assert.deepEqual(faultLines(undefined), []);
  });

  it("is the same text for the same topology, and lists services by name and edges in the caller's order", () => {
    const raw = { extends: "seed", services: [{ name: "service-a", upstreams: ["service-c", "service-b"] }] };
    const dot = meshDot(parseTopology(raw));
    assert.equal(meshDot(parseTopology(raw)), dot);
    const order = [...dot.matchAll(/^ {2}"([^"]+)"(?: -> "([^"]+)")?/gm)].map((m) => (m[2] === undefined ? m[1] : `${m[1]}->${m[2]}`));
    assert.deepEqual(order, [
      "clients",
      "front-envoy",
      "clients->front-envoy",
      "service-a",
      "service-b",
      "service-c",
      "front-envoy->service-a",
      "service-a->service-c",
      "service-a->service-b",
    ]);
  });

  it("uses only ASCII, whose widths Graphviz knows", () => {
    const dot = meshDot(parseTopology({ extends: "seed", services: [{ name: "service-b", versions: [{ name: "v1", weight: 100 }, { name: "v2", weight: 0 }] }] }));
    assert.doesNotMatch(dot, /[^\x20-\x7e\n]/);
  });
});
