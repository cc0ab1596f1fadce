import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CACHE_DIR_ENV, createTranspiler, type TranspilerOptions } from "../../cli/transpileCache";

const REPO_ROOT = resolve(__dirname, "../..");
const REGISTER = join(REPO_ROOT, "cli", "register.js");

const TYPED = [
  'import type { Server } from "node:http";',
  "interface Box { readonly value: number }",
  "// A type error: transpiling does not check types (npm test does).",
  'const wrong: number = "not a number" as unknown as number;',
  "export const box: Box = { value: 1 };",
  "export let server: Server | undefined;",
  "export { wrong };",
  "",
].join("\n");

describe("cli/transpileCache.js (how the commands load TypeScript)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ts-cache-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The real compiler, counting its calls. */
  function counting(options: TranspilerOptions = {}) {
    const calls: string[] = [];
    const real = createTranspiler({ cacheDir: join(dir, "unused"), transpile: undefined, ...options });
    const transpiler = createTranspiler({
      cacheDir: join(dir, "cache"),
      ...options,
      transpile: (source, fileName) => {
        calls.push(fileName);
        return real.compile(fileName, source);
      },
    });
    return { transpiler, calls };
  }

  it("turns TypeScript into CommonJS with an inline source map, types removed and not checked", () => {
    const out = createTranspiler({ cacheDir: join(dir, "cache") }).compile(join(dir, "typed.ts"), TYPED);
    assert.match(out, /exports\.box = \{ value: 1 \}/);
    assert.doesNotMatch(out, /interface|node:http|: Box/);
    assert.match(out, /\n\/\/# sourceMappingURL=data:application\/json;base64,/);
  });

  it("serves a file transpiled before from the disk cache, byte for byte, without compiling it again", () => {
    const file = join(dir, "typed.ts");
    const first = counting();
    const fresh = first.transpiler.compile(file, TYPED);
    assert.deepEqual(first.calls, [file]);
    // The next command start: a new transpiler over the same folder.
    const second = counting();
    assert.equal(second.transpiler.compile(file, TYPED), fresh);
    assert.deepEqual(second.calls, []);
    assert.deepEqual(second.transpiler.stats, { hits: 1, misses: 0 });
  });

  it("compiles again when the text, the file or tsconfig.json's options differ", () => {
    const file = join(dir, "typed.ts");
    const { transpiler, calls } = counting();
    transpiler.compile(file, TYPED);
    transpiler.compile(file, `${TYPED}export const more = 2;\n`);
    transpiler.compile(join(dir, "other.ts"), TYPED);
    assert.equal(calls.length, 3);

    const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, "tsconfig.json"), "utf8"));
    const es2020 = join(dir, "tsconfig.json");
    writeFileSync(es2020, JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, target: "ES2020" } }));
    const other = counting({ tsconfigPath: es2020 });
    other.transpiler.compile(file, TYPED);
    assert.equal(other.calls.length, 1);
  });

  it("refuses a syntax error naming the file, line and column, and caches nothing for it", () => {
    const transpiler = createTranspiler({ cacheDir: join(dir, "cache") });
    const broken = join(dir, "broken.ts");
    assert.throws(() => transpiler.compile(broken, "const x: number = ;\n"), (e: Error) => e.message.includes(`${broken}:1:19 - Expression expected.`));
    assert.equal(existsSync(join(dir, "cache")), false);
  });

  it("still runs when the cache folder cannot be written", () => {
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "");
    const transpiler = createTranspiler({ cacheDir: join(blocker, "cache") });
    assert.match(transpiler.compile(join(dir, "typed.ts"), TYPED), /exports\.box/);
    assert.deepEqual(transpiler.stats, { hits: 0, misses: 1 });
  });

  it("defaults to node_modules/.cache/envoy-mesh-ts, or the folder its environment variable names", () => {
    // Beside the installed packages (wherever node_modules really is).
    assert.equal(createTranspiler().cacheDir, join(resolve(require.resolve("typescript/package.json"), "../.."), ".cache", "envoy-mesh-ts"));
    const saved = process.env[CACHE_DIR_ENV];
    try {
      process.env[CACHE_DIR_ENV] = dir;
      assert.equal(createTranspiler().cacheDir, dir);
    } finally {
      if (saved === undefined) delete process.env[CACHE_DIR_ENV];
      else process.env[CACHE_DIR_ENV] = saved;
    }
  });

  it("runs a TypeScript program under node -r cli/register.js as its main module, with stack traces at TypeScript lines, cached or not", () => {
    const program = join(dir, "boom.ts");
    writeFileSync(program, ["interface Shown { readonly main: boolean }", "const shown: Shown = { main: require.main === module };", "console.log(JSON.stringify(shown));", "", "", "throw new Error('boom');", ""].join("\n"));
    const cache = join(dir, "cache");
    for (const run of ["first", "cached"]) {
      const r = spawnSync(process.execPath, ["-r", REGISTER, program], { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, [CACHE_DIR_ENV]: cache } });
      assert.equal(r.status, 1, `${run}: ${r.stderr}`);
      assert.equal(r.stdout, '{"main":true}\n', run);
      assert.ok(r.stderr.includes(`${program}:6:7`), `${run}: the throw at line 6, column 7 of boom.ts:\n${r.stderr}`);
      assert.equal(readdirSync(cache).filter((f) => f.endsWith(".js")).length, 1, run);
    }
  });

  it("is how package.json runs every command", () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const name of ["render", "certs", "up", "status", "down", "validate", "graph", "bench:validate", "bench:render"]) {
      const m = /^node -r \.\/cli\/register\.js (\S+\.ts)$/.exec(scripts[name]);
      assert.ok(m, `${name}: ${scripts[name]}`);
      assert.ok(existsSync(join(REPO_ROOT, m[1])), `${name}: ${m[1]}`);
    }
  });
});

