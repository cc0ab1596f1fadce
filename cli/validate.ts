/**
 * npm run validate -- FILE... [--strict]
 *
 * Checks Envoy bootstraps, Envoy xDS resource files (a top-level `resources`: e.g. an SDS secret
 * file), Kubernetes manifests and compose files (YAML or JSON, several
 * documents per file allowed; a document with a top-level `apiVersion` or `kind` is a Kubernetes
 * object, since an Envoy bootstrap has neither; one with a top-level `services` is a compose file; a Kubernetes document with `items` is a List whose items are
 * checked one by one, as kubectl applies them) and prints, per file, document or List item,
 * `<path>: OK` or `<path>: FAIL` followed by one indented line per problem:
 * `  error <config path>: <message>` or `  warning <config path>: <message>`.
 * Exit code: 0 when everything passes, 1 when anything fails, 2 for a usage error.
 */
import { composeConsistencyIssues, composeMeshIssues, composeSchemaIssues } from "../checks/compose";
import { readConfigDocuments, validateBootstrap, validateResourceFile } from "../checks/envoy";
import type { ValidateOptions, ValidationResult } from "../checks/envoy";
import { checkPodPolicy } from "../checks/kubernetes/policy";
import { customResourceNotice, listItems, typeMetaIssues, validateKubernetesObject } from "../checks/kubernetes/schema";
import { isPlainObject } from "../topology/reader";

/** Checks one kind of document. The CLI asks each in turn whether it takes a document. */
export interface DocumentValidator {
  /** What the validator checks, e.g. "Envoy v3 bootstrap". */
  readonly kind: string;
  accepts(document: unknown): boolean;
  validate(document: unknown, options: ValidateOptions): ValidationResult;
  /**
   * For a document that holds several objects to check one by one (a Kubernetes List): the
   * objects, or the result for a document that claims to be such a list but is malformed.
   */
  items?(document: unknown, options: ValidateOptions): { readonly items: readonly unknown[] } | { readonly result: ValidationResult } | undefined;
}

/** Takes any document: anything not claimed by a more specific validator is a bootstrap. */
export const envoyBootstrapValidator: DocumentValidator = {
  kind: "Envoy v3 bootstrap",
  accepts: () => true,
  validate: (document, options) => validateBootstrap(document, options),
};

/**
 * An xDS resource file, as a ConfigSource's path_config_source names (an SDS secret file, say):
 * a DiscoveryResponse, whose main field `resources` a bootstrap does not have.
 */
export const envoyResourceFileValidator: DocumentValidator = {
  kind: "Envoy xDS resource file",
  accepts: (document) => isPlainObject(document) && "resources" in document,
  validate: (document, options) => validateResourceFile(document, options),
};

/**
 * A Kubernetes object: schema problems are errors; giving up a pod protection (restricted
 * profile or this project's defaults) is a warning, which `--strict` turns into an error.
 */
