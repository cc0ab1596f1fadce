"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: it runs before any TypeScript can */
/**
 * TypeScript for the commands (`npm run validate` and the others), without type checking: `npm
 * test` type-checks. Each file is transpiled by TypeScript's own transpileModule, with the
 * project's tsconfig.json compiler options, as ts-node's transpileOnly does; the output, with an
 * inline source map, is cached on disk under a sha256 of everything it depends on (this file, the
 * TypeScript version, the options, the file's path and its exact text). A start whose files are all
 * cached loads no compiler at all, which was most of a command's start-up.
 * register.js installs it; this module has no side effects.
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

/** tsconfig.json's compilerOptions as written (JSON; TypeScript's own parser when it has comments). */
function readCompilerOptions(tsconfigPath) {
  const text = fs.readFileSync(tsconfigPath, "utf8");
  try {
    return JSON.parse(text).compilerOptions ?? {};
  } catch {
    const ts = require("typescript");
    const parsed = ts.parseConfigFileTextToJson(tsconfigPath, text);
    if (parsed.error) throw new Error(`${tsconfigPath}: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, "\n")}`);
    return parsed.config.compilerOptions ?? {};
  }
}

/** What transpileModule is given besides the project's options: emit CommonJS JavaScript with its map inline. */
const EMIT_OVERRIDES = { noEmit: false, declaration: false, sourceMap: false, inlineSourceMap: true, inlineSources: false };

/** TypeScript's transpileModule: types removed, nothing checked. Loads the compiler on first use only. */
function typescriptTranspile(source, fileName, rawOptions) {
  const ts = require("typescript");
  const { options, errors } = ts.convertCompilerOptionsFromJson(rawOptions, ROOT);
  if (errors.length > 0) throw new Error(`tsconfig.json: ${errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")).join("; ")}`);
  delete options.outDir;
  return ts.transpileModule(source, { fileName, compilerOptions: { ...options, ...EMIT_OVERRIDES } }).outputText;
}

/**
 * A transpiler with a disk cache. `transpile` and `cacheDir` are for tests; by default the real
 * compiler and the default folder. An unwritable cache folder only costs speed.
 */
function createTranspiler({ cacheDir = defaultCacheDir(), tsconfigPath = path.join(ROOT, "tsconfig.json"), transpile = typescriptTranspile } = {}) {
  const rawOptions = readCompilerOptions(tsconfigPath);
  const tsVersion = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")).version;
  // Everything but the file: a change to this loader, the compiler or the options is a new key.
  const prefix = createHash("sha256")
    .update(fs.readFileSync(__filename))
    .update(`\0typescript ${tsVersion}\0${JSON.stringify(rawOptions)}\0${JSON.stringify(EMIT_OVERRIDES)}\0`)
    .digest("hex");
  let dirReady = false;
  const stats = { hits: 0, misses: 0 };

  function compile(fileName, source) {
    const key = createHash("sha256").update(`${prefix}\0${fileName}\0`).update(source).digest("hex");
    const cached = path.join(cacheDir, `${key}.js`);
    try {
      const text = fs.readFileSync(cached, "utf8");
      stats.hits++;
      return text;
    } catch {
      // Not cached yet.
    }
    stats.misses++;
    const output = transpile(source, fileName, rawOptions);
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
  }
  return { compile, stats, cacheDir };
}

module.exports = { CACHE_DIR_ENV, createTranspiler, defaultCacheDir };
