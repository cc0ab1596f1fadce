import { closestMatches } from "../suggest";
import { describeValue, formatPath, pointerToSegments, valueAt } from "./field-path";
import type { ObjectVisit } from "./read-recorder";
import type { SchemaError } from "./schema-registry";

/** One schema problem: where (`spec.template.spec.containers[0].image`) and what is wrong. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

const ARTICLE: Readonly<Record<string, string>> = {
  array: "an array",
  boolean: "a boolean",
  integer: "an integer",
  number: "a number",
  object: "an object",
  string: "a string",
};

function expectedType(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : [String(type)];
  return types.map((name) => ARTICLE[name] ?? name).join(" or ");
}

function issueFor(root: unknown, error: SchemaError): SchemaIssue {
  const segments = pointerToSegments(root, error.instancePath);
  const value = valueAt(root, segments);
  const got = describeValue(value);
  switch (error.keyword) {
    case "required": {
      const field = String(error.params.missingProperty);
      return { path: formatPath([...segments, field]), message: `missing required field ${JSON.stringify(field)}` };
    }
    case "type":
      return { path: formatPath(segments), message: `must be ${expectedType(error.params.type)}, got ${got}` };
    case "enum": {
      const allowed = Array.isArray(error.params.allowedValues) ? error.params.allowedValues : [];
      const choices = allowed.map((choice) => JSON.stringify(choice)).join(", ");
      return { path: formatPath(segments), message: `unsupported value ${JSON.stringify(value)}; must be one of ${choices}` };
    }
    case "format":
      return { path: formatPath(segments), message: `must be a valid ${String(error.params.format)}, got ${got}` };
    default:
      return { path: formatPath(segments), message: `${error.message ?? `fails "${error.keyword}"`}, got ${got}` };
  }
}

/**
 * Kubernetes encodes `int-or-string` and `quantity` as a oneOf over two forms; report the
 * field once, in Kubernetes terms, instead of one error per rejected form.
 */
function alternativesIssue(root: unknown, pointer: string, group: readonly SchemaError[]): SchemaIssue {
  const segments = pointerToSegments(root, pointer);
  const got = describeValue(valueAt(root, segments));
  const formats = group.filter((error) => error.keyword === "format").map((error) => String(error.params.format));
  const types = group.filter((error) => error.keyword === "type").map((error) => String(error.params.type));
  let message: string;
  if (formats.includes("quantity")) {
    message = `must be a quantity such as "250m" or "128Mi", or a number, got ${got}`;
  } else if (types.includes("string") && types.includes("integer")) {
    message = `must be an integer or a string (int-or-string), got ${got}`;
  } else {
    message = `must match exactly one of its allowed forms, got ${got}`;
  }
  return { path: formatPath(segments), message };
}

/** Turns the validator's errors into issues with readable paths and messages. */
export function describeSchemaErrors(root: unknown, errors: readonly SchemaError[]): SchemaIssue[] {
  const alternatives = new Set(errors.filter((error) => error.keyword === "oneOf").map((error) => error.instancePath));
  const issues: SchemaIssue[] = [];
  for (const pointer of alternatives) {
    issues.push(alternativesIssue(root, pointer, errors.filter((error) => error.instancePath === pointer)));
  }
  for (const error of errors) {
    if (!alternatives.has(error.instancePath)) {
      issues.push(issueFor(root, error));
    }
  }
  return issues;
}

/**
 * Fields that the schema of their object does not declare, as `kubectl --validate=strict`
 * reports them. Objects whose keys the validator enumerated (maps) or never looked into
 * (free-form objects, `x-kubernetes-preserve-unknown-fields`) accept any key.
 */
export function unknownFieldIssues(visits: readonly ObjectVisit[], isExempt: (field: string) => boolean): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const visit of visits) {
    if (visit.keysEnumerated || visit.fieldsRead.size === 0) {
      continue;
    }
    for (const field of Object.keys(visit.value)) {
      if (visit.fieldsRead.has(field) || isExempt(field)) {
        continue;
      }
      const similar = closestMatches(field, visit.fieldsRead);
      const hint = similar.length > 0 ? ` (did you mean ${JSON.stringify(similar[0])}?)` : "";
      issues.push({ path: formatPath([...visit.path, field]), message: `unknown field ${JSON.stringify(field)}${hint}` });
    }
  }
  return issues;
}
