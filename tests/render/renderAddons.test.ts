import { strict as assert } from "node:assert";
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { renderMesh } from "../../render/renderMesh";

const REPO_ROOT = resolve(__dirname, "../..");

describe("render: the observability add-ons", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-mesh-addons-"));
    copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    cpSync(join(REPO_ROOT, "app"), join(dir, "app"), { recursive: true, filter: (src) => !src.includes("node_modules") });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const namespaces = (files: ReadonlyMap<string, string>) =>
    [...files].filter(([path]) => path.startsWith("k8s/")).map(([, text]) => (load(text) as { metadata: { namespace?: string; name: string } }).metadata);

  it("renders none of them when they are off (the default)", () => {
    writeFileSync(join(dir, "Pulumi.kind.yaml"), JSON.stringify({ config: { "envoy-mesh:target": "kind" } }));
    const rendered = renderMesh(dir, "kind");
    assert.equal(namespaces(rendered.files).some((m) => m.namespace === "observability" || m.name === "observability"), false);
  });

  it("renders every add-on object into out/k8s after the mesh's, checked like the mesh's", function () {
    writeFileSync(join(dir, "Pulumi.kind.yaml"), JSON.stringify({ config: { "envoy-mesh:target": "kind", "envoy-mesh:observability": { addons: true } } }));
    const rendered = renderMesh(dir, "kind");
    const metas = namespaces(rendered.files);
    for (const name of ["otel-collector", "jaeger", "prometheus", "grafana"]) {
      assert.ok(metas.some((m) => m.namespace === "observability" && m.name === name), name);
    }
    const files = [...rendered.files.keys()].filter((p) => p.startsWith("k8s/")).sort();
    assert.ok(files.findIndex((f) => f.includes("namespace-observability")) > files.findIndex((f) => f.includes("namespace-envoy-mesh")));
  });
});
