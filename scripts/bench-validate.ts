/**
 * npm run bench:validate [-- --runs N] [--max-cold-ms MS] [--help]
 *
 * Times the config validator on the four proxies of the original blog post (front proxy,
 * service A, B and C), both in their v2 form (refused) and in the project's v3 form (accepted):
 * - cold: a fresh process per run, started as package.json's `validate` script starts it
 *   (node with the cached TypeScript loader), with the compiled descriptor set and the
 *   transpiled modules already cached on disk (the usual case); and the whole command,
 *   `npm run validate -- FILE` (npm's own start included), for one config;
 * - first ever: the same with an empty cache, so the protos are compiled with buf first;
 * - warm: in one process after the registry is loaded, per validation of one config.
 * Prints each figure as the median with the range over the runs, plus the machine (Node
 * version, CPU count, load average before and after), so a figure can be quoted with what it
 * was measured on. Exits 1 when a cold median exceeds the budget (default 3000 ms).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { performance } from "node:perf_hooks";
import { load } from "js-yaml";
import { loadEnvoyRegistry, validateBootstrap } from "../checks/envoy";
import { CACHE_DIR_ENV } from "../checks/envoy/descriptorCache";

const ROOT = join(__dirname, "..");
const FIXTURES = join(ROOT, "tests", "checks", "envoy", "fixtures");
const SEED_V2 = ["front-envoy.yaml", "service-a.yaml", "service-b.yaml", "service-c.yaml"].map((f) => join(FIXTURES, "v2", f));
const PROJECT_V3 = ["front-proxy.yaml", "service-a.yaml", "service-b.json", "service-c.json"].map((f) => join(FIXTURES, "v3", f));

interface Options {
  readonly runs: number;
  readonly maxColdMs: number;
}

export const USAGE = "usage: npm run bench:validate -- [--runs N] [--max-cold-ms MS] [--help]";

export type ParsedOptions = { readonly ok: true; readonly options: Options } | { readonly ok: true; readonly help: true } | { readonly ok: false; readonly error: string };

export function parseOptions(argv: readonly string[]): ParsedOptions {
  let runs = 5;
  let maxColdMs = 3000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--help" || argv[i] === "-h") return { ok: true, help: true };
    const value = Number(argv[i + 1]);
    if (argv[i] === "--runs" && Number.isInteger(value) && value > 0) runs = value;
    else if (argv[i] === "--max-cold-ms" && value > 0) maxColdMs = value;
    else return { ok: false, error: `unknown or invalid option ${argv[i]} ${argv[i + 1] ?? ""}`.trim() };
    i++;
  }
  return { ok: true, options: { runs, maxColdMs } };
}

/** The middle of the figures (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `1.93 s (1.86–1.97 s over 5 runs)`: the median, then the range it comes from. */
export function describeRuns(ms: readonly number[], unit: "s" | "ms"): string {
  const f = (x: number): string => (unit === "s" ? (x / 1000).toFixed(2) : x.toFixed(1));
  const lo = Math.min(...ms);
  const hi = Math.max(...ms);
  return `${f(median(ms))} ${unit} (${f(lo)}–${f(hi)} ${unit} over ${ms.length} run${ms.length === 1 ? "" : "s"})`;
}

