import { strict as assert } from "node:assert";
import fc from "fast-check";
import { fromFileXds } from "../../checks/envoy";
import { buildMeshConfigs, XDS_DIR, type EnvoyObject } from "../../envoy";
import { renderEnvoyConfig } from "../../envoy/check";
import { xdsVersion } from "../../envoy/xds";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology } from "../../topology";
import { assertProperty } from "../helpers/properties";
import { validTopology } from "../helpers/topologyArbitraries";
import { versionedTopology } from "../helpers/versionArbitraries";

/** Few runs: each renders, parses and loads back every proxy of a mesh. */
const RUNS = { numRuns: 8 };
const target = () => kubernetesEnvoyTarget({ namespace: "mesh", clusterDomain: "cluster.local" });

const byName = (resources: readonly EnvoyObject[]) => [...resources].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));

/** A bootstrap with its listeners and clusters in name order: the split does not keep their order, and Envoy does not care. */
function normalized(bootstrap: EnvoyObject): unknown {
  const plain = JSON.parse(JSON.stringify(bootstrap)) as { static_resources: { listeners: EnvoyObject[]; clusters: EnvoyObject[] } };
  return { ...plain, static_resources: { ...plain.static_resources, listeners: byName(plain.static_resources.listeners), clusters: byName(plain.static_resources.clusters) } };
}

function roundTrip(raw: unknown): void {
  const topology = parseTopology(raw);
  const configs = buildMeshConfigs(topology, target());
  const again = buildMeshConfigs(parseTopology(raw), target()).map(renderEnvoyConfig);
  configs.forEach((config, i) => {
    const rendered = renderEnvoyConfig(config);
    // Same topology, byte-identical files.
    assert.deepEqual(again[i], rendered);
    const files = Object.fromEntries(Object.entries(rendered.xdsFiles).map(([f, text]) => [f, JSON.parse(text)])) as Record<string, { version_info: string; resources: EnvoyObject[] }>;
    for (const [file, content] of Object.entries(files)) assert.equal(content.version_info, xdsVersion(content.resources), `${config.proxy} ${file}`);
    const loaded = fromFileXds(JSON.parse(rendered.bootstrap), files, { xdsDir: XDS_DIR });
    assert.deepEqual([...loaded.errors, ...loaded.warnings], [], config.proxy);
    assert.deepEqual(normalized(loaded.bootstrap as EnvoyObject), normalized(config.bootstrap), config.proxy);
  });
}

describe("properties of file-based xDS", () => {
  it("the bootstrap and files loaded back equal the static config; every version is its content's; same topology, same bytes", function () {
    assertProperty(this.test, fc.property(validTopology, roundTrip), RUNS);
  });

  it("holds for topologies with versions and weighted splits too", function () {
    assertProperty(this.test, fc.property(versionedTopology, roundTrip), { numRuns: 5 });
  });
});
