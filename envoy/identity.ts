/**
 * Who is who in the mesh, derived from the topology: one identity per proxy (the front proxy and
 * each service), named as Istio and Linkerd name workloads, and who may call whom.
 */
import { FRONT_PROXY_NAME, compare, type Topology } from "../topology";

/** `spiffe://<trustDomain>/ns/<namespace>/sa/<proxy>`: the proxy's ServiceAccount is its identity. */
export function spiffeId(trustDomain: string, namespace: string, proxy: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${proxy}`;
}

/**
 * The proxies allowed to call `service`: every service that lists it as an upstream, and the
 * front proxy when a front route leads to it. Sorted, so configs do not depend on list order.
 */
export function declaredCallers(topology: Topology, service: string): string[] {
  const callers = topology.services.filter((s) => s.upstreams.some((u) => u.service === service)).map((s) => s.name);
  if (topology.front.routes.some((r) => r.service === service)) callers.push(FRONT_PROXY_NAME);
  return [...new Set(callers)].sort(compare);
}
