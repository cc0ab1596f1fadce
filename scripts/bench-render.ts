/**
 * npm run bench:render [-- --sizes 100,1000,2000] [--runs N] [--command-runs N] [--program-sizes 100,1000] [--program-runs N] [--sdk-traces] [--svg-max N] [--profile DIR] [--help]
 *
 * A benchmark, not a test: how render and the Pulumi program scale with the number of services.
 * - Render: for each size, a synthetic topology (syntheticTopology) in a temporary project's
 *   stack file (kind target), rendered in one fresh child process several times as `npm run
 *   render` does it: renderMesh (parse, build, check every Envoy config and Kubernetes object;
 *   no verdict kept from the run before, as in a new process),
 *   the topology's picture (mesh.svg), and writeTree into a new folder. The first run is
 *   reported on its own (module loading and JIT warm-up land in it), the others as a median with
 *   their range; peak RSS is the child's own (one process per size), with the files and bytes
 *   written, and the ratios of the medians between sizes (2.0 per doubling = linear). Each run
 *   then writes the same files again into the folder it just wrote (a re-render of unchanged
 *   content: writeTree keeps every file), reported on its own.
 * - The whole command: for each size, a fresh process started as `npm run render` starts
 *   cli/render.ts (package.json's script, minus npm itself), rendering the temporary project
 *   (scripts/bench-render-command.ts), timed from spawn to exit with its peak RSS; first into
 *   a new folder, then again into that folder.
 * - Program: the ServiceMesh component constructed from the same stack under Pulumi's mocks, in
 *   a fresh child per run, timed until every registration has reached the mock engine, as the
 *   program runs it (the SDK's per-promise stack traces taken empty, components/sdkPromiseTraces.ts);
 *   with --sdk-traces also with those traces kept, as under PULUMI_DEBUG_PROMISE_LEAKS (minutes at 1,000).
 * - --profile DIR: each child runs with node's --cpu-prof into DIR/<label>/, and the top
 *   self-time functions and packages of each profile are printed.
 * Prints the machine (Node version, CPUs, load average before and after) with the figures, and
 * ends with one line per target of the issue (TARGETS): met, not met, or not measured.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { describeLoad, describeRuns, median } from "./bench-validate";
import { COMMAND_RESULT_PREFIX } from "./bench-render-command";
import { RENDER_SVG_MAX_SERVICES } from "../cli/render";

const ROOT = join(__dirname, "..");
const STACK = "bench";
const RESULT_PREFIX = "BENCH-RESULT ";

// ---------------------------------------------------------------------------------------------
// The synthetic topology (pure)

/** Upstreams per service at most (the blog post's service A calls two). */
export const MAX_SYNTHETIC_UPSTREAMS = 3;
/** Front routes at most: an edge routes to a handful of entry services, not to all. */
export const MAX_SYNTHETIC_ROUTES = 5;

/** `svc-0042` for 42 of 1,000: zero-padded so that name order is index order. */
export function syntheticName(i: number, n: number): string {
  return `svc-${String(i).padStart(Math.max(1, String(n - 1).length), "0")}`;
}

/**
 * N services in the raw form of a stack's `topology` (topology/parse.ts reads it), the same for
 * the same N. Service i calls up to three services of lower index (i-1, i/2, i/3, ...), so
 * the graph is acyclic, every service is reached from the last one, and no service has more
 * than a handful of callers; the front routes `/svc-…` to the last (up to) five services. Every
 * service runs the demo app (the default image, built from `app/`) on port 8080 of its own pod.
 */
export function syntheticTopology(n: number): { front: { routes: { prefix: string; service: string }[] }; services: { name: string; appPort: number; upstreams: string[] }[] } {
  if (!Number.isInteger(n) || n < 1) throw new Error(`syntheticTopology: ${n} services: need a whole number of at least 1`);
  const services = Array.from({ length: n }, (_, i) => {
    const callees: number[] = [];
    for (let d = 1; d <= i + 1 && callees.length < MAX_SYNTHETIC_UPSTREAMS; d++) {
      const j = d === 1 ? i - 1 : Math.floor(i / d);
      if (j >= 0 && j < i && !callees.includes(j)) callees.push(j);
    }
    return { name: syntheticName(i, n), appPort: 8080, upstreams: callees.map((j) => syntheticName(j, n)) };
  });
  const entries = services.slice(-MAX_SYNTHETIC_ROUTES).reverse();
  return { front: { routes: entries.map((s, k) => ({ prefix: k === 0 ? "/" : `/${s.name}`, service: s.name })) }, services };
}

