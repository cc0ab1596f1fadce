"use strict";
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: it runs before any TypeScript can */
/**
 * `node -r ./cli/register.js cli/<command>.ts`: how package.json runs the commands. Loads `.ts`
 * files through the cached transpiler (transpileCache.js): no type checking (`npm test` does it),
 * and no compiler loaded when every file is cached. Stack traces point into the TypeScript
 * sources through the inline source maps, as under ts-node.
 */
const { createTranspiler } = require("./transpileCache");

process.setSourceMapsEnabled(true);
const transpiler = createTranspiler();
require.extensions[".ts"] = function loadTypeScript(module, filename) {
  const source = require("node:fs").readFileSync(filename, "utf8");
  module._compile(transpiler.compile(filename, source), filename);
};
