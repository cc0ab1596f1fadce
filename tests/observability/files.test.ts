import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { observabilityProblems } from "../../checks/observability/queries";
import { buildMeshConfigs } from "../../envoy";
import { renderEnvoyConfig } from "../../envoy/check";
import { alertRulesYaml, meshAlertRules } from "../../observability/alerts";
import { meshDashboard } from "../../observability/dashboard";
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

describe("observability/files: the rule file is checked as the object its YAML is dumped from", () => {
  it("writes YAML that loads back equal to that object, so both are checked alike, problems and paths included", () => {
    const canary = meshOf(CANARY_RAW).topology;
    for (const topology of [meshOf(undefined).topology, canary]) {
      const rules = meshAlertRules(topology);
      assert.deepEqual(load(alertRulesYaml(rules)), rules);
    }
    const rules = meshAlertRules(canary);
    const before = meshOf(undefined).metrics;
    const fromObject = observabilityProblems(meshDashboard(canary), rules, before);
    assert.ok(fromObject.some((p) => p.path.startsWith('rule group "envoy-mesh-edges"')));
    assert.deepEqual(fromObject, observabilityProblems(meshDashboard(canary), alertRulesYaml(rules), before));
    // A structural problem too: the same message at the same path.
    const bad = { groups: [{ name: "g", rules: [{ alert: "A", expr: "sum(up", for: "5 minutes", labels: {}, annotations: {} }] }] };
    assert.deepEqual(observabilityProblems(meshDashboard(canary), bad, before), observabilityProblems(meshDashboard(canary), alertRulesYaml(bad), before));
    assert.deepEqual(
      observabilityProblems(meshDashboard(canary), bad, before)
        .filter((p) => p.path.startsWith("prometheus-rules.yaml"))
        .map((p) => p.path),
      ["prometheus-rules.yaml: groups[0].rules[0].expr", "prometheus-rules.yaml: groups[0].rules[0].for"],
    );
  });
});
