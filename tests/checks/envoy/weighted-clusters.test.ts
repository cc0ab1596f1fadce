import assert from "node:assert/strict";
import { validateBootstrap } from "../../../checks/envoy";
import { loadFixture } from "./fixtures";

/** The front-proxy fixture with its one route split between `service_a` and a copy of it. */
function split(weights: readonly (number | undefined)[]): any {
  const config = loadFixture("v3/front-proxy.yaml");
  const clusters = config.static_resources.clusters;
  clusters.push({ ...clusters[0], name: "service_a_v2", load_assignment: { ...clusters[0].load_assignment, cluster_name: "service_a_v2" } });
  const route = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route;
  delete route.cluster;
  route.weighted_clusters = {
    clusters: weights.map((weight, i) => ({ name: i === 0 ? "service_a" : "service_a_v2", ...(weight === undefined ? {} : { weight }) })),
  };
  return config;
}

const ROUTE = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route";

describe("checks/envoy: weighted_clusters as Envoy loads them", () => {
  it("accepts weights of any sum above 0, a weight of 0 included", () => {
    assert.deepEqual(validateBootstrap(split([90, 10])).errors, []);
    assert.deepEqual(validateBootstrap(split([100, 0])).errors, []);
    assert.deepEqual(validateBootstrap(split([3, 3])).errors, []);
  });

  it("refuses weights that add up to 0", () => {
    assert.deepEqual(validateBootstrap(split([0, 0])).errors, [
      { path: `${ROUTE}.weighted_clusters.clusters`, message: "Sum of weights in the weighted_cluster must be greater than 0." },
    ]);
  });

  it("refuses a weighted cluster without its weight", () => {
    const errors = validateBootstrap(split([100, undefined])).errors;
    assert.deepEqual(errors.map((e: { path: string }) => e.path), [`${ROUTE}.weighted_clusters.clusters[1]`]);
    assert.match(errors[0].message, /^Field 'weight' is missing in: service_a_v2/);
  });

  it("refuses weights whose sum does not fit in 32 bits", () => {
    const errors = validateBootstrap(split([4294967295, 1])).errors;
    assert.deepEqual(errors.map((e: { message: string }) => e.message), ["The sum of weights of all weighted clusters of route  exceeds 4294967295"]);
  });

  it("refuses a weighted cluster that names no cluster", () => {
    const config = split([90, 10]);
    config.static_resources.clusters.pop();
    assert.deepEqual(validateBootstrap(config).errors.map((e: { message: string }) => e.message), [
      "route: unknown weighted cluster 'service_a_v2' (no such cluster in static_resources.clusters)",
    ]);
  });
});