describe("cli/tsNodeTranspiler.js (how ts-node loads TypeScript: the tests and pulumi up)", () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ts-node-cache-test-"));
    saved = process.env[CACHE_DIR_ENV];
    process.env[CACHE_DIR_ENV] = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[CACHE_DIR_ENV];
    else process.env[CACHE_DIR_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tsNode = () => require("ts-node") as typeof import("ts-node");

  /** ts-node as Pulumi's Node.js runtime starts it for a TypeScript program (@pulumi/pulumi cmd/run/run.js). */
  function asPulumiRunsIt() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tsutils = require("@pulumi/pulumi/tsutils") as { loadTypeScriptCompilerOptions(path: string): Record<string, unknown> };
    const tsconfig = join(REPO_ROOT, "tsconfig.json");
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
    return tsNode().create({
      compiler: "typescript",
      transpileOnly: compilerOptions.noCheck as boolean | undefined,
      project: tsconfig,
      skipProject: false,
      compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
    });
  }

  it("is what pulumi up runs the program with: transpile only, through this transpiler, as CommonJS", () => {
    const service = asPulumiRunsIt();
    assert.equal(service.options.transpileOnly, true);
    assert.equal(service.options.transpiler, "./cli/tsNodeTranspiler.js");
    assert.match(service.compile(TYPED, join(dir, "typed.ts")), /exports\.box = \{ value: 1 \}/);
  });

  it("emits byte for byte what ts-node emits without it, cached or not, source maps included", () => {
    const withCache = asPulumiRunsIt();
    const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, "tsconfig.json"), "utf8"));
    delete tsconfig["ts-node"].transpiler;
    const plainConfig = join(REPO_ROOT, `tsconfig.test-${process.pid}.json`);
    writeFileSync(plainConfig, JSON.stringify(tsconfig));
    let plain;
    try {
      plain = tsNode().create({ project: plainConfig });
    } finally {
      rmSync(plainConfig);
    }
    assert.equal(plain.options.transpiler, undefined);
    for (const file of ["index.ts", "components/serviceMesh.ts", "envoy/proxies.ts", "k8s/mesh.ts"].map((f) => join(REPO_ROOT, f))) {
      const source = readFileSync(file, "utf8");
      const expected = plain.compile(source, file);
      assert.equal(withCache.compile(source, file), expected, `${file}, first`);
      assert.equal(asPulumiRunsIt().compile(source, file), expected, `${file}, from the cache`);
    }
    assert.equal(readdirSync(dir).filter((f) => f.endsWith(".js")).length, 4);
  });

  it("leaves a syntax error to ts-node, which reports it as always, and caches nothing for it", () => {
    const service = asPulumiRunsIt();
    assert.throws(() => service.compile("const x: number = ;\n", join(dir, "broken.ts")), (e: Error) => e.name === "TSError" && /broken\.ts\(1,19\): error TS1109: Expression expected/.test(e.message));
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe("npm run validate start-up", () => {
  it("loads ajv and compiles the compose schema only when a compose file is checked", () => {
    const probe = [
      'const loaded = () => Object.keys(require.cache).some((k) => k.includes("/ajv/"));',
      'const { composeSchemaIssues } = require("./checks/compose");',
      "require('./cli/validate');",
      "const before = loaded();",
      "const issues = composeSchemaIssues({ services: { web: { image: 'x', ports: 'nope' } } });",
      "console.log(JSON.stringify({ before, after: loaded(), refused: issues.length > 0 }));",
    ].join("\n");
    const r = spawnSync(process.execPath, ["-r", REGISTER, "-e", probe], { cwd: REPO_ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, refused: true });
  });
});
