import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStackSettings } from "../../stack";
import { ConfigError, parseTopology, type ConfigIssue } from "../../topology";

function refusal(run: () => unknown): readonly ConfigIssue[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail("expected a ConfigError");
}

describe("topology/parse: build contexts, checked against the project folder", () => {
  let root: string;
  let project: string;
  const file = (path: string, content = "FROM scratch\n") => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const topology = (image: unknown, rest: Record<string, unknown> = {}) => ({
    services: [{ name: "web", appPort: 8081, image, ...rest }],
    front: { routes: [{ prefix: "/", service: "web" }] },
  });
  const parse = (raw: unknown) => parseTopology(raw, { projectDir: project });
  const issues = (raw: unknown) => refusal(() => parse(raw)).map((i) => `${i.path}: ${i.message}`);

  beforeEach(() => {
    // A repository inside a parent folder, so that `..` has somewhere to go.
    root = realpathSync(mkdtempSync(join(tmpdir(), "envoy-mesh-contexts-")));
    project = join(root, "repo");
    file("repo/app/Dockerfile");
    file("repo/web/Dockerfile");
    file("other/app/Dockerfile");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const contextOf = (raw: unknown) => {
    const image = parse(raw).services[0].image;
    assert.equal(image.kind, "build");
    return image.build.context;
  };

  it("accepts a folder of the project with its Dockerfile", () => {
    assert.equal(contextOf(topology({ build: { context: "web" } })), "web");
  });

  it("accepts the absolute path of a folder of the project, kept relative to the project", () => {
    assert.equal(contextOf(topology({ build: { context: join(project, "app") } })), "app");
    assert.equal(contextOf(topology({ build: { context: "./web/" } })), "web");
  });

  it("accepts a path that leaves the project and comes back, or names it through a linked folder", () => {
    assert.equal(contextOf(topology({ build: { context: "../repo/web" } })), "web");
    symlinkSync(project, join(root, "alias"));
    const viaAlias = parseTopology(topology({ build: { context: join(root, "alias", "app") } }), { projectDir: join(root, "alias") });
    assert.deepEqual(viaAlias.services[0].image, { kind: "build", build: { context: "app", dockerfile: "Dockerfile" } });
  });

  it("refuses a context outside the project, even one that exists", () => {
    assert.deepEqual(issues(topology({ build: { context: "../other/app" } })), [
      'topology.services[0].image.build.context: "../other/app" is outside the project folder: build contexts must be folders of this repository',
    ]);
    assert.deepEqual(issues(topology({ build: { context: join(root, "other/app") } })).length, 1);
  });

  it("refuses a context that leaves the project through a symbolic link", () => {
    symlinkSync(join(root, "other"), join(project, "linked"));
    assert.deepEqual(issues(topology({ build: { context: "linked/app" } })), [
      'topology.services[0].image.build.context: "linked/app" is outside the project folder: build contexts must be folders of this repository',
    ]);
  });

  it("refuses a missing folder and a missing Dockerfile, naming them", () => {
    assert.deepEqual(issues(topology({ build: { context: "nope" } })), ['topology.services[0].image.build.context: "nope" is not a folder of the project']);
    assert.deepEqual(issues(topology({ build: { context: "web", dockerfile: "Dockerfile.dev" } })), [
      'topology.services[0].image.build.dockerfile: "Dockerfile.dev" not found in "web"',
    ]);
  });

  it("names the default image when the default app folder is missing", () => {
    rmSync(join(project, "app"), { recursive: true });
    assert.deepEqual(issues(topology(undefined)), ['topology.services[0].image: the default build context "app" is not a folder of the project (set image.build or image.ref)']);
  });

  it("reports an invalid image once, without checking the default image in its place", () => {
    rmSync(join(project, "app"), { recursive: true });
    assert.deepEqual(issues(topology({})), ["topology.services[0].image: set exactly one of build or ref, got {}"]);
  });

  it("refuses a Dockerfile outside the project", () => {
    file("other/Dockerfile");
    assert.deepEqual(issues(topology({ build: { context: "web", dockerfile: "../../other/Dockerfile" } })), [
      'topology.services[0].image.build.dockerfile: "../../other/Dockerfile" is outside the project folder: the Dockerfile must be a file of this repository',
    ]);
  });

  it("does not look at the files of a prebuilt image", () => {
    assert.doesNotThrow(() => parse(topology({ ref: "nginx:1.27" })));
  });

  it("reports build contexts together with every other problem, in the stack's path style", () => {
    const values = { topology: JSON.stringify(topology({ build: { context: "../other/app" } }, { replicas: -1 })), namespace: "Bad" };
    const found = refusal(() => parseStackSettings(values, { projectDir: project })).map((i) => i.path);
    assert.deepEqual(found.sort(), ["envoy-mesh:namespace", "envoy-mesh:topology.services[0].image.build.context", "envoy-mesh:topology.services[0].replicas"]);
  });
});
