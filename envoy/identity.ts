/**
 * Who is who in the mesh, derived from the topology: one identity per proxy (the front proxy and
 * each service), named as Istio and Linkerd name workloads, and who may call whom.
 */
import { FRONT_PROXY_NAME, compare, type Topology } from "../topology";

/** `spiffe://<trustDomain>/ns/<namespace>/sa/<proxy>`: the proxy's ServiceAccount is its identity. */
export function spiffeId(trustDomain: string, namespace: string, proxy: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${proxy}`;
}

/** Callers by callee, built once per topology: a mesh builds every service's list, and one scan each would be quadratic. */
const callersIndex = new WeakMap<Topology, ReadonlyMap<string, readonly string[]>>();

function callersOf(topology: Topology): ReadonlyMap<string, readonly string[]> {
  const known = callersIndex.get(topology);
  if (known !== undefined) return known;
  const sets = new Map<string, Set<string>>();
  const add = (callee: string, caller: string) => sets.set(callee, (sets.get(callee) ?? new Set<string>()).add(caller));
  for (const s of topology.services) for (const u of s.upstreams) add(u.service, s.name);
  for (const r of topology.front.routes) add(r.service, FRONT_PROXY_NAME);
  const index = new Map([...sets].map(([callee, callers]) => [callee, [...callers].sort(compare)]));
  callersIndex.set(topology, index);
  return index;
}

/**
 * The proxies allowed to call `service`: every service that lists it as an upstream, and the
 * front proxy when a front route leads to it. Sorted, so configs do not depend on list order.
 * A topology is never changed once parsed, so the index built for it stays true.
 */
export function declaredCallers(topology: Topology, service: string): string[] {
  return [...(callersOf(topology).get(service) ?? [])];
}
