import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import { installMocks, promiseOf, registered, type Registered } from "../helpers/pulumiMocks";
import * as pulumi from "@pulumi/pulumi";
import { ServiceMesh } from "../../components";
import * as liveConfig from "../../components/liveConfig";
import * as serialize from "../../envoy/serialize";
import { envoyTargetOf, parseStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const PROVIDER = "pulumi:providers:kubernetes";
const PROXIES = ["front-envoy", "service-a", "service-b", "service-c"];

/** B as a canary, as in Pulumi.canary-example.yaml (without v2's own image build), with an optional mesh-wide policy. */
function canaryTopology(v1: number, v2: number, policy = ""): string {
  return [
    "extends: seed",
    ...(policy === "" ? [] : [`policy: ${policy}`]),
    "services:",
    "  - name: service-b",
    "    versions:",
    `      - {name: v1, weight: ${v1}, replicas: 2}`,
    `      - {name: v2, weight: ${v2}, replicas: 1}`,
  ].join("\n");
}

interface Deployed {
  readonly resources: Registered[];
  readonly envoyConfig: Record<string, { bootstrap: string; live: Record<string, string> }>;
}

const deployed = new Map<string, Promise<Deployed>>();

/** A deployment of the kind stack with `config`; the same config is deployed once per run (the mocks are deterministic). */
function deploy(config: Record<string, unknown>): Promise<Deployed> {
  const key = JSON.stringify(config);
  if (!deployed.has(key)) deployed.set(key, deployOnce(config));
  return deployed.get(key) as Promise<Deployed>;
}

async function deployOnce(config: Record<string, unknown>, stack = "kind"): Promise<Deployed> {
  const collect = await installMocks(stack);
  const mesh = new ServiceMesh("envoy-mesh", { settings: parseStackSettings({ target: stack, ...config }), projectDir: PROJECT_DIR, imageTag: stack });
  const envoyConfig = (await promiseOf(mesh.envoyConfig)) as Deployed["envoyConfig"];
  return { resources: await collect(), envoyConfig };
}

const ofType = (resources: Registered[], type: string) => resources.filter((r) => r.type === type).sort((a, b) => (a.name < b.name ? -1 : 1));
const deployments = (d: Deployed): [string, Record<string, any>][] => ofType(d.resources, DEPLOYMENT).map((r) => [r.name, r.inputs]);
const bootstrapMaps = (d: Deployed) => ofType(d.resources, CONFIG_MAP).filter((r) => r.name.endsWith("-envoy-config")).map((r) => [r.name, r.inputs]);
const liveMaps = (d: Deployed) => Object.fromEntries(ofType(d.resources, CONFIG_MAP).filter((r) => r.name.endsWith("-envoy-live-config")).map((r) => [r.name, r.inputs]));

describe("ServiceMesh component: live config", () => {
  let base: Deployed;
  before(async () => (base = await deploy({ topology: canaryTopology(90, 10) })));

  it("creates the Kubernetes provider with enableConfigMapMutable, so the xDS ConfigMap is updated in place", () => {
    const providers = base.resources.filter((r) => r.type === PROVIDER);
    assert.equal(providers.length, 1);
    // A provider's inputs reach the engine JSON-encoded (@pulumi/kubernetes provider.js); the cloud provider: serviceMesh.test.ts.
    assert.equal(providers[0].inputs.enableConfigMapMutable, "true");
  });

  it("registers each proxy's xDS ConfigMap as `<proxy>-envoy-live-config`, named `<proxy>-xds`, not immutable", () => {
    for (const proxy of PROXIES) {
      const live = registered(base.resources, CONFIG_MAP, `${proxy}-envoy-live-config`);
      assert.equal(live.inputs.metadata.name, `${proxy}-xds`);
      assert.equal(live.inputs.immutable, false);
      assert.ok("lds.json" in live.inputs.data && "cds.json" in live.inputs.data, proxy);
      const bootstrap = registered(base.resources, CONFIG_MAP, `${proxy}-envoy-config`);
      assert.equal(bootstrap.inputs.immutable, true);
      assert.deepEqual(Object.keys(bootstrap.inputs.data), ["envoy.json"]);
    }
  });

  it("creates every Deployment only after the xDS ConfigMap it mounts (a pod cannot start without it)", () => {
    const deploymentsOf: Record<string, string[]> = {
      "front-envoy": ["front-envoy-deployment"],
      "service-a": ["service-a-deployment"],
      "service-b": ["service-b-v1-deployment", "service-b-v2-deployment"],
      "service-c": ["service-c-deployment"],
    };
    for (const [proxy, names] of Object.entries(deploymentsOf)) {
      const live = registered(base.resources, CONFIG_MAP, `${proxy}-envoy-live-config`);
      for (const name of names) {
        const deployment = registered(base.resources, DEPLOYMENT, name);
        assert.ok(deployment.dependencies.includes(live.urn), `${name} waits for ${live.name}`);
        const volumes = deployment.inputs.spec.template.spec.volumes as { configMap?: { name: string } }[];
        assert.ok(volumes.some((v) => v.configMap?.name === `${proxy}-xds`), name);
      }
    }
  });

  describe("a weight, retry or timeout change", () => {
    const changes: Record<string, string> = {
      "B's canary weight 90/10 → 50/50": canaryTopology(50, 50),
      "a retry policy and a timeout": canaryTopology(90, 10, "{retries: {count: 1}, timeoutMs: 5000}"),
    };
    for (const [what, topology] of Object.entries(changes)) {
      it(`${what}: only xDS ConfigMaps' data change; every Deployment and bootstrap ConfigMap is byte-identical`, async () => {
        const after = await deploy({ topology });
        assert.equal(JSON.stringify(deployments(after)), JSON.stringify(deployments(base)));
        assert.equal(JSON.stringify(bootstrapMaps(after)), JSON.stringify(bootstrapMaps(base)));
        const before = liveMaps(base);
        const next = liveMaps(after);
        assert.deepEqual(Object.keys(next), Object.keys(before));
        const changed = Object.keys(next).filter((name) => JSON.stringify(next[name].data) !== JSON.stringify(before[name].data));
        assert.ok(changed.length > 0, "some xDS ConfigMap changes");
        for (const name of Object.keys(next)) assert.deepEqual(next[name].metadata, before[name].metadata, `${name} keeps its name and labels`);
      });
    }

    it("the weight change shows in the envoyConfig output under `live` only, for the proxies that route to B", async () => {
      const after = await deploy({ topology: canaryTopology(50, 50) });
      assert.deepEqual(Object.keys(after.envoyConfig), PROXIES);
      for (const proxy of PROXIES) assert.equal(after.envoyConfig[proxy].bootstrap, base.envoyConfig[proxy].bootstrap, proxy);
      const changed = PROXIES.filter((p) => JSON.stringify(after.envoyConfig[p].live) !== JSON.stringify(base.envoyConfig[p].live));
      assert.deepEqual(changed, ["service-a"], "A's sidecar is B's only caller in the seed mesh");
      const live = (d: Deployed) => d.envoyConfig["service-a"].live;
      const differing = Object.keys(live(after)).filter((k) => live(after)[k] !== live(base)[k]);
      assert.deepEqual(differing, ["http.egress_service_b.rds.egress_service_b"], "only the RDS subscription of A's route to B");
    });
  });

  it("a bootstrap change (ports.admin, or the Envoy image) changes the pod templates and the envoyConfig output under `bootstrap`", async () => {
    for (const config of [{ topology: `${canaryTopology(90, 10)}\nports: {admin: 9911}` }, { topology: canaryTopology(90, 10), envoyImage: `envoyproxy/envoy:v1.35.0@sha256:${"b".repeat(64)}` }]) {
      const after = await deploy(config);
      for (const [name, inputs] of deployments(after)) {
        const before = registered(base.resources, DEPLOYMENT, name).inputs;
        assert.notDeepEqual(inputs.spec.template, before.spec.template, `${name} rolls`);
      }
      if ("envoyImage" in config) continue;
      for (const proxy of PROXIES) assert.notEqual(after.envoyConfig[proxy].bootstrap, base.envoyConfig[proxy].bootstrap, proxy);
      assert.notDeepEqual(bootstrapMaps(after), bootstrapMaps(base));
    }
  });

  it("gives the envoyConfig output every proxy's bootstrap version and its LDS, CDS and RDS versions", () => {
    assert.deepEqual(Object.keys(base.envoyConfig), PROXIES);
    for (const proxy of PROXIES) {
      const { bootstrap, live } = base.envoyConfig[proxy];
      assert.match(bootstrap, /^[0-9a-f]{16}$/);
      assert.ok("listener_manager.lds" in live && "cluster_manager.cds" in live, proxy);
      assert.ok(Object.keys(live).some((k) => k.startsWith("http.")), `${proxy} has an RDS subscription`);
      for (const version of Object.values(live)) assert.match(version, /^[0-9a-f]{16}$/);
    }
  });

  describe("serializes each Envoy text once: the configs it checks are the ones it registers", () => {
    const original = serialize.toEnvoyJson;
    afterEach(() => ((serialize as { toEnvoyJson: unknown }).toEnvoyJson = original));
    /** Constructs the mesh on `stack`, counting every Envoy text serialized meanwhile. */
    const construct = async (stack: string) => {
      let calls = 0;
      (serialize as { toEnvoyJson: unknown }).toEnvoyJson = (value: unknown) => {
        calls += 1;
        return original(value);
      };
      const collect = await installMocks(stack);
      const settings = parseStackSettings({ target: stack, topology: canaryTopology(90, 10) });
      new ServiceMesh("envoy-mesh", { settings, projectDir: PROJECT_DIR, imageTag: stack });
      const texts = calls;
      (serialize as { toEnvoyJson: unknown }).toEnvoyJson = original;
      return { texts, resources: await collect(), expected: liveConfig.renderMeshConfigs(settings.topology, envoyTargetOf(settings)) };
    };

    it("on Kubernetes: one serialization per bootstrap and xDS file, and the ConfigMaps hold exactly those texts", async () => {
      const { texts, resources, expected } = await construct("kind");
      assert.equal(texts, expected.reduce((n, p) => n + 1 + Object.keys(p.rendered.xdsFiles).length, 0));
      for (const { rendered } of expected) {
        assert.deepEqual(registered(resources, CONFIG_MAP, `${rendered.proxy}-envoy-config`).inputs.data, { "envoy.json": rendered.bootstrap }, rendered.proxy);
        assert.deepEqual(registered(resources, CONFIG_MAP, `${rendered.proxy}-envoy-live-config`).inputs.data, rendered.xdsFiles, rendered.proxy);
      }
    });

    it("on Docker: one serialization per bootstrap and xDS file, and each Envoy runs exactly that bootstrap", async () => {
      const { texts, resources, expected } = await construct("docker");
      assert.equal(texts, expected.reduce((n, p) => n + 1 + Object.keys(p.rendered.xdsFiles).length, 0));
      const envoys = resources.filter((r) => r.type === "docker:index/container:Container" && r.inputs.labels?.some((l: { label: string; value: string }) => l.label.endsWith(".role") && l.value === "envoy"));
      assert.ok(envoys.length >= 4, envoys.map((e) => e.name).join());
      for (const envoy of envoys) {
        const proxy = envoy.inputs.labels.find((l: { label: string }) => l.label.endsWith(".proxy")).value;
        const command = envoy.inputs.command as string[];
        assert.equal(command[command.indexOf("--config-yaml") + 1], expected.find((p) => p.rendered.proxy === proxy)?.rendered.bootstrap, envoy.name);
      }
    });
  });

  describe("a proxy whose files would not fit in a ConfigMap", () => {
    const original = liveConfig.configMapSizeProblems;
    afterEach(() => ((liveConfig as { configMapSizeProblems: unknown }).configMapSizeProblems = original));

    it("stops the mesh before anything is registered, naming the proxy", async () => {
      (liveConfig as { configMapSizeProblems: unknown }).configMapSizeProblems = () => [
        { path: "envoy config of service-a", message: "the xDS ConfigMap of proxy service-a would hold 1048577 bytes" },
      ];
      const collect = await installMocks("kind");
      assert.throws(
        () => new ServiceMesh("envoy-mesh", { settings: parseStackSettings({ target: "kind" }), projectDir: PROJECT_DIR, imageTag: "kind" }),
        (error: unknown) => error instanceof pulumi.RunError && /too large for a Kubernetes ConfigMap/.test(error.message) && error.message.includes("envoy config of service-a: the xDS ConfigMap of proxy service-a would hold 1048577 bytes"),
      );
      assert.deepEqual(await collect(), []);
    });
  });
});
