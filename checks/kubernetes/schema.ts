import { describeValue } from "./field-path";
import { isPlainObject } from "../../topology/reader";
import { describeObject } from "./object-ref";
import { recordReads } from "./read-recorder";
import { describeSchemaErrors, type SchemaIssue, unknownFieldIssues } from "./schema-errors";
import { isCustomResourceApiVersion, kubernetesSchemaVersion, lookupKind } from "./schema-registry";

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

/** Missing or non-string `apiVersion` and `kind`. */
export function typeMetaIssues(obj: Readonly<Record<string, unknown>>): SchemaIssue[] {
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
 * Fields the OpenAPI schema marks required but the API server fills in when they are left out,
 * so a manifest without them is accepted. Found by comparing the schema's required fields with
 * the defaulting functions of the built-in API groups (kubernetes/kubernetes pkg/apis/<group>/
 * <version>/defaults.go; admissionregistration, apps, autoscaling/v2, batch, core, discovery,
 * flowcontrol, networking, rbac and storage were compared). `*` stands for every list element.
 */
const SERVER_DEFAULTED_REQUIRED: readonly {
  readonly apiVersion: string;
  readonly kind: string;
  readonly path: readonly string[];
  readonly value: unknown;
}[] = [
  // pkg/apis/batch/v1/defaults.go SetDefaults_PodFailurePolicyOnPodConditionsPattern: Status "True".
  ...[
    { kind: "Job", path: ["spec"] },
    { kind: "CronJob", path: ["spec", "jobTemplate", "spec"] },
  ].map(({ kind, path }) => ({
    apiVersion: "batch/v1",
    kind,
    path: [...path, "podFailurePolicy", "rules", "*", "onPodConditions", "*", "status"],
    value: "True",
  })),
  // pkg/apis/rbac/v1/defaults.go SetDefaults_RoleBinding, SetDefaults_ClusterRoleBinding.
  ...["RoleBinding", "ClusterRoleBinding"].map((kind) => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind,
    path: ["roleRef", "apiGroup"],
    value: "rbac.authorization.k8s.io",
  })),
];

/** A copy of the object with the API server's defaults for required fields filled in. */
function withServerDefaults(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const rules = SERVER_DEFAULTED_REQUIRED.filter((rule) => rule.apiVersion === obj.apiVersion && rule.kind === obj.kind);
  if (rules.length === 0) {
    return obj;
  }
  const copy = structuredClone(obj) as Record<string, unknown>;
  const fill = (node: unknown, path: readonly string[], value: unknown): void => {
    const [head, ...rest] = path;
    if (head === "*") {
      if (Array.isArray(node)) node.forEach((item) => fill(item, rest, value));
    } else if (isPlainObject(node)) {
      if (rest.length > 0) fill(node[head], rest, value);
      else if (node[head] === undefined || node[head] === "") node[head] = value;
    }
  };
  for (const rule of rules) fill(copy, rule.path, rule.value);
  return copy;
}

/**
 * A notice for an object of a custom resource, whose schema lives in its CustomResourceDefinition
 * and is not checked here; undefined for any other object.
 */
export function customResourceNotice(obj: unknown): SchemaIssue | undefined {
  if (!isPlainObject(obj) || typeof obj.apiVersion !== "string" || !isCustomResourceApiVersion(obj.apiVersion)) {
    return undefined;
  }
  const group = obj.apiVersion.slice(0, obj.apiVersion.indexOf("/"));
  return {
    path: "apiVersion",
    message: `custom resource, not checked: API group ${group} is not built into Kubernetes ${kubernetesSchemaVersion}; its schema is in its CustomResourceDefinition`,
  };
}

/**
 * Checks one object (as it would be sent to the API server) against the Kubernetes OpenAPI
 * schema of its apiVersion and kind, the way `kubectl apply --validate=strict` does: unknown
 * apiVersion or kind, unknown fields at any depth, wrong types, missing required fields and
 * values outside an enum. Required fields the API server defaults may be left out. An object of
 * a custom resource (see customResourceNotice) has no issues here: its schema is not known.
 * Returns every issue, sorted by path; an empty list means valid.
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
    // A custom resource is not an error: see customResourceNotice.
    return isCustomResourceApiVersion(apiVersion) ? [] : [{ path: lookup.field, message: lookup.message }];
  }
  const defaulted = withServerDefaults(obj);
  const { result: errors, visits } = recordReads(defaulted, lookup.validate);
  return distinctSorted([
    ...describeSchemaErrors(defaulted, errors),
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

/**
 * The objects of a document kubectl reads as a list: like kubectl (k8s.io/apimachinery
 * unstructured.UnstructuredJSONScheme, then cli-runtime's FlattenListVisitor), any object with
 * an `items` field is a list (`kind: List`, `ServiceList`, ...) whose items are applied one by
 * one. Undefined for a document that is not a list; an `items` that is not a list is an issue.
 */
export function listItems(obj: unknown): { readonly items: readonly unknown[] } | { readonly issue: SchemaIssue } | undefined {
  if (!isPlainObject(obj) || obj.items === undefined || obj.items === null) {
    return undefined;
  }
  if (!Array.isArray(obj.items)) {
    return { issue: { path: "items", message: `must be an array of objects (a document with "items" is a List), got ${describeValue(obj.items)}` } };
  }
  return { items: obj.items };
}
