import { strict as assert } from "node:assert";
import fc from "fast-check";
import { dump, load } from "js-yaml";
import { toYaml } from "../../envoy";
import { buildAllProxyObjects, proxyManifests, type Manifest } from "../../k8s";
import { renderedSecretSources } from "../../render/renderMesh";
import { parseStackSettings, type KubernetesStackSettings } from "../../stack";
import { syntheticTopology } from "../../scripts/bench-render";
import { assertProperty } from "../helpers/properties";

/** What toYaml must write: js-yaml's own output, with the options toYaml gives it. */
const jsYaml = (value: unknown) => dump(value, { noRefs: true, lineWidth: -1 });

function manifestsOf(topology: unknown): Manifest[] {
  const settings = parseStackSettings({ target: "kind", topology }) as KubernetesStackSettings;
  return buildAllProxyObjects(settings.topology, settings.mesh, () => "image", undefined, renderedSecretSources(settings.certificates.edge)).flatMap(proxyManifests);
}

describe("toYaml", () => {
  let manifests: Manifest[];
  before(() => {
    manifests = [...manifestsOf(undefined), ...manifestsOf(syntheticTopology(30))];
  });

  it("writes every manifest of the seed mesh and of a 30-service mesh byte for byte as js-yaml does, the ConfigMaps' Envoy JSON included", () => {
    const configMaps = manifests.filter((m) => m.kind === "ConfigMap");
    assert.ok(configMaps.length >= 60);
    // The Envoy files are long multi-line strings: the case toYaml writes itself.
    assert.ok(configMaps.some((m) => Object.values((m as { data: Record<string, string> }).data).some((text) => text.length > 4096 && text.includes("\n"))));
    for (const manifest of manifests) assert.equal(toYaml(manifest), jsYaml(manifest), `${manifest.kind} ${manifest.metadata.name}`);
  });

  it("writes any mix of long and short strings as js-yaml does, in maps and lists at any depth, and it loads back the same", function () {
    // Lines from characters that matter to YAML's styles: spaces, tabs, indicators, document markers, non-ASCII.
    const line = fc.array(fc.constantFrom("a", "Z", "0", " ", "\t", ":", "#", "-", "---", "...", "|", '"', "'", "{", "}", "é", "\u2028", ""), { maxLength: 12 }).map((parts) => parts.join(""));
    const text = fc
      .tuple(fc.array(line, { minLength: 1, maxLength: 8 }), fc.constantFrom("", "\n", "\n\n"), fc.integer({ min: 0, max: 1500 }))
      .map(([lines, end, padding]) => `${"x".repeat(padding)}${lines.join("\n")}${end}`);
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, text, fc.integer(), fc.boolean(), tie("map"), tie("list")),
      map: fc.dictionary(fc.constantFrom("data", "envoy.json", "lds.json", "a b", "-"), tie("node"), { maxKeys: 4, noNullPrototype: true }),
      list: fc.array(tie("node"), { maxLength: 3 }),
    })).node;
    assertProperty(
      this.test,
      fc.property(value, (v) => {
        const written = toYaml(v);
        assert.equal(written, jsYaml(v));
        assert.deepEqual(load(written), v);
      }),
      { numRuns: 300 },
    );
  });
});
