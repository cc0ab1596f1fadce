import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listStacks, readStackConfigFile } from "../../stack";
import { ConfigError, type ConfigIssue } from "../../topology";

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a ConfigError");
}

const paths = (issues: readonly ConfigIssue[]) => issues.map((i) => i.path);

describe("stack/files", () => {
  let dir: string;
  const write = (name: string, content: string) => writeFileSync(join(dir, name), content);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-mesh-stack-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe("readStackConfigFile", () => {
    it("reads this project's keys without the envoy-mesh: prefix", () => {
      write("Pulumi.dev.yaml", "config:\n  envoy-mesh:target: cloud\n  envoy-mesh:frontNodePort: 30081\n");
      assert.deepEqual(readStackConfigFile(dir, "dev"), { target: "cloud", frontNodePort: 30081 });
    });

    it("ignores keys of other namespaces", () => {
      write("Pulumi.dev.yaml", "config:\n  kubernetes:context: other\n  aws:region: eu-west-1\n  envoy-mesh:namespace: mesh\n");
      assert.deepEqual(readStackConfigFile(dir, "dev"), { namespace: "mesh" });
    });

    it("takes bare keys as this project's", () => {
      write("Pulumi.dev.yaml", "config:\n  namespace: mesh\n");
      assert.deepEqual(readStackConfigFile(dir, "dev"), { namespace: "mesh" });
    });

    it("keeps a secret as its placeholder and a multi-line topology as text", () => {
      write("Pulumi.dev.yaml", "config:\n  envoy-mesh:registryPassword:\n    secure: v1:AAAA\n  envoy-mesh:topology: |\n    extends: seed\n");
      assert.deepEqual(readStackConfigFile(dir, "dev"), { registryPassword: { secure: "v1:AAAA" }, topology: "extends: seed\n" });
    });

    it("reads an empty file or an empty config section as no values", () => {
      write("Pulumi.empty.yaml", "");
      write("Pulumi.blank.yaml", "config:\n  # envoy-mesh:target: kind\n");
      assert.deepEqual(readStackConfigFile(dir, "empty"), {});
      assert.deepEqual(readStackConfigFile(dir, "blank"), {});
    });

    it("refuses an unknown stack, listing the known stacks", () => {
      write("Pulumi.yaml", "name: envoy-mesh\n");
      write("Pulumi.prod.yaml", "config: {}\n");
      write("Pulumi.dev.yaml", "config: {}\n");
      const error = configError(() => readStackConfigFile(dir, "nope"));
      assert.deepEqual(error.issues, [{ path: "--stack", message: 'no stack file for "nope" (stacks: dev, prod)' }]);
    });

    it('says "none" when there are no stacks', () => {
      assert.match(configError(() => readStackConfigFile(dir, "dev")).message, /\(stacks: none\)/);
    });

    it("refuses a stack name that would leave the project folder", () => {
      mkdirSync(join(dir, "sub"));
      write("sub/Pulumi.x.yaml", "config: {}\n");
      write("Pulumi.sub.yaml", "config: {}\n");
      assert.match(configError(() => readStackConfigFile(join(dir, "sub"), "../Pulumi.sub")).message, /no stack file for "\.\.\/Pulumi\.sub"/);
    });

    it("lists only stacks it can read (Pulumi.<stack>.yaml)", () => {
      write("Pulumi.yaml", "name: envoy-mesh\n");
      write("Pulumi.dev.yaml", "config: {}\n");
      write("Pulumi.old.yml", "config: {}\n");
      assert.deepEqual(listStacks(dir), ["dev"]);
    });

    it("names the file whose YAML is broken, with the parser's first line", () => {
      write("Pulumi.dev.yaml", "config:\n  envoy-mesh:target: [kind\n");
      const error = configError(() => readStackConfigFile(dir, "dev"));
      assert.equal(error.issues.length, 1);
      assert.equal(error.issues[0].path, join(dir, "Pulumi.dev.yaml"));
      assert.match(error.issues[0].message, /^cannot read as YAML: [^\n]+$/);
    });

    it("names the file whose content is not a mapping", () => {
      write("Pulumi.dev.yaml", "- config\n");
      const error = configError(() => readStackConfigFile(dir, "dev"));
      assert.deepEqual(paths(error.issues), [join(dir, "Pulumi.dev.yaml")]);
      assert.match(error.issues[0].message, /expected a mapping with a `config` mapping/);
    });
  });
});