// ---------------------------------------------------------------------------------------------
// Options (pure)

export interface Options {
  readonly sizes: readonly number[];
  readonly runs: number;
  /** Whole-command runs per size, each a first render and a render again into its folder. */
  readonly commandRuns: number;
  readonly programSizes: readonly number[];
  readonly programRuns: number;
  readonly profileDir?: string;
  /** Sizes above this render without mesh.svg (default: as `npm run render`): Graphviz takes tens of seconds at 100 services. */
  readonly svgMax: number;
  /** Also run the program with the SDK's per-promise stack traces kept. */
  readonly sdkTraces: boolean;
}

export const USAGE =
  "usage: npm run bench:render -- [--sizes 100,1000,2000 | none] [--runs N] [--command-runs N | 0] [--program-sizes 100,1000 | none] [--program-runs N] [--sdk-traces] [--svg-max N] [--profile DIR] [--help]";

export type ParsedOptions = { readonly ok: true; readonly options: Options } | { readonly ok: true; readonly help: true } | { readonly ok: false; readonly error: string };

function sizeList(text: string | undefined, allowNone: boolean): number[] | undefined {
  if (text === undefined) return undefined;
  if (allowNone && text === "none") return [];
  const sizes = text.split(",").map(Number);
  return sizes.length > 0 && sizes.every((s) => Number.isInteger(s) && s > 0) ? sizes : undefined;
}

export function parseOptions(argv: readonly string[]): ParsedOptions {
  let sizes = [100, 1000, 2000];
  let runs = 5;
  let commandRuns = 1;
  let programSizes = [100, 1000];
  let programRuns = 1;
  let profileDir: string | undefined;
  let svgMax = RENDER_SVG_MAX_SERVICES;
  let sdkTraces = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--help" || argv[i] === "-h") return { ok: true, help: true };
    if (argv[i] === "--sdk-traces") {
      sdkTraces = true;
      continue;
    }
    const text = argv[i + 1];
    const count = Number(text);
    const list = sizeList(text, true);
    if (argv[i] === "--runs" && Number.isInteger(count) && count > 0) runs = count;
    else if (argv[i] === "--command-runs" && Number.isInteger(count) && count >= 0) commandRuns = count;
    else if (argv[i] === "--program-runs" && Number.isInteger(count) && count > 0) programRuns = count;
    else if (argv[i] === "--sizes" && list !== undefined) sizes = list;
    else if (argv[i] === "--program-sizes" && list !== undefined) programSizes = list;
    else if (argv[i] === "--svg-max" && Number.isInteger(count) && count >= 0) svgMax = count;
    else if (argv[i] === "--profile" && text !== undefined && text !== "" && !text.startsWith("--")) profileDir = text;
    else return { ok: false, error: `unknown or invalid option ${argv[i]} ${text ?? ""}`.trim() };
    i++;
  }
  return { ok: true, options: { sizes, runs, commandRuns, programSizes, programRuns, svgMax, sdkTraces, ...(profileDir === undefined ? {} : { profileDir }) } };
}

// ---------------------------------------------------------------------------------------------
// The whole command and the issue's targets (pure)

/**
 * The shell command that starts scripts/bench-render-command.ts the way package.json's `render`
 * script starts cli/render.ts (`ts-node cli/render.ts` → `ts-node scripts/bench-render-command.ts`;
 * a compiled `node bin/cli/render.js` → `node bin/scripts/bench-render-command.js`), with `args`.
 */
export function commandLine(renderScript: string, args: readonly string[]): string {
  const pattern = /(^|\s)(\S*)cli\/render(\.ts|\.js)?(?=\s|$)/;
  if (!pattern.test(renderScript)) throw new Error(`package.json's render script does not name cli/render: ${JSON.stringify(renderScript)}`);
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
  return [renderScript.replace(pattern, "$1$2scripts/bench-render-command$3"), ...quoted].join(" ");
}

