/**
 * The Compose Specification's own JSON schema (./compose-spec.json, copied unmodified from
 * compose-spec/compose-go, see ./README.md), applied the way Docker Compose applies it:
 * compose-go `schema.Validate` checks the YAML document, as loaded, against that schema
 * (draft 2020-12, so ajv's 2020 entry point).
 */
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020";

/** One problem in a compose document: where (`services.front.ports`) and what is wrong. */
export interface ComposeIssue {
  readonly path: string;
  readonly message: string;
}

let compiled: ValidateFunction | undefined;

/**
 * The schema, compiled on first use: loading ajv and compiling the schema was a third of every
 * `npm run validate` start, also when no compose file is checked.
 */
function validateSchema(): ValidateFunction {
  if (compiled === undefined) {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded when first needed */
    const Ajv2020 = (require("ajv/dist/2020") as typeof import("ajv/dist/2020")).default;
    const composeSchema = require("./compose-spec.json") as object;
    /* eslint-enable @typescript-eslint/no-require-imports */
    // compose-go compiles the schema with santhosh-tekuri/jsonschema, which ignores what ajv's strict
    // mode refuses in the schema itself (union types such as `"type": ["boolean", "string"]`).
    compiled = new Ajv2020({ allErrors: true, strict: false }).compile(composeSchema);
  }
  return compiled;
}

/** The schema's `$id` and the compose-go release it was copied from (see ./README.md). */
export const COMPOSE_SCHEMA_SOURCE = "compose-spec/compose-go v2.13.0 schema/compose-spec.json";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `/services/front/ports/0` → `services.front.ports[0]` (compose's dotted paths, indexes in brackets). */
export function composePath(pointer: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let path = "";
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path === "" ? part : `.${part}`;
  return path === "" ? "(root)" : path;
}

function joinPath(base: string, key: string): string {
  return base === "(root)" ? key : `${base}.${key}`;
}

const ARTICLE: Readonly<Record<string, string>> = {
  array: "a list",
  boolean: "a boolean",
  integer: "an integer",
  null: "null",
  number: "a number",
  object: "a mapping",
  string: "a string",
};

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (isObject(value)) return "a mapping";
  return JSON.stringify(value);
}

function valueAt(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    node = Array.isArray(node) ? node[Number(key)] : isObject(node) ? node[key] : undefined;
  }
  return node;
}

/**
 * The schema's errors as compose reports them: the most specific ones. An alternative
 * (`oneOf`/`anyOf`) is reported only when no branch explains more precisely what is wrong,
 * and the type errors of several branches at one place become one "must be X or Y".
 */
function issuesFrom(doc: unknown, errors: readonly ErrorObject[]): ComposeIssue[] {
  const types = new Map<string, Set<string>>();
  const issues: ComposeIssue[] = [];
  const explained = (pointer: string) =>
    errors.some((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && (e.instancePath === pointer || e.instancePath.startsWith(`${pointer}/`)));
  for (const error of errors) {
    const path = composePath(error.instancePath);
    switch (error.keyword) {
      case "type": {
        const wanted = types.get(error.instancePath) ?? new Set<string>();
        for (const t of ([] as unknown[]).concat(error.params.type)) wanted.add(String(t));
        types.set(error.instancePath, wanted);
        break;
      }
      case "additionalProperties":
        // compose's own wording: "(root) Additional property apache2 is not allowed".
        issues.push({ path, message: `additional property ${JSON.stringify(String(error.params.additionalProperty))} is not allowed` });
        break;
      case "required":
        issues.push({ path: joinPath(path, String(error.params.missingProperty)), message: "is required" });
        break;
      case "enum":
        issues.push({
          path,
          message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${describe(valueAt(doc, error.instancePath))}`,
        });
        break;
      case "oneOf":
      case "anyOf":
        if (!explained(error.instancePath)) issues.push({ path, message: `matches none of the allowed forms, got ${describe(valueAt(doc, error.instancePath))}` });
        break;
      default:
        issues.push({ path, message: `${error.message ?? error.keyword}, got ${describe(valueAt(doc, error.instancePath))}` });
    }
  }
  for (const [pointer, wanted] of types) {
    const list = [...wanted].sort().map((t) => ARTICLE[t] ?? t);
    const expected = list.length === 1 ? list[0] : `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
    issues.push({ path: composePath(pointer), message: `must be ${expected}, got ${describe(valueAt(doc, pointer))}` });
  }
  return sortIssues(issues);
}

/** Sorted by path then message, duplicates removed: the same document gives the same list. */
export function sortIssues(issues: readonly ComposeIssue[]): ComposeIssue[] {
  const seen = new Set<string>();
  return [...issues]
    .sort((a, b) => (a.path !== b.path ? (a.path < b.path ? -1 : 1) : a.message < b.message ? -1 : a.message > b.message ? 1 : 0))
    .filter((i) => {
      const key = `${i.path}\n${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** Every way the document breaks the Compose Specification's JSON schema; empty when it conforms. */
export function composeSchemaIssues(doc: unknown): ComposeIssue[] {
  const validate = validateSchema();
  if (validate(doc)) return [];
  return issuesFrom(doc, validate.errors ?? []);
}
