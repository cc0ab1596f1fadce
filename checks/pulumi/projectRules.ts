/**
 * Pulumi's rules for a project file (Pulumi.yaml), as the Pulumi CLI applies them when it loads
 * one: pulumi/pulumi sdk/go/common/workspace/loaders.go `LoadProjectBytes`, which runs
 * project.go `ValidateProject` (name checks, then the JSON schema in ./project.json), rewrites
 * shorthand config (`RewriteShorthandConfigValues`), then runs `Project.Validate`.
 * Messages are the CLI's own.
 */
import { readFileSync } from "node:fs";
import Ajv2020, { type ErrorObject } from "ajv/dist/2020";
import { load, loadAll } from "js-yaml";
import { editDistance } from "../suggest";
import projectSchema from "./project.json";

/** One declared config key (`ProjectConfigType` in project.go). */
export interface ProjectConfigType {
  readonly type?: string;
  readonly items?: ProjectConfigItemsType;
  readonly description?: string;
  readonly default?: unknown;
  readonly value?: unknown;
  readonly secret?: boolean;
}

export interface ProjectConfigItemsType {
  readonly type: string;
  readonly items?: ProjectConfigItemsType;
}

/** The parts of a loaded project that the config rules need. */
export interface PulumiProject {
  readonly name: string;
  /** Declared config, keyed as written (`key` or `namespace:key`), shorthand already rewritten. */
  readonly config: Readonly<Record<string, ProjectConfigType>>;
}

export type ProjectLoad = { readonly project: PulumiProject; readonly problems: readonly [] } | { readonly project?: undefined; readonly problems: readonly string[] };

// Pulumi compiles the schema with a validator that ignores unknown keywords (santhosh-tekuri/jsonschema);
// ajv's strict mode would refuse the schema itself, not the project.
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateSchema = ajv.compile(projectSchema);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * project.go `findClosestKey`: the key nearest to `needle`, case-insensitively, at most
 * `maxValidationAttributeDistance` (2) edits away; ties go to the alphabetically first.
 */
function closestKey(needle: string, haystack: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const key of [...haystack].sort()) {
    const d = editDistance(needle.toLowerCase(), key.toLowerCase(), 2);
    if (d < bestDistance) {
      best = key;
      bestDistance = d;
    }
  }
  return best;
}

/** The schema's properties at a JSON pointer of the instance, for "did you mean" hints. */
function schemaAttributes(instancePath: string): string[] {
  type Node = { properties?: Record<string, unknown>; $ref?: string };
  const defs = (projectSchema as { $defs: Record<string, Node> }).$defs;
  const resolve = (node: Node): Node => (node.$ref?.startsWith("#/$defs/") ? resolve(defs[node.$ref.slice(8)]) : node);
  let node: Node | undefined = resolve(projectSchema as Node);
  for (const part of instancePath.split("/").filter((p) => p !== "")) {
    const next: unknown = node?.properties?.[part];
    if (!isObject(next)) return [];
    node = resolve(next as Node);
  }
  return Object.keys(node?.properties ?? {}).sort();
}

function schemaMessage(error: ErrorObject): string {
  const path = `#${error.instancePath}`;
  if (error.keyword === "additionalProperties") {
    const name = (error.params as { additionalProperty: string }).additionalProperty;
    const allowed = schemaAttributes(error.instancePath);
    const close = closestKey(name, allowed);
    const hint = close !== undefined ? `; did you mean '${close}'?` : allowed.length > 0 ? `; the allowed attributes are ${allowed.map((a) => `'${a}'`).join(", ")}` : "";
    return `${path}: additionalProperties '${name}' not allowed${hint}`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}

/** project.go `ValidateProject`: the name checks, then the JSON schema. */
export function validateProject(raw: unknown): string[] {
  if (!isObject(raw)) return [`expected project to be an object, was '${raw === null ? "nil" : Array.isArray(raw) ? "[]interface {}" : typeof raw}'`];
  if (!("name" in raw)) {
    const close = closestKey("name", Object.keys(raw));
    return [close !== undefined ? `project is missing a 'name' attribute; found '${close}' instead` : "project is missing a 'name' attribute"];
  }
  if (typeof raw.name !== "string" || raw.name === "") return ["project is missing a non-empty string 'name' attribute"];
  if (validateSchema(raw)) return [];
  // A oneOf reports every branch; the branch that got deepest into the value says what is wrong.
  const errors = validateSchema.errors ?? [];
  const specific = errors.filter((e) => e.keyword !== "oneOf" && !errors.some((other) => other.instancePath.startsWith(`${e.instancePath}/`)));
  return [...new Set(specific.map(schemaMessage))];
}

const PRIMITIVE = (v: unknown) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v));