/** The figures the issue sets targets for, by number of services (medians; peak RSS in MB). */
export interface Figures {
  /** Render in-process, warm: renderMesh, mesh.svg and writeTree into a new folder. */
  readonly renderMs: ReadonlyMap<number, number>;
  readonly renderRssMb: ReadonlyMap<number, number>;
  /** The whole command into a new folder, from spawn to exit. */
  readonly commandMs: ReadonlyMap<number, number>;
  readonly commandRssMb: ReadonlyMap<number, number>;
  /** The Pulumi program under mocks as it runs (the SDK's per-promise stack traces skipped). */
  readonly programMs: ReadonlyMap<number, number>;
  readonly programRssMb: ReadonlyMap<number, number>;
}

interface Target {
  readonly what: string;
  readonly limit: number;
  readonly unit: "s" | "MB" | "";
  /** Met also when equal to the limit (a ratio "<= 2.2"). */
  readonly inclusive: boolean;
  readonly value: (f: Figures) => number | undefined;
  /** What to run when the figure is missing. */
  readonly needs: string;
}

const ratio = (m: ReadonlyMap<number, number>, a: number, b: number): number | undefined => {
  const [x, y] = [m.get(a), m.get(b)];
  return x === undefined || y === undefined ? undefined : y / x;
};

/** The issue's targets on this machine. */
export const TARGETS: readonly Target[] = [
  { what: "render 1000 services in-process (warm median)", limit: 2, unit: "s", inclusive: false, value: (f) => seconds(f.renderMs.get(1000)), needs: "--sizes with 1000" },
  { what: "render 1000 services, the whole command", limit: 3, unit: "s", inclusive: false, value: (f) => seconds(f.commandMs.get(1000)), needs: "--sizes with 1000 and --command-runs 1 or more" },
  { what: "render time(2000)/time(1000) in-process", limit: 2.2, unit: "", inclusive: true, value: (f) => ratio(f.renderMs, 1000, 2000), needs: "--sizes with 1000 and 2000" },
  { what: "render 1000 services, peak RSS in-process", limit: 300, unit: "MB", inclusive: false, value: (f) => f.renderRssMb.get(1000), needs: "--sizes with 1000" },
  { what: "render 1000 services, peak RSS of the whole command", limit: 300, unit: "MB", inclusive: false, value: (f) => f.commandRssMb.get(1000), needs: "--sizes with 1000 and --command-runs 1 or more" },
  { what: "program 1000 services under mocks", limit: 10, unit: "s", inclusive: false, value: (f) => seconds(f.programMs.get(1000)), needs: "--program-sizes with 1000" },
  { what: "program 1000 services under mocks, peak RSS", limit: 500, unit: "MB", inclusive: false, value: (f) => f.programRssMb.get(1000), needs: "--program-sizes with 1000" },
];

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** One line per target: `target: <what> < 2 s: 1.85 s: met` (or `not met`, or `not measured (...)`). */
export function targetLines(figures: Figures, targets: readonly Target[] = TARGETS): string[] {
  return targets.map((t) => {
    const limit = `${t.inclusive ? "<=" : "<"} ${t.limit}${t.unit === "" ? "" : ` ${t.unit}`}`;
    const value = t.value(figures);
    if (value === undefined) return `target: ${t.what} ${limit}: not measured (run with ${t.needs})`;
    const met = t.inclusive ? value <= t.limit : value < t.limit;
    const shown = t.unit === "MB" ? value.toFixed(0) : value.toFixed(2);
    return `target: ${t.what} ${limit}: ${shown}${t.unit === "" ? "" : ` ${t.unit}`}: ${met ? "met" : "NOT MET"}`;
  });
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary (pure)

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** `@pulumi/pulumi`, `typescript`, `(project) envoy`, `(node)`: where a script's time is billed. */
export function ownerOf(url: string): string {
  if (url === "") return "(native/gc/idle)";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "/node_modules/".length).split("/");
    return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith("node:") || !url.includes("/")) return "(node)";
  const inProject = url.split("/").slice(-2, -1)[0];
  return `(project) ${inProject}`;
}

