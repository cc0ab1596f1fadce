import { strict as assert } from "node:assert";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OutputDirError, RENDER_MARKER, writeTree } from "../../render/writeTree";

const FILES = new Map([
  ["envoy/front-envoy.yaml", "front: 1\n"],
  ["k8s/00-namespace-envoy-mesh.yaml", "kind: Namespace\n"],
]);

/** Two entries where the second needs the first to be a folder: writing it fails midway. */
const CONFLICTING = new Map([
  ["envoy/a.yaml", "a: 1\n"],
  ["clash", "file\n"],
  ["clash/b.yaml", "b: 1\n"],
]);

function outputDirError(run: () => void): OutputDirError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof OutputDirError, `expected an OutputDirError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected an OutputDirError");
}

describe("render/writeTree", () => {
  let parent: string;
  let out: string;

  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), "envoy-mesh-render-"));
    out = join(parent, "out");
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it("writes every file under a new folder, with the render marker", () => {
    writeTree(out, FILES);
    for (const [path, content] of FILES) assert.equal(readFileSync(join(out, path), "utf8"), content);
    assert.ok(existsSync(join(out, RENDER_MARKER)));
  });

  it("leaves only the output folder next to it (no staging folder)", () => {
    writeTree(out, FILES);
    assert.deepEqual(readdirSync(parent), ["out"]);
  });

  it("writes into an empty folder", () => {
    mkdirSync(out);
    writeTree(out, FILES);
    assert.ok(existsSync(join(out, "envoy/front-envoy.yaml")));
  });

  it("carries the files named in keep over from the old folder, with their modes and their folders' modes, instead of the new content", () => {
    writeTree(out, new Map([...FILES, ["tls/a/tls.key", "# placeholder\n"]]));
    mkdirSync(join(out, "tls/b"));
    writeFileSync(join(out, "tls/a/tls.key"), "issued key\n");
    writeFileSync(join(out, "tls/ca.key"), "ca key\n", { mode: 0o600 });
    writeFileSync(join(out, "tls/b/old"), "gone\n");
    chmodSync(join(out, "tls/a"), 0o700);
    chmodSync(join(out, "tls"), 0o700);
    writeTree(out, new Map([...FILES, ["tls/a/tls.key", "# placeholder\n"], ["tls/c/tls.key", "# placeholder\n"]]), ["tls/a/tls.key", "tls/ca.key"]);
    assert.equal(readFileSync(join(out, "tls/a/tls.key"), "utf8"), "issued key\n");
    assert.equal(readFileSync(join(out, "tls/ca.key"), "utf8"), "ca key\n");
    assert.equal(readFileSync(join(out, "tls/c/tls.key"), "utf8"), "# placeholder\n");
    assert.equal(statSync(join(out, "tls/ca.key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, "tls")).mode & 0o777, 0o700);
    assert.equal(statSync(join(out, "tls/a")).mode & 0o777, 0o700);
    assert.equal(existsSync(join(out, "tls/b")), false, "what is not kept is gone");
  });

  it("writes nothing when a write fails midway, and leaves no staging folder", () => {
    assert.throws(() => writeTree(out, CONFLICTING));
    assert.deepEqual(readdirSync(parent), []);
  });

  it("keeps an earlier render intact when a write fails midway", () => {
    writeTree(out, FILES);
    assert.throws(() => writeTree(out, CONFLICTING));
    assert.deepEqual(readdirSync(parent), ["out"]);
    assert.equal(readFileSync(join(out, "envoy/front-envoy.yaml"), "utf8"), "front: 1\n");
    assert.equal(existsSync(join(out, "envoy/a.yaml")), false);
  });

  it("replaces an earlier render entirely, dropping files no longer rendered", () => {
    writeTree(out, FILES);
    writeTree(out, new Map([["envoy/service-a.yaml", "a: 2\n"]]));
    assert.deepEqual(readdirSync(join(out, "envoy")), ["service-a.yaml"]);
    assert.equal(existsSync(join(out, "k8s")), false);
    assert.ok(existsSync(join(out, RENDER_MARKER)));
  });

  it("refuses a non-empty folder it did not write, touching nothing", () => {
    mkdirSync(out);
    writeFileSync(join(out, "notes.txt"), "mine");
    const error = outputDirError(() => writeTree(out, FILES));
    assert.equal(error.message, `${out} exists and was not written by render; choose an empty or new folder`);
    assert.deepEqual(readdirSync(out), ["notes.txt"]);
    assert.deepEqual(readdirSync(parent), ["out"]);
  });

  it("refuses a path that is a file, with a clear error", () => {
    writeFileSync(out, "mine");
    assert.match(outputDirError(() => writeTree(out, FILES)).message, /exists and is not a folder/);
    assert.equal(readFileSync(out, "utf8"), "mine");
  });

  it("reports a folder that cannot be created as an output folder problem", () => {
    writeFileSync(join(parent, "file"), "");
    const error = outputDirError(() => writeTree(join(parent, "file", "out"), FILES));
    assert.match(error.message, /^cannot write .*file\/out: ENOTDIR/);
  });

  it("creates missing parent folders", () => {
    const deep = join(parent, "a", "b", "out");
    writeTree(deep, FILES);
    assert.ok(existsSync(join(deep, "k8s/00-namespace-envoy-mesh.yaml")));
  });
});
