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

  it("does not depend on the mesh's edges: the canary's files pass against the configs of the mesh before it, and are the same bytes", () => {
    const canary = meshOf(CANARY_RAW).topology;
    const before = meshOf(undefined).topology;
    const { files, problems } = observabilityFiles(canary, buildMeshConfigs(before, TARGET).map(renderEnvoyConfig));
    assert.deepEqual(problems, []);
    assert.deepEqual(files, observabilityFiles(before, buildMeshConfigs(before, TARGET).map(renderEnvoyConfig)).files);
  });
});

describe("observability/files: the rule file is checked as the object its YAML is dumped from", () => {
  it("writes YAML that loads back equal to that object, so both are checked alike, problems and paths included", () => {
    const canary = meshOf(CANARY_RAW).topology;
    for (const topology of [meshOf(undefined).topology, canary]) {
      const rules = meshAlertRules(topology);
      assert.deepEqual(load(alertRulesYaml(rules)), rules);
    }
    // A rule on a cluster the configs of the mesh before the canary do not have: a problem to compare.
    const generated = meshAlertRules(canary);
    const rules = {
      groups: [
        { ...generated.groups[0], rules: [...generated.groups[0].rules, { alert: "B2", expr: 'sum(envoy_cluster_upstream_rq_total{envoy_cluster_name="upstream_service_b_v2"}) > 0', labels: {}, annotations: {} }] },
        generated.groups[1],
      ],
    };
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
