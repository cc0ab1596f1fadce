import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesPublishScript } from "../../docker";

const HAS_BASH = spawnSync("/bin/bash", ["-c", "true"]).status === 0;
const HAS_PYTHON = spawnSync("python3", ["-c", "import ctypes"]).status === 0;

/**
 * Watches a directory as Envoy's inotify watcher does (source/common/filesystem/inotify/
 * watcher_impl.cc in envoyproxy/envoy: inotify_add_watch(dir, IN_MODIFY | IN_MOVED_TO)) and prints
 * one line per event: the mask, then the name.
 */
const WATCHER = `
import ctypes, os, struct, sys, select
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
IN_MODIFY, IN_MOVED_TO = 0x2, 0x80
if libc.inotify_add_watch(fd, sys.argv[1].encode(), IN_MODIFY | IN_MOVED_TO) < 0: sys.exit(2)
print("ready", flush=True)
while select.select([fd], [], [], 5)[0]:
    data = os.read(fd, 65536); i = 0
    while i < len(data):
        wd, mask, cookie, size = struct.unpack_from("iIII", data, i)
        print(mask, data[i + 16:i + 16 + size].rstrip(b"\\0").decode(), flush=True); i += 16 + size
`;

describe("docker: the files container's publish script", function () {
  let root = "";
  const staging = () => join(root, "staging");
  const volumes = () => join(root, "volumes");
  const FOLDERS = ["/etc/mesh/identity", "/etc/mesh/xds"];

  /** Stages the files (as the uploads do, 0400) and runs the script the files container runs, with `env` added. */
  function publish(files: Record<string, string>, env: Record<string, string> = {}): void {
    rmSync(staging(), { recursive: true, force: true });
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(staging(), path, ".."), { recursive: true });
      writeFileSync(join(staging(), path), content, { mode: 0o400 });
    }
    const r = spawnSync("/bin/bash", ["-c", filesPublishScript(FOLDERS, { staging: staging(), volumes: volumes() })], { encoding: "utf8", env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
  }

  const generations = (folder: string) => readdirSync(join(volumes(), folder)).filter((n) => /^\.\.\d/.test(n));

  before(function () {
    if (!HAS_BASH) this.skip();
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "files-publish-"));
    // Fresh volumes: an empty directory each, as the engine creates them.
    for (const f of FOLDERS) mkdirSync(join(volumes(), f), { recursive: true, mode: 0o755 });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("lays each folder out as the kubelet does: stable names through ..data to one generation, folder 0750, files 0440 in the process's group", () => {
    publish({ "/etc/mesh/identity/tls.crt": "cert 1", "/etc/mesh/identity/tls.key": "key 1", "/etc/mesh/xds/sds-identity.json": "sds" });
    const identity = join(volumes(), "etc/mesh/identity");
    assert.deepEqual(generations("etc/mesh/identity").length, 1);
    const [generation] = generations("etc/mesh/identity");
    assert.equal(readlinkSync(join(identity, "..data")), generation);
    for (const name of ["tls.crt", "tls.key"]) {
      assert.ok(lstatSync(join(identity, name)).isSymbolicLink(), name);
      assert.equal(readlinkSync(join(identity, name)), `..data/${name}`);
      const file = statSync(join(identity, generation, name));
      assert.equal(file.mode & 0o777, 0o440, name);
      // The container runs with Envoy's group (0:101): what it creates belongs to that group.
      assert.equal(file.gid, process.getgid?.(), name);
    }
    assert.equal(statSync(join(identity, generation)).mode & 0o777, 0o750);
    assert.equal(readFileSync(join(identity, "tls.key"), "utf8"), "key 1");
    assert.equal(readFileSync(join(volumes(), "etc/mesh/xds/sds-identity.json"), "utf8"), "sds");
  });

  it("a second publish (a renewal) swaps ..data to the new files and removes the previous generation", () => {
    publish({ "/etc/mesh/identity/tls.crt": "cert 1", "/etc/mesh/xds/sds-identity.json": "sds" });
    const [first] = generations("etc/mesh/identity");
    publish({ "/etc/mesh/identity/tls.crt": "cert 2", "/etc/mesh/xds/sds-identity.json": "sds" });
    const identity = join(volumes(), "etc/mesh/identity");
    assert.equal(readFileSync(join(identity, "tls.crt"), "utf8"), "cert 2");
    assert.equal(generations("etc/mesh/identity").length, 1);
    assert.notEqual(generations("etc/mesh/identity")[0], first);
    assert.ok(!readdirSync(identity).includes("..data_tmp"));
  });

  it("a renewal is one IN_MOVED_TO of ..data in the watched folder: the event Envoy's watched_directory reloads on", async function () {
    if (!HAS_PYTHON) this.skip();
    publish({ "/etc/mesh/identity/tls.crt": "cert 1", "/etc/mesh/xds/sds-identity.json": "sds" });
    const identity = join(volumes(), "etc/mesh/identity");
    const watcher = spawn("python3", ["-c", WATCHER, identity]);
    let out = "";
    watcher.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const done = new Promise((resolve) => watcher.on("exit", resolve));
    try {
      for (let i = 0; i < 100 && !out.includes("ready"); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes("ready"), "the watcher did not start");
      publish({ "/etc/mesh/identity/tls.crt": "cert 2", "/etc/mesh/xds/sds-identity.json": "sds" });
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      watcher.kill();
      await done;
    }
    const events = out.split("\n").slice(1).filter((l) => l.length > 0).map((l) => l.split(" ") as [string, string]);
    const IN_MOVED_TO = 0x80;
    assert.deepEqual(events.filter(([mask]) => Number(mask) & IN_MOVED_TO).map(([, name]) => name), ["..data"]);
    // Nothing in the watched folder itself is modified in place: readers only ever see whole generations.
    assert.deepEqual(events.filter(([mask]) => !(Number(mask) & IN_MOVED_TO)), []);
  });

  it("links a new file's name before the swap, so an Envoy reloading at the swap finds it; drops names no longer published", () => {
    publish({ "/etc/mesh/identity/tls.crt": "cert", "/etc/mesh/xds/lds.json": "lds 1", "/etc/mesh/xds/rds-old.json": "old" });
    // A `mv` that records what the xDS folder holds at the instant of the swap, then swaps.
    const bin = join(root, "bin");
    mkdirSync(bin);
    const log = join(root, "at-swap.txt");
    writeFileSync(join(bin, "mv"), `#!/bin/bash\n[[ "$*" == *"/etc/mesh/xds/..data" ]] && ls -A "$(dirname "\${@: -1}")" > ${JSON.stringify(log)}\nexec /bin/mv "$@"\n`, { mode: 0o755 });
    publish({ "/etc/mesh/identity/tls.crt": "cert", "/etc/mesh/xds/lds.json": "lds 2", "/etc/mesh/xds/rds-new.json": "new" }, { PATH: `${bin}:${process.env.PATH ?? ""}` });
    assert.ok(readFileSync(log, "utf8").split("\n").includes("rds-new.json"), readFileSync(log, "utf8"));
    const xds = join(volumes(), "etc/mesh/xds");
    assert.equal(readFileSync(join(xds, "rds-new.json"), "utf8"), "new");
    assert.deepEqual(readdirSync(xds).filter((n) => !n.startsWith("..")).sort(), ["lds.json", "rds-new.json"]);
  });
});