export const kubernetesObjectValidator: DocumentValidator = {
  kind: "Kubernetes object",
  // Either key is enough: a manifest missing the other is a broken Kubernetes object.
  accepts: (document) => isPlainObject(document) && ("apiVersion" in document || "kind" in document),
  validate: (document, options) => {
    const errors = validateKubernetesObject(document);
    const notice = customResourceNotice(document);
    const findings = [
      ...(notice ? [notice] : []),
      ...checkPodPolicy(document).map((f) => ({ path: f.path, message: `${f.message} [${f.rule}]` })),
    ];
    return options.strict
      ? { ok: errors.length + findings.length === 0, errors: [...errors, ...findings], warnings: [] }
      : { ok: errors.length === 0, errors, warnings: findings };
  },
  items: (document) => {
    const list = listItems(document);
    if (list === undefined) return undefined;
    // The list itself needs its apiVersion and kind, as kubectl decodes it first.
    const errors = [...typeMetaIssues(document as Record<string, unknown>), ...("issue" in list ? [list.issue] : [])].sort(
      (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
    return errors.length > 0 || "issue" in list ? { result: { ok: false, errors, warnings: [] } } : list;
  },
};

/**
 * A compose file: what compose itself refuses (its JSON schema, then its reference checks) is an
 * error; breaking the mesh's rules (namespace sharing, publishing, hardening, start order) is a
 * warning, which `--strict` turns into an error, as for a pod giving up a protection.
 */
export const composeFileValidator: DocumentValidator = {
  kind: "compose file",
  // An Envoy bootstrap has no top-level `services` field; a compose file's main one is.
  accepts: (document) => isPlainObject(document) && "services" in document,
  validate: (document, options) => {
    const schema = composeSchemaIssues(document);
    const errors = schema.length > 0 ? schema : composeConsistencyIssues(document);
    const findings = schema.length > 0 ? [] : composeMeshIssues(document);
    return options.strict
      ? { ok: errors.length + findings.length === 0, errors: [...errors, ...findings], warnings: [] }
      : { ok: errors.length === 0, errors, warnings: findings };
  },
};

/** In order of preference; more specific validators go before the catch-all bootstrap one. */
export const DOCUMENT_VALIDATORS: readonly DocumentValidator[] = [
  kubernetesObjectValidator,
  composeFileValidator,
  envoyResourceFileValidator,
  envoyBootstrapValidator,
];

/** The first validator that accepts the document. */
export function chooseValidator(
  document: unknown,
  validators: readonly DocumentValidator[] = DOCUMENT_VALIDATORS,
): DocumentValidator | undefined {
  return validators.find((v) => v.accepts(document));
}

export const USAGE = "usage: npm run validate -- FILE... [--strict]";

export type ParsedArgs =
  | { readonly ok: true; readonly files: readonly string[]; readonly strict: boolean }
  | { readonly ok: true; readonly help: true }
  | { readonly ok: false; readonly error: string };

/** Flags may come before, between or after the files; `--` ends the flags. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const files: string[] = [];
  let strict = false;
  let flagsDone = false;
  for (const arg of argv) {
    if (!flagsDone && arg === "--") flagsDone = true;
    else if (!flagsDone && arg === "--strict") strict = true;
    else if (!flagsDone && (arg === "--help" || arg === "-h")) return { ok: true, help: true };
    else if (!flagsDone && arg.startsWith("-") && arg !== "-") return { ok: false, error: `unknown option ${arg}` };
    else files.push(arg);
  }
  if (files.length === 0) return { ok: false, error: "no files given" };
  return { ok: true, files, strict };
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

function issueLine(level: "error" | "warning", path: string, message: string): string {
  return path === "" ? `  ${level}: ${message}` : `  ${level} ${path}: ${message}`;
}

/** Validates one file; prints its report; returns whether everything in it passed. */
export function reportFile(
  path: string,
  options: ValidateOptions,
  output: Output,
  validators: readonly DocumentValidator[] = DOCUMENT_VALIDATORS,
): boolean {
  const read = readConfigDocuments(path);
  if (!read.ok) {
    output.out(`${path}: FAIL`);
    output.out(issueLine("error", "", read.error));
    return false;
  }
  const total = read.documents.length;
  let allOk = true;
  const print = (label: string, result: ValidationResult): void => {
    allOk &&= result.ok;
    output.out(`${label}: ${result.ok ? "OK" : "FAIL"}`);
    for (const e of result.errors) output.out(issueLine("error", e.path, e.message));
    for (const w of result.warnings) output.out(issueLine("warning", w.path, w.message));
  };
  for (const doc of read.documents) {
    const where = total === 1 ? "" : `document ${doc.index} of ${total}`;
    const label = where === "" ? path : `${path} (${where})`;
    const validator = chooseValidator(doc.content, validators);
    if (!validator) {
      print(label, { ok: false, errors: [{ path: "", message: "no validator takes this kind of document" }], warnings: [] });
      continue;
    }
    const list = validator.items?.(doc.content, options);
    if (list === undefined) print(label, validator.validate(doc.content, options));
    else if ("result" in list) print(label, list.result);
    else if (list.items.length === 0) {
      const empty = [{ path: "items", message: "empty List: no objects to apply" }];
      print(label, options.strict ? { ok: false, errors: empty, warnings: [] } : { ok: true, errors: [], warnings: empty });
    }
    else {
      list.items.forEach((item, i) => {
        const itemWhere = `${where === "" ? "" : `${where}, `}List item ${i + 1} of ${list.items.length}`;
        print(`${path} (${itemWhere})`, validator.validate(item, options));
      });
    }
  }
  return allOk;
}

/** The whole command; returns the exit code. */
export function runValidate(argv: readonly string[], output: Output): number {
  const args = parseArgs(argv);
  if (!args.ok) {
    output.err(`validate: ${args.error}`);
    output.err(USAGE);
    return 2;
  }
  if ("help" in args) {
    output.out(USAGE);
    return 0;
  }
  let allOk = true;
  for (const file of args.files) allOk = reportFile(file, { strict: args.strict }, output) && allOk;
  return allOk ? 0 : 1;
}

if (require.main === module) {
  const output: Output = { out: (l) => console.log(l), err: (l) => console.error(l) };
  try {
    process.exitCode = runValidate(process.argv.slice(2), output);
  } catch (err) {
    output.err(`validate: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
