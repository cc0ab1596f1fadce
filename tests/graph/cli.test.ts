import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main, parseGraphArgs } from "../../cli/graph";
import { stackDrawOptions } from "../../graph/dot";
import { loadGraphviz, meshSvg, type Graphviz } from "../../graph/svg";
import { parseStackSettings, readStackValues } from "../../stack";
import { captureConsole, type CommandRun } from "../helpers/console";

const REPO_ROOT = resolve(__dirname, "../..");
const USAGE = "usage: npm run graph -- [--stack NAME] [--out FILE]   (default stack: kind; default file: out/mesh.svg)";

function run(...argv: string[]): Promise<CommandRun> {
  return captureConsole(() => main(argv));
}

describe("cli/graph", () => {
  let graphviz: Graphviz;
  let dir: string;
  const expected = (stack: string) => {
    const settings = parseStackSettings(readStackValues(REPO_ROOT, stack), { projectDir: REPO_ROOT });
    return meshSvg(graphviz, settings.topology, stackDrawOptions(settings));
  };

  before(async () => (graphviz = await loadGraphviz()));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "envoy-mesh-graph-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults to the kind stack and out/mesh.svg, and reads --flag=value", () => {
    assert.deepEqual(parseGraphArgs([]), { out: "out/mesh.svg", stack: "kind" });
    assert.deepEqual(parseGraphArgs(["--stack=docker", "--out=x.svg"]), { out: "x.svg", stack: "docker" });
  });

  it("writes the kind stack's diagram into out/mesh.svg of the current folder by default", async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    let result: CommandRun;
    try {
      result = await run();
    } finally {
      process.chdir(cwd);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "graph: stack kind: wrote out/mesh.svg (3 services, 3 edges)");
    assert.equal(readFileSync(join(dir, "out/mesh.svg"), "utf8"), expected("kind"));
  });

  it("draws another stack into --out, creating its folder", async () => {
    const out = join(dir, "a/b/canary.svg");
    const result = await run("--stack", "canary-example", "--out", out);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(out, "utf8"), expected("canary-example"));
    assert.match(readFileSync(out, "utf8"), /<title>service&#45;b\/v2<\/title>/);
  });

  it("prints the usage and exits 0 for --help, writing nothing", async () => {
    const result = await run("--out", join(dir, "x.svg"), "--help");
    assert.equal(result.code, 0);
    assert.equal(result.stdout, USAGE);
    assert.deepEqual(readdirSync(dir), []);
  });

  for (const [argv, message] of [
    [["--verbose"], 'unknown argument "--verbose"'],
    [["mesh.svg"], 'unknown argument "mesh.svg"'],
    [["--out"], "--out needs a value"],
    [["--stack", "--out", "x.svg"], "--stack needs a value"],
  ] as const) {
    it(`exits 2 with the usage line: ${argv.join(" ")}`, async () => {
      const result = await run(...argv);
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `graph: ${message}\n${USAGE}`);
    });
  }

  it("exits 1 on an unknown stack, listing the stacks, writing nothing", async () => {
    const result = await run("--stack", "nope", "--out", join(dir, "x.svg"));
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'graph: unknown stack (1 problem):\n  - --stack: no stack file for "nope" (stacks: canary-example, cloud-example, docker, kind)');
    assert.deepEqual(readdirSync(dir), []);
  });

  it("exits 1 naming --out when it is a folder, or cannot be written", async () => {
    const folder = await run("--out", dir);
    assert.equal(folder.code, 1);
    assert.equal(folder.stderr, `graph: --out ${dir} is a folder; give a file, e.g. ${join(dir, "mesh.svg")}`);
    writeFileSync(join(dir, "file"), "mine");
    const under = await run("--out", join(dir, "file/mesh.svg"));
    assert.equal(under.code, 1);
    assert.match(under.stderr, new RegExp(`^graph: --out ${dir}/file/mesh\\.svg: cannot write it \\((EEXIST|ENOTDIR)\\)$`));
    assert.equal(readFileSync(join(dir, "file"), "utf8"), "mine");
  });

  it("as a real process: exits 0 and writes the same bytes as in this process", function () {
    this.timeout(20_000);
    const out = join(dir, "mesh.svg");
    const child = spawnSync(process.execPath, ["-r", "ts-node/register", "cli/graph.ts", "--out", out], { cwd: REPO_ROOT, encoding: "utf8", timeout: 19_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, `graph: stack kind: wrote ${out} (3 services, 3 edges)\n`);
    assert.ok(existsSync(out));
    assert.equal(readFileSync(out, "utf8"), expected("kind"));
  });
});
