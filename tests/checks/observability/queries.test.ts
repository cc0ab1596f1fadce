import { strict as assert } from "node:assert";
import { dashboardProblems, observabilityProblems, queryProblems, ruleFileProblems } from "../../../checks/observability/queries";
import { alertRulesYaml, meshAlertRules } from "../../../observability/alerts";
import { meshDashboard, type GrafanaDashboard } from "../../../observability/dashboard";
import { CANARY_RAW, meshOf } from "../../observability/fixtures";

/** The seed dashboard with one target's expression replaced. */
function withExpr(dashboard: GrafanaDashboard, panelId: number, expr: string): GrafanaDashboard {
  return { ...dashboard, panels: dashboard.panels.map((p) => (p.id === panelId ? { ...p, targets: [{ ...p.targets![0], expr }] } : p)) };
}

describe("checks/observability/queries: what the dashboard and rules query exists in the rendered configs", () => {
  it("passes the dashboard and rules of the seed mesh and of a canary mesh", () => {
    for (const raw of [undefined, CANARY_RAW]) {
      const { topology, metrics } = meshOf(raw);
      assert.deepEqual(observabilityProblems(meshDashboard(topology), alertRulesYaml(meshAlertRules(topology)), metrics), []);
    }
  });

  it("fails a typo'd metric name, naming the panel, the selector and the likely name", () => {
    const { topology, metrics } = meshOf(undefined);
    const dashboard = withExpr(meshDashboard(topology), 2, 'sum(rate(envoy_cluster_upstream_rq_totl{mesh_proxy="front-envoy",envoy_cluster_name="upstream_service_a"}[5m]))');
    const problems = dashboardProblems(dashboard, metrics);
    assert.equal(problems.length, 1);
    assert.equal(
      problems[0].path,
      'dashboard panel 2 "Which edges are bad (whole mesh, now) / Highest 5xx ratio (top 10 edges)" target A selector envoy_cluster_upstream_rq_totl{mesh_proxy="front-envoy",envoy_cluster_name="upstream_service_a"}[5m]',
    );
    assert.match(problems[0].message, /metric envoy_cluster_upstream_rq_totl is not exposed by any rendered Envoy config \(did you mean envoy_cluster_upstream_rq_total\?\)/);
  });

  it("fails a cluster no config has, and a cluster the named proxy does not have, listing what that proxy has", () => {
    const { topology, metrics } = meshOf(undefined);
    const dashboard = meshDashboard(topology);
    const unknown = queryProblems([{ where: "panel X", expr: 'sum(envoy_cluster_upstream_rq_total{envoy_cluster_name="upstream_service_d"})' }], metrics);
    assert.equal(unknown.length, 1);
    assert.match(unknown[0].path, /^panel X selector envoy_cluster_upstream_rq_total\{envoy_cluster_name="upstream_service_d"\}$/);
    assert.match(unknown[0].message, /envoy_cluster_name="upstream_service_d" matches no series of envoy_cluster_upstream_rq_total \(the rendered configs have envoy_cluster_name: admin, local_app, upstream_service_a, upstream_service_b, upstream_service_c\)/);
    // Service B's cluster exists, but on service A's Envoy, not the front's.
    const wrongProxy = dashboardProblems(withExpr(dashboard, 2, 'sum(envoy_cluster_upstream_rq_total{mesh_proxy="front-envoy",envoy_cluster_name="upstream_service_b"})'), metrics);
    assert.equal(wrongProxy.length, 1);
    assert.match(wrongProxy[0].message, /envoy_cluster_name="upstream_service_b" matches no series of envoy_cluster_upstream_rq_total on front-envoy, which has envoy_cluster_name: admin, upstream_service_a; did you mean "upstream_service_a"\?/);
  });

  it("fails a versioned callee queried under the service's own cluster name", () => {
    const { metrics } = meshOf(CANARY_RAW);
    const problems = queryProblems([{ where: "rule R", expr: 'sum(envoy_cluster_outlier_detection_ejections_active{mesh_proxy="service-a",envoy_cluster_name="upstream_service_b"}) > 0' }], metrics);
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /upstream_service_b_v1, upstream_service_b_v2/);
  });

  it("fails ejections of a cluster without outlier detection, a label the metric does not have, and a typo in a regex alternative", () => {
    const { metrics } = meshOf(undefined);
    const problems = queryProblems(
      [
        { where: "a", expr: 'envoy_cluster_outlier_detection_ejections_active{mesh_proxy="service-a",envoy_cluster_name="local_app"}' },
        { where: "b", expr: 'envoy_server_live{envoy_cluster_name="admin"}' },
        { where: "c", expr: 'envoy_server_live{mesh_proxy=~"service-a|service-x"}' },
        { where: "d", expr: 'envoy_cluster_upstream_rq_total{le="1"}' },
      ],
      metrics,
    );
    assert.deepEqual(
      problems.map((p) => p.path.split(" ")[0]),
      ["a", "b", "c", "d"],
    );
    assert.match(problems[0].message, /local_app" matches no series of envoy_cluster_outlier_detection_ejections_active on service-a, which has envoy_cluster_name: upstream_service_b, upstream_service_c/);
    assert.match(problems[1].message, /envoy_server_live has no label envoy_cluster_name/);
    assert.match(problems[2].message, /mesh_proxy=~"service-a\|service-x": "service-x" matches no series of envoy_server_live \(the rendered configs have mesh_proxy: front-envoy, service-a, service-b, service-c\)/);
    assert.match(problems[3].message, /has no label le/);
  });

  it("accepts the labels a scrape adds and histogram buckets' le", () => {
    const { metrics } = meshOf(undefined);
    assert.deepEqual(queryProblems([{ where: "a", expr: 'envoy_cluster_upstream_rq_time_bucket{le="+Inf",pod!="",namespace="mesh"}' }], metrics), []);
  });

  it("reports a query it cannot parse instead of skipping it", () => {
    const { metrics } = meshOf(undefined);
    const [problem] = queryProblems([{ where: "rule Z", expr: "sum(rate(envoy_server_live[5m])" }], metrics);
    assert.equal(problem.path, "rule Z");
    assert.match(problem.message, /cannot parse/);
  });
});

