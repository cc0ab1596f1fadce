import { strict as assert } from "node:assert";
import { exposedNames, prometheusName, type MeshMetrics } from "../../observability/metrics";
import { CANARY_RAW, meshOf } from "./fixtures";

const has = (metrics: MeshMetrics, name: string, labels: Record<string, string>) =>
  metrics.series.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe("observability/metrics: the series Envoy exposes for the rendered configs", () => {
  it("names stats as Envoy's Prometheus output does: envoy_ + the tag-extracted name, sanitized; a histogram as _bucket, _sum, _count", () => {
    assert.equal(prometheusName("cluster.upstream_rq_total"), "envoy_cluster_upstream_rq_total");
    assert.equal(prometheusName("cluster.circuit_breakers.default.rq_open"), "envoy_cluster_circuit_breakers_default_rq_open");
    assert.deepEqual(exposedNames("envoy_cluster_upstream_rq_time", "histogram"), [
      "envoy_cluster_upstream_rq_time_bucket",
      "envoy_cluster_upstream_rq_time_sum",
      "envoy_cluster_upstream_rq_time_count",
    ]);
  });

  it("gives each proxy's clusters (CDS file and bootstrap) their cluster stats, tagged with the cluster and the proxy", () => {
    const { metrics } = meshOf(undefined);
    const a = metrics.proxies.find((p) => p.proxy === "service-a");
    assert.deepEqual(a?.clusters, ["admin", "local_app", "upstream_service_b", "upstream_service_c"]);
    assert.ok(has(metrics, "envoy_cluster_upstream_rq_total", { mesh_proxy: "service-a", envoy_cluster_name: "upstream_service_b" }));
    assert.ok(has(metrics, "envoy_cluster_upstream_rq_xx", { mesh_proxy: "front-envoy", envoy_cluster_name: "upstream_service_a", envoy_response_code_class: "5" }));
    assert.ok(has(metrics, "envoy_cluster_upstream_rq_time_bucket", { envoy_cluster_name: "upstream_service_c" }));
    assert.ok(has(metrics, "envoy_cluster_circuit_breakers_default_rq_open", { envoy_cluster_name: "admin" }));
    // Service B calls nobody: it has no upstream cluster, so no series names one.
    assert.ok(!has(metrics, "envoy_cluster_upstream_rq_total", { mesh_proxy: "service-b", envoy_cluster_name: "upstream_service_c" }));
  });

  it("has outlier detection stats only for clusters that configure it", () => {
    const { metrics } = meshOf(undefined);
    assert.ok(has(metrics, "envoy_cluster_outlier_detection_ejections_active", { mesh_proxy: "service-a", envoy_cluster_name: "upstream_service_b" }));
    assert.ok(!has(metrics, "envoy_cluster_outlier_detection_ejections_active", { envoy_cluster_name: "local_app" }));
    assert.ok(!has(metrics, "envoy_cluster_outlier_detection_ejections_active", { envoy_cluster_name: "admin" }));
  });

  it("tags HTTP connection manager stats with their stat prefix (LDS and bootstrap listeners), RDS stats with the route configuration too", () => {
    const { metrics } = meshOf(undefined);
    assert.deepEqual(metrics.proxies.find((p) => p.proxy === "service-a")?.hcmPrefixes, ["egress_service_b", "egress_service_c", "health", "ingress"]);
    assert.ok(has(metrics, "envoy_http_downstream_rq_xx", { mesh_proxy: "front-envoy", envoy_http_conn_manager_prefix: "front_tls", envoy_response_code_class: "5" }));
    assert.ok(has(metrics, "envoy_http_rds_update_rejected", { envoy_http_conn_manager_prefix: "egress_service_b", envoy_rds_route_config: "egress_service_b" }));
    // The health listener's routes are inline in the bootstrap: no RDS subscription.
    assert.ok(!has(metrics, "envoy_http_rds_update_rejected", { envoy_http_conn_manager_prefix: "health" }));
  });

  it("has every proxy's LDS/CDS subscription and server stats, certificate expiry included", () => {
    const { metrics } = meshOf(undefined);
    for (const proxy of ["front-envoy", "service-a", "service-b", "service-c"]) {
      assert.ok(has(metrics, "envoy_listener_manager_lds_update_rejected", { mesh_proxy: proxy }), proxy);
      assert.ok(has(metrics, "envoy_cluster_manager_cds_update_rejected", { mesh_proxy: proxy }), proxy);
      assert.ok(has(metrics, "envoy_server_days_until_first_cert_expiring", { mesh_proxy: proxy }), proxy);
    }
  });

  it("has one cluster per version of a versioned callee, and none under the service's own name", () => {
    const { metrics } = meshOf(CANARY_RAW);
    assert.deepEqual(metrics.proxies.find((p) => p.proxy === "service-a")?.clusters, ["admin", "local_app", "upstream_service_b_v1", "upstream_service_b_v2", "upstream_service_c"]);
    assert.ok(!has(metrics, "envoy_cluster_upstream_rq_total", { envoy_cluster_name: "upstream_service_b" }));
  });

  it("keeps the series as label sets per family, shared by the family's names: the same series, name by name, as one object per series", () => {
    for (const raw of [undefined, CANARY_RAW]) {
      const { metrics } = meshOf(raw);
      const key = (labels: Readonly<Record<string, string>>) => JSON.stringify(Object.entries(labels).sort());
      const fromSeries = new Map<string, string[]>();
      for (const s of metrics.series) fromSeries.set(s.name, [...(fromSeries.get(s.name) ?? []), key(s.labels)]);
      assert.deepEqual([...metrics.labelSets.keys()].sort(), [...metrics.names.keys()]);
      assert.deepEqual([...fromSeries.keys()].sort(), [...metrics.names.keys()]);
      for (const [name, sets] of metrics.labelSets) assert.deepEqual(sets.map(key).sort(), fromSeries.get(name)?.sort(), name);
    }
    const { metrics } = meshOf(undefined);
    // The counts the model had when it made one object per series.
    assert.deepEqual(metrics.proxies.map((p) => [p.proxy, p.series.length]), [["front-envoy", 181], ["service-a", 313], ["service-b", 147], ["service-c", 147]]);
    assert.equal(metrics.series.length, 788);
    assert.equal(metrics.labelSets.get("envoy_cluster_upstream_rq_total"), metrics.labelSets.get("envoy_cluster_circuit_breakers_high_remaining_rq"));
  });
});
