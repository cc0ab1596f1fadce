import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RENDER_SVG_MAX_SERVICES, main, parseRenderArgs } from "../../cli/render";
import { syntheticTopology } from "../../scripts/bench-render";
import { renderMesh } from "../../render/renderMesh";
import { RENDER_MARKER } from "../../render/writeTree";
import { LIVE_RELOAD_NOTE } from "../../render/renderDocker";
import { captureConsole, type CommandRun } from "../helpers/console";
import { stackDrawOptions } from "../../graph/dot";
import { MESH_SVG_FILE, loadGraphviz, meshSvg } from "../../graph/svg";

const REPO_ROOT = resolve(__dirname, "../..");
const USAGE = "usage: npm run render -- --out DIR [--stack NAME]   (default stack: kind)";

/** Runs the command in this process, capturing what it prints. */
function run(...argv: string[]): Promise<CommandRun> {
  return captureConsole(() => main(argv));
}

describe("cli/render", () => {
  let dir: string;
  let out: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-mesh-cli-"));
    out = join(dir, "out");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe("usage errors (exit 2, with the usage line)", () => {
    it("requires --out", async () => {
      const result = await run();
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `render: --out is required\n${USAGE}`);
      assert.equal(result.stdout, "");
    });

    it("names an unknown flag", async () => {
      const result = await run("--out", out, "--verbose");
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `render: unknown argument "--verbose"\n${USAGE}`);
      assert.equal(existsSync(out), false);
    });

    it("names a positional argument it does not take", async () => {
      const result = await run("out");
      assert.equal(result.code, 2);
      assert.match(result.stderr, /^render: unknown argument "out"\n/);
    });

    for (const argv of [["--out"], ["--out", "--stack", "kind"], ["--out="], ["--out", out, "--stack"]]) {
      it(`refuses a flag without a value: ${argv.join(" ")}`, async () => {
        const result = await run(...argv);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /^render: --(out|stack) needs a value\n/);
      });
    }
  });

  it("prints the usage and exits 0 for --help, rendering nothing", async () => {
    const result = await run("--out", out, "--help");
    assert.equal(result.code, 0);
    assert.equal(result.stdout, USAGE);
    assert.equal(existsSync(out), false);
  });

  describe("parseRenderArgs", () => {
    it("defaults the stack to kind", async () => {
      assert.deepEqual(parseRenderArgs(["--out", "x"]), { out: "x", stack: "kind" });
    });

    it("reads --flag=value as --flag value", async () => {
      assert.deepEqual(parseRenderArgs(["--out=x", "--stack=cloud-example"]), { out: "x", stack: "cloud-example" });
    });
  });

  it(`leaves mesh.svg to npm run graph for a mesh of more than ${RENDER_SVG_MAX_SERVICES} services, saying so`, async () => {
    const project = join(dir, "project");
    mkdirSync(project);
    cpSync(join(REPO_ROOT, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
    cpSync(join(REPO_ROOT, "app"), join(project, "app"), { recursive: true, filter: (src) => !src.includes("node_modules") });
    const topology = syntheticTopology(RENDER_SVG_MAX_SERVICES + 1);
    writeFileSync(join(project, "Pulumi.large.yaml"), JSON.stringify({ config: { "envoy-mesh:target": "kind", "envoy-mesh:topology": topology } }));
    const result = await captureConsole(() => main(["--out", out, "--stack", "large"], project));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(join(out, MESH_SVG_FILE)), false);
    assert.match(result.stdout, new RegExp(`^render: note: mesh\\.svg not drawn: ${RENDER_SVG_MAX_SERVICES + 1} services is more than ${RENDER_SVG_MAX_SERVICES}, .*npm run graph -- --stack large draws it anyway$`, "m"));
  });

  it("refuses an unknown stack with exit 1, listing the stacks, and creates no output folder", async () => {
    const result = await run("--stack", "nope", "--out", out);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'render: unknown stack (1 problem):\n  - --stack: no stack file for "nope" (stacks: canary-example, cloud-example, docker, kind)');
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("renders the kind stack by default, writing what renderMesh renders, and says what it wrote", async () => {
    const result = await run("--out", out);
    assert.equal(result.code, 0, result.stderr);
    const expected = renderMesh(REPO_ROOT, "kind");
    for (const [path, content] of expected.files) assert.equal(readFileSync(join(out, path), "utf8"), content, path);
    // And the topology's diagram, as npm run graph draws it.
    assert.equal(readFileSync(join(out, MESH_SVG_FILE), "utf8"), meshSvg(await loadGraphviz(), expected.settings.topology, stackDrawOptions(expected.settings)));
    assert.ok(existsSync(join(out, RENDER_MARKER)));
    assert.equal(
      result.stdout,
      [
        `render: stack kind (target kind): wrote 4 Envoy configs to ${out}/envoy and ${expected.manifestCount} Kubernetes objects to ${out}/k8s`,
        ...expected.notes.map((note) => `render: note: ${note}`),
      ].join("\n"),
    );
    assert.equal(expected.notes.length, 2, "the identity and edge certificate placeholders");
    assert.equal(result.stderr, "");
  });

  it("renders another stack with --stack=NAME", async () => {
    const result = await run(`--out=${out}`, "--stack=cloud-example");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^render: stack cloud-example \(target cloud\)/);
    assert.ok(readFileSync(join(out, "k8s/00-namespace-envoy-mesh.yaml"), "utf8").includes("kind: Namespace"));
  });

  it("renders the docker stack as Envoy configs and a docker-compose.yaml, and says how to run it", async () => {
    const result = await run("--out", out, "--stack", "docker");
    assert.equal(result.code, 0, result.stderr);
    const expected = renderMesh(REPO_ROOT, "docker", { outDir: out });
    assert.deepEqual(readdirSync(out).sort(), [RENDER_MARKER, "docker-compose.yaml", "envoy", "mesh.svg", "observability", "tls", "xds"].sort());
    for (const [path, content] of expected.files) assert.equal(readFileSync(join(out, path), "utf8"), content, path);
    const [summary, ...notes] = result.stdout.trimEnd().split("\n");
    assert.equal(
      summary,
      `render: stack docker (target docker): wrote 4 Envoy configs to ${out}/envoy and ${out}/docker-compose.yaml (7 compose services; run: docker compose -f ${out}/docker-compose.yaml up -d --wait)`,
    );
    // The certificate placeholders are announced, with where real ones come from.
    assert.equal(notes.length, 2);
    assert.equal(
      notes[0],
      `render: note: tls/ holds placeholders, not certificates or keys: before docker compose up, run \`npm run certs -- --stack docker --out ${out}\` to issue them ` +
        "(a mesh CA, each proxy's identity, a local edge CA and the front's HTTPS certificate for localhost)",
    );
    assert.equal(notes[1], `render: note: ${LIVE_RELOAD_NOTE}`);
  });

  it("says which xDS folders a render into an earlier render's folder published anew, for the Envoys running from them", async () => {
    const first = await run("--out", out, "--stack", "docker");
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stdout, /published new xDS files/, "a first render creates the folders: no Envoy runs from them yet");
    const ldsBefore = readFileSync(join(out, "xds/front-envoy/lds.json"), "utf8");
    // A hand-made change in the live folder is replaced by what the stack renders, through a new generation.
    writeFileSync(join(out, "xds/front-envoy", readlinkSync(join(out, "xds/front-envoy/..data")), "lds.json"), "changed by hand\n");
    const third = await run("--out", out, "--stack", "docker");
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, new RegExp(`^render: published new xDS files in ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/xds/front-envoy: Envoys running from them reload them now$`, "m"));
    assert.equal(readFileSync(join(out, "xds/front-envoy/lds.json"), "utf8"), ldsBefore);
  });

  it("says on stdout that the pull Secret it wrote holds a placeholder, and what pulumi up still needs", async () => {
    const result = await run("--out", out, "--stack", "cloud-example");
    assert.equal(result.code, 0, result.stderr);
    // The certificate placeholders' notes follow (tests/render/renderSecrets.test.ts).
    const notes = result.stdout.split("\n").slice(1).filter((n) => !/identity Secrets \(/.test(n));
    assert.equal(notes.length, 2, result.stdout);
    assert.match(notes[0], /^render: note: k8s\/01-secret-envoy-mesh-registry\.yaml holds a placeholder password/);
    assert.match(notes[1], /^render: note: envoy-mesh:registryPassword not set/);
    assert.ok(existsSync(join(out, "k8s/01-secret-envoy-mesh-registry.yaml")));
    assert.match(readFileSync(join(out, "k8s/02-serviceaccount-front-envoy.yaml"), "utf8"), /imagePullSecrets:\n {2}- name: envoy-mesh-registry\n/);
  });

  it("replaces its own earlier output", async () => {
    assert.equal((await run("--out", out)).code, 0);
    assert.equal((await run("--out", out)).code, 0);
    assert.ok(existsSync(join(out, "envoy/front-envoy.json")));
  });

  it("refuses with exit 1 a non-empty folder it did not write, leaving it alone", async () => {
    mkdirSync(out);
    writeFileSync(join(out, "keep.txt"), "mine");
    const result = await run("--out", out);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `render: ${out} exists and was not written by render; choose an empty or new folder`);
    assert.deepEqual(readdirSync(out), ["keep.txt"]);
  });

  it("refuses with exit 1 an --out that is a file", async () => {
    writeFileSync(out, "mine");
    const result = await run("--out", out);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^render: .* exists and is not a folder/);
  });

  it("as a real process: exits 1 on an unknown stack, with the message and no stack trace", function () {
    this.timeout(15_000);
    const child = spawnSync("npx", ["ts-node", "cli/render.ts", "--stack", "nope", "--out", out], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      // An npm update notice on stderr would not be the command's.
      env: { ...process.env, npm_config_update_notifier: "false" },
      timeout: 14_000,
    });
    assert.equal(child.error, undefined);
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stderr, /^render: unknown stack \(1 problem\):\n {2}- --stack: no stack file for "nope" \(stacks: canary-example, cloud-example, docker, kind\)\n$/);
    assert.doesNotMatch(child.stderr, /\n\s+at /);
    assert.equal(child.stdout, "");
    assert.equal(existsSync(out), false);
  });

  it("as a real process: a Pulumi.yaml that Pulumi would refuse exits 1 naming the file, with no stack trace", function () {
    this.timeout(20_000);
    // A copy of the repository whose project file declares a type Pulumi does not know.
    const copy = join(dir, "repo");
    for (const file of execFileSync("git", ["ls-files"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\n").filter(Boolean)) {
      if (existsSync(join(REPO_ROOT, file))) cpSync(join(REPO_ROOT, file), join(copy, file));
    }
    symlinkSync(join(REPO_ROOT, "node_modules"), join(copy, "node_modules"));
    const project = readFileSync(join(copy, "Pulumi.yaml"), "utf8");
    writeFileSync(join(copy, "Pulumi.yaml"), project.replace("type: integer", "type: integr"));
    const child = spawnSync(process.execPath, ["-r", "ts-node/register", "cli/render.ts", "--out", out], {
      cwd: copy,
      encoding: "utf8",
      timeout: 19_000,
    });
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stderr, /^render: invalid project file \(1 problem\):\n {2}- .*Pulumi\.yaml: .*frontNodePort\/type/);
    assert.doesNotMatch(child.stderr, /\n\s+at /);
    assert.equal(existsSync(out), false);
  });
});