/** The functions and the packages with the most self time, in ms, largest first. */
export function summarizeProfile(profile: CpuProfile, top = 12): { functions: [string, number][]; owners: [string, number][]; totalMs: number } {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (frame === undefined) return;
    total += ms;
    const where = frame.url === "" ? "" : ` ${basename(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || "(anonymous)"}${where}`;
    functions.set(key, (functions.get(key) ?? 0) + ms);
    owners.set(ownerOf(frame.url), (owners.get(ownerOf(frame.url)) ?? 0) + ms);
  });
  const largest = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
  return { functions: largest(functions), owners: largest(owners), totalMs: total };
}

// ---------------------------------------------------------------------------------------------
// Children: each size (and each program run) in a fresh process, so peak RSS is its own.

/** A temporary project: Pulumi.yaml, the demo app (the default image's build context) and Pulumi.bench.yaml. */
function makeProject(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), `envoy-mesh-bench-${n}-`));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  cpSync(join(ROOT, "app"), join(dir, "app"), { recursive: true, filter: (src) => !src.includes("node_modules") });
  // JSON is YAML: the stack file as `pulumi config set --path` would hold it.
  writeFileSync(join(dir, `Pulumi.${STACK}.yaml`), JSON.stringify({ config: { "envoy-mesh:target": "kind", "envoy-mesh:topology": syntheticTopology(n) } }));
  return dir;
}

interface RenderRun {
  readonly renderMs: number;
  readonly svgMs: number;
  readonly writeMs: number;
  readonly totalMs: number;
  /** writeTree of the same files again into the folder just written. */
  readonly rewriteMs: number;
  /** renderMesh's own stages (its stageTimes), ms. */
  readonly stages: Readonly<Record<string, number>>;
}
interface RenderResult {
  readonly n: number;
  readonly runs: readonly RenderRun[];
  readonly files: number;
  readonly bytes: number;
  readonly manifests: number;
  readonly maxRssMb: number;
}

