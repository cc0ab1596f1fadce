import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_SYNTHETIC_ROUTES, MAX_SYNTHETIC_UPSTREAMS, USAGE, commandLine, ownerOf, parseOptions, stageLine, summarizeProfile, syntheticTopology, targetLines, type Figures } from "../../scripts/bench-render";
import { parseTopology } from "../../topology/parse";

describe("scripts/bench-render", () => {
  describe("syntheticTopology", () => {
    it("is a valid topology of exactly N services, for 1 service up to 2,000", () => {
      for (const n of [1, 2, 3, 100, 2000]) {
        const topology = parseTopology(syntheticTopology(n));
        assert.equal(topology.services.length, n);
        assert.ok(topology.front.routes.length >= 1 && topology.front.routes.length <= MAX_SYNTHETIC_ROUTES, `${n}: routes`);
      }
    });

    it("is the same for the same N", () => {
      assert.equal(JSON.stringify(syntheticTopology(500)), JSON.stringify(syntheticTopology(500)));
    });

    it("calls only services of lower index, at most three each, and every service is called or routed to", () => {
      const { services, front } = syntheticTopology(1000);
      const index = new Map(services.map((s, i) => [s.name, i]));
      const reached = new Set(front.routes.map((r) => r.service));
      services.forEach((s, i) => {
        assert.ok(s.upstreams.length <= MAX_SYNTHETIC_UPSTREAMS, s.name);
        assert.equal(new Set(s.upstreams).size, s.upstreams.length, `${s.name}: distinct upstreams`);
        for (const u of s.upstreams) {
          assert.ok((index.get(u) as number) < i, `${s.name} calls ${u}`);
          reached.add(u);
        }
      });
      assert.equal(reached.size, 1000);
      // Name order is index order, as the parser sorts services by name.
      assert.deepEqual([...services.map((s) => s.name)].sort(), services.map((s) => s.name));
    });

    it("refuses a size that is not a whole number of at least 1, naming it", () => {
      for (const n of [0, -1, 1.5]) assert.throws(() => syntheticTopology(n), new RegExp(`${n} services`));
    });
  });

  describe("stageLine", () => {
    it("lists renderMesh's stages by median over the runs, largest first, a stage missing from a run counting 0", () => {
      const runs: { stages: Record<string, number> }[] = [{ stages: { build: 800, "envoy checks": 3000 } }, { stages: { build: 1000, "envoy checks": 2000, serialize: 10 } }, { stages: { build: 900, "envoy checks": 2500 } }];
      assert.equal(stageLine(runs), "envoy checks 2.50 s, build 0.90 s, serialize 0.00 s");
    });
  });

  describe("parseOptions", () => {
    it("has the issue's sizes by default", () => {
      assert.deepEqual(parseOptions([]), { ok: true, options: { sizes: [100, 1000, 2000], runs: 5, commandRuns: 1, programSizes: [100, 1000], programRuns: 1, svgMax: 60, sdkTraces: false } });
    });

    it("reads every option, and none for no render or no program", () => {
      assert.deepEqual(
        parseOptions(["--sizes", "10,20", "--runs", "2", "--command-runs", "0", "--program-sizes", "none", "--program-runs", "3", "--sdk-traces", "--svg-max", "0", "--profile", "prof"]),
        { ok: true, options: { sizes: [10, 20], runs: 2, commandRuns: 0, programSizes: [], programRuns: 3, svgMax: 0, sdkTraces: true, profileDir: "prof" } },
      );
      assert.deepEqual(parseOptions(["--sizes", "none"]), { ok: true, options: { sizes: [], runs: 5, commandRuns: 1, programSizes: [100, 1000], programRuns: 1, svgMax: 60, sdkTraces: false } });
      assert.deepEqual(parseOptions(["--sizes", "10", "-h"]), { ok: true, help: true });
      assert.match(USAGE, /--sizes/);
    });

    it("refuses anything else, naming it", () => {
      assert.deepEqual(parseOptions(["--sizes", "100,x"]), { ok: false, error: "unknown or invalid option --sizes 100,x" });
      assert.deepEqual(parseOptions(["--sizes", ""]), { ok: false, error: "unknown or invalid option --sizes" });
      assert.deepEqual(parseOptions(["--runs", "0"]), { ok: false, error: "unknown or invalid option --runs 0" });
      assert.deepEqual(parseOptions(["--command-runs", "-1"]), { ok: false, error: "unknown or invalid option --command-runs -1" });
      assert.deepEqual(parseOptions(["--profile"]), { ok: false, error: "unknown or invalid option --profile" });
      assert.deepEqual(parseOptions(["--fast"]), { ok: false, error: "unknown or invalid option --fast" });
    });
  });

  describe("commandLine", () => {
    it("starts the benchmark's entry point as package.json's render script starts cli/render.ts, with the arguments quoted", () => {
      assert.equal(commandLine("ts-node cli/render.ts", ["/tmp/p", "--out", "it's"]), `ts-node scripts/bench-render-command.ts '/tmp/p' '--out' 'it'\\''s'`);
      assert.equal(commandLine("node --enable-source-maps bin/cli/render.js", ["x"]), "node --enable-source-maps bin/scripts/bench-render-command.js 'x'");
      assert.equal(commandLine("TS_NODE_TRANSPILE_ONLY=1 ts-node ./cli/render", []), "TS_NODE_TRANSPILE_ONLY=1 ts-node ./scripts/bench-render-command");
    });

    it("understands this project's render script", () => {
      const script = (JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.render;
      assert.match(commandLine(script, []), /scripts\/bench-render-command/);
    });

    it("refuses a render script that does not name cli/render, quoting it", () => {
      assert.throws(() => commandLine("node other.js", []), /render script does not name cli\/render: "node other.js"/);
      assert.throws(() => commandLine("ts-node cli/renderer.ts", []), /does not name cli\/render/);
    });
  });

  describe("targetLines", () => {
    const none = (): Map<number, number> => new Map();
    const figures = (over: Partial<Figures>): Figures => ({ renderMs: none(), renderRssMb: none(), commandMs: none(), commandRssMb: none(), programMs: none(), programRssMb: none(), ...over });

    it("says for each of the issue's targets whether it is met, with the figure", () => {
      const lines = targetLines(
        figures({
          renderMs: new Map([[1000, 1500], [2000, 3300]]),
          renderRssMb: new Map([[1000, 310]]),
          commandMs: new Map([[1000, 2999]]),
          commandRssMb: new Map([[1000, 250]]),
          programMs: new Map([[1000, 12_000]]),
          programRssMb: new Map([[1000, 499]]),
        }),
      );
      assert.deepEqual(lines, [
        "target: render 1000 services in-process (warm median) < 2 s: 1.50 s: met",
        "target: render 1000 services, the whole command < 3 s: 3.00 s: met",
        "target: render time(2000)/time(1000) in-process <= 2.2: 2.20: met",
        "target: render 1000 services, peak RSS in-process < 300 MB: 310 MB: NOT MET",
        "target: render 1000 services, peak RSS of the whole command < 300 MB: 250 MB: met",
        "target: program 1000 services under mocks < 10 s: 12.00 s: NOT MET",
        "target: program 1000 services under mocks, peak RSS < 500 MB: 499 MB: met",
      ]);
    });

    it("meets a ratio equal to its limit but not a time equal to its limit", () => {
      const lines = targetLines(figures({ renderMs: new Map([[1000, 2000], [2000, 4400]]), commandMs: new Map([[1000, 3000]]) }));
      assert.equal(lines[0], "target: render 1000 services in-process (warm median) < 2 s: 2.00 s: NOT MET");
      assert.equal(lines[1], "target: render 1000 services, the whole command < 3 s: 3.00 s: NOT MET");
      assert.equal(lines[2], "target: render time(2000)/time(1000) in-process <= 2.2: 2.20: met");
    });

    it("says what to run for a figure that was not measured", () => {
      const lines = targetLines(figures({ renderMs: new Map([[1000, 1000]]) }));
      assert.equal(lines[2], "target: render time(2000)/time(1000) in-process <= 2.2: not measured (run with --sizes with 1000 and 2000)");
      assert.equal(lines[5], "target: program 1000 services under mocks < 10 s: not measured (run with --program-sizes with 1000)");
    });
  });

  describe("summarizeProfile", () => {
    it("adds each sample's time to its function and package, largest first", () => {
      const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
      const profile = {
        nodes: [
          { id: 1, callFrame: frame("captureStack", "file:///p/node_modules/@pulumi/pulumi/runtime/debuggable.js") },
          { id: 2, callFrame: frame("toYaml", "file:///p/envoy/yaml.ts") },
          { id: 3, callFrame: frame("(garbage collector)", "") },
        ],
        samples: [1, 2, 1, 3],
        timeDeltas: [1000, 500, 2000, 250],
      };
      const summary = summarizeProfile(profile);
      assert.deepEqual(summary.functions, [
        ["captureStack debuggable.js:1", 3],
        ["toYaml yaml.ts:1", 0.5],
        ["(garbage collector)", 0.25],
      ]);
      assert.deepEqual(summary.owners, [
        ["@pulumi/pulumi", 3],
        ["(project) envoy", 0.5],
        ["(native/gc/idle)", 0.25],
      ]);
      assert.equal(summary.totalMs, 3.75);
      assert.equal(ownerOf("node:internal/modules/cjs/loader"), "(node)");
      assert.equal(ownerOf("file:///p/node_modules/js-yaml/dist/js-yaml.js"), "js-yaml");
    });
  });
});
