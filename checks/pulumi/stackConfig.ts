/**
 * Pulumi's rules for a stack's config against its project, as the Pulumi CLI applies them before
 * `preview` or `up` runs the program: pulumi/pulumi pkg/workspace/config.go `mergeConfig`
 * (declared defaults are filled in as plain values, then missing keys are reported) and
 * `validateStackConfigValues` / `validateStackConfigValue` (secret keys must be encrypted, values
 * must have the declared type). Stack files are read as loaders.go `LoadProjectStackBytes` reads
 * them (bare keys belong to the project). Messages are the CLI's own.
 */
import { readFileSync } from "node:fs";
import { fullTypeName, isNamespacedByProject, loadYaml, validateConfigValue, type PulumiProject } from "./projectRules";

/** One stack config value as the CLI holds it (resource/config `Value`). */
export interface StackValue {
  /** Text of a plain or encrypted value; JSON text of an object value. */
  readonly text: string;
  /** An encrypted (`secure:`) value, or an object value holding one. */
  readonly secure: boolean;
  /** A structured value (mapping or list), kept as JSON. */
  readonly object: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isSecure = (v: unknown): boolean => isObject(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
const holdsSecure = (v: unknown): boolean => isSecure(v) || (Array.isArray(v) ? v.some(holdsSecure) : isObject(v) && Object.values(v).some(holdsSecure));

/** A value of a stack file's `config` mapping as the CLI reads it (resource/config value.go). */
export function stackValue(raw: unknown): StackValue {
  if (isSecure(raw)) return { text: (raw as { secure: string }).secure, secure: true, object: false };
  if (isObject(raw) || Array.isArray(raw)) return { text: JSON.stringify(raw), secure: holdsSecure(raw), object: true };
  return { text: raw === null || raw === undefined ? "" : String(raw), secure: false, object: false };
}

/** config.go `createConfigValue`: a declared default, as the plain value the CLI stores. */
function defaultValue(value: unknown): StackValue {
  const primitive = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isInteger(value));
  return primitive ? { text: String(value), secure: false, object: false } : { text: JSON.stringify(value), secure: false, object: true };
}

/** resource/config key.go `ParseKey`, and bare keys namespaced by the project (loaders.go). */
function fullKey(projectName: string, key: string): string {
  if (!key.includes(":")) return `${projectName}:${key}`;
  const parts = key.split(":");
  return parts.length === 3 && parts[1] === "config" ? `${parts[0]}:${parts[2]}` : key;
}

/** The stack file's config, keyed `namespace:name`. Problems are Pulumi's messages. */
export function readStackConfig(projectName: string, content: unknown): { config: Map<string, StackValue>; problems: string[] } {
  const config = new Map<string, StackValue>();
  const problems: string[] = [];
  if (content === undefined || content === null) return { config, problems };
  if (!isObject(content)) return { config, problems: [`expected project to be an object, was '${Array.isArray(content) ? "[]interface {}" : typeof content}'`] };
  const section = content.config ?? {};
  if (!isObject(section)) return { config, problems: ["config: expected a map of configuration keys to values"] };
  for (const [key, raw] of Object.entries(section)) {
    if (key.split(":").length > 3 || (key.split(":").length === 3 && key.split(":")[1] !== "config")) {
      problems.push(`could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`);
      continue;
    }
    config.set(fullKey(projectName, key), stackValue(raw));
  }
  return { config, problems };
}

function missingKeysError(stack: string, keys: string[]): string {
  const sorted = [...keys].sort();
  const list =
    sorted.length === 1
      ? `'${sorted[0]}'`
      : sorted.map((k, i) => (i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `)).join("");
  return `Stack '${stack}' is missing configuration ${sorted.length > 1 ? "values" : "value"} ${list}`;
}

export interface StackConfigCheck {
  /** The stack's config with the project's defaults filled in, as the program receives it. */
  readonly merged: ReadonlyMap<string, StackValue>;
  /**
   * Pulumi's messages, in the CLI's order: missing keys, then each declared key in sorted order.
   * The CLI stops at the first; every one is listed here so a user fixes them in one round.
   */
  readonly problems: readonly string[];
}

/**
 * config.go `mergeConfig` then `validateStackConfigValues`. Encrypted values cannot be decrypted
 * here, so their type is not checked (the CLI decrypts them first); whether they are encrypted is.
 */
export function checkStackConfig(project: PulumiProject, stack: string, stackConfig: ReadonlyMap<string, StackValue>): StackConfigCheck {
  const merged = new Map(stackConfig);
  const missing: string[] = [];
  const keys = Object.keys(project.config).sort();
  for (const key of keys) {
    const declared = project.config[key];
    const full = fullKey(project.name, key);
    if (merged.has(full)) continue;
    if (declared.default === undefined && declared.value === undefined) {
      if (full.startsWith(`${project.name}:`)) missing.push(key);
      continue;
    }
    merged.set(full, defaultValue(declared.default !== undefined ? declared.default : declared.value));
  }
  if (missing.length > 0) return { merged, problems: [missingKeysError(stack, missing)] };

  const problems: string[] = [];
  for (const key of keys) {
    const declared = project.config[key];
    const value = merged.get(fullKey(project.name, key));
    if (declared.type === undefined || value === undefined || !isNamespacedByProject(project.name, key)) continue;
    if (declared.secret === true && !value.secure) {
      problems.push(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
      continue;
    }
    if (value.secure && !value.object) continue;
    const content: unknown = value.object ? JSON.parse(value.text) : value.text;
    if (!validateConfigValue(declared.type, declared.items, content)) {
      problems.push(`Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(declared.type, declared.items)}'`);
    }
  }
  return { merged, problems };
}

/** Reads a stack file and checks it against the project; problems are Pulumi's messages. */
export function checkStackFile(project: PulumiProject, stack: string, path: string): StackConfigCheck {
  let content: unknown;
  try {
    content = loadYaml(readFileSync(path, "utf8"));
  } catch (error) {
    return { merged: new Map(), problems: [(error as Error).message.split("\n")[0]] };
  }
  const read = readStackConfig(project.name, content);
  if (read.problems.length > 0) return { merged: read.config, problems: read.problems };
  return checkStackConfig(project, stack, read.config);
}
