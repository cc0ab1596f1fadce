import { strict as assert } from "node:assert";
import { DASHBOARD_SCHEMA_VERSION, dashboardJson, meshDashboard, type DashboardPanel } from "../../observability/dashboard";
import { meshEdges } from "../../observability/edges";
import { CANARY_RAW, meshOf } from "./fixtures";

const PANEL_TITLES = ["Request rate", "Error ratio (5xx)", "Latency p50 / p99", "Retries", "Ejections", "Open circuit breakers"];
const rows = (panels: readonly DashboardPanel[]) => panels.filter((p) => p.type === "row").map((p) => p.title);

describe("observability/dashboard: a Grafana dashboard per edge of the topology", () => {
  it("has a row per edge, front first, each with the six panels", () => {
    const dashboard = meshDashboard(meshOf(undefined).topology);
    assert.deepEqual(rows(dashboard.panels), ["front-envoy → service-a", "service-a → service-b", "service-a → service-c"]);
    const firstRow = dashboard.panels.slice(1, 7).map((p) => p.title);
    assert.deepEqual(firstRow, PANEL_TITLES);
  });

  it("gives each version of a versioned callee its own row (one cluster per version)", () => {
    const { topology } = meshOf(CANARY_RAW);
    assert.deepEqual(rows(meshDashboard(topology).panels), [
      "front-envoy → service-a",
      "front-envoy → service-c",
      "service-a → service-b (v1)",
      "service-a → service-b (v2)",
      "service-a → service-c",
    ]);
    assert.deepEqual(
      meshEdges(topology).map((e) => e.cluster),
      ["upstream_service_a", "upstream_service_c", "upstream_service_b_v1", "upstream_service_b_v2", "upstream_service_c"],
    );
  });

  it("queries each edge's cluster on the caller's proxy: rate, 5xx ratio, p50/p99 from the upstream_rq_time histogram", () => {
    const dashboard = meshDashboard(meshOf(undefined).topology);
    const edge = dashboard.panels.slice(8, 14);
    const exprs = edge.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    assert.ok(exprs.every((e) => e.includes('mesh_proxy="service-a",envoy_cluster_name="upstream_service_b"')), exprs.join("\n"));
    const latency = edge.find((p) => p.title === "Latency p50 / p99")?.targets?.map((t) => t.expr);
    assert.deepEqual(latency, [
      'histogram_quantile(0.5, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{mesh_proxy="service-a",envoy_cluster_name="upstream_service_b"}[$__rate_interval])))',
      'histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{mesh_proxy="service-a",envoy_cluster_name="upstream_service_b"}[$__rate_interval])))',
    ]);
    const ratio = edge.find((p) => p.title === "Error ratio (5xx)")?.targets?.[0].expr;
    assert.match(ratio ?? "", /^sum\(rate\(envoy_cluster_upstream_rq_xx\{.*envoy_response_code_class="5"\}.*\/ sum\(rate\(envoy_cluster_upstream_rq_total/);
  });

  it("takes the Prometheus data source from a template variable, on every panel and query", () => {
    const dashboard = meshDashboard(meshOf(undefined).topology);
    assert.equal(dashboard.schemaVersion, DASHBOARD_SCHEMA_VERSION);
    const templating = dashboard.templating as { list: { name: string; type: string; query: string }[] };
    assert.deepEqual(templating.list.map((v) => [v.name, v.type, v.query]), [["datasource", "datasource", "prometheus"]]);
    for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
      assert.deepEqual(panel.datasource, { type: "prometheus", uid: "${datasource}" });
      for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, { type: "prometheus", uid: "${datasource}" });
    }
  });

  it("is deterministic, with unique panel ids and panels that never overlap", () => {
    const { topology } = meshOf(CANARY_RAW);
    assert.equal(dashboardJson(meshDashboard(topology)), dashboardJson(meshDashboard(topology)));
    const panels = meshDashboard(topology).panels;
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
    const cells = new Set<string>();
    for (const { gridPos: g } of panels) {
      assert.ok(g.x + g.w <= 24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
    }
  });
});
