import { describeValue } from "./field-path";
import { isPlainObject } from "../../topology/reader";
import { describeObject } from "./object-ref";
import { recordReads } from "./read-recorder";
import { describeSchemaErrors, type SchemaIssue, unknownFieldIssues } from "./schema-errors";
import { kubernetesSchemaVersion, lookupKind } from "./schema-registry";

export { kubernetesSchemaVersion };
export type { SchemaIssue };

/** The schema issues of one object, named `Kind/namespace/name`. */
export interface ManifestIssues {
  readonly object: string;
  readonly issues: readonly SchemaIssue[];
}

/**
 * The schema generator behind the package drops properties literally named `description` or
 * `x-kubernetes-*` (it takes them for schema annotations). Only these kinds have such fields,
 * so only here are those keys left unchecked.
 */
function annotationNamedFieldsExempt(apiVersion: string, kind: string): (field: string) => boolean {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const affected =
    (group === "apiextensions.k8s.io" && kind === "CustomResourceDefinition") ||
    (group === "scheduling.k8s.io" && kind === "PriorityClass");
  return affected ? (field) => field === "description" || field.startsWith("x-kubernetes-") : () => false;
}

function typeMetaIssues(obj: Readonly<Record<string, unknown>>): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const field of ["apiVersion", "kind"] as const) {
    const value = obj[field];
    if (value === undefined || value === null || value === "") {
      issues.push({ path: field, message: `missing required field ${JSON.stringify(field)}` });
    } else if (typeof value !== "string") {
      issues.push({ path: field, message: `must be a string, got ${describeValue(value)}` });
    }
  }
  return issues;
}

function compareIssues(a: SchemaIssue, b: SchemaIssue): number {
  if (a.path !== b.path) {
    return a.path < b.path ? -1 : 1;
  }
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

function distinctSorted(issues: readonly SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const issue of [...issues].sort(compareIssues)) {
    const key = `${issue.path}\n${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  }
  return out;
}

/**
 * Checks one object (as it would be sent to the API server) against the Kubernetes OpenAPI
 * schema of its apiVersion and kind, the way `kubectl apply --validate=strict` does: unknown
 * apiVersion or kind, unknown fields at any depth, wrong types, missing required fields and
 * values outside an enum. Returns every issue, sorted by path; an empty list means valid.
 * A `path` of "" stands for the object as a whole.
 */
export function validateKubernetesObject(obj: unknown): SchemaIssue[] {
  if (!isPlainObject(obj)) {
    return [{ path: "", message: `a Kubernetes object must be a JSON object, got ${describeValue(obj)}` }];
  }
  const typeMeta = typeMetaIssues(obj);
  if (typeMeta.length > 0) {
    return typeMeta;
  }
  const apiVersion = obj.apiVersion as string;
  const kind = obj.kind as string;
  const lookup = lookupKind(apiVersion, kind);
  if (!lookup.found) {
    return [{ path: lookup.field, message: lookup.message }];
  }
  const { result: errors, visits } = recordReads(obj, lookup.validate);
  return distinctSorted([
    ...describeSchemaErrors(obj, errors),
    ...unknownFieldIssues(visits, annotationNamedFieldsExempt(apiVersion, kind)),
  ]);
}

/**
 * Validates every object and returns the ones with issues, in input order, each named
 * `Kind/namespace/name` (or `manifest #N` when it is not an object at all).
 */
export function validateManifests(objs: readonly unknown[]): ManifestIssues[] {
  const results: ManifestIssues[] = [];
  objs.forEach((obj, index) => {
    const issues = validateKubernetesObject(obj);
    if (issues.length > 0) {
      results.push({ object: isPlainObject(obj) ? describeObject(obj) : `manifest #${index + 1}`, issues });
    }
  });
  return results;
}

/** One line per issue: `Deployment/mesh/service-a: spec.replicas: must be an integer, got string "3"`. */
export function formatManifestIssues(results: readonly ManifestIssues[]): string[] {
  return results.flatMap((result) =>
    result.issues.map((issue) => `${result.object}: ${issue.path === "" ? "" : `${issue.path}: `}${issue.message}`),
  );
}
