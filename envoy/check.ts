import { load } from "js-yaml";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";
import { buildMeshConfigs, type EnvoyTarget } from "./proxies";
import { toYaml } from "./serialize";
import { validateBootstrap } from "../checks/envoy";

export interface RenderedEnvoyConfig {
  readonly proxy: string;
  /** The bootstrap exactly as Envoy will read it. */
  readonly yaml: string;
}

/**
 * Checks each rendered bootstrap the way Envoy loads it, in strict mode (deprecated fields
 * fail too). Returns every problem, each path prefixed with the proxy it belongs to.
 */
export function envoyConfigProblems(configs: readonly RenderedEnvoyConfig[]): ConfigIssue[] {
  return configs.flatMap(({ proxy, yaml }) => {
    const result = validateBootstrap(load(yaml), { strict: true });
    return [...result.errors, ...result.warnings].map((issue) => ({ path: `envoy config of ${proxy}: ${issue.path}`, message: issue.message }));
  });
}

/** Renders and checks every proxy's bootstrap of a mesh. */
export function meshEnvoyConfigProblems(topology: Topology, target: EnvoyTarget): ConfigIssue[] {
  return envoyConfigProblems(buildMeshConfigs(topology, target).map((c) => ({ proxy: c.proxy, yaml: toYaml(c.bootstrap) })));
}