/** The load average over 1, 5 and 15 minutes, as `0.52 1.10 1.63`. */
export function describeLoad(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

/**
 * The command line of a package.json script that runs node (`node -r ./cli/register.js
 * cli/validate.ts`), with this node binary; anything else is refused, as it could not be timed
 * the same way.
 */
export function nodeScriptArgv(script: string, execPath: string): string[] {
  const [command, ...args] = script.trim().split(/\s+/);
  if (command !== "node" || args.length === 0 || args.some((a) => /["'$&|;<>`\\]/.test(a) || isAbsolute(a))) {
    throw new Error(`package.json's validate script is not a plain node command line: ${JSON.stringify(script)}`);
  }
  return [execPath, ...args];
}

function validateScript(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.validate;
}

/** Wall time of one fresh validator process, as `npm run validate` runs it (minus npm itself). */
function timeProcess(files: readonly string[], env: NodeJS.ProcessEnv, expectedStatus: number): number {
  const [node, ...args] = nodeScriptArgv(validateScript(), process.execPath);
  const start = performance.now();
  const r = spawnSync(node, [...args, ...files], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
  const ms = performance.now() - start;
  if (r.status !== expectedStatus) {
    throw new Error(`validate exited ${r.status}, expected ${expectedStatus}:\n${r.stdout}${r.stderr}`);
  }
  return ms;
}

/** Wall time of the whole command, `npm run -s validate -- FILE...`, npm included. */
function timeNpmCommand(files: readonly string[]): number {
  const start = performance.now();
  // An npm update notice would only add noise.
  const r = spawnSync("npm", ["run", "-s", "validate", "--", ...files], { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: "false" }, encoding: "utf8" });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`npm run validate exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function main(): void {
  const parsed = parseOptions(process.argv.slice(2));
  if (!parsed.ok) {
    console.error(`bench-validate: ${parsed.error}`);
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if ("help" in parsed) {
    console.log(USAGE);
    return;
  }
  const { options } = parsed;
  console.log(`validator benchmark: node ${process.version}, ${cpus().length} CPUs, load average (1/5/15 min) ${describeLoad()}`);

  // Warm the shared disk cache so "cold" measures a process start, not a first compile.
  timeProcess(PROJECT_V3, process.env, 0);
  const coldSeed = Array.from({ length: options.runs }, () => timeProcess(SEED_V2, process.env, 1));
  const coldV3 = Array.from({ length: options.runs }, () => timeProcess(PROJECT_V3, process.env, 0));
  console.log(`cold process, 4 seed v2 configs (refused):      ${describeRuns(coldSeed, "s")}`);
  console.log(`cold process, 4 project v3 configs (accepted):  ${describeRuns(coldV3, "s")}`);
  console.log(`  (each: ${validateScript()} FILE..., in ${ROOT})`);
  const oneFile = [PROJECT_V3[0]];
  const wholeCommand = Array.from({ length: options.runs }, () => timeNpmCommand(oneFile));
  console.log(`whole command, npm run -s validate -- ${oneFile[0].slice(ROOT.length + 1)}: ${describeRuns(wholeCommand, "s")}`);

  const firstEver = Array.from({ length: Math.min(options.runs, 3) }, () => {
    const dir = mkdtempSync(join(tmpdir(), "envoy-bench-cache-"));
    try {
      return timeProcess(SEED_V2, { ...process.env, [CACHE_DIR_ENV]: dir }, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  console.log(`first run ever (compiles the protos), 4 seed v2 configs: ${describeRuns(firstEver, "s")}`);

  const loadStart = performance.now();
  loadEnvoyRegistry();
  const registryMs = performance.now() - loadStart;
  const docs = [...SEED_V2, ...PROJECT_V3].map((f) => load(readFileSync(f, "utf8")));
  const perConfig = Array.from({ length: options.runs }, () => {
    const start = performance.now();
    for (const d of docs) validateBootstrap(d);
    return (performance.now() - start) / docs.length;
  });
  console.log(`registry load in-process (cached descriptors): ${registryMs.toFixed(0)} ms`);
  console.log(`warm, per config (8 configs a run):            ${describeRuns(perConfig, "ms")}`);
  console.log(`load average at the end: ${describeLoad()}`);

  const worst = Math.max(median(coldSeed), median(coldV3));
  if (worst > options.maxColdMs) {
    console.error(`cold validation took ${fmt(worst)} (median), over the ${fmt(options.maxColdMs)} budget`);
    process.exitCode = 1;
  } else console.log(`cold median ${fmt(worst)}: within the ${fmt(options.maxColdMs)} budget`);
}

if (require.main === module) main();
