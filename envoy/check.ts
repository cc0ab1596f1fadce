import { createHash } from "node:crypto";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";
import { XDS_DIR } from "./names";
import { buildMeshConfigs, type EnvoyTarget, type ProxyConfig } from "./proxies";
import { toEnvoyJson } from "./serialize";
import { toFileXds, type FileXdsConfig } from "./xds";
import { fromFileXds, resourceVerdicts, validateBootstrap, validateResourceFile, type ValidationResult } from "../checks/envoy";

export interface RenderedEnvoyConfig {
  readonly proxy: string;
  /** The bootstrap exactly as Envoy will read it (JSON, `envoy.json`). */
  readonly bootstrap: string;
  /**
   * The xDS files delivered in XDS_DIR (LDS, CDS, RDS, SDS), by file name, sorted, exactly as
   * Envoy will read them: each is checked, and so is every reference between them and the bootstrap.
   */
  readonly xdsFiles: Readonly<Record<string, string>>;
}

/** A built proxy config as the deploy layers ship it: the bootstrap and its xDS files as JSON (envoy/xds.ts). */
export function renderEnvoyConfig(config: ProxyConfig): RenderedEnvoyConfig {
  return renderFileXds(toFileXds(config));
}

/** A proxy's config already split into bootstrap and xDS files, as JSON. */
export function renderFileXds({ proxy, bootstrap, files }: FileXdsConfig): RenderedEnvoyConfig {
  const xdsFiles = Object.fromEntries(Object.entries(files).map(([file, content]) => [file, toEnvoyJson(content)]));
  return { proxy, bootstrap: toEnvoyJson(bootstrap), xdsFiles };
}

/**
 * A rendered config read back as Envoy reads it: each text parsed as JSON, once. The objects are
 * shared by every reader of the same rendered config (the checks, the metrics it exposes), so
 * they are read-only.
 */
export interface LoadedEnvoyConfig {
  readonly proxy: string;
  /** The parsed bootstrap; undefined when its text is not JSON (then `problems` says so). */
  readonly bootstrap: unknown;
  /** The parsed xDS files, by file name; a file whose text is not JSON is left out (and in `problems`). */
  readonly files: Readonly<Record<string, unknown>>;
  /** Each text that is not JSON, naming the proxy and the file. */
  readonly problems: readonly ConfigIssue[];
}

/** Keyed by the rendered config itself: a render checks and measures the same objects, parsed once; dropped with them. */
const loadedConfigs = new WeakMap<RenderedEnvoyConfig, LoadedEnvoyConfig>();

/** The bootstrap and xDS files of a rendered config as parsed objects, parsed once per rendered config. */
export function loadEnvoyConfig(config: RenderedEnvoyConfig): LoadedEnvoyConfig {
  const known = loadedConfigs.get(config);
  if (known !== undefined) return known;
  const { proxy } = config;
  const problems: ConfigIssue[] = [];
  // Envoy parses a file that is not `.yaml`/`.yml` with protobuf's JSON parser, which takes JSON only (envoy/names.ts).
  const parse = (text: string, where: string): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (error) {
      problems.push({ path: where, message: `not valid JSON, and Envoy reads this file as JSON: ${(error as Error).message}` });
      return { ok: false };
    }
  };
  const bootstrap = parse(config.bootstrap, `envoy config of ${proxy}`);
  const files: Record<string, unknown> = {};
  for (const [file, text] of Object.entries(config.xdsFiles)) {
    const parsed = parse(text, `${file} of ${proxy}`);
    if (parsed.ok) files[file] = parsed.value;
  }
  const loaded = { proxy, bootstrap: bootstrap.ok ? bootstrap.value : undefined, files, problems };
  loadedConfigs.set(config, loaded);
  return loaded;
}

/**
 * Checks each rendered bootstrap and its xDS files the way Envoy loads them, in strict mode
 * (deprecated fields fail too): each text is JSON, the bootstrap, each file on its own, and what
 * only the files together show (checks/envoy/fileXds.ts): every path in XDS_DIR and delivered,
 * each file holding what its subscription reads, routes naming defined clusters, no file left
 * unread. Returns every problem, each path prefixed with the proxy (and file) it belongs to.
 */
export function envoyConfigProblems(configs: readonly RenderedEnvoyConfig[]): ConfigIssue[] {
  return configs.flatMap((config) => {
    const { proxy, xdsFiles } = config;
    const loaded = loadEnvoyConfig(config);
    const where = (file: string | undefined, path: string) => (file === undefined ? `envoy config of ${proxy}: ${path}` : `${file} of ${proxy}: ${path}`);
    // JSON has no undefined: an undefined bootstrap is one that did not parse (reported in loaded.problems).
    const own =
      loaded.bootstrap === undefined
        ? []
        : issuesOf(strictVerdict("bootstrap", config.bootstrap, () => validateBootstrap(loaded.bootstrap, { strict: true }))).map((issue) => ({
            path: where(undefined, issue.path),
            message: issue.message,
          }));
    const fileProblems = Object.entries(loaded.files).flatMap(([file, content]) =>
      issuesOf(strictVerdict("xds file", xdsFiles[file], () => validateResourceFile(content, { strict: true }))).map((issue) => ({
        path: where(file, issue.path),
        message: issue.message,
      })),
    );
    // A text that is not JSON is missing from what the files together show: the cross-check would only echo it.
    if (loaded.problems.length > 0) return [...loaded.problems, ...own, ...fileProblems];
    // Our own files must all be in XDS_DIR, the one folder they are mounted in; a missing version is a problem too.
    const cross = fromFileXds(loaded.bootstrap, loaded.files, { xdsDir: XDS_DIR });
    return [...own, ...fileProblems, ...issuesOf(cross).map((p) => ({ path: where(p.file, p.path), message: p.message }))];
  });
}

function issuesOf<T>(result: { readonly errors: readonly T[]; readonly warnings: readonly T[] }): T[] {
  return [...result.errors, ...result.warnings];
}

/**
 * Verdicts of the strict checks by exact text, keyed by its SHA-256 (not the text: thousands of
 * kept texts would hold megabytes). A check is a pure function of the text it reads, so a text
 * seen before (the SDS files most proxies share, the same mesh checked again by a later preview in
 * the same process) is not checked again; its issue paths are relative to the file, and each
 * caller prefixes its own proxy and file. Bounded: the oldest verdicts go first once MAX_VERDICTS are kept.
 */
const MAX_VERDICTS = 4096;
const verdicts = new Map<string, ValidationResult>();

function strictVerdict(kind: "bootstrap" | "xds file", text: string, check: () => ValidationResult): ValidationResult {
  const key = `${kind}:${createHash("sha256").update(text).digest("hex")}`;
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const result = check();
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value as string);
  verdicts.set(key, result);
  return result;
}

/**
 * Forgets every kept verdict (this module's by text, and the validator's by xDS resource), so the
 * next check of a config checks it afresh: what a new process does. For the benchmark.
 */
export function forgetEnvoyVerdicts(): void {
  verdicts.clear();
  resourceVerdicts.clear();
}

/** Renders and checks every proxy's bootstrap and xDS files of a mesh. */
export function meshEnvoyConfigProblems(topology: Topology, target: EnvoyTarget): ConfigIssue[] {
  return envoyConfigProblems(buildMeshConfigs(topology, target).map(renderEnvoyConfig));
}
