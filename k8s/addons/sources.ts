import type { Topology } from "../../topology";

/**
 * Where the add-ons get the mesh's Grafana dashboard and Prometheus alert rules. They are built
 * elsewhere (`meshDashboard(topology)` in observability/dashboard.ts, `meshAlertRules(topology)`
 * in observability/alerts.ts); until those exist this returns none, and Grafana and Prometheus
 * start without them. Point these two functions at the real builders once they land.
 */
export function meshDashboardFor(topology: Topology): object | undefined {
  void topology;
  return undefined;
}

export function meshAlertRulesFor(topology: Topology): object | undefined {
  void topology;
  return undefined;
}
