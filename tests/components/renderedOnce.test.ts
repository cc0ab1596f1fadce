import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import { installMocks, registered, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { buildAllProxyObjects, type AnyProxyObjects } from "../../k8s";
import { parseStackSettings, type KubernetesStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/** The seed mesh, with service-b in two versions (its config is shared by both). */
const CONFIG = {
  target: "kind",
  topology: { extends: "seed", services: [{ name: "service-b", versions: [{ name: "v1", weight: 90, replicas: 2 }, { name: "v2", weight: 10, replicas: 1 }] }] },
};

/** Counts calls to the Envoy config builders made through their module's exports (the way other modules reach them). */
function countingBuilders(): { calls: string[]; restore(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proxies = require("../../envoy/proxies") as Record<string, (...args: unknown[]) => unknown>;
  const calls: string[] = [];
  const saved = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of ["buildMeshConfigs", "buildSidecarConfig", "buildFrontProxyConfig"]) {
    const original = proxies[name];
    saved.set(name, original);
    proxies[name] = (...args: unknown[]) => {
      calls.push(name);
      return original(...args);
    };
  }
  return { calls, restore: () => saved.forEach((f, name) => (proxies[name] = f)) };
}

describe("ServiceMesh on Kubernetes", () => {
  let resources: Registered[];
  let calls: string[];
  let settings: KubernetesStackSettings;
  before(async () => {
    settings = parseStackSettings(CONFIG) as KubernetesStackSettings;
    const collect = await installMocks("kind");
    const spy = countingBuilders();
    try {
      new ServiceMesh("envoy-mesh", { settings, projectDir: PROJECT_DIR, imageTag: "kind" });
    } finally {
      spy.restore();
    }
    calls = spy.calls;
    resources = await collect();
  });

  it("builds the mesh's Envoy configs once, for the checks and for the ConfigMaps alike", () => {
    assert.deepEqual(calls, ["buildMeshConfigs"]);
  });

  it("registers each proxy's ConfigMaps with exactly the texts render writes for the same stack", () => {
    const expected: readonly AnyProxyObjects[] = buildAllProxyObjects(settings.topology, settings.mesh, () => "image");
    assert.equal(expected.length, 4);
    for (const objects of expected) {
      const bootstrap = registered(resources, CONFIG_MAP, `${objects.proxy}-envoy-config`).inputs;
      const live = registered(resources, CONFIG_MAP, `${objects.proxy}-envoy-live-config`).inputs;
      assert.deepEqual(bootstrap.data, objects.configMap.data, objects.proxy);
      assert.equal(bootstrap.metadata.name, objects.configMap.metadata.name, objects.proxy);
      assert.deepEqual(live.data, objects.xdsConfigMap.data, objects.proxy);
    }
  });
});

describe("ServiceMesh on docker", () => {
  it("builds the mesh's Envoy configs once, for the checks and for the containers' files alike", async () => {
    const settings = parseStackSettings({ ...CONFIG, target: "docker" });
    const collect = await installMocks("docker");
    const spy = countingBuilders();
    try {
      new ServiceMesh("envoy-mesh", { settings, projectDir: PROJECT_DIR, imageTag: "docker" });
    } finally {
      spy.restore();
    }
    await collect();
    assert.deepEqual(spy.calls, ["buildMeshConfigs"]);
  });
});
