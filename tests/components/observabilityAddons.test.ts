import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import { installMocks, promiseOf, registered, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { ObservabilityAddons } from "../../components/observabilityAddons";
import { CONFIG_MAP_MAX_BYTES } from "../../k8s/objects";
import { parseTopology } from "../../topology";
import { parseStackSettings, type StackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const ADDONS = "envoy-mesh:observability:ObservabilityAddons";
const SERVICE_MESH = "envoy-mesh:mesh:ServiceMesh";

/** The kind stack with `observability.addons` set, whatever the settings parser does with it yet. */
function kindSettings(addons: boolean | undefined): StackSettings {
  const settings = parseStackSettings({ target: "kind" });
  if (addons === undefined) return settings;
  const observability = (settings as { observability?: object }).observability ?? {};
  return { ...settings, observability: { ...observability, addons } } as unknown as StackSettings;
}

async function deploy(settings: StackSettings): Promise<Registered[]> {
  const collect = await installMocks("kind");
  const mesh = new ServiceMesh("envoy-mesh", { settings, projectDir: PROJECT_DIR, imageTag: "kind" });
  await promiseOf(mesh.frontUrl);
  return collect();
}

const summary = (resources: readonly Registered[]) =>
  resources.filter((r) => r.urn.includes(ADDONS)).map((r) => ({ type: r.type, name: r.name, parent: r.parent, provider: r.provider, inputs: r.inputs }));

describe("ObservabilityAddons component", () => {
  it("refuses an add-on ConfigMap over 1 MiB before registering anything, naming it and its size", async () => {
    const collect = await installMocks("kind");
    const dashboard = { uid: "x", title: "x", panels: [], description: "x".repeat(CONFIG_MAP_MAX_BYTES) };
    assert.throws(
      () => new ObservabilityAddons("big", { topology: parseTopology(undefined), target: { namespace: "envoy-mesh", clusterDomain: "cluster.local" }, meshNamespace: undefined as never, inputs: { dashboard } }),
      /observability add-on configs too large[\s\S]*ConfigMap observability\/grafana-dashboards[\s\S]*would hold 10\d{5} bytes/,
    );
    assert.deepEqual((await collect()).filter((r) => r.name.startsWith("big")), []);
  });

  it("is not registered when the add-ons are off (the default)", async () => {
    for (const settings of [kindSettings(undefined), kindSettings(false)]) {
      const resources = await deploy(settings);
      assert.deepEqual(resources.filter((r) => r.urn.includes(ADDONS) || r.name.includes("observability")), []);
    }
  });

  describe("with observability.addons on", () => {
    let resources: Registered[];
    before(async () => (resources = await deploy(kindSettings(true))));

    it("registers the add-ons under the ServiceMesh, every object through the mesh's Kubernetes provider", () => {
      const component = registered(resources, ADDONS, "envoy-mesh-observability");
      assert.equal(component.parent, registered(resources, SERVICE_MESH, "envoy-mesh").urn);
      const children = resources.filter((r) => r.parent === component.urn);
      assert.ok(children.length >= 20, `${children.length} objects`);
      for (const r of children) {
        assert.match(r.type, /^kubernetes:/);
        assert.match(r.provider ?? "", /pulumi:providers:kubernetes::envoy-mesh-kind::/, `${r.name} provider`);
      }
    });

    it("puts the collector, Jaeger, Prometheus and Grafana in the observability namespace, with Prometheus' grant in the mesh's", () => {
      const children = resources.filter((r) => r.urn.includes(ADDONS) && r.custom);
      const deployments = children.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
      assert.deepEqual(deployments.map((d) => d.inputs.metadata.name).sort(), ["grafana", "jaeger", "otel-collector", "prometheus"]);
      for (const r of children) {
        const expected = r.type === "kubernetes:core/v1:Namespace" ? undefined : r.type.startsWith("kubernetes:rbac") ? "envoy-mesh" : "observability";
        assert.equal(r.inputs.metadata.namespace, expected, `${r.type}/${r.name}`);
      }
      const namespace = registered(resources, "kubernetes:core/v1:Namespace", "envoy-mesh-observability-namespace");
      assert.equal(namespace.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    });

    it("creates each Deployment after its namespace, ServiceAccount and ConfigMaps; Prometheus' also after its Role and RoleBinding", () => {
      for (const addon of ["otel-collector", "jaeger", "prometheus", "grafana"]) {
        const deployment = registered(resources, "kubernetes:apps/v1:Deployment", `envoy-mesh-observability-${addon}-deployment`);
        const needs = resources.filter(
          (r) =>
            r.name === "envoy-mesh-observability-namespace" ||
            (r.name.startsWith(`envoy-mesh-observability-${addon}-`) && /ServiceAccount|ConfigMap|Role/.test(r.type)),
        );
        assert.ok(needs.length >= 3, addon);
        for (const n of needs) assert.ok(deployment.dependencies.includes(n.urn), `${addon} waits for ${n.name}`);
      }
      const role = registered(resources, "kubernetes:rbac.authorization.k8s.io/v1:Role", "envoy-mesh-observability-prometheus-role");
      assert.ok(role.dependencies.includes(registered(resources, "kubernetes:core/v1:Namespace", "envoy-mesh-namespace").urn), "the Role waits for the mesh's namespace");
    });

    it("is deterministic: a second deployment registers the same objects with the same inputs", async () => {
      const again = await deploy(kindSettings(true));
      assert.deepEqual(summary(again), summary(resources));
    });
  });
});
