import { strict as assert } from "node:assert";
import { CALLER_VARIABLE, CLUSTER_VARIABLE, DASHBOARD_SCHEMA_VERSION, OVERVIEW_TOP, dashboardJson, meshDashboard, type DashboardPanel } from "../../observability/dashboard";
import { dashboardProblems } from "../../checks/observability/queries";
import { parseTopology } from "../../topology";
import { syntheticTopology } from "../../scripts/bench-render";
import { CANARY_RAW, meshOf } from "./fixtures";

const PANEL_TITLES = ["Request rate", "Error ratio (5xx)", "Latency p50 / p99", "Retries", "Ejections", "Open circuit breakers"];
const rows = (panels: readonly DashboardPanel[]) => panels.filter((p) => p.type === "row").map((p) => p.title);
const exprs = (panels: readonly DashboardPanel[]) => panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
type Variable = { name: string; type: string; query: string; multi?: boolean; includeAll?: boolean };
const variables = (panels: ReturnType<typeof meshDashboard>) => (panels.templating as { list: Variable[] }).list;

describe("observability/dashboard: a Grafana dashboard of the same size for any mesh", () => {
  it("has an overview row of the worst edges, then the six edge panels once", () => {
    const dashboard = meshDashboard(meshOf(undefined).topology);
    assert.deepEqual(rows(dashboard.panels), ["Which edges are bad (whole mesh, now)", "Selected edges: $caller / $cluster"]);
    const [, ...rest] = dashboard.panels;
    const edgeRow = rest.findIndex((p) => p.type === "row");
    assert.deepEqual(rest.slice(edgeRow + 1).map((p) => p.title), PANEL_TITLES);
    assert.deepEqual(rest.slice(0, edgeRow).map((p) => p.title), [`Highest 5xx ratio (top ${OVERVIEW_TOP} edges)`, `Slowest p99 (top ${OVERVIEW_TOP} edges)`, "Edges with ejected hosts", "Edges with open circuit breakers"]);
  });

  it("chooses the edges with caller and cluster variables: label_values from Prometheus, multi-select with All", () => {
    const list = variables(meshDashboard(meshOf(undefined).topology));
    assert.deepEqual(list.map((v) => [v.name, v.type]), [["datasource", "datasource"], [CALLER_VARIABLE, "query"], [CLUSTER_VARIABLE, "query"]]);
    assert.equal(list[1].query, 'label_values(envoy_cluster_upstream_rq_total{envoy_cluster_name=~"upstream_.*"}, mesh_proxy)');
    // The clusters of the selected callers only, and only their edges' (not local_app or admin).
    assert.equal(list[2].query, 'label_values(envoy_cluster_upstream_rq_total{mesh_proxy=~"$caller",envoy_cluster_name=~"upstream_.*"}, envoy_cluster_name)');
    assert.ok(list.slice(1).every((v) => v.multi === true && v.includeAll === true));
  });

  it("draws every selected edge as its own line: queries by caller and cluster, filtered by the variables", () => {
    const dashboard = meshDashboard(meshOf(undefined).topology);
    const edgePanels = dashboard.panels.slice(-6);
    for (const expr of exprs(edgePanels)) {
      assert.ok(expr.includes('{mesh_proxy=~"$caller",envoy_cluster_name=~"$cluster"'), expr);
      assert.match(expr, /by \((le, )?mesh_proxy, envoy_cluster_name\)/);
    }
    const latency = edgePanels.find((p) => p.title === "Latency p50 / p99")?.targets;
    assert.deepEqual(latency?.map((t) => [t.expr, t.legendFormat]), [
      ['histogram_quantile(0.5, sum by (le, mesh_proxy, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_time_bucket{mesh_proxy=~"$caller",envoy_cluster_name=~"$cluster"}[$__rate_interval])))', "p50 {{mesh_proxy}} → {{envoy_cluster_name}}"],
      ['histogram_quantile(0.99, sum by (le, mesh_proxy, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_time_bucket{mesh_proxy=~"$caller",envoy_cluster_name=~"$cluster"}[$__rate_interval])))', "p99 {{mesh_proxy}} → {{envoy_cluster_name}}"],
    ]);
    const ratio = edgePanels.find((p) => p.title === "Error ratio (5xx)")?.targets?.[0].expr;
    assert.match(ratio ?? "", /^sum by \(mesh_proxy, envoy_cluster_name\) \(rate\(envoy_cluster_upstream_rq_xx\{.*envoy_response_code_class="5"\}.*\/ sum by \(mesh_proxy, envoy_cluster_name\) \(rate\(envoy_cluster_upstream_rq_total/);
  });

  it("ranks every edge of the mesh in the overview, whatever the variables select: instant tables", () => {
    const overview = meshDashboard(meshOf(undefined).topology).panels.slice(1, 5);
    assert.ok(overview.every((p) => p.type === "table" && (p.targets ?? []).every((t) => t.instant === true && t.format === "table")));
    const [errors, p99, ejected, breakers] = overview.map((p) => exprs([p]));
    assert.match(errors[0], /^topk\(10, sum by \(mesh_proxy, envoy_cluster_name\) \(rate\(envoy_cluster_upstream_rq_xx\{mesh_proxy!="",envoy_cluster_name=~"upstream_\.\*",envoy_response_code_class="5"\}/);
    assert.match(p99[0], /^topk\(10, histogram_quantile\(0\.99, /);
    assert.equal(ejected[0], 'sum by (mesh_proxy, envoy_cluster_name) (envoy_cluster_outlier_detection_ejections_active{mesh_proxy!="",envoy_cluster_name=~"upstream_.*"}) > 0');
    assert.equal(breakers.length, 4);
    assert.ok(exprs(overview).every((e) => !e.includes("$caller") && !e.includes("$cluster")));
  });

  it("takes the Prometheus data source from a template variable, on every panel, query and variable", () => {
    const dashboard = meshDashboard(meshOf(undefined).topology);
    assert.equal(dashboard.schemaVersion, DASHBOARD_SCHEMA_VERSION);
    assert.deepEqual(variables(dashboard)[0].query, "prometheus");
    for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
      assert.deepEqual(panel.datasource, { type: "prometheus", uid: "${datasource}" });
      for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, { type: "prometheus", uid: "${datasource}" });
    }
    for (const v of variables(dashboard).slice(1)) assert.deepEqual((v as unknown as { datasource: unknown }).datasource, { type: "prometheus", uid: "${datasource}" });
  });

  it("is the same bytes for any mesh, small: the seed, a canary and 1,000 services", () => {
    const seed = dashboardJson(meshDashboard(meshOf(undefined).topology));
    assert.equal(dashboardJson(meshDashboard(meshOf(CANARY_RAW).topology)), seed);
    const big = dashboardJson(meshDashboard(parseTopology(syntheticTopology(1000))));
    assert.equal(big, seed);
    // Was 35 MB (a row of six panels per edge) at 1,000 services; a ConfigMap holds 1 MiB.
    assert.ok(Buffer.byteLength(big) < 40_000, `${Buffer.byteLength(big)} bytes`);
  });

  it("passes its own check against the seed's and the canary's configs", () => {
    for (const raw of [undefined, CANARY_RAW]) {
      const { topology, metrics } = meshOf(raw);
      assert.deepEqual(dashboardProblems(meshDashboard(topology), metrics), []);
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
