import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { checkStackConfig, readStackConfig } from "../checks/pulumi";
import { ConfigError, isPlainObject } from "../topology/reader";
import { projectDefaults } from "./defaults";
import { readProject } from "./projectFile";

/**
 * Stack names that have a `Pulumi.<stack>.yaml` in `projectDir`. Pulumi gives stack files the
 * project file's extension, and the project file is Pulumi.yaml, so `.yml` files are not stacks.
 */
export function listStacks(projectDir: string): string[] {
  return readdirSync(projectDir)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

function readYamlFile(path: string): unknown {
  try {
    const text = readFileSync(path, "utf8");
    // Pulumi accepts an empty or comments-only stack file; js-yaml's load refuses one.
    return loadAll(text).length === 0 ? undefined : load(text);
  } catch (error) {
    throw new ConfigError([{ path, message: `cannot read as YAML: ${(error as Error).message.split("\n")[0]}` }], "unreadable stack file");
  }
}

/**
 * The project's config values of one stack, read from its stack file without the Pulumi CLI,
 * keyed without the `envoy-mesh:` prefix. Other namespaces (provider settings) are left out.
 */
export function readStackConfigFile(projectDir: string, stack: string): Record<string, unknown> {
  const path = join(projectDir, `Pulumi.${stack}.yaml`);
  if (!/^[\w.-]+$/.test(stack) || !existsSync(path)) {
    const known = listStacks(projectDir);
    throw new ConfigError([{ path: "--stack", message: `no stack file for ${JSON.stringify(stack)} (stacks: ${known.join(", ") || "none"})` }], "unknown stack");
  }
  const content = readYamlFile(path) ?? {};
  // `config:` with every entry commented out reads as null and means no values.
  if (!isPlainObject(content) || (content.config !== undefined && content.config !== null && !isPlainObject(content.config))) {
    throw new ConfigError([{ path, message: "expected a mapping with a `config` mapping" }], "invalid stack file");
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(content.config ?? {})) {
    const [namespace, name] = key.includes(":") ? key.split(/:(.*)/s) : [projectDefaults().project, key];
    if (namespace === projectDefaults().project) values[name] = value;
  }
  return values;
}

/**
 * A stack's config as `pulumi up` hands it to the program: the project file and the stack file
 * checked with the Pulumi CLI's own rules (refused with its messages), then the project's
 * declared defaults filled in. Keyed without the `envoy-mesh:` prefix.
 */
export function readStackValues(projectDir: string, stack: string): Record<string, unknown> {
  const project = readProject(projectDir);
  const values = readStackConfigFile(projectDir, stack);
  const path = join(projectDir, `Pulumi.${stack}.yaml`);
  const read = readStackConfig(project.name, readYamlFile(path));
  const { merged, problems } = read.problems.length > 0 ? { merged: new Map(), problems: read.problems } : checkStackConfig(project, stack, read.config);
  if (problems.length > 0) throw new ConfigError(problems.map((message) => ({ path, message })), "Pulumi refuses the stack configuration");
  // Declared defaults arrive as the CLI passes them: as text.
  for (const [key, value] of merged) {
    const [namespace, name] = key.split(/:(.*)/s);
    if (namespace === projectDefaults().project && !(name in values)) values[name] = value.text;
  }
  return values;
}
