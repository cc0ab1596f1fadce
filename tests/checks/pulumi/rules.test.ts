import { strict as assert } from "node:assert";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { checkProject, checkStackConfig, checkStackFile, loadProjectFile, loadYaml, readStackConfig } from "../../../checks/pulumi";

const REPO_ROOT = resolve(__dirname, "../../..");
const FIXTURES = join(__dirname, "fixtures");

/** Every Pulumi project file and stack file in the repository, fixtures and dependencies left out. */
function pulumiFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ["node_modules", ".git", "out", "bin"].includes(name) || path === FIXTURES ? [] : pulumiFiles(path);
    return /^Pulumi(\.[^.]+)?\.yaml$/.test(name) ? [path] : [];
  });
}

/** Pulumi's problems for a project folder: its Pulumi.yaml, then its Pulumi.dev.yaml. */
function fixtureProblems(name: string): readonly string[] {
  const dir = join(FIXTURES, name);
  const loaded = loadProjectFile(join(dir, "Pulumi.yaml"));
  if (loaded.project === undefined) return loaded.problems;
  return existsSync(join(dir, "Pulumi.dev.yaml")) ? checkStackFile(loaded.project, "dev", join(dir, "Pulumi.dev.yaml")).problems : [];
}

describe("Pulumi's own project and stack-config rules", () => {
  describe("over every Pulumi file of the repository", () => {
    const files = pulumiFiles(REPO_ROOT);
    const projects = files.filter((f) => f.endsWith("/Pulumi.yaml"));

    it("finds the project file and its stack files", () => {
      assert.deepEqual(files.map((f) => relative(REPO_ROOT, f)).sort(), ["Pulumi.canary-example.yaml", "Pulumi.cloud-example.yaml", "Pulumi.docker.yaml", "Pulumi.kind.yaml", "Pulumi.yaml"]);
    });

    for (const file of files) {
      const name = relative(REPO_ROOT, file);
      it(`${name}: Pulumi accepts it`, () => {
        const project = loadProjectFile(join(file, "..", "Pulumi.yaml"));
        assert.deepEqual(project.problems, [], `Pulumi.yaml next to ${name}`);
        if (projects.includes(file) || project.project === undefined) return;
        const stack = /Pulumi\.(.+)\.yaml$/.exec(file)?.[1] as string;
        assert.deepEqual(checkStackFile(project.project, stack, file).problems, []);
      });
    }
  });

  describe("refuses a fixture per rule, with Pulumi's message", () => {
    const cases: [string, string, readonly string[]][] = [
      ["project-schema", "the project schema (project.json): a config type that is not one of Pulumi's", ["could not validate: #/config/replicas/type: must be equal to one of the allowed values"]],
      ["project-missing-name", "ValidateProject: the name, with a near key suggested", ["could not validate: project is missing a 'name' attribute; found 'nmae' instead"]],
      ["project-default-type", "Project.Validate: a default of another type than declared", ["could not unmarshal: The default value specified for configuration key 'frontNodePort' is not of the expected type 'integer'"]],
      ["stack-missing-key", "mergeConfig: a declared key with no default, missing from the stack", ["Stack 'dev' is missing configuration value 'region'"]],
      ["stack-secret-not-encrypted", "validateStackConfigValue: a secret key whose value is not encrypted", ["Stack 'dev' with configuration key 'registryPassword' must be encrypted as it's secret"]],
      ["stack-wrong-type", "validateStackConfigValue: a value that does not match the declared type", ["Stack 'dev' with configuration key 'frontNodePort' must be of type 'integer'"]],
    ];
    for (const [fixture, rule, expected] of cases) {
      it(`${fixture}: ${rule}`, () => {
        assert.deepEqual(fixtureProblems(fixture), expected);
      });
    }

    it("has no fixture without a case", () => {
      assert.deepEqual(readdirSync(FIXTURES).sort(), cases.map(([f]) => f).sort());
    });
  });

  // Cases from the CLI's own tests (pulumi/pulumi pkg/workspace/config_project_test.go, v3.259.0).
  describe("agrees with the Pulumi CLI's own test cases", () => {
    function verdict(projectYaml: string, stackYaml: string): { problems: readonly string[]; merged?: Record<string, string> } {
      const loaded = checkProject(loadYaml(projectYaml));
      if (loaded.project === undefined) return { problems: loaded.problems };
      const read = readStackConfig(loaded.project.name, loadYaml(stackYaml));
      if (read.problems.length > 0) return { problems: read.problems };
      const { merged, problems } = checkStackConfig(loaded.project, "dev", read.config);
      return { problems, merged: Object.fromEntries([...merged].map(([k, v]) => [k, v.text])) };
    }

    it("TestStackConfigIsInheritedFromProjectConfig: shorthand defaults fill in, as text", () => {
      const result = verdict("name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n  instanceCount: 20\n  protect: true", "config:\n  test:instanceSize: t4.large");
      assert.deepEqual(result, { problems: [], merged: { "test:instanceSize": "t4.large", "test:instanceCount": "20", "test:protect": "true" } });
    });

    it("TestStackConfigErrorsWhenStackValueIsNotCorrectlyTyped", () => {
      const project = "name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n    items:\n      type: string\n    default: [value]";
      assert.deepEqual(verdict(project, "config:\n  test:values: someValue\n").problems, ["Stack 'dev' with configuration key 'values' must be of type 'array<string>'"]);
    });

    it("TestStackConfigIntegerTypeIsCorrectlyValidated", () => {
      const project = "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n";
      assert.deepEqual(verdict(project, "config:\n  test:importantNumber: 20\n").problems, []);
      assert.deepEqual(verdict(project, "config:\n  test:importantNumber: hello\n").problems, ["Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'"]);
    });

    it("TestStackConfigErrorsWhenMissing{Two,Multiple}StackValueForConfigTypeWithNoDefault", () => {
      const two = "name: test\nruntime: dotnet\nconfig:\n  another:\n    type: string\n  values:\n    type: array\n    items:\n      type: string";
      assert.deepEqual(verdict(two, "").problems, ["Stack 'dev' is missing configuration values 'another' and 'values'"]);
      const three = "name: test\nruntime: dotnet\nconfig:\n  hello:\n    type: integer\n  values:\n    type: array\n    items:\n      type: string\n  world:\n    type: string";
      assert.deepEqual(verdict(three, "").problems, ["Stack 'dev' is missing configuration values 'hello', 'values' and 'world'"]);
    });

    it("TestStackConfigDoesNotErrorWhenProjectHasNotDefinedConfig", () => {
      assert.deepEqual(verdict("name: test\nruntime: dotnet", "config:\n  hello: 21\n  world: 42\n  another: 42").problems, []);
    });

    it("accepts an undeclared key holding an object (structured config)", () => {
      const project = "name: test\nruntime: nodejs\nconfig:\n  size:\n    type: string\n    default: small";
      assert.deepEqual(verdict(project, "config:\n  test:topology:\n    services:\n      - name: a\n        replicas: 2\n").problems, []);
    });
  });
});
