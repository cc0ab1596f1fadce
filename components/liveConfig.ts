import { buildMeshConfigs, type EnvoyTarget } from "../envoy";
import { renderFileXds, type RenderedEnvoyConfig } from "../envoy/check";
import { ENVOY_CONFIG_FILE } from "../envoy/names";
import { liveConfigSummary, toFileXds, type FileXdsConfig, type LiveConfigSummary } from "../envoy/xds";
import { configMapSizeProblem } from "../k8s/objects";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";

/** The stack output `envoyConfig`: per proxy (sorted), the bootstrap's version and each xDS subscription's. */
export type EnvoyConfigOutput = Readonly<Record<string, LiveConfigSummary>>;

/** A proxy's config split and rendered once, for the Envoy checks, the ConfigMap size limit and the stack output. */
export interface RenderedProxyConfig {
  readonly fileXds: FileXdsConfig;
  readonly rendered: RenderedEnvoyConfig;
}

/** Every proxy's config of the mesh, built, split and rendered once. */
export function renderMeshConfigs(topology: Topology, target: EnvoyTarget): RenderedProxyConfig[] {
  return buildMeshConfigs(topology, target).map((config) => {
    const fileXds = toFileXds(config);
    return { fileXds, rendered: renderFileXds(fileXds) };
  });
}

/**
 * What every Envoy of the mesh must run, from the same builders every target delivers with: a
 * change under a proxy's `bootstrap` rolls its pods (containers on docker), a change under `live`
 * only replaces its xDS files. `npm run status` compares it with what each Envoy reports.
 */
export function meshEnvoyConfig(proxies: readonly RenderedProxyConfig[]): EnvoyConfigOutput {
  const entries = proxies.map(({ fileXds, rendered }) => [fileXds.proxy, liveConfigSummary(rendered.bootstrap, fileXds)] as const);
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every proxy whose bootstrap or xDS files would not fit in a ConfigMap, all at once, before anything is registered. */
export function configMapSizeProblems(proxies: readonly RenderedProxyConfig[]): ConfigIssue[] {
  return proxies.flatMap(({ rendered: { proxy, bootstrap, xdsFiles } }) =>
    [configMapSizeProblem(proxy, "bootstrap", { [ENVOY_CONFIG_FILE]: bootstrap }), configMapSizeProblem(proxy, "xDS", xdsFiles)].flatMap((message) =>
      message === undefined ? [] : [{ path: `envoy config of ${proxy}`, message }],
    ),
  );
}
