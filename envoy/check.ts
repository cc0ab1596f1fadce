import { load } from "js-yaml";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";
import { XDS_DIR } from "./names";
import { buildMeshConfigs, type EnvoyTarget, type ProxyConfig } from "./proxies";
import { toYaml } from "./serialize";
import { toFileXds, type FileXdsConfig } from "./xds";
import { fromFileXds, validateBootstrap, validateResourceFile, type ValidationResult } from "../checks/envoy";

export interface RenderedEnvoyConfig {
  readonly proxy: string;
  /** The bootstrap exactly as Envoy will read it. */
  readonly yaml: string;
  /**
   * The xDS files delivered in XDS_DIR (LDS, CDS, RDS, SDS), by file name, sorted, exactly as
   * Envoy will read them: each is checked, and so is every reference between them and the bootstrap.
   */
  readonly xdsFiles: Readonly<Record<string, string>>;
}

/** A built proxy config as the deploy layers ship it: the bootstrap and its xDS files as YAML (envoy/xds.ts). */
export function renderEnvoyConfig(config: ProxyConfig): RenderedEnvoyConfig {
  return renderFileXds(toFileXds(config));
}

/** A proxy's config already split into bootstrap and xDS files, as YAML. */
export function renderFileXds({ proxy, bootstrap, files }: FileXdsConfig): RenderedEnvoyConfig {
  const xdsFiles = Object.fromEntries(Object.entries(files).map(([file, content]) => [file, toYaml(content)]));
  return { proxy, yaml: toYaml(bootstrap), xdsFiles };
}

/**
 * Checks each rendered bootstrap and its xDS files the way Envoy loads them, in strict mode
 * (deprecated fields fail too): the bootstrap, each file on its own, and what only the files
 * together show (checks/envoy/fileXds.ts): every path in XDS_DIR and delivered, each file holding
 * what its subscription reads, routes naming defined clusters, no file left unread. Returns every
 * problem, each path prefixed with the proxy (and file) it belongs to.
 */
export function envoyConfigProblems(configs: readonly RenderedEnvoyConfig[]): ConfigIssue[] {
  return configs.flatMap(({ proxy, yaml, xdsFiles }) => {
    const bootstrap = load(yaml);
    const result = strictVerdict("bootstrap", yaml, () => validateBootstrap(bootstrap, { strict: true }));
    const where = (file: string | undefined, path: string) => (file === undefined ? `envoy config of ${proxy}: ${path}` : `${file} of ${proxy}: ${path}`);
    const own = [...result.errors, ...result.warnings].map((issue) => ({ path: where(undefined, issue.path), message: issue.message }));
    const files = Object.fromEntries(Object.entries(xdsFiles).map(([file, text]) => [file, load(text)]));
    const fileProblems = Object.entries(files).flatMap(([file, content]) => {
      const checked = strictVerdict("xds file", xdsFiles[file], () => validateResourceFile(content, { strict: true }));
      return [...checked.errors, ...checked.warnings].map((issue) => ({ path: where(file, issue.path), message: issue.message }));
    });
    // Our own files must all be in XDS_DIR, the one folder they are mounted in; a missing version is a problem too.
    const loaded = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR });
    const cross = [...loaded.errors, ...loaded.warnings].map((p) => ({ path: where(p.file, p.path), message: p.message }));
    return [...own, ...fileProblems, ...cross];
  });
}

/**
 * Verdicts of the strict checks by exact text. A check is a pure function of the text it reads,
 * so a text seen before (the SDS files most proxies share, the same mesh checked again by a later
 * preview in the same process) is not decoded and checked again. Bounded: the oldest verdicts go
 * first once MAX_VERDICTS are kept.
 */
const MAX_VERDICTS = 4096;
const verdicts = new Map<string, ValidationResult>();

function strictVerdict(kind: "bootstrap" | "xds file", text: string, check: () => ValidationResult): ValidationResult {
  const key = `${kind}\0${text}`;
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const result = check();
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value as string);
  verdicts.set(key, result);
  return result;
}

/** Renders and checks every proxy's bootstrap and xDS files of a mesh. */
export function meshEnvoyConfigProblems(topology: Topology, target: EnvoyTarget): ConfigIssue[] {
  return envoyConfigProblems(buildMeshConfigs(topology, target).map(renderEnvoyConfig));
}
