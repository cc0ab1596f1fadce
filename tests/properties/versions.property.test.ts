import { strict as assert } from "node:assert";
import fc from "fast-check";
import { buildMeshConfigs } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { buildMeshManifests, kubernetesEnvoyTarget, type Manifest } from "../../k8s";
import { validateManifests } from "../../checks/kubernetes/schema";
import { parseTopology, VERSION_TOTAL_WEIGHT } from "../../topology";
import { assertProperty } from "../helpers/properties";
import { BUILDER_TEST_ENVOY_IMAGE } from "../helpers/images";
import { versionedTopology } from "../helpers/versionArbitraries";

const TARGET = {
  namespace: "mesh",
  clusterDomain: "cluster.local",
  envoyImage: BUILDER_TEST_ENVOY_IMAGE,
  front: { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 },
} as const;
const RUNS = { numRuns: 15 };
const IMAGE = "registry.example/app@sha256:" + "0".repeat(64);

/** Every route of every listener of a bootstrap. */
function routesOf(bootstrap: any): any[] {
  return bootstrap.static_resources.listeners.flatMap((l: any) =>
    l.filter_chains.flatMap((chain: any) => chain.filters.flatMap((f: any) => f.typed_config.route_config?.virtual_hosts.flatMap((v: any) => v.routes) ?? [])),
  );
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const selectorOf = (m: any): Record<string, string> | undefined => (m.kind === "Service" ? m.spec.selector : m.spec.selector?.matchLabels);

describe("properties of service versions", () => {
  it("every weighted split adds up to the total Envoy expects and names clusters of that config; configs pass the strict validator", function () {
    assertProperty(
      this.test,
      fc.property(versionedTopology, (raw) => {
        const topology = parseTopology(raw);
        const target = kubernetesEnvoyTarget(TARGET);
        for (const config of buildMeshConfigs(topology, target)) {
          const clusters = new Set(config.bootstrap.static_resources ? (config.bootstrap as any).static_resources.clusters.map((c: any) => c.name) : []);
          for (const route of routesOf(config.bootstrap)) {
            const split = route.route?.weighted_clusters;
            if (split === undefined) continue;
            const weights = split.clusters.map((c: any) => c.weight);
            assert.equal(weights.reduce((a: number, b: number) => a + b, 0), VERSION_TOTAL_WEIGHT, `${config.proxy}: ${JSON.stringify(split)}`);
            for (const c of split.clusters) assert.ok(clusters.has(c.name), `${config.proxy}: ${c.name} is not a cluster of this config`);
          }
        }
        assert.deepEqual(meshEnvoyConfigProblems(topology, target), []);
      }),
      RUNS,
    );
  });

  it("every version has its Deployment and headless Service, and nothing else selects its pods", function () {
    assertProperty(
      this.test,
      fc.property(versionedTopology, (raw) => {
        const topology = parseTopology(raw);
        const manifests: readonly Manifest[] = buildMeshManifests(topology, TARGET, () => IMAGE);
        const named = (kind: string, name: string) => manifests.find((m: any) => m.kind === kind && m.metadata.name === name) as any;
        const deployments = manifests.filter((m: any) => m.kind === "Deployment") as any[];
        for (const service of topology.services) {
          for (const version of service.versions ?? []) {
            const name = `${service.name}-${version.name}`;
            const deployment = named("Deployment", name);
            assert.ok(deployment, `no Deployment ${name}`);
            assert.equal(deployment.spec.replicas, version.replicas);
            assert.equal(named("Service", name)?.spec.clusterIP, "None", `no headless Service ${name}`);
          }
          if (service.versions !== undefined) {
            assert.equal(named("Deployment", service.name), undefined, `${service.name} has versions, so no Deployment of its own`);
            assert.equal(named("Service", service.name), undefined, `${service.name} has versions, so no Service of its own`);
          }
        }
        // A Deployment, Service or PodDisruptionBudget selects the pods of the Deployment of its own name, and only those.
        for (const m of manifests as any[]) {
          if (!["Deployment", "Service", "PodDisruptionBudget"].includes(m.kind)) continue;
          const selector = selectorOf(m) as Record<string, string>;
          const selected = deployments.filter((d) => matches(selector, d.spec.template.metadata.labels)).map((d) => d.metadata.name);
          assert.deepEqual(selected, [m.metadata.name], `${m.kind} ${m.metadata.name} selects the pods of ${selected.join(", ")}`);
        }
        assert.deepEqual(validateManifests(manifests), []);
      }),
      RUNS,
    );
  });
});
