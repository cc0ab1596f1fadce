"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: ts-node loads it before any TypeScript */
/**
 * A ts-node transpiler (tsconfig.json `"ts-node": { "transpiler": ... }`, ts-node's TranspilerModule
 * API, dist/transpilers/types.d.ts): ts-node's own transpileOnly emit, TypeScript's transpileModule
 * with the compiler options ts-node computed, cached on disk (transpileCache.js). It serves every
 * ts-node start: the tests (mocha's ts-node/register) and `pulumi up`, whose Node.js runtime runs
 * the program through ts-node with this tsconfig.json (@pulumi/pulumi cmd/run/run.js). ts-node keeps
 * doing the rest (source maps, module loading).
 */
const { createCache, defaultCacheDir } = require("./transpileCache");

/** @param {{ service: { config: { options: object }, projectLocalResolveHelper(name: string, relative: boolean): string }, nodeModuleEmitKind?: string }} options */
exports.create = function create({ service, nodeModuleEmitKind }) {
  const ts = require(service.projectLocalResolveHelper("typescript", true));
  const compilerOptions = service.config.options;
  // ts-node also makes variants for .cts/.mts files (node16/nodenext emit, nodeModuleEmitKind);
  // this project has none, and transpileModule alone cannot emit them as ts-node would.
  if (compilerOptions.module !== ts.ModuleKind.CommonJS || nodeModuleEmitKind !== undefined) {
    const kind = `module ${ts.ModuleKind[compilerOptions.module]}${nodeModuleEmitKind === undefined ? "" : ` (${nodeModuleEmitKind})`}`;
    return {
      transpile(_source, { fileName }) {
        throw new Error(`${fileName}: cli/tsNodeTranspiler.js emits CommonJS .ts files only, not ${kind}`);
      },
    };
  }
  const cache = createCache(defaultCacheDir(), `ts-node\0${JSON.stringify(compilerOptions)}\0${nodeModuleEmitKind ?? ""}`);
  return {
    transpile(source, { fileName }) {
      let withDiagnostics;
      try {
        return JSON.parse(
          cache.get(fileName, source, () => {
            const result = ts.transpileModule(source, { fileName, compilerOptions, reportDiagnostics: true });
            if (result.diagnostics !== undefined && result.diagnostics.length > 0) {
              withDiagnostics = result;
              throw NOT_CACHED;
            }
            return JSON.stringify({ outputText: result.outputText, sourceMapText: result.sourceMapText });
          }),
        );
      } catch (error) {
        // A syntax error goes back to ts-node uncached: it reports it as it always does (a TSError), and again next time.
        if (error === NOT_CACHED) return withDiagnostics;
        throw error;
      }
    },
  };
};

const NOT_CACHED = Symbol("not cached");
