import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { buildMeshConfigs, toYaml } from "../../envoy";
import { renderEnvoyConfig } from "../../envoy/check";
import {
  CONFIG_MAP_MAX_BYTES,
  buildAllProxyObjects,
  buildAnyServiceObjects,
  buildEnvoyConfigMap,
  buildFrontObjects,
  buildMeshManifests,
  buildXdsConfigMap,
  configMapDataBytes,
  isVersioned,
  kubernetesEnvoyTarget,
  type AnyProxyObjects,
  type ProxyObjects,
} from "../../k8s";
import { configMapSizeProblems, renderMeshConfigs } from "../../components/liveConfig";
import { parseTopology, type Topology } from "../../topology";
import { BUILDER_TEST_KIND_TARGET } from "../helpers/images";

const KIND = BUILDER_TEST_KIND_TARGET;
const APP_IMAGE = "localhost:5001/envoy-mesh-app@sha256:" + "a".repeat(64);
const build = (topology: Topology = parseTopology(undefined)) => buildAllProxyObjects(topology, KIND, () => APP_IMAGE);
const deployments = (objects: AnyProxyObjects) => (isVersioned(objects) ? objects.versions.map((v) => v.deployment) : [(objects as ProxyObjects).deployment]);

/** The seed mesh with service B as a canary (Pulumi.canary-example.yaml's topology) at the given weights. */
function canary(v1: number, v2: number, policy?: object): Topology {
  return parseTopology({
    extends: "seed",
    ...(policy !== undefined ? { policy } : {}),
    services: [{ name: "service-b", versions: [{ name: "v1", weight: v1, replicas: 2 }, { name: "v2", weight: v2, replicas: 1 }] }],
  });
}

