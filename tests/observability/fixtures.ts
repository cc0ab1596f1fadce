import { buildMeshConfigs, type EnvoyTarget } from "../../envoy";
import { renderEnvoyConfig } from "../../envoy/check";
import { meshMetrics, type MeshMetrics } from "../../observability/metrics";
import { parseTopology, type Topology } from "../../topology";

export const TARGET: EnvoyTarget = { namespace: "mesh", upstreamHost: (s) => `${s}.mesh.svc.cluster.local.`, edgeHttpsPort: 8443 };

/** The seed mesh with service B split between two versions, and service C called by the front too. */
export const CANARY_RAW = {
  extends: "seed",
  front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/c", service: "service-c" }] },
  services: [{ name: "service-b", versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }] }],
};

const cache = new Map<string, { topology: Topology; metrics: MeshMetrics }>();

/** A parsed topology and the series its rendered configs expose (cached: each mesh is rendered once per run). */
export function meshOf(raw: unknown): { topology: Topology; metrics: MeshMetrics } {
  const key = JSON.stringify(raw ?? null);
  let known = cache.get(key);
  if (known === undefined) {
    const topology = parseTopology(raw);
    known = { topology, metrics: meshMetrics(buildMeshConfigs(topology, TARGET).map(renderEnvoyConfig)) };
    cache.set(key, known);
  }
  return known;
}
