import { strict as assert } from "node:assert";
import { dotString, duration, faultLines, leftJustified, meshDot, stackDrawOptions } from "../../graph/dot";
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

  it("shows the front's listeners: HTTPS only with an edge certificate, plain HTTP as the topology says", () => {
    const front = (plainHttp: string, https: boolean) => /"front-envoy" \[label="front-envoy\\n([^\\]*)\\n/.exec(meshDot(parseTopology({ extends: "seed", front: { plainHttp } }), { https }))?.[1];
    assert.equal(front("serve", true), "HTTP :8080, HTTPS :8443");
    assert.equal(front("redirect", true), "HTTP :8080 (redirects), HTTPS :8443");
    assert.equal(front("off", true), "HTTPS :8443");
    assert.equal(front("serve", false), "HTTP :8080");
    assert.deepEqual(stackDrawOptions({ certificates: { edge: { kind: "none" } } }), { https: false });
    assert.deepEqual(stackDrawOptions({ certificates: { edge: { kind: "local" } } }), { https: true });
  });

  it("uses only ASCII, whose widths Graphviz knows", () => {
    const dot = meshDot(parseTopology({ extends: "seed", services: [{ name: "service-b", versions: [{ name: "v1", weight: 100 }, { name: "v2", weight: 0 }] }] }));
    assert.doesNotMatch(dot, /[^\x20-\x7e\n]/);
  });
});
