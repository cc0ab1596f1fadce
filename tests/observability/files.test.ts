import { strict as assert } from "node:assert";
import { buildMeshConfigs } from "../../envoy";
import { renderEnvoyConfig } from "../../envoy/check";
import { DASHBOARD_FILE, RULES_FILE, observabilityFiles } from "../../observability/files";
import { CANARY_RAW, TARGET, meshOf } from "./fixtures";

describe("observability/files: the dashboard and rules render writes, checked against the configs rendered with them", () => {
  it("writes both files with no problem when they come from the same topology as the configs", () => {
    const { topology } = meshOf(CANARY_RAW);
    const { files, problems } = observabilityFiles(topology, buildMeshConfigs(topology, TARGET).map(renderEnvoyConfig));
    assert.deepEqual(problems, []);
    assert.deepEqual(files.map(([path]) => path), [DASHBOARD_FILE, RULES_FILE]);
    assert.ok(JSON.parse(files[0][1]).panels.length > 0);
  });

  it("reports, in both files, every query of an edge the configs do not have (configs of the mesh before the canary)", () => {
    const { topology } = meshOf(CANARY_RAW);
    const before = meshOf(undefined).topology;
    const { problems } = observabilityFiles(topology, buildMeshConfigs(before, TARGET).map(renderEnvoyConfig));
    const paths = problems.map((p) => p.path);
    assert.ok(paths.some((p) => p.startsWith(`${DASHBOARD_FILE} dashboard panel`) && p.includes('envoy_cluster_name="upstream_service_b_v2"')), paths.join("\n"));
    assert.ok(paths.some((p) => p.startsWith(`${RULES_FILE} rule group "envoy-mesh-edges"`) && p.includes('envoy_cluster_name="upstream_service_c"')), paths.join("\n"));
    assert.ok(problems.every((p) => /matches no series/.test(p.message)), JSON.stringify(problems));
  });
});
