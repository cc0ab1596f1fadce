/**
 * Weighted traffic between the versions of a service, in every caller (sidecar egress and front):
 * one cluster per version, and routes that first honour the pinning header, then split by weight.
 */
import type { ServiceVersion, Topology } from "../topology";
import { VERSION_HEADER, versionClusterName } from "./names";
import type { EnvoyObject } from "./resources";

/** Each topology's services by name, built once: every cluster of every caller asks, and a scan each would be quadratic. */
const servicesByName = new WeakMap<Topology, ReadonlyMap<string, Topology["services"][number]>>();

/** The versions of the service called `name`, or undefined when it has none. A parsed topology never changes, so its index stays true. */
export function versionsOf(topology: Topology, name: string): readonly ServiceVersion[] | undefined {
  let byName = servicesByName.get(topology);
  if (byName === undefined) {
    // The first of a name, as a search from the start finds it.
    byName = new Map([...topology.services].reverse().map((s) => [s.name, s]));
    servicesByName.set(topology, byName);
  }
  return byName.get(name)?.versions;
}

/**
 * The weights as Envoy's weighted_clusters take them: no `total_weight` (deprecated; Envoy uses
 * the sum of the weights, which must be above 0: source/common/router/weighted_cluster_specifier.cc
 * in envoyproxy/envoy), each weight given, 0 included, so the config shows every version.
 */
export function makeWeightedClusters(service: string, versions: readonly ServiceVersion[]): EnvoyObject {
  return { clusters: versions.map((v) => ({ name: versionClusterName(service, v.name), weight: v.weight })) };
}

/** `route`'s action with its `cluster` replaced by `to` (key and value), other fields kept in order. */
function withTarget(route: EnvoyObject, to: readonly [string, unknown]): EnvoyObject {
  const action = route.route as EnvoyObject;
  return { ...route, route: Object.fromEntries(Object.entries(action).map(([key, value]) => (key === "cluster" ? to : [key, value]))) };
}

/** `route` for requests that carry `x-mesh-version: <version>`, sent to that version's cluster. */
function pinnedRoute(route: EnvoyObject, service: string, version: string): EnvoyObject {
  const match = route.match as EnvoyObject;
  const headers = [...((match.headers as readonly EnvoyObject[] | undefined) ?? []), { name: VERSION_HEADER, string_match: { exact: version } }];
  return withTarget({ ...route, match: { ...match, headers } }, ["cluster", versionClusterName(service, version)]);
}

/**
 * Routes of one edge to `service`, given as built for its one cluster. Without versions they are
 * returned as they are. With versions each route becomes one route per version that matches the
 * pinning header too (Envoy takes the first route that matches, so these come first), then the
 * route itself with weighted_clusters. Retries stay on the route, so a retry goes to another
 * host of the version picked (previous_hosts).
 */
export function splitByVersion(routes: readonly EnvoyObject[], service: string, versions: readonly ServiceVersion[] | undefined): EnvoyObject[] {
  if (versions === undefined) return [...routes];
  return routes.flatMap((route) => [
    ...versions.map((v) => pinnedRoute(route, service, v.name)),
    withTarget(route, ["weighted_clusters", makeWeightedClusters(service, versions)]),
  ]);
}
