import type { Upstream } from "./types";

export interface UpstreamRequest {
  readonly path: string;
  readonly service: string;
  readonly egressPort?: number;
}

export interface EgressPlan {
  /** In the caller's order (the order the app calls its upstreams). */
  readonly assigned: readonly Pick<Upstream, "service" | "egressPort">[];
  readonly clashes: readonly { readonly upstream: UpstreamRequest; readonly clashesWith: string }[];
  readonly unassigned: readonly UpstreamRequest[];
}

/**
 * Gives every upstream of one pod a distinct egress port on 127.0.0.1. Explicit ports are kept;
 * the others get the lowest free ports from `base`, in order of service name, so that
 * reordering the upstream list never moves a port.
 */
export function planEgressPorts(
  upstreams: readonly UpstreamRequest[],
  reserved: ReadonlyMap<number, string>,
  base: number,
  max: number,
): EgressPlan {
  const taken = new Map(reserved);
  const ports = new Map<string, number>();
  const clashes: { upstream: UpstreamRequest; clashesWith: string }[] = [];
  for (const upstream of upstreams) {
    if (upstream.egressPort === undefined) continue;
    const other = taken.get(upstream.egressPort);
    if (other !== undefined) clashes.push({ upstream, clashesWith: other });
    taken.set(upstream.egressPort, `the egress port for ${upstream.service}`);
    ports.set(upstream.service, upstream.egressPort);
  }

  const unassigned: UpstreamRequest[] = [];
  let next = base;
  const open = upstreams.filter((u) => u.egressPort === undefined).sort((a, b) => (a.service < b.service ? -1 : 1));
  for (const upstream of open) {
    while (next <= max && taken.has(next)) next++;
    if (next > max) {
      unassigned.push(upstream);
      continue;
    }
    taken.set(next, `the egress port for ${upstream.service}`);
    ports.set(upstream.service, next);
  }

  const assigned = upstreams
    .filter((u) => ports.has(u.service))
    .map((u) => ({ service: u.service, egressPort: ports.get(u.service) as number }));
  return { assigned, clashes, unassigned };
}
