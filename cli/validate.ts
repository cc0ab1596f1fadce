/**
 * npm run validate -- FILE|FOLDER... [--strict]
 *
 * Checks Envoy bootstraps, Envoy xDS resource files (a top-level `resources`: an LDS, CDS, RDS or
 * SDS file), Kubernetes manifests and compose files (YAML or JSON, several
 * documents per file allowed; a document with a top-level `apiVersion` or `kind` is a Kubernetes
 * object, since an Envoy bootstrap has neither; one with a top-level `services` is a compose file; a Kubernetes document with `items` is a List whose items are
 * checked one by one, as kubectl applies them) and prints, per file, document or List item,
 * `<path>: OK` or `<path>: FAIL` followed by one indented line per problem:
 * `  error <config path>: <message>` or `  warning <config path>: <message>`.
 * A folder stands for the `.yaml`, `.yml` and `.json` files directly in it, in name order.
 *
 * An xDS file is checked on its own: each resource strictly, as Envoy parses it, with the
 * checks the same resource gets in a bootstrap. What only the files together show is checked when
 * a bootstrap that reads files (`path_config_source`) is given with them, e.g. a rendered proxy's
 * `envoy.json` plus its xDS folder: each path the bootstrap (or an LDS listener's RDS, or an SDS
 * config) names is looked up by file name among the files given, whatever folder the bootstrap
 * names, since that is where Envoy would read them. That report is one more block,
 * `<bootstrap path> with its xDS files: OK|FAIL`, whose config paths are `<file name>:<path>`;
 * a given xDS file no bootstrap reads fails in a block of its own. A lone xDS file gets no such
 * block: nothing says which subscription reads it.
 * Exit code: 0 when everything passes, 1 when anything fails, 2 for a usage error.
 */
import { composeConsistencyIssues, composeMeshIssues, composeSchemaIssues } from "../checks/compose";
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fromFileXds, readConfigDocuments, validateBootstrap, validateResourceFile } from "../checks/envoy";
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

export const USAGE = "usage: npm run validate -- FILE|FOLDER... [--strict]";

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
  collect?: (document: unknown, validator: DocumentValidator, documents: number) => void,
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
    collect?.(doc.content, validator, total);
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

/** A folder given on the command line stands for its YAML and JSON files, in name order. */
function expandFolder(path: string): readonly string[] {
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    return [path]; // reportFile names the reason
  }
  if (!isFolder) return [path];
  const files = readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
  return files.length > 0 ? files : [`${EMPTY_FOLDER}${path}`];
}

/** Marks a folder with nothing to check in the list of files, so it fails in its place in the output. */
const EMPTY_FOLDER = "\0empty folder\0";

/** Whether a bootstrap reads any of its config from files: only then are xDS files checked against it. */
function readsFiles(document: unknown): boolean {
  const walk = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(walk);
    if (!isPlainObject(v)) return false;
    return "path_config_source" in v || Object.values(v).some(walk);
  };
  return walk(document);
}

interface Given {
  readonly path: string;
  readonly content: unknown;
}

/**
 * The checks only a bootstrap and its xDS files together allow (checks/envoy/fileXds.ts), for
 * each bootstrap that reads files, with the xDS files given by file name; prints one block per
 * bootstrap and one for given xDS files no bootstrap reads. Returns whether all passed.
 */
export function reportCrossFile(bootstraps: readonly Given[], xdsFiles: readonly Given[], options: ValidateOptions, output: Output): boolean {
  if (bootstraps.length === 0 || xdsFiles.length === 0) return true;
  const byName = new Map<string, Given>();
  const clashes: string[] = [];
  for (const file of xdsFiles) {
    const name = basename(file.path);
    const first = byName.get(name);
    if (first !== undefined) clashes.push(`${file.path}: same file name as ${first.path}; a bootstrap names files by path, so give one set of xDS files per run`);
    else byName.set(name, file);
  }
  const files = Object.fromEntries([...byName].map(([name, file]) => [name, file.content]));
  const read = new Set<string>();
  let allOk = true;
  const print = (label: string, errors: readonly string[], warnings: readonly string[]) => {
    const failing = options.strict ? [...errors, ...warnings] : errors;
    allOk &&= failing.length === 0;
    output.out(`${label}: ${failing.length === 0 ? "OK" : "FAIL"}`);
    for (const e of failing) output.out(`  error ${e}`);
    if (!options.strict) for (const w of warnings) output.out(`  warning ${w}`);
  };
  const line = (p: { file?: string; path: string; message: string }) => {
    const at = p.file === undefined ? p.path : p.path === "" ? p.file : `${p.file}:${p.path}`;
    return at === "" ? p.message : `${at}: ${p.message}`;
  };
  for (const bootstrap of bootstraps) {
    const loaded = fromFileXds(bootstrap.content, files, { reportUnread: false });
    for (const file of loaded.read) read.add(file);
    print(`${bootstrap.path} with its xDS files`, [...clashes, ...loaded.errors.map(line)], loaded.warnings.map(line));
  }
  const unread = [...byName].filter(([name]) => !read.has(name)).map(([, file]) => `${file.path}: is given but no bootstrap reads it: no ConfigSource names a file of that name`);
  if (unread.length > 0) print("xDS files", unread, []);
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
  const bootstraps: Given[] = [];
  const xdsFiles: Given[] = [];
  for (const file of args.files.flatMap(expandFolder)) {
    if (file.startsWith(EMPTY_FOLDER)) {
      const folder = file.slice(EMPTY_FOLDER.length);
      output.out(`${folder}: FAIL`);
      output.out(issueLine("error", "", `${folder} is a folder with no .yaml, .yml or .json file in it`));
      allOk = false;
      continue;
    }
    const collect = (content: unknown, validator: DocumentValidator, documents: number) => {
      if (validator === envoyBootstrapValidator && readsFiles(content)) bootstraps.push({ path: file, content });
      // Envoy reads an xDS file as one document.
      else if (validator === envoyResourceFileValidator && documents === 1) xdsFiles.push({ path: file, content });
    };
    allOk = reportFile(file, { strict: args.strict }, output, DOCUMENT_VALIDATORS, collect) && allOk;
  }
  allOk = reportCrossFile(bootstraps, xdsFiles, { strict: args.strict }, output) && allOk;
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
