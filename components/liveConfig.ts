import { buildMeshConfigs, type EnvoyTarget } from "../envoy";
import { renderEnvoyConfig } from "../envoy/check";
import { ENVOY_CONFIG_FILE } from "../envoy/names";
import { liveConfigSummary, toFileXds, type LiveConfigSummary } from "../envoy/xds";
import { configMapSizeProblem } from "../k8s/objects";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";

/** The stack output `envoyConfig`: per proxy (sorted), the bootstrap's version and each xDS subscription's. */
export type EnvoyConfigOutput = Readonly<Record<string, LiveConfigSummary>>;

/**
 * What every Envoy of the mesh must run, from the same builders every target delivers with: a
 * change under a proxy's `bootstrap` rolls its pods (containers on docker), a change under `live`
 * only replaces its xDS files. `npm run status` compares it with what each Envoy reports.
 */
export function meshEnvoyConfig(topology: Topology, target: EnvoyTarget): EnvoyConfigOutput {
  const entries = buildMeshConfigs(topology, target).map((config) => [config.proxy, liveConfigSummary(renderEnvoyConfig(config).yaml, toFileXds(config))] as const);
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every proxy whose bootstrap or xDS files would not fit in a ConfigMap, all at once, before anything is registered. */
export function configMapSizeProblems(topology: Topology, target: EnvoyTarget): ConfigIssue[] {
  return buildMeshConfigs(topology, target).flatMap((config) => {
    const { yaml, xdsFiles } = renderEnvoyConfig(config);
    return [
      configMapSizeProblem(config.proxy, "bootstrap", { [ENVOY_CONFIG_FILE]: yaml }),
      configMapSizeProblem(config.proxy, "xDS", xdsFiles),
    ].flatMap((message) => (message === undefined ? [] : [{ path: `envoy config of ${config.proxy}`, message }]));
  });
}
