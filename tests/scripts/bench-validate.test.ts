import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { USAGE, describeRuns, nodeScriptArgv, parseOptions } from "../../scripts/bench-validate";

describe("scripts/bench-validate", () => {
  it("takes --help and -h, as every other command does", () => {
    assert.deepEqual(parseOptions(["--help"]), { ok: true, help: true });
    assert.deepEqual(parseOptions(["--runs", "3", "-h"]), { ok: true, help: true });
    assert.match(USAGE, /--help/);
  });

  it("reads --runs and --max-cold-ms, and refuses anything else, naming it", () => {
    assert.deepEqual(parseOptions([]), { ok: true, options: { runs: 5, maxColdMs: 3000 } });
    assert.deepEqual(parseOptions(["--runs", "3", "--max-cold-ms", "2500"]), { ok: true, options: { runs: 3, maxColdMs: 2500 } });
    assert.deepEqual(parseOptions(["--runs", "0"]), { ok: false, error: "unknown or invalid option --runs 0" });
    assert.deepEqual(parseOptions(["--fast"]), { ok: false, error: "unknown or invalid option --fast" });
  });

  it("prints a figure as its median with the range of the runs", () => {
    assert.equal(describeRuns([1970, 1860, 1930], "s"), "1.93 s (1.86–1.97 s over 3 runs)");
    assert.equal(describeRuns([5.31, 5.02, 6.4, 5.2], "ms"), "5.3 ms (5.0–6.4 ms over 4 runs)");
  });

  it("times package.json's own validate script, with this node", () => {
    const script = (JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.validate;
    assert.deepEqual(nodeScriptArgv(script, "/usr/bin/node"), ["/usr/bin/node", "-r", "./cli/register.js", "cli/validate.ts"]);
  });

  it("refuses a validate script it could not time the same way", () => {
    for (const script of ["ts-node cli/validate.ts", "node", "node cli/validate.ts && echo done", "node $X", "node /abs/validate.js"]) {
      assert.throws(() => nodeScriptArgv(script, "/usr/bin/node"), /not a plain node command line/, script);
    }
  });
});
