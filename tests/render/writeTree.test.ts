import { strict as assert } from "node:assert";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATA_LINK, OutputDirError, RENDER_MARKER, writeTree } from "../../render/writeTree";

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

async function outputDirError(run: () => Promise<unknown>): Promise<OutputDirError> {
  try {
    await run();
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

  it("writes every file under a new folder, with the render marker", async () => {
    await writeTree(out, FILES);
    for (const [path, content] of FILES) assert.equal(readFileSync(join(out, path), "utf8"), content);
    assert.ok(existsSync(join(out, RENDER_MARKER)));
  });

  it("leaves only the output folder next to it (no staging folder)", async () => {
    await writeTree(out, FILES);
    assert.deepEqual(readdirSync(parent), ["out"]);
  });

  it("writes into an empty folder", async () => {
    mkdirSync(out);
    await writeTree(out, FILES);
    assert.ok(existsSync(join(out, "envoy/front-envoy.yaml")));
  });

  it("carries the files named in keep over from the old folder, with their modes and their folders' modes, instead of the new content", async () => {
    await writeTree(out, new Map([...FILES, ["tls/a/tls.key", "# placeholder\n"]]));
    mkdirSync(join(out, "tls/b"));
    writeFileSync(join(out, "tls/a/tls.key"), "issued key\n");
    writeFileSync(join(out, "tls/ca.key"), "ca key\n", { mode: 0o600 });
    writeFileSync(join(out, "tls/b/old"), "gone\n");
    chmodSync(join(out, "tls/a"), 0o700);
    chmodSync(join(out, "tls"), 0o700);
    await writeTree(out, new Map([...FILES, ["tls/a/tls.key", "# placeholder\n"], ["tls/c/tls.key", "# placeholder\n"]]), ["tls/a/tls.key", "tls/ca.key"]);
    assert.equal(readFileSync(join(out, "tls/a/tls.key"), "utf8"), "issued key\n");
    assert.equal(readFileSync(join(out, "tls/ca.key"), "utf8"), "ca key\n");
    assert.equal(readFileSync(join(out, "tls/c/tls.key"), "utf8"), "# placeholder\n");
    assert.equal(statSync(join(out, "tls/ca.key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, "tls")).mode & 0o777, 0o700);
    assert.equal(statSync(join(out, "tls/a")).mode & 0o777, 0o700);
    assert.equal(existsSync(join(out, "tls/b")), false, "what is not kept is gone");
  });

  it("writes nothing when a write fails midway, and leaves no staging folder", async () => {
    await assert.rejects(writeTree(out, CONFLICTING));
    assert.deepEqual(readdirSync(parent), []);
  });

  it("writes nothing when one of many files written at once fails, and leaves no staging folder", async () => {
    const many = (from: number) => Array.from({ length: 50 }, (_, i) => [`k8s/${from + i}.yaml`, `n: ${from + i}\n`] as [string, string]);
    await assert.rejects(writeTree(out, new Map([...many(0), ...CONFLICTING, ...many(50)])), /EISDIR/);
    assert.deepEqual(readdirSync(parent), []);
  });

  it("keeps an earlier render intact when a write fails midway", async () => {
    await writeTree(out, FILES);
    await assert.rejects(writeTree(out, CONFLICTING));
    assert.deepEqual(readdirSync(parent), ["out"]);
    assert.equal(readFileSync(join(out, "envoy/front-envoy.yaml"), "utf8"), "front: 1\n");
    assert.equal(existsSync(join(out, "envoy/a.yaml")), false);
  });

  describe("a render into an earlier render's folder: only what changed is written", () => {
    const V1 = new Map([
      ["envoy/front-envoy.yaml", "front: 1\n"],
      ["envoy/service-a.yaml", "a: 1\n"],
      ["k8s/00-namespace-envoy-mesh.yaml", "kind: Namespace\n"],
      ["k8s/01-service-old.yaml", "kind: Service\n"],
    ]);
    const V2 = new Map([
      ["envoy/front-envoy.yaml", "front: 1\n"],
      ["envoy/service-a.yaml", "a: 2\n"],
      ["k8s/00-namespace-envoy-mesh.yaml", "kind: Namespace\n"],
      ["k8s/02-service-new.yaml", "kind: Service\n"],
    ]);
    const identity = (path: string) => {
      const s = statSync(join(out, path));
      return { ino: s.ino, mtimeMs: s.mtimeMs };
    };

    it("keeps each unchanged file as it was (same inode, same mtime), writes the changed and new ones, removes the rest", async () => {
      await writeTree(out, V1);
      const before = { front: identity("envoy/front-envoy.yaml"), namespace: identity("k8s/00-namespace-envoy-mesh.yaml"), a: identity("envoy/service-a.yaml") };
      await writeTree(out, V2);
      assert.deepEqual(identity("envoy/front-envoy.yaml"), before.front);
      assert.deepEqual(identity("k8s/00-namespace-envoy-mesh.yaml"), before.namespace);
      assert.notEqual(identity("envoy/service-a.yaml").ino, before.a.ino);
      for (const [path, content] of V2) assert.equal(readFileSync(join(out, path), "utf8"), content, path);
      assert.deepEqual(readdirSync(join(out, "k8s")), ["00-namespace-envoy-mesh.yaml", "02-service-new.yaml"]);
      assert.deepEqual(readdirSync(parent), ["out"]);
      // The kept file is no longer shared with the old tree, which is gone.
      assert.equal(statSync(join(out, "envoy/front-envoy.yaml")).nlink, 1);
    });

    it("writes anew a file whose content was changed by hand, or that was replaced by a link, or by a folder", async () => {
      await writeTree(out, V1);
      writeFileSync(join(out, "envoy/front-envoy.yaml"), "edited\n");
      writeFileSync(join(parent, "elsewhere.yaml"), "a: 2\n");
      rmSync(join(out, "envoy/service-a.yaml"));
      symlinkSync(join(parent, "elsewhere.yaml"), join(out, "envoy/service-a.yaml"));
      rmSync(join(out, "k8s/00-namespace-envoy-mesh.yaml"));
      mkdirSync(join(out, "k8s/00-namespace-envoy-mesh.yaml"));
      await writeTree(out, V2);
      for (const [path, content] of V2) {
        assert.equal(readFileSync(join(out, path), "utf8"), content, path);
        assert.ok(lstatSync(join(out, path)).isFile(), `${path} is a plain file`);
        assert.equal(lstatSync(join(out, path)).nlink, 1, `${path} shares its inode with nothing`);
      }
    });

    it("compares bytes: a file holding a broken UTF-8 sequence of the same length is written anew", async () => {
      const text = "a: \uFFFDA\n";
      await writeTree(out, new Map([["envoy/x.yaml", text]]));
      // F0 90 80 is a cut four-byte sequence: it decodes to one U+FFFD, in as many bytes as U+FFFD takes.
      writeFileSync(join(out, "envoy/x.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0xf0, 0x90, 0x80, 0x41, 0x0a]));
      assert.equal(readFileSync(join(out, "envoy/x.yaml"), "utf8"), text);
      await writeTree(out, new Map([["envoy/x.yaml", text]]));
      assert.ok(readFileSync(join(out, "envoy/x.yaml")).equals(Buffer.from(text)));
    });

    it("does not take over a file reached through a folder that was replaced by a link (it would share a file outside the tree)", async () => {
      await writeTree(out, V1);
      const outside = join(parent, "outside");
      mkdirSync(outside);
      writeFileSync(join(outside, "front-envoy.yaml"), "front: 1\n");
      rmSync(join(out, "envoy"), { recursive: true });
      symlinkSync(outside, join(out, "envoy"));
      await writeTree(out, V2);
      assert.ok(lstatSync(join(out, "envoy")).isDirectory());
      assert.notEqual(statSync(join(out, "envoy/front-envoy.yaml")).ino, statSync(join(outside, "front-envoy.yaml")).ino);
      assert.equal(readFileSync(join(outside, "front-envoy.yaml"), "utf8"), "front: 1\n", "what the link pointed to is left alone");
    });

    it("writes anew an unchanged file whose mode was changed, so that every file has the mode a new render gives it", async () => {
      await writeTree(out, V1);
      const mode = statSync(join(out, "k8s/00-namespace-envoy-mesh.yaml")).mode & 0o777;
      chmodSync(join(out, "envoy/front-envoy.yaml"), 0o600);
      await writeTree(out, V2);
      assert.equal(statSync(join(out, "envoy/front-envoy.yaml")).mode & 0o777, mode);
    });

    it("moves a folder whose files are all unchanged into the new tree whole (it keeps its inode), and rebuilds one with a change, an extra entry or another mode", async () => {
      const tree = (a: string) =>
        new Map([
          ["envoy/service-a/lds.yaml", `lds: ${a}\n`],
          ["envoy/service-a/cds.yaml", "cds: 1\n"],
          ["envoy/service-b/lds.yaml", "lds: 1\n"],
          ["envoy/service-c/lds.yaml", "lds: 1\n"],
          ["envoy/service-d/lds.yaml", "lds: 1\n"],
          ["k8s/00-namespace.yaml", "kind: Namespace\n"],
          ["top.yaml", "top: 1\n"],
        ]);
      await writeTree(out, tree("1"));
      const folder = (path: string) => statSync(join(out, path)).ino;
      const before = { envoy: folder("envoy"), a: folder("envoy/service-a"), b: folder("envoy/service-b"), c: folder("envoy/service-c"), d: folder("envoy/service-d"), k8s: folder("k8s") };
      const files = [...tree("1").keys()].map((path) => ({ path, ...identity(path) }));
      writeFileSync(join(out, "envoy/service-c/notes.txt"), "mine\n");
      chmodSync(join(out, "envoy/service-d"), 0o700);
      await writeTree(out, tree("2"));
      assert.equal(folder("envoy/service-b"), before.b, "unchanged: moved");
      assert.equal(folder("k8s"), before.k8s, "unchanged: moved");
      assert.notEqual(folder("envoy/service-a"), before.a, "a changed file: rebuilt");
      assert.notEqual(folder("envoy"), before.envoy, "a changed file below: rebuilt");
      assert.notEqual(folder("envoy/service-c"), before.c, "an extra entry: rebuilt");
      assert.deepEqual(readdirSync(join(out, "envoy/service-c")), ["lds.yaml"]);
      assert.notEqual(folder("envoy/service-d"), before.d, "another mode: rebuilt");
      assert.equal(statSync(join(out, "envoy/service-d")).mode & 0o777, statSync(join(out, "envoy/service-a")).mode & 0o777);
      for (const { path, ino, mtimeMs } of files) {
        if (path === "envoy/service-a/lds.yaml") continue;
        assert.deepEqual(identity(path), { ino, mtimeMs }, `${path}: kept as it was`);
        assert.equal(statSync(join(out, path)).nlink, 1, path);
      }
      for (const [path, content] of tree("2")) assert.equal(readFileSync(join(out, path), "utf8"), content, path);
      assert.deepEqual(readdirSync(parent), ["out"]);
    });

    it("keeps every folder and file of an earlier render when nothing changed", async () => {
      await writeTree(out, V1);
      const all = ["envoy", "k8s", ...V1.keys()].map((path) => ({ path, ...identity(path) }));
      await writeTree(out, V1);
      assert.deepEqual(["envoy", "k8s", ...V1.keys()].map((path) => ({ path, ...identity(path) })), all);
      assert.ok(existsSync(join(out, RENDER_MARKER)));
    });

    it("leaves the earlier render exactly as it was (the same files, inodes and content) when a write fails midway", async () => {
      await writeTree(out, V1);
      const before = [...V1.keys()].map((path) => ({ path, ...identity(path) }));
      await assert.rejects(writeTree(out, new Map([...V2, ...CONFLICTING])));
      assert.deepEqual([...V1.keys()].map((path) => ({ path, ...identity(path) })), before);
      for (const [path, content] of V1) assert.equal(readFileSync(join(out, path), "utf8"), content, path);
      for (const path of V1.keys()) assert.equal(statSync(join(out, path)).nlink, 1, `${path}: no link left behind`);
      assert.deepEqual(readdirSync(parent), ["out"]);
    });
  });

  it("replaces an earlier render entirely, dropping files no longer rendered", async () => {
    await writeTree(out, FILES);
    await writeTree(out, new Map([["envoy/service-a.yaml", "a: 2\n"]]));
    assert.deepEqual(readdirSync(join(out, "envoy")), ["service-a.yaml"]);
    assert.equal(existsSync(join(out, "k8s")), false);
    assert.ok(existsSync(join(out, RENDER_MARKER)));
  });

  it("refuses a non-empty folder it did not write, touching nothing", async () => {
    mkdirSync(out);
    writeFileSync(join(out, "notes.txt"), "mine");
    const error = await outputDirError(() => writeTree(out, FILES));
    assert.equal(error.message, `${out} exists and was not written by render; choose an empty or new folder`);
    assert.deepEqual(readdirSync(out), ["notes.txt"]);
    assert.deepEqual(readdirSync(parent), ["out"]);
  });

  it("refuses a path that is a file, with a clear error", async () => {
    writeFileSync(out, "mine");
    assert.match((await outputDirError(() => writeTree(out, FILES))).message, /exists and is not a folder/);
    assert.equal(readFileSync(out, "utf8"), "mine");
  });

  it("reports a folder that cannot be created as an output folder problem", async () => {
    writeFileSync(join(parent, "file"), "");
    const error = await outputDirError(() => writeTree(join(parent, "file", "out"), FILES));
    assert.match(error.message, /^cannot write .*file\/out: ENOTDIR/);
  });

  it("creates missing parent folders", async () => {
    const deep = join(parent, "a", "b", "out");
    await writeTree(deep, FILES);
    assert.ok(existsSync(join(deep, "k8s/00-namespace-envoy-mesh.yaml")));
  });

  describe("live folders (xds/<name>): published as the kubelet publishes a volume, kept across renders", () => {
    const live = (lds: string, extra: Record<string, string> = {}) =>
      new Map([...FILES, ["xds/service-a/lds.yaml", lds], ["xds/service-a/cds.yaml", "cds: 1\n"], ...Object.entries(extra).map(([k, v]) => [`xds/service-a/${k}`, v] as [string, string])]);
    const folder = () => join(out, "xds/service-a");
    const generations = () => readdirSync(folder()).filter((n) => n.startsWith("..") && n !== DATA_LINK);

    it("writes each file in a generation folder, `..data` linking to it, and the file's name linking through `..data`, readable by any user", async () => {
      assert.deepEqual(await writeTree(out, live("lds: 1\n")), [{ folder: "xds/service-a", outcome: "created" }]);
      assert.equal(readFileSync(join(folder(), "lds.yaml"), "utf8"), "lds: 1\n");
      assert.equal(readlinkSync(join(folder(), "lds.yaml")), "..data/lds.yaml");
      assert.deepEqual(generations(), [readlinkSync(join(folder(), DATA_LINK))]);
      assert.equal(statSync(join(folder(), "lds.yaml")).mode & 0o777, 0o644);
      assert.equal(statSync(join(folder(), generations()[0])).mode & 0o777, 0o755);
      assert.equal(statSync(folder()).mode & 0o777, 0o755);
    });

    it("keeps the folder itself (its inode, which a bind mount holds) and swaps the new content in, dropping files no longer rendered", async () => {
      await writeTree(out, live("lds: 1\n", { "rds-old.yaml": "old\n" }));
      const inode = statSync(folder()).ino;
      assert.deepEqual(await writeTree(out, live("lds: 2\n", { "rds-new.yaml": "new\n" })), [{ folder: "xds/service-a", outcome: "updated" }]);
      assert.equal(statSync(folder()).ino, inode, "the live folder was recreated: a running container would keep the old one");
      assert.equal(readFileSync(join(folder(), "lds.yaml"), "utf8"), "lds: 2\n");
      assert.equal(readFileSync(join(folder(), "rds-new.yaml"), "utf8"), "new\n");
      assert.deepEqual(readdirSync(folder()).filter((n) => !n.startsWith("..")).sort(), ["cds.yaml", "lds.yaml", "rds-new.yaml"]);
      assert.equal(generations().length, 1, "the old generation is removed");
      // The rest of the tree is replaced as before.
      assert.ok(existsSync(join(out, RENDER_MARKER)));
      assert.deepEqual(readdirSync(parent), ["out"]);
    });

    it("swaps by renaming `..data` inside the folder: a watch set on the folder before the render sees it (what Envoy's watched_directory reacts to)", async () => {
      await writeTree(out, live("lds: 1\n"));
      const seen: string[] = [];
      const watcher = watch(folder(), (event, name) => seen.push(`${event} ${String(name)}`));
      try {
        await writeTree(out, live("lds: 2\n"));
        await new Promise((done) => setTimeout(done, 100));
      } finally {
        watcher.close();
      }
      assert.ok(seen.includes(`rename ${DATA_LINK}`), `events seen: ${seen.join(", ")}`);
    });

    it("leaves a folder whose content is the same untouched: no swap, so no reload", async () => {
      await writeTree(out, live("lds: 1\n"));
      const link = lstatSync(join(folder(), DATA_LINK)).ino;
      assert.deepEqual(await writeTree(out, live("lds: 1\n")), [{ folder: "xds/service-a", outcome: "unchanged" }]);
      assert.equal(lstatSync(join(folder(), DATA_LINK)).ino, link);
    });

    it("publishes again over a generation whose files were changed by hand", async () => {
      await writeTree(out, live("lds: 1\n"));
      writeFileSync(join(folder(), readlinkSync(join(folder(), DATA_LINK)), "lds.yaml"), "tampered\n");
      assert.deepEqual(await writeTree(out, live("lds: 1\n")), [{ folder: "xds/service-a", outcome: "updated" }]);
      assert.equal(readFileSync(join(folder(), "lds.yaml"), "utf8"), "lds: 1\n");
      assert.equal(generations().length, 1);
    });

    it("changes nothing a container reads when a write fails midway, and leaves no generation behind", async () => {
      await writeTree(out, live("lds: 1\n"));
      const before = readdirSync(folder()).sort();
      await assert.rejects(writeTree(out, new Map([...live("lds: 2\n"), ...CONFLICTING])));
      assert.deepEqual(readdirSync(folder()).sort(), before);
      assert.equal(readFileSync(join(folder(), "lds.yaml"), "utf8"), "lds: 1\n");
      assert.deepEqual(readdirSync(parent), ["out"]);
    });
  });
});
