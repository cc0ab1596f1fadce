/**
 * The observability files a render writes next to the Envoy configs, checked first: every metric
 * the dashboard and the rules query is one the rendered configs expose (checks/observability).
 */
import type { RenderedEnvoyConfig } from "../envoy/check";
import { observabilityProblems } from "../checks/observability/queries";
import type { Topology } from "../topology";
import type { ConfigIssue } from "../topology/reader";
import { alertRulesYaml, meshAlertRules } from "./alerts";
import { dashboardJson, meshDashboard } from "./dashboard";
import { meshMetrics } from "./metrics";

export const DASHBOARD_FILE = "observability/grafana-dashboard.json";
export const RULES_FILE = "observability/prometheus-rules.yaml";

/** The dashboard and the rule file by output path, and every problem the checker finds in them (each path prefixed with its file). */
export function observabilityFiles(topology: Topology, configs: readonly RenderedEnvoyConfig[]): { files: [string, string][]; problems: ConfigIssue[] } {
  const dashboard = meshDashboard(topology);
  const ruleFile = meshAlertRules(topology);
  const rules = alertRulesYaml(ruleFile);
  // The rule file is checked as the object its YAML is dumped from: the same document, not read back.
  const problems = observabilityProblems(dashboard, ruleFile, meshMetrics(configs));
  return {
    files: [
      [DASHBOARD_FILE, dashboardJson(dashboard)],
      [RULES_FILE, rules],
    ],
    problems: problems.map((p) => ({ path: `${p.path.startsWith("dashboard") ? DASHBOARD_FILE : RULES_FILE} ${p.path}`, message: p.message })),
  };
}