describe("checks/observability/queries: the rule file's structure, as Prometheus loads it", () => {
  it("accepts Prometheus' own example rule file (model/rulefmt/testdata/test.yaml, less a field Prometheus does not know)", () => {
    const file = [
      "groups:",
      "  - name: my-group-name",
      "    interval: 30s",
      "    rules:",
      "      - alert: HighErrors",
      "        expr: |",
      "          sum without(instance) (rate(errors_total[5m]))",
      "          /",
      "          sum without(instance) (rate(requests_total[5m]))",
      "        for: 5m",
      "        labels:",
      "          severity: critical",
      "        annotations:",
      "          description: \"stuff's happening with {{ $.labels.service }}\"",
      "      - record: \"new_metric\"",
      "        expr: |",
      "          sum without(instance) (rate(errors_total[5m]))",
      "        labels:",
      "          abc: edf",
    ].join("\n");
    assert.deepEqual(ruleFileProblems(file), []);
  });

  for (const [what, file, message] of [
    ["a misspelt field (bad_field.bad.yaml)", "groups:\n  - name: yolo\n    rules:\n      - alert: hola\n        expr: 1\n        annotation:\n          summary: x\n", /groups\[0\]\.rules\[0\]\.annotation: unknown field/],
    ["a recording rule with for (record_and_for.bad.yaml)", "groups:\n  - name: yolo\n    rules:\n      - record: Hello\n        expr: 1\n        for: 1m\n", /invalid field 'for' in recording rule/],
    ["a repeated group name (duplicate_grp.bad.yaml)", "groups:\n  - name: yolo\n  - name: yolo\n", /group name "yolo" is repeated/],
    ["a rule both alert and record", "groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: up\n", /only one of 'record' and 'alert'/],
    ["a for that is not a duration", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: 5 minutes\n", /rules\[0\]\.for: must be a Prometheus duration/],
    ["an expression that does not parse", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(up\n", /could not parse expression/],
    ["an annotation using an undefined template variable", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          summary: '{{ $foo }}'\n", /template variable \$foo/],
  ] as const) {
    it(`refuses ${what}`, () => {
      const problems = ruleFileProblems(file);
      assert.ok(problems.some((p) => message.test(`${p.path}: ${p.message}`)), JSON.stringify(problems));
    });
  }
});

describe("checks/observability/queries: the indexed check reports what it reported over one object per series", () => {
  // Each message below is what the check said before the series were kept as label sets per
  // family and indexed once per family (same mesh, same queries).
  const cases: readonly [string, string, readonly string[]][] = [
    ["a metric no config exposes", 'sum(rate(envoy_cluster_upstream_rq_totl{mesh_proxy="front-envoy"}[5m]))', ["metric envoy_cluster_upstream_rq_totl is not exposed by any rendered Envoy config (did you mean envoy_cluster_upstream_rq_total?)"]],
    [
      "a cluster no config has",
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="upstream_service_d"}',
      ['envoy_cluster_name="upstream_service_d" matches no series of envoy_cluster_upstream_rq_total (the rendered configs have envoy_cluster_name: admin, local_app, upstream_service_a, upstream_service_b_v1, upstream_service_b_v2, upstream_service_c); did you mean "upstream_service_a"?'],
    ],
    [
      "a cluster of another proxy",
      'envoy_cluster_upstream_rq_total{mesh_proxy="front-envoy",envoy_cluster_name="upstream_service_b_v1"}',
      ['envoy_cluster_name="upstream_service_b_v1" matches no series of envoy_cluster_upstream_rq_total on front-envoy, which has envoy_cluster_name: admin, upstream_service_a, upstream_service_c; did you mean "upstream_service_a"?'],
    ],
    [
      "a missing alternative of a regex (tested as a set)",
      'envoy_server_live{mesh_proxy=~"service-a|service-x|front-envoy"}',
      ['mesh_proxy=~"service-a|service-x|front-envoy": "service-x" matches no series of envoy_server_live (the rendered configs have mesh_proxy: front-envoy, service-a, service-b, service-c)'],
    ],
    [
      "an escaped metacharacter in an alternative",
      'envoy_server_live{mesh_proxy=~"service\\\\.a|front-envoy"}',
      ['mesh_proxy=~"service\\.a|front-envoy": "service.a" matches no series of envoy_server_live (the rendered configs have mesh_proxy: front-envoy, service-a, service-b, service-c)'],
    ],
    [
      "a missing alternative among one proxy's series",
      'envoy_cluster_upstream_rq_total{mesh_proxy="service-a",envoy_cluster_name=~"upstream_service_b_v2|upstream_service_x"}',
      ['envoy_cluster_name=~"upstream_service_b_v2|upstream_service_x": "upstream_service_x" matches no series of envoy_cluster_upstream_rq_total on service-a, which has envoy_cluster_name: admin, local_app, upstream_service_b_v1, upstream_service_b_v2, upstream_service_c'],
    ],
    [
      "a regex matching nothing among one proxy's series",
      'envoy_cluster_upstream_rq_total{mesh_proxy="service-a",envoy_cluster_name=~"zz.*"}',
      ['envoy_cluster_name=~"zz.*": "zz.*" matches no series of envoy_cluster_upstream_rq_total on service-a, which has envoy_cluster_name: admin, local_app, upstream_service_b_v1, upstream_service_b_v2, upstream_service_c'],
    ],
    [
      "a value missing among the series a regex selected",
      'envoy_cluster_upstream_rq_total{mesh_proxy=~"service-.",envoy_cluster_name="upstream_service_a"}',
      ['envoy_cluster_name="upstream_service_a" matches no series of envoy_cluster_upstream_rq_total (the rendered configs have envoy_cluster_name: admin, local_app, upstream_service_b_v1, upstream_service_b_v2, upstream_service_c); did you mean "upstream_service_c"?'],
    ],
    [
      "labels a metric does not have, even beside scrape labels and a negative matcher",
      'envoy_server_live{envoy_cluster_name="admin",le="1",pod="p",job!="x"}',
      ["envoy_server_live has no label envoy_cluster_name (its labels: instance, job, mesh_proxy, namespace, pod)", "envoy_server_live has no label le (its labels: instance, job, mesh_proxy, namespace, pod)"],
    ],
    ["a label unknown to the metric in a negative matcher", 'envoy_cluster_upstream_rq_total{mesh_proxy!="nobody",foo!="1"}', ["envoy_cluster_upstream_rq_total has no label foo (its labels: envoy_cluster_name, instance, job, mesh_proxy, namespace, pod)"]],
    [
      "a stat prefix of another proxy",
      'envoy_http_downstream_rq_xx{mesh_proxy="service-b",envoy_http_conn_manager_prefix="egress_service_c"}',
      ['envoy_http_conn_manager_prefix="egress_service_c" matches no series of envoy_http_downstream_rq_xx on service-b, which has envoy_http_conn_manager_prefix: health, ingress'],
    ],
    [
      "a cluster without outlier detection among ejection series",
      'envoy_cluster_outlier_detection_ejections_active{envoy_cluster_name=~"local_app|upstream_service_c"}',
      ['envoy_cluster_name=~"local_app|upstream_service_c": "local_app" matches no series of envoy_cluster_outlier_detection_ejections_active (the rendered configs have envoy_cluster_name: upstream_service_a, upstream_service_b_v1, upstream_service_b_v2, upstream_service_c)'],
    ],
    ["series that exist: a bucket with le and scrape labels, negative matchers", 'envoy_cluster_upstream_rq_time_bucket{le="+Inf",namespace="mesh",mesh_proxy="service-a",envoy_cluster_name="local_app",job!~"x.*"}', []],
  ];
  for (const [what, expr, messages] of cases) {
    it(`reports ${what}`, () => {
      const problems = queryProblems([{ where: "q", expr }], meshOf(CANARY_RAW).metrics);
      assert.deepEqual(problems.map((p) => p.message), messages);
      assert.ok(problems.every((p) => p.path.startsWith("q selector ")));
    });
  }

  it("reports a selector checked before again at its own place, and each metric of a family by its own name", () => {
    const { metrics } = meshOf(undefined);
    const wrong = 'envoy_cluster_upstream_rq_total{mesh_proxy="service-x"}';
    const problems = queryProblems(
      [
        { where: "first", expr: `${wrong} + rate(${wrong}[5m])` },
        { where: "second", expr: wrong },
        // A counter and a gauge of the cluster family: one index, two metrics.
        { where: "third", expr: 'envoy_cluster_upstream_cx_active{mesh_proxy="service-x"}' },
      ],
      metrics,
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      [`first selector ${wrong}`, `first selector ${wrong}[5m]`, `second selector ${wrong}`, 'third selector envoy_cluster_upstream_cx_active{mesh_proxy="service-x"}'],
    );
    assert.match(problems[3].message, /matches no series of envoy_cluster_upstream_cx_active /);
  });

  it("reports every rule that repeats a wrong expression, each at its own index (rules are parsed once for both checks)", () => {
    const { topology, metrics } = meshOf(undefined);
    const rule = (alert: string) => `      - alert: ${alert}\n        expr: envoy_server_live{mesh_proxy="service-x"} < 1\n`;
    const rules = `groups:\n  - name: g\n    rules:\n${rule("A")}${rule("B")}`;
    const problems = observabilityProblems(meshDashboard(topology), rules, metrics);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['rule group "g" rule 1 "A" selector envoy_server_live{mesh_proxy="service-x"}', 'rule group "g" rule 2 "B" selector envoy_server_live{mesh_proxy="service-x"}'],
    );
    const broken = `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(up\n      - alert: B\n        expr: sum(up\n`;
    assert.deepEqual(
      observabilityProblems(meshDashboard(topology), broken, metrics).map((p) => `${p.path}: ${p.message.split(":")[0]}`),
      ["prometheus-rules.yaml: groups[0].rules[0].expr: could not parse expression", "prometheus-rules.yaml: groups[0].rules[1].expr: could not parse expression"],
    );
  });

  it("passes the canary's dashboard and rules against the configs of the mesh before it: they name no edge (they were 54 problems when they had a row and rules per edge)", () => {
    const { topology } = meshOf(CANARY_RAW);
    assert.deepEqual(observabilityProblems(meshDashboard(topology), alertRulesYaml(meshAlertRules(topology)), meshOf(undefined).metrics), []);
  });
});

describe("checks/observability/queries: the dashboard's template variables, checked by the values they can hold", () => {
  type Variable = Record<string, unknown> & { name: string };
  const base = () => meshDashboard(meshOf(undefined).topology);
  const withVariables = (dashboard: GrafanaDashboard, change: (list: Variable[]) => Variable[]): GrafanaDashboard => ({
    ...dashboard,
    templating: { list: change([...((dashboard.templating as unknown as { list: Variable[] }).list)]) as never },
  });
  const replaceQuery = (name: string, query: string) => (list: Variable[]) => list.map((v) => (v.name === name ? { ...v, query, definition: query } : v));
  const check = (dashboard: GrafanaDashboard) => dashboardProblems(dashboard, meshOf(undefined).metrics);

  it("reports a variable whose label_values reads a metric nobody exposes, or a label its metric does not have", () => {
    const typo = check(withVariables(base(), replaceQuery("caller", 'label_values(envoy_cluster_upstream_rq_totl{envoy_cluster_name=~"upstream_.*"}, mesh_proxy)')));
    assert.deepEqual(typo.map((p) => p.path), ['dashboard variable "caller" selector envoy_cluster_upstream_rq_totl{envoy_cluster_name=~"upstream_.*"}']);
    assert.match(typo[0].message, /metric envoy_cluster_upstream_rq_totl is not exposed by any rendered Envoy config \(did you mean envoy_cluster_upstream_rq_total\?\)/);
    const label = check(withVariables(base(), replaceQuery("cluster", "label_values(envoy_server_live, envoy_cluster_name)")));
    assert.deepEqual(label, [{ path: 'dashboard variable "cluster"', message: "label_values reads label envoy_cluster_name, which envoy_server_live does not have (its labels: mesh_proxy)" }]);
    const cluster = check(withVariables(base(), replaceQuery("cluster", 'label_values(envoy_cluster_upstream_rq_total{mesh_proxy=~"$caller",envoy_cluster_name=~"upstream_x.*"}, envoy_cluster_name)')));
    assert.equal(cluster.length, 1);
    assert.match(cluster[0].message, /envoy_cluster_name=~"upstream_x\.\*": "upstream_x\.\*" matches no series of envoy_cluster_upstream_rq_total/);
    const other = check(withVariables(base(), replaceQuery("caller", "query_result(up)")));
    assert.match(other[0].message, /only query variables of the form label_values/);
  });

  it("reports a query using an undefined variable, a variable of another label, or a variable inside a larger value", () => {
    const { metrics } = meshOf(undefined);
    const expr = (matcher: string) => meshDashboard(meshOf(undefined).topology).panels.map((p) => (p.id === 7 ? { ...p, targets: [{ ...p.targets![0], expr: `sum by (mesh_proxy, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total{${matcher}}[5m]))` }] } : p));
    const problems = (matcher: string) => dashboardProblems({ ...base(), panels: expr(matcher) }, metrics).map((p) => p.message);
    assert.deepEqual(problems('mesh_proxy=~"$nobody"'), ['mesh_proxy=~"$nobody": no dashboard variable nobody is defined']);
    assert.deepEqual(problems('envoy_cluster_name=~"$caller"'), ['envoy_cluster_name=~"$caller": variable caller holds mesh_proxy values, not envoy_cluster_name values']);
    assert.deepEqual(problems('mesh_proxy=~"${datasource}"'), ['mesh_proxy=~"${datasource}": variable datasource holds a data source, not mesh_proxy values']);
    assert.deepEqual(problems('mesh_proxy=~"front-$caller"'), ['mesh_proxy=~"front-$caller": a variable must be the whole value (the check substitutes a variable\'s values, not text around it)']);
    // Any exposed value: a variable is accepted as `$x`, `${x}` and `[[x]]`, on a label the metric has.
    assert.deepEqual(problems('mesh_proxy=~"${caller}",envoy_cluster_name=~"[[cluster]]"'), []);
    assert.deepEqual(problems('pod=~"$caller"'), ["pod=~\"$caller\": variable caller holds mesh_proxy values, not pod values"]);
  });

  it("still reports a metric or label nobody exposes in a query with variables, with its path", () => {
    const { metrics } = meshOf(undefined);
    const dashboard = base();
    const panels = dashboard.panels.map((p) => (p.id === 7 ? { ...p, targets: [{ ...p.targets![0], expr: 'sum by (mesh_proxy) (rate(envoy_cluster_upstream_rq_totl{mesh_proxy=~"$caller"}[5m]))' }] } : p));
    const problems = dashboardProblems({ ...dashboard, panels }, metrics);
    assert.deepEqual(problems.map((p) => p.path), ['dashboard panel 7 "Selected edges: $caller / $cluster / Request rate" target A selector envoy_cluster_upstream_rq_totl{mesh_proxy=~"$caller"}[5m]']);
    const label = dashboardProblems({ ...dashboard, panels: dashboard.panels.map((p) => (p.id === 7 ? { ...p, targets: [{ ...p.targets![0], expr: 'envoy_server_live{envoy_cluster_name=~"$cluster"}' }] } : p)) }, metrics);
    assert.deepEqual(label.map((p) => p.message), ["envoy_server_live has no label envoy_cluster_name (its labels: instance, job, mesh_proxy, namespace, pod)"]);
  });

  it("reports a dashboard variable in a rule (rules have none) and a panel repeated over no variable", () => {
    const { topology, metrics } = meshOf(undefined);
    const rules = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: envoy_server_live{mesh_proxy=~"$caller"} < 1\n';
    assert.deepEqual(observabilityProblems(meshDashboard(topology), rules, metrics).map((p) => p.message), ['mesh_proxy=~"$caller": no dashboard variable caller is defined (rules have no variables)']);
    const dashboard = base();
    const repeated = { ...dashboard, panels: dashboard.panels.map((p) => (p.id === 6 ? { ...p, repeat: "edge" } : p)) };
    assert.deepEqual(dashboardProblems(repeated, metrics), [{ path: "dashboard panel 6 repeat", message: 'repeats over "edge", which is no variable of the dashboard (datasource, caller, cluster)' }]);
  });
});

describe("checks/observability/queries: templates read only labels their expression's result carries", () => {
  const { metrics } = meshOf(undefined);
  const alert = (expr: string, annotations: Record<string, string>, labels: Record<string, string> = {}) => ({ groups: [{ name: "g", rules: [{ alert: "A", expr, labels, annotations }] }] });

  it("reports an alert annotation or label reading a label the aggregation dropped, at its field", () => {
    const rules = alert('sum by (mesh_proxy, envoy_cluster_name) (envoy_cluster_outlier_detection_ejections_active{mesh_proxy!=""}) > 0', { summary: "{{ $labels.mesh_proxy }} → {{ $labels.callee }}", description: '{{ index $labels "pod" }}' }, { edge: "{{ $labels.envoy_cluster_name }}" });
    const problems = observabilityProblems(meshDashboard(meshOf(undefined).topology), rules, metrics);
    assert.deepEqual(problems.map((p) => p.path), ['rule group "g" rule 1 "A" annotations.summary', 'rule group "g" rule 1 "A" annotations.description']);
    assert.match(problems[0].message, /reads label callee, which the result of .* does not carry \(it carries: envoy_cluster_name, mesh_proxy\)/);
    assert.match(problems[1].message, /reads label pod/);
  });

  it("accepts the labels a plain selector's series carry (the scrape's too), and reports what sum without by leaves none of", () => {
    const ok = alert('envoy_server_live{mesh_proxy!=""} < 1', { summary: "{{ $labels.pod }} of {{ $labels.mesh_proxy }} in {{ $labels.namespace }}" });
    assert.deepEqual(observabilityProblems(meshDashboard(meshOf(undefined).topology), ok, metrics), []);
    const none = alert('sum(envoy_server_live{mesh_proxy!=""}) < 1', { summary: "{{ $labels.mesh_proxy }}" });
    assert.deepEqual(observabilityProblems(meshDashboard(meshOf(undefined).topology), none, metrics).map((p) => p.message.replace(/of ".*"/, "of …")), ["reads label mesh_proxy, which the result of … does not carry (it carries: no labels)"]);
  });

  it("reports a panel legend naming a label its query's result does not carry", () => {
    const problems = queryProblems([{ where: "panel", expr: 'histogram_quantile(0.99, sum by (le, mesh_proxy) (rate(envoy_cluster_upstream_rq_time_bucket{mesh_proxy="service-a"}[5m])))', templates: [{ field: "legend", text: "{{mesh_proxy}} {{le}} {{ envoy_cluster_name }}", kind: "legend" }] }], metrics);
    assert.deepEqual(problems.map((p) => [p.path, p.message.split(",")[0]]), [
      ["panel legend", "reads label le"],
      ["panel legend", "reads label envoy_cluster_name"],
    ]);
  });
});
