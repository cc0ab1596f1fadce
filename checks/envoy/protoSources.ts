import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Which Envoy API protos to load, read from the installed `@grpc/grpc-js-xds` package.
 *
 * That package vendors Envoy's data-plane-api plus the protos it imports (cncf/xds, a few
 * googleapis files, protoc-gen-validate's validate.proto). Not every file resolves: the v2 API
 * imports files that are not shipped, and a few v3 files import OpenCensus, OpenTelemetry or
 * Prometheus protos that are not shipped either. So the set is the import closure of every
 * Envoy v3 file whose own imports all resolve; the rest are listed as excluded, with the
 * message types they declare, so a config naming one of those types gets a "not checked"
 * warning instead of a false "unknown type" error.
 */

/** Package that ships the Envoy API protos. */
export const PROTO_PACKAGE = "@grpc/grpc-js-xds";

/** Import roots inside the package's `deps/` folder, in lookup order. */
const IMPORT_ROOTS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"] as const;

/**
 * Files compiled in as entry points: every Envoy v3 (and v3alpha) API file, and the cncf/xds
 * (and older udpa) types a config may name too, such as TypedStruct.
 */
const ENTRY_PATTERN = /^(envoy\/.*\/v3(alpha)?\/[^/]+|xds\/.+|udpa\/.+)\.proto$/;

/** Files the compiler provides itself. */
const BUILTIN_PREFIX = "google/protobuf/";

/** Changing how the descriptor set is produced must change the cache key: bump this. */
export const RECIPE_VERSION = "envoy-validation-descriptors/2";

export interface ProtoFile {
  /** Import path, e.g. `envoy/config/core/v3/base.proto`. */
  readonly path: string;
  /** Import root it was found in (a folder name under the package's `deps/`). */
  readonly root: string;
  /** File text exactly as compiled (validate.proto carries one added field, see below). */
  readonly content: string;
  /** True when `content` differs from the file on disk. */
  readonly patched: boolean;
}

export interface ExcludedProto {
  readonly path: string;
  /** Import paths this file needs that cannot be resolved (directly or through its imports). */
  readonly missing: readonly string[];
  /** Fully qualified names of the top-level messages the file declares. */
  readonly messageTypes: readonly string[];
}

export interface ProtoSources {
  /** Folder holding the import roots (the package's `deps/`). */
  readonly depsDir: string;
  /** Version of the package the protos came from. */
  readonly packageVersion: string;
  /** Files to compile, sorted by path. */
  readonly files: readonly ProtoFile[];
  /** Envoy v3 files left out because an import does not resolve, sorted by path. */
  readonly excluded: readonly ExcludedProto[];
  /** sha256 over the recipe version and every compiled file's path and content. */
  readonly fingerprint: string;
}

/** Directory of the installed proto package (throws a clear error when it is missing). */
export function protoPackageDir(): string {
  try {
    return dirname(require.resolve(`${PROTO_PACKAGE}/package.json`));
  } catch {
    throw new Error(`${PROTO_PACKAGE} is not installed; run npm ci to get the Envoy API protos`);
  }
}

function listProtoFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    const rel = prefix === "" ? entry : `${prefix}/${entry}`;
    if (statSync(full).isDirectory()) out.push(...listProtoFiles(full, rel));
    else if (entry.endsWith(".proto")) out.push(rel);
  }
  return out;
}

const IMPORT_RE = /^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm;

/** Import paths named by a proto file's `import` statements. */
export function parseImports(content: string): string[] {
  return [...content.matchAll(IMPORT_RE)].map((m) => m[1]);
}

/** Fully qualified names of the top-level messages a proto file declares. */
export function topLevelMessageTypes(content: string): string[] {
  const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(content)?.[1];
  const names = [...content.matchAll(/^message\s+(\w+)\s*\{/gm)].map((m) => m[1]);
  return names.map((n) => (pkg ? `${pkg}.${n}` : n)).sort();
}

/**
 * The shipped validate.proto predates protoc-gen-validate's `ignore_empty` string rule
 * (field 26 of `validate.StringRules`, as upstream defines it), which current Envoy protos use,
 * including core ones. Add that one field; leave a newer validate.proto untouched.
 */
export function patchValidateProto(content: string): string {
  if (/\bignore_empty\s*=/.test(content)) return content;
  const strictRule = /(optional\s+bool\s+strict\s*=\s*25\s*\[default\s*=\s*true\]\s*;)/;
  if (!strictRule.test(content)) {
    throw new Error("validate.proto: cannot find StringRules.strict to add ignore_empty after it");
  }
  return content.replace(strictRule, "$1\n  optional bool ignore_empty = 26;");
}

interface Candidate {
  readonly root: string;
  readonly content: string;
  readonly patched: boolean;
  readonly imports: readonly string[];
}

/** Reads the package's protos and selects the set to compile. Pure apart from file reads. */
export function collectProtoSources(packageDir: string = protoPackageDir()): ProtoSources {
  const packageVersion = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string })
    .version;
  const available = new Map<string, Candidate>();
  for (const root of IMPORT_ROOTS) {
    const rootDir = join(packageDir, "deps", root);
    for (const path of listProtoFiles(rootDir)) {
      if (available.has(path)) continue;
      const original = readFileSync(join(rootDir, path), "utf8");
      const content = path === "validate/validate.proto" ? patchValidateProto(original) : original;
      available.set(path, { root, content, patched: content !== original, imports: parseImports(content) });
    }
  }
  if (!available.has("validate/validate.proto")) {
    throw new Error(`${PROTO_PACKAGE} does not ship validate/validate.proto`);
  }

  // missing(path): unresolvable imports reachable from path (empty when the file compiles).
  const memo = new Map<string, string[]>();
  const missing = (path: string, stack: Set<string>): string[] => {
    const known = memo.get(path);
    if (known) return known;
    if (path.startsWith(BUILTIN_PREFIX)) return [];
    const file = available.get(path);
    if (!file) return [path];
    if (stack.has(path)) return [];
    stack.add(path);
    const result = new Set<string>();
    for (const imp of file.imports) for (const m of missing(imp, stack)) result.add(m);
    stack.delete(path);
    const sorted = [...result].sort();
    memo.set(path, sorted);
    return sorted;
  };

  const selected = new Set<string>();
  const addClosure = (path: string): void => {
    if (selected.has(path) || path.startsWith(BUILTIN_PREFIX)) return;
    selected.add(path);
    for (const imp of available.get(path)?.imports ?? []) addClosure(imp);
  };

  const excluded: ExcludedProto[] = [];
  for (const path of [...available.keys()].filter((p) => ENTRY_PATTERN.test(p)).sort()) {
    const unresolved = missing(path, new Set());
    if (unresolved.length === 0) addClosure(path);
    else {
      excluded.push({
        path,
        missing: unresolved,
        messageTypes: topLevelMessageTypes(available.get(path)?.content ?? ""),
      });
    }
  }
  addClosure("validate/validate.proto");

  const files = [...selected].sort().map((path) => {
    const file = available.get(path) as Candidate;
    return { path, root: file.root, content: file.content, patched: file.patched };
  });
  const hash = createHash("sha256").update(RECIPE_VERSION);
  for (const f of files) hash.update(`\0${f.path}\0${f.content}`);
  return { depsDir: join(packageDir, "deps"), packageVersion, files, excluded, fingerprint: hash.digest("hex") };
}
