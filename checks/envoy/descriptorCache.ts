import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { collectProtoSources, type ExcludedProto, type ProtoSources } from "./protoSources";

/**
 * Compiles the Envoy API protos to a FileDescriptorSet with `buf` (from the `@bufbuild/buf`
 * npm package, which ships the compiler binary) and caches the result on disk, keyed by a hash
 * of every input file, the recipe and the compiler version. A clean install builds it on first
 * use in well under a second; later processes read the cached file.
 */

/** Environment variable that overrides where compiled descriptor sets are cached. */
export const CACHE_DIR_ENV = "ENVOY_VALIDATION_CACHE_DIR";

export interface DescriptorSetInfo {
  /** Serialized `google.protobuf.FileDescriptorSet`. */
  readonly bytes: Uint8Array;
  /** Version of the package the protos came from. */
  readonly packageVersion: string;
  /** Envoy v3 files that could not be compiled, with the message types they declare. */
  readonly excluded: readonly ExcludedProto[];
  /** Cache key (hex sha256). */
  readonly key: string;
  /** Where the set came from. */
  readonly source: "cache" | "built";
}

interface Manifest {
  readonly key: string;
  readonly packageVersion: string;
  readonly excluded: readonly ExcludedProto[];
}

function bufPackageDir(): string {
  try {
    return dirname(require.resolve("@bufbuild/buf/package.json"));
  } catch {
    throw new Error("@bufbuild/buf is not installed; run npm ci to get the proto compiler");
  }
}

function bufVersion(): string {
  return (JSON.parse(readFileSync(join(bufPackageDir(), "package.json"), "utf8")) as { version: string }).version;
}

/** Default cache folder: `node_modules/.cache/envoy-validation`, beside the installed packages. */
export function defaultCacheDir(): string {
  const fromEnv = process.env[CACHE_DIR_ENV];
  if (fromEnv) return fromEnv;
  return join(dirname(dirname(bufPackageDir())), ".cache", "envoy-validation");
}

/** Cache key for a set of sources compiled with a given buf version. */
export function cacheKey(sources: ProtoSources, compilerVersion: string = bufVersion()): string {
  return `${sources.fingerprint.slice(0, 32)}-buf${compilerVersion}`;
}

/**
 * Lays out the import roots for buf in `stage`: a root whose files are compiled as shipped is
 * linked to the package's folder (writing hundreds of files costs more than the compile); a
 * root holding a patched file gets only its selected files, written out.
 */
function stageRoots(sources: ProtoSources, stage: string): string[] {
  const roots = [...new Set(sources.files.map((f) => f.root))].sort();
  const patchedRoots = new Set(sources.files.filter((f) => f.patched).map((f) => f.root));
  for (const root of roots) {
    let linked = false;
    if (!patchedRoots.has(root)) {
      try {
        symlinkSync(join(sources.depsDir, root), join(stage, root), "dir");
        linked = true;
      } catch {
        // No symlinks here (some Windows setups): copy the files instead.
      }
    }
    if (linked) continue;
    for (const f of sources.files.filter((x) => x.root === root)) {
      const target = join(stage, f.root, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
    }
  }
  return roots;
}

/** Runs `buf build` over the selected sources; returns the FileDescriptorSet bytes. */
export function compileDescriptorSet(sources: ProtoSources): Uint8Array {
  const stage = mkdtempSync(join(tmpdir(), "envoy-protos-"));
  try {
    const roots = stageRoots(sources, stage);
    writeFileSync(
      join(stage, "buf.yaml"),
      ["version: v2", "modules:", ...roots.map((r) => `  - path: ${r}`), ""].join("\n"),
    );
    const out = join(stage, "out.binpb");
    // --path keeps buf to the selected files (and their imports): the roots hold files that do
    // not compile, such as the v2 API.
    const targets = sources.files.flatMap((f) => ["--path", `${f.root}/${f.path}`]);
    const bufBin = join(bufPackageDir(), "bin", "buf");
    try {
      execFileSync(process.execPath, [bufBin, "build", "--exclude-source-info", "-o", out, ...targets], {
        cwd: stage,
        stdio: ["ignore", "pipe", "pipe"],
        // buf keeps its own module cache; keep it inside the throwaway stage folder.
        env: { ...process.env, BUF_CACHE_DIR: join(stage, ".buf-cache") },
        timeout: 120_000,
      });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
      throw new Error(`compiling the Envoy API protos with buf failed: ${stderr || (err as Error).message}`);
    }
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function writeAtomically(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Removes sets cached for other inputs (an older package or compiler version). */
function pruneOtherEntries(dir: string, key: string): void {
  for (const name of readdirSync(dir)) {
    if (/^[0-9a-f]{32}-buf[\w.-]+\.(binpb|json)$/.test(name) && !name.startsWith(`${key}.`)) {
      rmSync(join(dir, name), { force: true });
    }
  }
}

function readCached(dir: string, key: string): DescriptorSetInfo | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, `${key}.json`), "utf8")) as Manifest;
    if (manifest.key !== key) return undefined;
    const bytes = new Uint8Array(readFileSync(join(dir, `${key}.binpb`)));
    return { bytes, packageVersion: manifest.packageVersion, excluded: manifest.excluded, key, source: "cache" };
  } catch {
    return undefined;
  }
}

export interface LoadDescriptorOptions {
  /** Cache folder. Default: {@link defaultCacheDir}. */
  readonly cacheDir?: string;
  /** Ignore (and overwrite) a cached set. Default: false. */
  readonly rebuild?: boolean;
}

/**
 * Returns the compiled descriptor set, from the disk cache when its key matches the installed
 * sources, else by compiling and then caching it. An unwritable cache folder only costs speed.
 */
export function loadDescriptorSet(options: LoadDescriptorOptions = {}): DescriptorSetInfo {
  const sources = collectProtoSources();
  const key = cacheKey(sources);
  const dir = options.cacheDir ?? defaultCacheDir();
  if (!options.rebuild) {
    const cached = readCached(dir, key);
    if (cached) return cached;
  }
  const bytes = compileDescriptorSet(sources);
  const manifest: Manifest = { key, packageVersion: sources.packageVersion, excluded: sources.excluded };
  try {
    mkdirSync(dir, { recursive: true });
    // The manifest goes last: a reader that finds it also finds the complete descriptor file.
    writeAtomically(join(dir, `${key}.binpb`), bytes);
    writeAtomically(join(dir, `${key}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
    pruneOtherEntries(dir, key);
  } catch {
    // Read-only install: keep going with the in-memory set.
  }
  return { bytes, packageVersion: sources.packageVersion, excluded: sources.excluded, key, source: "built" };
}
