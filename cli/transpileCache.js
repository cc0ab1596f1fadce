"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: it runs before any TypeScript can */
/**
 * TypeScript without type checking (`npm test` type-checks), cached on disk. Each file is
 * transpiled by TypeScript's own transpileModule, as ts-node's transpileOnly does; the output is
 * kept under a sha256 of everything it depends on (these loader files, the TypeScript version,
 * the compiler options, the file's path and its exact text), so the same input always gives the
 * output TypeScript gave it, and a start whose files are all cached compiles nothing.
 * - createTranspiler: for register.js (the commands): also reads tsconfig.json itself, so a
 *   cached start loads no compiler at all;
 * - createCache: the folder, for tsNodeTranspiler.js (ts-node: mocha, `pulumi up`).
 * This module has no side effects.
 */
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
/** Overrides the cache folder (default: `node_modules/.cache/envoy-mesh-ts`, beside the installed packages). */
const CACHE_DIR_ENV = "ENVOY_MESH_TS_CACHE_DIR";

function defaultCacheDir() {
  const fromEnv = process.env[CACHE_DIR_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(path.dirname(path.dirname(require.resolve("typescript/package.json"))), ".cache", "envoy-mesh-ts");
}

function typescriptVersion() {
  return JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")).version;
}

/** TypeScript's diagnostics as `file:line:col - message` lines, as a thrown error's message. */
function diagnosticsError(ts, diagnostics) {
  const lines = diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file === undefined || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}:${line + 1}:${character + 1} - ${text}`;
  });
  return new Error(`TypeScript cannot transpile:\n${lines.join("\n")}`);
}

/**
 * A folder of outputs by key. `prefix` is everything the output depends on besides the file;
 * loader files are hashed into it, so changing this code is a new key. An unwritable folder only
 * costs speed.
 */
function createCache(cacheDir, prefix) {
  const loader = createHash("sha256");
  for (const file of [__filename, path.join(__dirname, "register.js"), path.join(__dirname, "tsNodeTranspiler.js")]) loader.update(fs.readFileSync(file));
  const base = createHash("sha256").update(loader.digest("hex")).update(`\0typescript ${typescriptVersion()}\0${prefix}\0`).digest("hex");
  let dirReady = false;
  const stats = { hits: 0, misses: 0 };
  return {
    cacheDir,
    stats,
    /** The cached text for this file and source, or else `make()`'s, which is then cached. */
    get(fileName, source, make) {
      const key = createHash("sha256").update(`${base}\0${fileName}\0`).update(source).digest("hex");
      const cached = path.join(cacheDir, `${key}.js`);
      try {
        const text = fs.readFileSync(cached, "utf8");
        stats.hits++;
        return text;
      } catch {
        // Not cached yet.
      }
      stats.misses++;
      const output = make();
      try {
        if (!dirReady) fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
        dirReady = true;
        // Written whole under a temporary name, then renamed: a reader sees all of it or nothing.
        const temporary = `${cached}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, output, { mode: 0o600 });
        fs.renameSync(temporary, cached);
      } catch {
        // Read-only or full disk: run without caching.
      }
      return output;
    },
  };
}

/** tsconfig.json's compilerOptions as written (JSON; TypeScript's own parser when it has comments). */
function readCompilerOptions(tsconfigPath) {
  const text = fs.readFileSync(tsconfigPath, "utf8");
  try {
    return JSON.parse(text).compilerOptions ?? {};
  } catch {
    const ts = require("typescript");
    const parsed = ts.parseConfigFileTextToJson(tsconfigPath, text);
    if (parsed.error) throw diagnosticsError(ts, [parsed.error]);
    return parsed.config.compilerOptions ?? {};
  }
}

/** What register.js gives transpileModule besides the project's options: CommonJS JavaScript with its source map inline. */
const EMIT_OVERRIDES = { noEmit: false, declaration: false, sourceMap: false, inlineSourceMap: true, inlineSources: false };

/** TypeScript's transpileModule: types removed, nothing checked; a syntax error throws. Loads the compiler on first use only. */
function typescriptTranspile(source, fileName, rawOptions) {
  const ts = require("typescript");
  const { options, errors } = ts.convertCompilerOptionsFromJson(rawOptions, ROOT);
  if (errors.length > 0) throw diagnosticsError(ts, errors);
  delete options.outDir;
  const result = ts.transpileModule(source, { fileName, compilerOptions: { ...options, ...EMIT_OVERRIDES }, reportDiagnostics: true });
  if (result.diagnostics !== undefined && result.diagnostics.length > 0) throw diagnosticsError(ts, result.diagnostics);
  return result.outputText;
}

/**
 * The commands' transpiler: tsconfig.json's options, output with an inline source map. `transpile`
 * and `cacheDir` are for tests; by default the real compiler and the default folder.
 */
function createTranspiler({ cacheDir = defaultCacheDir(), tsconfigPath = path.join(ROOT, "tsconfig.json"), transpile = typescriptTranspile } = {}) {
  const rawOptions = readCompilerOptions(tsconfigPath);
  const cache = createCache(cacheDir, `register\0${JSON.stringify(rawOptions)}\0${JSON.stringify(EMIT_OVERRIDES)}`);
  return {
    cacheDir,
    stats: cache.stats,
    compile: (fileName, source) => cache.get(fileName, source, () => transpile(source, fileName, rawOptions)),
  };
}

module.exports = { CACHE_DIR_ENV, createCache, createTranspiler, defaultCacheDir, diagnosticsError };
