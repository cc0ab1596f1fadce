import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderMesh } from "../../render/renderMesh";
import { parseStackSettings, readStackValues } from "../../stack";

const REPO_ROOT = resolve(__dirname, "../..");

describe("Pulumi.canary-example.yaml", () => {
  it("runs service B as v1 and v2 on kind, 90/10, v2 built from the repository", () => {
    const settings = parseStackSettings(readStackValues(REPO_ROOT, "canary-example"), { projectDir: REPO_ROOT });
    assert.equal(settings.target, "kind");
    const b = settings.topology.services.find((s) => s.name === "service-b");
    assert.deepEqual(b?.versions?.map((v) => [v.name, v.weight, v.replicas, v.image.kind]), [["v1", 90, 2, "build"], ["v2", 10, 1, "build"]]);
  });

  it("renders: every Envoy config, manifest and policy check passes", () => {
    const out = mkdtempSync(join(tmpdir(), "canary-render-"));
    try {
      const rendered = renderMesh(REPO_ROOT, "canary-example", { outDir: out });
      const names = [...rendered.files.keys()];
      for (const expected of ["service-b-v1", "service-b-v2"]) assert.ok(names.some((f) => f.includes(expected)), `${expected} in ${names.join(", ")}`);
      // A's route to B splits by weight: in its RDS file, which the xDS ConfigMap delivers.
      assert.ok(rendered.files.get("envoy/service-a/rds-egress_service_b.json")?.includes("weighted_clusters"));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