async function renderChild(n: number, runs: number, svg: boolean): Promise<RenderResult> {
  const dir = makeProject(n);
  try {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded here so that the first run pays module loading, as `npm run render` does */
    const { renderMesh } = require("../render/renderMesh") as typeof import("../render/renderMesh");
    const { writeTree } = require("../render/writeTree") as typeof import("../render/writeTree");
    const { loadGraphviz, meshSvg, MESH_SVG_FILE } = require("../graph/svg") as typeof import("../graph/svg");
    const { stackDrawOptions } = require("../graph/dot") as typeof import("../graph/dot");
    const { forgetEnvoyVerdicts } = require("../envoy/check") as typeof import("../envoy/check");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const results: RenderRun[] = [];
    let files = 0;
    let bytes = 0;
    let manifests = 0;
    for (let r = 0; r < runs; r++) {
      const out = join(dir, `out-${r}`);
      // Every run checks every config afresh, as `npm run render` in a new process does: no verdict kept from the run before.
      forgetEnvoyVerdicts();
      const t0 = performance.now();
      const stageTimes = new Map<import("../render/renderMesh").RenderStage, number>();
      const rendered = renderMesh(dir, STACK, { outDir: out, stageTimes });
      const t1 = performance.now();
      const all = new Map(rendered.files);
      if (svg) all.set(MESH_SVG_FILE, meshSvg(await loadGraphviz(), rendered.settings.topology, stackDrawOptions(rendered.settings)));
      const t2 = performance.now();
      await writeTree(out, all);
      const t3 = performance.now();
      await writeTree(out, all);
      const t4 = performance.now();
      results.push({ renderMs: t1 - t0, svgMs: t2 - t1, writeMs: t3 - t2, totalMs: t3 - t0, rewriteMs: t4 - t3, stages: Object.fromEntries(stageTimes) });
      files = all.size;
      bytes = [...all.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
      manifests = rendered.manifestCount;
      rmSync(out, { recursive: true, force: true });
    }
    return { n, runs: results, files, bytes, manifests, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type StackTraces = "sdk" | "off";
interface ProgramResult {
  readonly n: number;
  readonly traces: StackTraces;
  readonly loadMs: number;
  readonly constructMs: number;
  readonly settleMs: number;
  readonly totalMs: number;
  readonly registrations: number;
  readonly maxRssMb: number;
}

/** Outputs of @pulumi/tls the program passes on (never parses): fixed text, as key generation is the provider's cost, not the program's. */
function fakeTlsState(type: string): Record<string, string> {
  if (type.endsWith("privateKey:PrivateKey")) return { privateKeyPem: "-----BEGIN EC PRIVATE KEY-----\nbench\n-----END EC PRIVATE KEY-----\n", publicKeyPem: "bench" };
  if (type.endsWith("certRequest:CertRequest")) return { certRequestPem: "-----BEGIN CERTIFICATE REQUEST-----\nbench\n-----END CERTIFICATE REQUEST-----\n" };
  return { certPem: "-----BEGIN CERTIFICATE-----\nbench\n-----END CERTIFICATE-----\n", validityEndTime: "2030-01-01T00:00:00Z" };
}

async function programChild(n: number, traces: StackTraces): Promise<ProgramResult> {
  const dir = makeProject(n);
  try {
    const t0 = performance.now();
    /* eslint-disable @typescript-eslint/no-require-imports -- timed: a real program loads these too */
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { ServiceMesh } = require("../components") as typeof import("../components");
    const { parseStackSettings, readStackValues } = require("../stack") as typeof import("../stack");
    // As index.ts does; "sdk" leaves the SDK as it is, as under PULUMI_DEBUG_PROMISE_LEAKS.
    if (traces === "off") (require("../components/sdkPromiseTraces") as typeof import("../components/sdkPromiseTraces")).skipSdkPromiseTraces();
    const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { rpcDone: Promise<unknown> } } };
    /* eslint-enable @typescript-eslint/no-require-imports */
    let registrations = 0;
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registrations++;
          const state: Record<string, unknown> = { ...args.inputs, ...(args.type.startsWith("tls:") ? fakeTlsState(args.type) : {}) };
          if (args.type === "docker:index/image:Image") state.repoDigest = `${String(args.inputs.imageName).replace(/:[^:/]+$/, "")}@sha256:${"0".repeat(64)}`;
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
      },
      "envoy-mesh",
      STACK,
      false,
    );
    const t1 = performance.now();
    const settings = parseStackSettings(readStackValues(dir, STACK), { projectDir: dir });
    new ServiceMesh("envoy-mesh", { settings, projectDir: dir, imageTag: STACK });
    const t2 = performance.now();
    // Every registration reached the engine once the SDK's chain of outstanding RPCs stops growing.
    const { settings: state } = getStore();
    let pending: Promise<unknown>;
    do {
      pending = state.rpcDone;
      await pending;
    } while (pending !== state.rpcDone);
    const t3 = performance.now();
    return { n, traces, loadMs: t1 - t0, constructMs: t2 - t1, settleMs: t3 - t2, totalMs: t3 - t0, registrations, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild<T>(args: readonly string[], label: string, profileDir: string | undefined): { result: T; profile?: string } {
  const tsNode = require.resolve("ts-node/dist/bin.js");
  const profileAt = profileDir === undefined ? undefined : resolve(profileDir, label);
  if (profileAt) mkdirSync(profileAt, { recursive: true });
  const nodeFlags = profileAt ? ["--cpu-prof", `--cpu-prof-dir=${profileAt}`] : [];
  const r = spawnSync(process.execPath, [...nodeFlags, tsNode, __filename, "--child", ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const line = r.stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (r.status !== 0 || line === undefined) throw new Error(`${label}: child exited ${r.status}:\n${r.stdout}${r.stderr}`);
  const profile = profileAt ? readdirSync(profileAt).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(profileAt, f)).sort().pop() : undefined;
  return { result: JSON.parse(line.slice(RESULT_PREFIX.length)) as T, ...(profile ? { profile } : {}) };
}

interface CommandRun {
  readonly firstMs: number;
  readonly againMs: number;
  readonly maxRssMb: number;
}

/** The whole command, as `npm run render` starts it, into a new folder and then again into it. */
function commandRun(n: number, label: string, profileDir: string | undefined): CommandRun {
  const dir = makeProject(n);
  try {
    const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.render;
    const out = join(dir, "out");
    const profileAt = profileDir === undefined ? undefined : resolve(profileDir, label);
    if (profileAt) mkdirSync(profileAt, { recursive: true });
    const env = {
      ...process.env,
      PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      ...(profileAt ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${profileAt}`.trim() } : {}),
    };
    const once = (): { ms: number; rssMb: number } => {
      const t0 = performance.now();
      const r = spawnSync("/bin/sh", ["-c", commandLine(script, [dir, "--out", out, "--stack", STACK])], { cwd: ROOT, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      const ms = performance.now() - t0;
      const line = r.stdout.split("\n").find((l) => l.startsWith(COMMAND_RESULT_PREFIX));
      if (r.status !== 0 || line === undefined) throw new Error(`${label}: the render command exited ${r.status}:\n${r.stdout}${r.stderr}`);
      return { ms, rssMb: (JSON.parse(line.slice(COMMAND_RESULT_PREFIX.length)) as { maxRssMb: number }).maxRssMb };
    };
    const first = once();
    const again = once();
    return { firstMs: first.ms, againMs: again.ms, maxRssMb: Math.max(first.rssMb, again.rssMb) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printProfile(path: string): void {
  const summary = summarizeProfile(JSON.parse(readFileSync(path, "utf8")) as CpuProfile, 10);
  console.log(`  profile ${path} (${(summary.totalMs / 1000).toFixed(2)} s sampled)`);
  console.log(`    by package: ${summary.owners.map(([o, ms]) => `${o} ${(ms / 1000).toFixed(2)} s`).join(", ")}`);
  for (const [fn, ms] of summary.functions) console.log(`    ${(ms / 1000).toFixed(2).padStart(6)} s  ${fn}`);
}

const mb = (x: number): string => `${x.toFixed(0)} MB`;

/** `envoy checks 2.91 s, build 0.80 s, ...`: renderMesh's stages by warm median, largest first. */
export function stageLine(runs: readonly { readonly stages: Readonly<Record<string, number>> }[]): string {
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.stages)))];
  return stages
    .map((stage) => [stage, median(runs.map((r) => r.stages[stage] ?? 0))] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([stage, ms]) => `${stage} ${(ms / 1000).toFixed(2)} s`)
    .join(", ");
}

function ratioLines(label: string, medians: ReadonlyMap<number, number>): void {
  const sizes = [...medians.keys()].sort((a, b) => a - b);
  for (let i = 1; i < sizes.length; i++) {
    const [a, b] = [sizes[i - 1], sizes[i]];
    console.log(`${label} time(${b})/time(${a}) = ${((medians.get(b) as number) / (medians.get(a) as number)).toFixed(2)} (services ×${(b / a).toFixed(1)})`);
  }
}

async function child(argv: readonly string[]): Promise<void> {
  const [mode, size, extra, svg] = argv;
  const result = mode === "render" ? await renderChild(Number(size), Number(extra), svg === "svg") : await programChild(Number(size), extra as StackTraces);
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  // The SDK may keep handles open after the mock run; the figures are out.
  process.exit(0);
}

function main(): void {
  const parsed = parseOptions(process.argv.slice(2));
  if (!parsed.ok) {
    console.error(`bench-render: ${parsed.error}`);
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if ("help" in parsed) {
    console.log(USAGE);
    return;
  }
  const { options } = parsed;
  console.log(`render benchmark: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average (1/5/15 min) ${describeLoad()}`);
  if (options.profileDir) console.log(`CPU profiles (node --cpu-prof) in ${resolve(options.profileDir)}: times below include the profiler's overhead`);

  const renderMedians = new Map<number, number>();
  const figures = { renderMs: renderMedians, renderRssMb: new Map<number, number>(), commandMs: new Map<number, number>(), commandRssMb: new Map<number, number>(), programMs: new Map<number, number>(), programRssMb: new Map<number, number>() };
  for (const n of options.sizes) {
    const { result, profile } = runChild<RenderResult>(["render", String(n), String(options.runs), n <= options.svgMax ? "svg" : "no-svg"], `render-${n}`, options.profileDir);
    const [first, ...rest] = result.runs;
    const warm = rest.length > 0 ? rest : [first];
    const total = warm.map((r) => r.totalMs);
    renderMedians.set(n, median(total));
    figures.renderRssMb.set(n, result.maxRssMb);
    const svgNote = n <= options.svgMax ? "" : ` (no mesh.svg: over --svg-max ${options.svgMax})`;
    console.log(`render ${n} services${svgNote}: ${result.files} files, ${(result.bytes / 1e6).toFixed(1)} MB (${result.manifests} Kubernetes objects), peak RSS ${mb(result.maxRssMb)}`);
    console.log(`  first run (modules load, JIT cold): ${(first.totalMs / 1000).toFixed(2)} s (renderMesh ${(first.renderMs / 1000).toFixed(2)} s, mesh.svg ${(first.svgMs / 1000).toFixed(2)} s, writeTree ${(first.writeMs / 1000).toFixed(2)} s)`);
    if (rest.length > 0) {
      console.log(`  warm runs, total:  ${describeRuns(total, "s")}`);
      console.log(`    renderMesh:      ${describeRuns(warm.map((r) => r.renderMs), "s")}`);
      console.log(`      of which (warm medians): ${stageLine(warm)}`);
      if (n <= options.svgMax) console.log(`    mesh.svg:        ${describeRuns(warm.map((r) => r.svgMs), "s")}`);
      console.log(`    writeTree:       ${describeRuns(warm.map((r) => r.writeMs), "s")}`);
    }
    console.log(`  writeTree again into the folder just written (unchanged content), every run: ${describeRuns(result.runs.map((r) => r.rewriteMs), "s")}`);
    if (profile) printProfile(profile);
    if (options.commandRuns > 0) {
      const runs = Array.from({ length: options.commandRuns }, (_, k) => commandRun(n, `command-${n}-${k}`, options.profileDir));
      figures.commandMs.set(n, median(runs.map((r) => r.firstMs)));
      figures.commandRssMb.set(n, Math.max(...runs.map((r) => r.maxRssMb)));
      console.log(`  the whole command (a fresh process as npm run render starts it, minus npm), peak RSS ${mb(Math.max(...runs.map((r) => r.maxRssMb)))}:`);
      console.log(`    into a new folder:          ${describeRuns(runs.map((r) => r.firstMs), "s")}`);
      console.log(`    again into the same folder: ${describeRuns(runs.map((r) => r.againMs), "s")}`);
    }
  }
  ratioLines("render (warm median)", renderMedians);

  for (const traces of options.sdkTraces ? (["off", "sdk"] as const) : (["off"] as const)) {
    const medians = new Map<number, number>();
    for (const n of options.programSizes) {
      const results = Array.from({ length: options.programRuns }, (_, k) => runChild<ProgramResult>(["program", String(n), traces], `program-${n}-${traces}-${k}`, options.profileDir));
      const label = traces === "sdk" ? "with the SDK's per-promise stack traces (as under PULUMI_DEBUG_PROMISE_LEAKS)" : "as the program runs it (SDK promise traces skipped)";
      const r = results.map((x) => x.result);
      medians.set(n, median(r.map((x) => x.totalMs)));
      if (traces === "off") {
        figures.programMs.set(n, median(r.map((x) => x.totalMs)));
        figures.programRssMb.set(n, Math.max(...r.map((x) => x.maxRssMb)));
      }
      console.log(`program ${n} services under mocks, ${label}: ${r[0].registrations} registrations, peak RSS ${mb(Math.max(...r.map((x) => x.maxRssMb)))}`);
      console.log(`  total ${describeRuns(r.map((x) => x.totalMs), "s")}: load SDK+program ${describeRuns(r.map((x) => x.loadMs), "s")}, construct ${describeRuns(r.map((x) => x.constructMs), "s")}, until every registration is done ${describeRuns(r.map((x) => x.settleMs), "s")}`);
      for (const x of results) if (x.profile) printProfile(x.profile);
    }
    ratioLines(`program (${traces === "sdk" ? "SDK traces kept" : "as it runs"})`, medians);
  }
  console.log(`load average at the end: ${describeLoad()}`);
  for (const line of targetLines(figures)) console.log(line);
}

if (require.main === module) {
  if (process.argv[2] === "--child") void child(process.argv.slice(3));
  else main();
}
