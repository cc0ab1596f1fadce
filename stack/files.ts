import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { ConfigError, isPlainObject } from "../topology/reader";
import { PROJECT } from "./defaults";

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
    const [namespace, name] = key.includes(":") ? key.split(/:(.*)/s) : [PROJECT, key];
    if (namespace === PROJECT) values[name] = value;
  }
  return values;
}
