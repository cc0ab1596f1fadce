import { strict as assert } from "assert";
import { buildMeshConfigs } from "../../envoy/proxies";
import { LDS_FILE } from "../../envoy/names";
import { toEnvoyJson } from "../../envoy/serialize";
import type { EnvoyObject } from "../../envoy/resources";
import { type FileXdsConfig, liveConfigSummary, toFileXds } from "../../envoy/xds";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology } from "../../topology";
import { REFUSED_LISTENER, brokenLds, healthPortOf, liveVersionsOf, parseArgs } from "../../scripts/envoy-live-check";

/** The seed's proxies as the files a pod mounts: JSON on disk, read back. */
const roundTrip = (o: EnvoyObject): EnvoyObject => JSON.parse(toEnvoyJson(o)) as EnvoyObject;
describe("scripts/envoy-live-check: what CI asks a running Envoy", () => {
  let seed: FileXdsConfig[];
  before(() => {
    seed = buildMeshConfigs(parseTopology(undefined), kubernetesEnvoyTarget({ namespace: "envoy-mesh", clusterDomain: "cluster.local" })).map(toFileXds);
  });

  it("expects, from the files alone, the versions the stack output envoyConfig names", () => {
    for (const fx of seed) {
      const files = Object.fromEntries(Object.entries(fx.files).map(([k, v]) => [k, roundTrip(v)]));
      assert.deepEqual(liveVersionsOf(fx.proxy, roundTrip(fx.bootstrap), files), liveConfigSummary(toEnvoyJson(fx.bootstrap), fx).live, fx.proxy);
    }
  });
  it("reads /stats through the bootstrap's health listener port", () => {
    for (const fx of seed) assert.equal(healthPortOf(fx.bootstrap), 9902, fx.proxy);
    assert.throws(() => healthPortOf({ static_resources: { listeners: [] } }), /no static listener health/);
  });
  it("a broken LDS file keeps every good listener, adds one with no IP address, under a version Envoy must not report", () => {
    const good = seed[0].files[LDS_FILE];
    const broken = brokenLds(good);
    const resources = broken.resources as EnvoyObject[];
    assert.deepEqual(resources.slice(0, -1), good.resources);
    assert.deepEqual(resources[resources.length - 1], REFUSED_LISTENER);
    assert.notEqual(broken.version_info, good.version_info);
  });
  it("arguments: the three required ones named when missing", () => {
    assert.deepEqual(parseArgs(["--image", "e", "--rendered=out/envoy", "--tls", "dev/tls", "--break-lds", "front-envoy"]), { image: "e", rendered: "out/envoy", tls: "dev/tls", breakLds: "front-envoy" });
    assert.throws(() => parseArgs(["--image", "e"]), /--rendered is required/);
    assert.throws(() => parseArgs(["--nope"]), /unknown argument "--nope"/);
  });
});