describe("Kubernetes objects: live config in two ConfigMaps", () => {
  it("puts every rendered xDS file, byte for byte, in a ConfigMap with a stable name that is not immutable", () => {
    const configs = buildMeshConfigs(parseTopology(undefined), kubernetesEnvoyTarget(KIND));
    const objects = build();
    assert.equal(objects.length, configs.length);
    for (const [i, config] of configs.entries()) {
      const rendered = renderEnvoyConfig(config);
      const { xdsConfigMap, configMap } = objects[i];
      assert.equal(xdsConfigMap.metadata.name, `${config.proxy}-xds`);
      assert.equal(xdsConfigMap.immutable, false, "an immutable ConfigMap is replaced on every change");
      assert.deepEqual(xdsConfigMap.data, rendered.xdsFiles);
      assert.deepEqual(Object.keys(xdsConfigMap.data), Object.keys(rendered.xdsFiles).sort());
      assert.ok(["lds.json", "cds.json"].every((f) => f in xdsConfigMap.data), config.proxy);
      assert.deepEqual(configMap.data, { "envoy.json": rendered.bootstrap }, "the bootstrap ConfigMap holds the bootstrap only");
      assert.equal(xdsConfigMap.metadata.labels?.["app.kubernetes.io/name"], configMap.metadata.labels?.["app.kubernetes.io/name"]);
    }
  });

  it("shares one xDS ConfigMap between the versions of a service, as they share the config", () => {
    const b = build(canary(90, 10)).find((o) => o.proxy === "service-b") as AnyProxyObjects;
    assert.ok(isVersioned(b));
    for (const deployment of deployments(b)) {
      const volumes = (deployment.spec.template as { spec: { volumes: { configMap?: { name: string } }[] } }).spec.volumes;
      assert.ok(volumes.some((v) => v.configMap?.name === "service-b-xds"), deployment.metadata.name);
    }
    const manifests = buildMeshManifests(canary(90, 10), KIND, () => APP_IMAGE);
    assert.equal(manifests.filter((m) => m.kind === "ConfigMap" && m.metadata.name === "service-b-xds").length, 1);
  });

  it("is deterministic: the same topology gives byte-identical objects", () => {
    assert.equal(toYaml(buildMeshManifests(canary(90, 10), KIND, () => APP_IMAGE)), toYaml(buildMeshManifests(canary(90, 10), KIND, () => APP_IMAGE)));
  });

  describe("what a change touches", () => {
    // Built inside each test: a builder bug must fail a test, not the loading of the file.
    const changes: Record<string, () => [Topology, Topology]> = {
      "B's canary weight": () => [canary(90, 10), canary(50, 50)],
      "a timeout": () => [canary(90, 10), canary(90, 10, { timeoutMs: 5000 })],
      "a retry policy": () => [canary(90, 10), canary(90, 10, { retries: { count: 1 } })],
      "a circuit breaker": () => [canary(90, 10), canary(90, 10, { circuitBreakers: { maxRequests: 100 } })],
      "the front's rate limit": () => [
        parseTopology({ extends: "seed" }),
        parseTopology({ extends: "seed", front: { protection: { rateLimit: { maxTokens: 50, tokensPerFill: 50, fillIntervalMs: 1000 } } } }),
      ],
      // The admin cluster in the bootstrap has its own fixed timeout, so this one reaches only xDS files.
      "the connect timeout of the mesh's clusters": () => [parseTopology({ extends: "seed" }), parseTopology({ extends: "seed", envoy: { connectTimeoutMs: 1000 } })],
    };
    for (const [what, topologies] of Object.entries(changes)) {
      it(`${what} changes only xDS files: the bootstrap ConfigMap and every Deployment stay byte-identical`, () => {
        const [before, after] = topologies();
        const old = build(before);
        const next = build(after);
        let changed = 0;
        old.forEach((objects, i) => {
          assert.deepEqual(next[i].configMap, objects.configMap, `${objects.proxy}: bootstrap ConfigMap`);
          assert.deepEqual(deployments(next[i]), deployments(objects), `${objects.proxy}: Deployments`);
          assert.equal(next[i].xdsConfigMap.metadata.name, objects.xdsConfigMap.metadata.name);
          if (JSON.stringify(next[i].xdsConfigMap.data) !== JSON.stringify(objects.xdsConfigMap.data)) changed++;
        });
        assert.ok(changed > 0, "some proxy's xDS files change");
      });
    }

    it("a bootstrap change (ports.admin) renames the bootstrap ConfigMap and changes every pod template", () => {
      const old = build();
      const next = build(parseTopology({ extends: "seed", ports: { admin: 9911 } }));
      old.forEach((objects, i) => {
        assert.notEqual(next[i].configMap.metadata.name, objects.configMap.metadata.name);
        assert.notDeepEqual(deployments(next[i])[0].spec.template, deployments(objects)[0].spec.template, objects.proxy);
        assert.equal(next[i].xdsConfigMap.metadata.name, objects.xdsConfigMap.metadata.name);
      });
    });
  });

  describe("the ConfigMap size limit", () => {
    it("counts the bytes of the values as the API server does", () => {
      assert.equal(configMapDataBytes({ "a.yaml": "é\n", "b.yaml": "x" }), 4);
    });

    it("accepts exactly 1 MiB and refuses one byte more, naming the proxy and the largest file", () => {
      const half = "x".repeat(CONFIG_MAP_MAX_BYTES / 2);
      assert.doesNotThrow(() => buildXdsConfigMap("service-a", "envoy-mesh", { "cds.json": half, "lds.json": half }));
      assert.throws(
        () => buildXdsConfigMap("service-a", "envoy-mesh", { "cds.json": `${half}y`, "lds.json": half }),
        /the xDS ConfigMap of proxy service-a would hold 1048577 bytes, more than the 1048576 bytes the API server accepts \(largest file: cds\.json, 524289 bytes\)/,
      );
      assert.throws(() => buildEnvoyConfigMap("front-envoy", "envoy-mesh", "x".repeat(CONFIG_MAP_MAX_BYTES + 1)), /the bootstrap ConfigMap of proxy front-envoy would hold 1048577 bytes/);
    });

    it("finds no problem in the seed mesh, whose files are far below the limit", () => {
      assert.deepEqual(configMapSizeProblems(renderMeshConfigs(parseTopology(undefined), kubernetesEnvoyTarget(KIND))), []);
      for (const objects of build()) assert.ok(configMapDataBytes(objects.xdsConfigMap.data) < CONFIG_MAP_MAX_BYTES / 10, objects.proxy);
    });

    it("parses every stored file as YAML", () => {
      for (const objects of build()) for (const [file, text] of Object.entries(objects.xdsConfigMap.data)) assert.equal(typeof load(text), "object", `${objects.proxy}/${file}`);
    });
  });

  describe("objects from a config rendered beforehand", () => {
    it("are the objects built from scratch, byte for byte, for a plain service, a service with versions and the front", () => {
      const topology = canary(90, 10);
      const rendered = new Map(renderMeshConfigs(topology, kubernetesEnvoyTarget(KIND)).map((p) => [p.rendered.proxy, p.rendered]));
      for (const service of topology.services) {
        assert.deepEqual(buildAnyServiceObjects(topology, service, KIND, () => APP_IMAGE, undefined, undefined, rendered.get(service.name)), buildAnyServiceObjects(topology, service, KIND, () => APP_IMAGE), service.name);
      }
      assert.deepEqual(buildFrontObjects(topology, KIND, undefined, undefined, rendered.get("front-envoy")), buildFrontObjects(topology, KIND));
    });

    it("refuses another proxy's config", () => {
      const topology = parseTopology(undefined);
      const serviceA = renderEnvoyConfig(buildMeshConfigs(topology, kubernetesEnvoyTarget(KIND))[1]);
      assert.equal(serviceA.proxy, "service-a");
      assert.throws(() => buildFrontObjects(topology, KIND, undefined, undefined, serviceA), /the rendered Envoy config given for front-envoy is service-a's/);
    });
  });
});
