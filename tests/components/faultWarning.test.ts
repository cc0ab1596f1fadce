import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import { captureWarnings, installMocks, promiseOf } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { parseStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");

/** The `pulumi.log.warn` messages of one ServiceMesh deployment under mocks. */
async function warningsOf(config: Record<string, unknown>): Promise<string[]> {
  const { warnings } = await captureWarnings(async () => {
    const collect = await installMocks(String(config.target));
    const mesh = new ServiceMesh("envoy-mesh", { settings: parseStackSettings(config), projectDir: PROJECT_DIR, imageTag: "test" });
    await promiseOf(mesh.frontUrl);
    await collect();
  });
  return warnings;
}

const FAULTY = "extends: seed\nservices:\n  - name: service-a\n    upstreams:\n      - service: service-b\n      - {service: service-c, fault: {abort: {httpStatus: 503, percentage: 50}}}\n";

describe("ServiceMesh component: fault injection is warned about at pulumi up", () => {
  it("warns once on kind, naming the faulty edge", async () => {
    assert.deepEqual(await warningsOf({ target: "kind", topology: FAULTY }), [
      "warning: fault injection is on for 1 edge, for testing only: service-a → service-c: abort with HTTP 503 for 50%",
    ]);
  });

  it("warns on the docker target too", async () => {
    const warnings = await warningsOf({ target: "docker", topology: FAULTY });
    assert.ok(warnings.some((w) => /fault injection is on for 1 edge.*service-a → service-c/.test(w)), warnings.join("\n"));
  });

  it("says nothing about faults without any", async () => {
    assert.deepEqual((await warningsOf({ target: "kind" })).filter((w) => /fault injection/.test(w)), []);
  });
});
