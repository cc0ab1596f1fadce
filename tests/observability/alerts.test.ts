import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { ERROR_RATIO_CRITICAL, ERROR_RATIO_WARNING, alertRulesYaml, meshAlertRules, type AlertRule } from "../../observability/alerts";
import { ruleFileProblems } from "../../checks/observability/queries";
import { parseTopology } from "../../topology";
import { syntheticTopology } from "../../scripts/bench-render";
import { CANARY_RAW, meshOf } from "./fixtures";

const named = (rules: readonly AlertRule[], alert: string) => rules.filter((r) => r.alert === alert);

describe("observability/alerts: Prometheus alerting rules for the mesh", () => {
  it("watches every edge's error ratio at the documented thresholds, and its ejected hosts: one rule per condition and severity, firing per edge", () => {
    const [edges] = meshAlertRules(meshOf(CANARY_RAW).topology).groups;
    assert.deepEqual(edges.rules.map((r) => [r.alert, r.labels.severity, r.for]), [
      ["MeshEdgeErrorRatioHigh", "warning", ERROR_RATIO_WARNING.for],
      ["MeshEdgeErrorRatioCritical", "critical", ERROR_RATIO_CRITICAL.for],
      ["MeshEdgeHostsEjected", "warning", "1m"],
    ]);
    const [high] = named(edges.rules, "MeshEdgeErrorRatioHigh");
    assert.equal(
      high.expr,
      '(sum by (mesh_proxy, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{mesh_proxy!="",envoy_cluster_name=~"upstream_.*",envoy_response_code_class="5"}[5m])) / sum by (mesh_proxy, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total{mesh_proxy!="",envoy_cluster_name=~"upstream_.*"}[5m]))) > 0.05',
    );
    assert.ok(named(edges.rules, "MeshEdgeErrorRatioCritical")[0].expr.endsWith(`) > ${ERROR_RATIO_CRITICAL.ratio}`));
    assert.equal(named(edges.rules, "MeshEdgeHostsEjected")[0].expr, 'sum by (mesh_proxy, envoy_cluster_name) (envoy_cluster_outlier_detection_ejections_active{mesh_proxy!="",envoy_cluster_name=~"upstream_.*"}) > 0');
    // Each alert names its edge from the labels its expression's result carries.
    for (const rule of edges.rules) assert.match(rule.annotations.summary, /^\{\{ \$labels\.mesh_proxy \}\} → \{\{ \$labels\.envoy_cluster_name \}\}: /);
  });

  it("is the same few rules for any mesh size (was 3 rules per edge: 9,000 at 1,000 services)", () => {
    const seed = alertRulesYaml(meshAlertRules(meshOf(undefined).topology));
    const big = alertRulesYaml(meshAlertRules(parseTopology(syntheticTopology(1000))));
    assert.equal(big, seed);
    assert.ok(Buffer.byteLength(big) < 10_000, `${Buffer.byteLength(big)} bytes`);
  });

  it("warns of certificates past their renewal and about to expire only with mTLS on", () => {
    const strict = meshAlertRules(meshOf(undefined).topology).groups[1].rules.map((r) => r.alert);
    assert.deepEqual(strict.slice(0, 2), ["MeshCertificateRenewalLate", "MeshCertificateExpiring"]);
    const late = meshAlertRules(meshOf(undefined).topology).groups[1].rules[0];
    // Renewal is 720 h (30 days) before expiry by default: a day past that is late.
    assert.equal(late.expr, 'min by (mesh_proxy) (envoy_server_days_until_first_cert_expiring{mesh_proxy!=""}) < 29');
    const off = meshAlertRules(parseTopology({ extends: "seed", security: { mtls: "off" } })).groups[1].rules.map((r) => r.alert);
    assert.deepEqual(off, ["MeshXdsListenerRejected", "MeshXdsClusterRejected", "MeshXdsRouteRejected"]);
  });

  it("leaves out a certificate threshold a short-lived certificate would always be under", () => {
    const topology = parseTopology({ extends: "seed", security: { certificates: { validityHours: 24, renewBeforeHours: 8 } } });
    assert.deepEqual(
      meshAlertRules(topology).groups[1].rules.map((r) => r.alert),
      ["MeshXdsListenerRejected", "MeshXdsClusterRejected", "MeshXdsRouteRejected"],
    );
  });

  it("writes a rule file Prometheus' format accepts, the same bytes every time", () => {
    const yaml = alertRulesYaml(meshAlertRules(meshOf(CANARY_RAW).topology));
    assert.deepEqual(ruleFileProblems(yaml), []);
    assert.equal(yaml, alertRulesYaml(meshAlertRules(meshOf(CANARY_RAW).topology)));
    assert.deepEqual((load(yaml) as { groups: { name: string }[] }).groups.map((g) => g.name), ["envoy-mesh-edges", "envoy-mesh-proxies"]);
  });
});
