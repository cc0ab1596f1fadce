import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UPDATE_SNAPSHOTS_ENV, matchSnapshot } from "./snapshot";

describe("snapshots", () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-mesh-snapshot-"));
    saved = process.env[UPDATE_SNAPSHOTS_ENV];
    delete process.env[UPDATE_SNAPSHOTS_ENV];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[UPDATE_SNAPSHOTS_ENV];
    else process.env[UPDATE_SNAPSHOTS_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("pass when the output equals the committed file", () => {
    writeFileSync(join(dir, "a.yaml"), "a: 1\n");
    matchSnapshot("a: 1\n", join(dir, "a.yaml"));
  });

  it("fail when the output differs, naming the file", () => {
    writeFileSync(join(dir, "a.yaml"), "a: 1\n");
    assert.throws(() => matchSnapshot("a: 2\n", join(dir, "a.yaml")), /output differs from .*a\.yaml/);
  });

  it("fail when the file is missing, and write nothing", () => {
    const file = join(dir, "sub", "missing.yaml");
    assert.throws(() => matchSnapshot("a: 1\n", file), /snapshot .*missing\.yaml is missing; run UPDATE_SNAPSHOTS=1 npm test/);
    assert.equal(existsSync(file), false);
  });

  it("are written, missing or not, only when UPDATE_SNAPSHOTS=1 asks for it", () => {
    process.env[UPDATE_SNAPSHOTS_ENV] = "1";
    matchSnapshot("a: 1\n", join(dir, "sub", "new.yaml"));
    writeFileSync(join(dir, "old.yaml"), "a: 0\n");
    matchSnapshot("a: 2\n", join(dir, "old.yaml"));
    assert.equal(readFileSync(join(dir, "sub", "new.yaml"), "utf8"), "a: 1\n");
    assert.equal(readFileSync(join(dir, "old.yaml"), "utf8"), "a: 2\n");
  });
});
