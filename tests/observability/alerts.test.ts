import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { ERROR_RATIO_CRITICAL, ERROR_RATIO_WARNING, alertRulesYaml, meshAlertRules, type AlertRule } from "../../observability/alerts";
import { ruleFileProblems } from "../../checks/observability/queries";
import { parseTopology } from "../../topology";
import { CANARY_RAW, meshOf } from "./fixtures";

const named = (rules: readonly AlertRule[], alert: string) => rules.filter((r) => r.alert === alert);

describe("observability/alerts: Prometheus alerting rules for the mesh", () => {
  it("watches each edge's error ratio at the documented thresholds, and its ejected hosts", () => {
    const [edges] = meshAlertRules(meshOf(CANARY_RAW).topology).groups;
    const high = named(edges.rules, "MeshEdgeErrorRatioHigh");
    assert.deepEqual(high.map((r) => [r.labels.caller, r.labels.callee, r.labels.version]), [
      ["front-envoy", "service-a", undefined],
      ["front-envoy", "service-c", undefined],
      ["service-a", "service-b", "v1"],
      ["service-a", "service-b", "v2"],
      ["service-a", "service-c", undefined],
    ]);
    assert.ok(high.every((r) => r.expr.endsWith(`) > ${ERROR_RATIO_WARNING.ratio}`) && r.for === ERROR_RATIO_WARNING.for && r.labels.severity === "warning"));
    const critical = named(edges.rules, "MeshEdgeErrorRatioCritical");
    assert.ok(critical.every((r) => r.expr.endsWith(`) > ${ERROR_RATIO_CRITICAL.ratio}`) && r.labels.severity === "critical"));
    assert.match(named(edges.rules, "MeshEdgeHostsEjected")[2].expr, /^sum\(envoy_cluster_outlier_detection_ejections_active\{mesh_proxy="service-a",envoy_cluster_name="upstream_service_b_v1"\}\) > 0$/);
  });

  it("warns of certificates past their renewal and about to expire only with mTLS on", () => {
    const strict = meshAlertRules(meshOf(undefined).topology).groups[1].rules.map((r) => r.alert);
    assert.deepEqual(strict.slice(0, 2), ["MeshCertificateRenewalLate", "MeshCertificateExpiring"]);
    const late = meshAlertRules(meshOf(undefined).topology).groups[1].rules[0];
    // Renewal is 720 h (30 days) before expiry by default: a day past that is late.
    assert.match(late.expr, /envoy_server_days_until_first_cert_expiring\{mesh_proxy=~"front-envoy\|service-a\|service-b\|service-c"\}\) < 29$/);
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
