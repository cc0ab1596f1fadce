/**
 * The edges of a mesh as its Envoys count them: each caller's cluster for a callee, one per
 * version of a versioned callee. What the dashboard draws and the alerts watch, one per cluster.
 */
import { upstreamClusterName, versionClusterName } from "../envoy/names";
import { FRONT_PROXY_NAME, type Topology } from "../topology";

export interface MeshEdge {
  /** The proxy whose Envoy holds the cluster: `front-envoy` or a service. */
  readonly caller: string;
  readonly callee: string;
  /** The callee's version this cluster reaches; undefined for a service without versions. */
  readonly version?: string;
  /** The caller's cluster name (envoy/names.ts), as its stats are tagged. */
  readonly cluster: string;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function edgesTo(topology: Topology, caller: string, callee: string): MeshEdge[] {
  const versions = topology.services.find((s) => s.name === callee)?.versions;
  if (versions === undefined) return [{ caller, callee, cluster: upstreamClusterName(callee) }];
  return versions.map((v) => ({ caller, callee, version: v.name, cluster: versionClusterName(callee, v.name) }));
}

/** Every edge: the front's first (callees sorted), then each service's in topology order (callees sorted), as the configs list their clusters. */
export function meshEdges(topology: Topology): MeshEdge[] {
  const front = [...new Set(topology.front.routes.map((r) => r.service))].sort(compare).flatMap((callee) => edgesTo(topology, FRONT_PROXY_NAME, callee));
  const services = topology.services.flatMap((service) =>
    service.upstreams
      .map((u) => u.service)
      .sort(compare)
      .flatMap((callee) => edgesTo(topology, service.name, callee)),
  );
  return [...front, ...services];
}

/** How an edge is named in titles and alerts: `service-a → service-b (v2)`. */
export function edgeTitle(edge: MeshEdge): string {
  return `${edge.caller} → ${edge.callee}${edge.version === undefined ? "" : ` (${edge.version})`}`;
}

/** Every proxy of the mesh: the front, then the services. */
export function meshProxies(topology: Topology): string[] {
  return [FRONT_PROXY_NAME, ...topology.services.map((s) => s.name)];
}
