import { load } from "js-yaml";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";
import { XDS_DIR } from "./names";
import { buildMeshConfigs, type EnvoyTarget, type ProxyConfig } from "./proxies";
import { toYaml } from "./serialize";
import { toFileXds } from "./xds";
import { validateBootstrap, validateResourceFile } from "../checks/envoy";

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
  const { bootstrap, files } = toFileXds(config);
  const xdsFiles = Object.fromEntries(Object.entries(files).map(([file, content]) => [file, toYaml(content)]));
  return { proxy: config.proxy, yaml: toYaml(bootstrap), xdsFiles };
}

/** Every object of a parsed document with its path. */
function* objects(value: unknown, path = ""): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* objects(value[i], `${path}[${i}]`);
  else if (typeof value === "object" && value !== null) {
    yield [path, value as Record<string, unknown>];
    for (const [k, v] of Object.entries(value)) yield* objects(v, path ? `${path}.${k}` : k);
  }
}

/** An SdsSecretConfig reading from a file: its secret name and the file's path. */
interface SdsReference {
  readonly at: string;
  readonly name: unknown;
  readonly path: string;
}

function sdsReferences(bootstrap: unknown): SdsReference[] {
  const found: SdsReference[] = [];
  for (const [at, node] of objects(bootstrap)) {
    const source = (node.sds_config as { path_config_source?: { path?: unknown } } | undefined)?.path_config_source;
    if (typeof source?.path === "string") found.push({ at, name: node.name, path: source.path });
  }
  return found;
}

/** Names of the Secrets an SDS file holds. */
function secretNames(file: unknown): unknown[] {
  const resources = (file as { resources?: unknown } | null)?.resources;
  return Array.isArray(resources) ? resources.map((r) => (r as { name?: unknown } | null)?.name) : [];
}

/**
 * What Envoy checks only when it reads an SDS file, which no single file shows: the file a
 * bootstrap names must be delivered with it, and the one Secret it holds must carry the name the
 * bootstrap asks for ("Unexpected SDS secret (expecting X): Y", source/common/secret/sds_api.cc in
 * envoyproxy/envoy). A delivered file that nothing reads is reported too: it is a builder's mistake.
 */
function sdsCrossProblems(bootstrap: unknown, files: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const problems: ConfigIssue[] = [];
  const used = new Set<string>();
  for (const ref of sdsReferences(bootstrap)) {
    const file = ref.path.startsWith(`${XDS_DIR}/`) ? ref.path.slice(XDS_DIR.length + 1) : undefined;
    if (file === undefined || !(file in files)) {
      problems.push({ path: ref.at, message: `reads SDS secret ${JSON.stringify(ref.name)} from ${ref.path}, but no such file is delivered with this config` });
      continue;
    }
    used.add(file);
    const names = secretNames(files[file]);
    if (names.length === 1 && names[0] !== ref.name) {
      problems.push({
        path: ref.at,
        message: `asks ${file} for SDS secret ${JSON.stringify(ref.name)}, but its Secret is named ${JSON.stringify(names[0])}: Envoy would reject the update (Unexpected SDS secret)`,
      });
    }
  }
  for (const file of Object.keys(files).sort()) {
    if (!used.has(file)) problems.push({ path: `SDS file ${file}`, message: "is delivered but the bootstrap never reads it" });
  }
  return problems;
}

/**
 * Checks each rendered bootstrap and its SDS files the way Envoy loads them, in strict mode
 * (deprecated fields fail too), and that they fit together. Returns every problem, each path
 * prefixed with the proxy (and file) it belongs to.
 */
export function envoyConfigProblems(configs: readonly RenderedEnvoyConfig[]): ConfigIssue[] {
  // Most proxies ship the same SDS files (their paths are the same in every container): check each text once.
  const checkedFiles = new Map<string, ReturnType<typeof validateResourceFile>>();
  const checkFile = (text: string, content: unknown) => {
    const known = checkedFiles.get(text);
    if (known !== undefined) return known;
    const result = validateResourceFile(content, { strict: true });
    checkedFiles.set(text, result);
    return result;
  };
  return configs.flatMap(({ proxy, yaml, xdsFiles: sdsFiles }) => {
    const bootstrap = load(yaml);
    const result = validateBootstrap(bootstrap, { strict: true });
    const own = [...result.errors, ...result.warnings].map((issue) => ({ path: `envoy config of ${proxy}: ${issue.path}`, message: issue.message }));
    const files = Object.fromEntries(Object.entries(sdsFiles).map(([file, text]) => [file, load(text)]));
    const fileProblems = Object.entries(files).flatMap(([file, content]) => {
      const checked = checkFile(sdsFiles[file], content);
      return [...checked.errors, ...checked.warnings].map((issue) => ({ path: `${file} of ${proxy}: ${issue.path}`, message: issue.message }));
    });
    const cross = sdsCrossProblems(bootstrap, files).map((p) => ({ path: `envoy config of ${proxy}: ${p.path}`, message: p.message }));
    return [...own, ...fileProblems, ...cross];
  });
}

/** Renders and checks every proxy's bootstrap and SDS files of a mesh. */
export function meshEnvoyConfigProblems(topology: Topology, target: EnvoyTarget): ConfigIssue[] {
  return envoyConfigProblems(buildMeshConfigs(topology, target).map(renderEnvoyConfig));
}