/** project.go `RewriteShorthandConfigValues`: `key: 1` means a default in this project's namespace, a value elsewhere. */
function rewriteShorthand(name: string, config: Record<string, unknown>): Record<string, ProjectConfigType> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => {
      if (!PRIMITIVE(value) && !Array.isArray(value)) return [key, (value ?? {}) as ProjectConfigType];
      return [key, isNamespacedByProject(name, key) ? { default: value } : { value }];
    }),
  );
}

/** project.go `configKeyIsNamespacedByProject`. */
export function isNamespacedByProject(projectName: string, key: string): boolean {
  return !key.includes(":") || key.startsWith(`${projectName}:`);
}

/** project.go `InferFullTypeName`. */
export function fullTypeName(type: string, items?: ProjectConfigItemsType): string {
  return items !== undefined ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** Go's strconv.Atoi: optional sign, decimal digits, within int64. */
function isGoInt(text: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(text)) return false;
  const n = BigInt(text);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** project.go `ValidateConfigValue`: whether `value` (a string, or a parsed object value) has the declared type. */
export function validateConfigValue(type: string, items: ProjectConfigItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      // YAML numbers arrive as floats; a whole one counts. Strings count if they parse as integers.
      if (typeof value === "number") return Number.isInteger(value);
      return typeof value === "string" && isGoInt(value);
    case "boolean":
      return value === "true" || value === "false" || typeof value === "boolean";
    case "object":
      return isObject(value);
    default:
      return Array.isArray(value) && items !== undefined && value.every((item) => validateConfigValue(items.type, items.items, item));
  }
}

/** project.go `Project.Validate`, every problem (the CLI stops at the first, in map order). */
function validateDeclarations(project: PulumiProject): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(project.config).sort()) {
    const t = project.config[key];
    if (t.default !== undefined && t.value !== undefined) {
      problems.push(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
      continue;
    }
    if (isNamespacedByProject(project.name, key)) {
      if (t.type === "array" && t.items === undefined) {
        problems.push(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
      } else if (t.type !== undefined && t.default !== undefined && !validateConfigValue(t.type, t.items, t.default)) {
        problems.push(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(t.type, t.items)}'`);
      }
    } else if (t.type !== undefined) {
      problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
    } else if (t.default !== undefined) {
      problems.push(
        `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
      );
    } else if (t.value === undefined) {
      problems.push(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
    }
  }
  return problems;
}

/** loaders.go `LoadProjectBytes` on already parsed YAML. */
export function checkProject(raw: unknown): ProjectLoad {
  const schemaProblems = validateProject(raw);
  if (schemaProblems.length > 0) return { problems: schemaProblems.map((p) => `could not validate: ${p}`) };
  const obj = raw as Record<string, unknown>;
  // project.go `RewriteConfigPathIntoStackConfigDir`: a string `config` is the old stack folder setting.
  if (typeof obj.config === "string" && obj.stackConfigDir !== undefined) {
    return { problems: ["Should not use both config and stackConfigDir to define the stack directory. Use only stackConfigDir instead."] };
  }
  const config = isObject(obj.config) ? rewriteShorthand(obj.name as string, obj.config) : {};
  const project: PulumiProject = { name: obj.name as string, config };
  const problems = validateDeclarations(project);
  return problems.length > 0 ? { problems: problems.map((p) => `could not unmarshal: ${p}`) } : { project, problems: [] };
}

/** A YAML document; an empty or comments-only one is undefined (js-yaml refuses it, Go reads nil). */
export function loadYaml(text: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  return loadAll(body).length === 0 ? undefined : load(body);
}

/** Reads and checks a project file; problems are Pulumi's messages, without the file name. */
export function loadProjectFile(path: string): ProjectLoad {
  let raw: unknown;
  try {
    raw = loadYaml(readFileSync(path, "utf8"));
  } catch (error) {
    return { problems: [`could not unmarshal: ${(error as Error).message.split("\n")[0]}`] };
  }
  return checkProject(raw);
}
