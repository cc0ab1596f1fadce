import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { loadTimeCalls } from "./helpers/loadTimeCalls";

const TESTS = __dirname;
const IN_TESTS = resolve(TESTS, "topology", "x.test.ts");

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testSources(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

const lines = (source: string) => loadTimeCalls(IN_TESTS, source, TESTS).map((c) => c.line);

describe("test files", () => {
  it("call no project code while Mocha loads them (a builder bug must fail tests, not abort the run)", () => {
    const found = testSources(TESTS).flatMap((file) =>
      loadTimeCalls(file, readFileSync(file, "utf8"), TESTS).map((c) => `${relative(TESTS, file)}:${c.line}: ${c.text}`),
    );
    assert.deepEqual(found, [], `move these into a test or a before() hook:\n${found.join("\n")}`);
  });

  describe("the load-time check itself", () => {
    const header = 'import { parseTopology } from "../../topology";\nimport { oneService } from "./fixtures";\n';

    it("finds a build at module level and in a describe body", () => {
      assert.deepEqual(lines(`${header}const seed = parseTopology(undefined);\ndescribe("x", () => {\n  const t = parseTopology(oneService());\n});\n`), [3, 5]);
    });

    it("finds a local helper that builds, called at load", () => {
      assert.deepEqual(lines(`${header}const build = () => parseTopology(undefined);\nconst seed = build();\n`), [4]);
    });

    it("finds a call through a namespace import, and leaves methods of imported constants", () => {
      const source = 'import * as k8s from "../../k8s";\nimport { LEVELS } from "../../topology";\nconst a = k8s.buildNamespace("x");\nconst b = LEVELS.join(", ");\n';
      assert.deepEqual(lines(source), [3]);
    });

    it("leaves builds inside tests and hooks, and calls of the tests' own helpers", () => {
      const source = `${header}describe("x", () => {\n  let t;\n  before(() => (t = parseTopology(undefined)));\n  it("y", () => parseTopology(oneService()));\n  const raw = oneService();\n});\n`;
      assert.deepEqual(lines(source), []);
    });
  });
});
