import { strict as assert } from "node:assert";
import { parsePromql } from "../../../checks/observability/promql";

describe("checks/observability/promql: the selectors of a PromQL expression", () => {
  it("finds every selector with its matchers and range, through aggregations, functions and operators", () => {
    const { type, selectors } = parsePromql(
      'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="1",y=~"b|c"}[$__rate_interval]))) / on(z) group_left sum without (i) (b{q!="w\\"x"} offset 5m) > bool 0.5 or -c',
    );
    assert.equal(type, "vector");
    assert.deepEqual(
      selectors.map((s) => [s.metric, s.matchers.map((m) => `${m.label}${m.op}${m.value}`), s.range, s.text]),
      [
        ["a_bucket", ["x=1", "y=~b|c"], "$__rate_interval", 'a_bucket{x="1",y=~"b|c"}[$__rate_interval]'],
        ["b", ['q!=w"x'], undefined, 'b{q!="w\\"x"}'],
        ["c", [], undefined, "c"],
      ],
    );
  });

  it("reads real-world expressions nobody here wrote (Prometheus' rule format test data, a common Envoy alert)", () => {
    for (const expr of [
      "sum without(instance) (rate(errors_total[5m]))\n/\nsum without(instance) (rate(requests_total[5m]))",
      "envoy_server_days_until_first_cert_expiring < 0",
      "topk(5, sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total[1h30m])))",
      "1",
    ]) {
      assert.doesNotThrow(() => parsePromql(expr), expr);
    }
  });

  for (const [what, expr, message] of [
    ["an unknown function", "rat(a[5m])", /unknown function/],
    ["rate of an instant vector", "rate(a)", /argument 1 of rate must be a range/],
    ["a selector without a metric name", '{envoy_cluster_name="x"}', /without a metric name/],
    ["an unterminated string", 'a{x="1}', /unterminated/],
    ["a bad duration", "rate(a[5x])", /expected a range duration|unexpected/],
    ["an unknown Grafana variable", "rate(a[$__rate])", /unknown Grafana variable/],
    ["an unquoted label value", "a{x=1}", /quoted label value/],
    ["trailing garbage", "sum(a) )", /unexpected token/],
    ["a bad regex", 'a{x=~"("}', /bad regular expression/],
    ["and between scalars", "1 and 2", /needs vectors/],
  ] as const) {
    it(`refuses ${what}, saying where`, () => {
      assert.throws(() => parsePromql(expr), message);
    });
  }
});

describe("checks/observability/promql: the labels of an expression's result, as Prometheus evaluates it", () => {
  // Every metric's series carry `a`, `b` and `le` here.
  const labelsOf = () => new Set(["a", "b", "le"]);
  const labels = (expr: string) => [...parsePromql(expr).labels(labelsOf)].sort();
  for (const [expr, expected] of [
    ["m", ["__name__", "a", "b", "le"]],
    ["rate(m[5m])", ["a", "b", "le"]],
    ["sum(m)", []],
    ["sum by (a) (m)", ["a"]],
    ["sum without (a) (m)", ["b", "le"]],
    ["topk(3, m)", ["__name__", "a", "b", "le"]],
    ["histogram_quantile(0.9, sum by (le, a) (rate(m[5m])))", ["a"]],
    ["sum by (a, b) (m) / sum by (a, b) (n)", ["a", "b"]],
    ["m > 1", ["__name__", "a", "b", "le"]],
    ["m > bool 1", ["a", "b", "le"]],
    ["2 * m", ["a", "b", "le"]],
    ["m / on (a) n", ["a"]],
    ["m / ignoring (b) n", ["a", "le"]],
    ["sum by (a) (m) * on (a) group_left (c) n", ["a", "c"]],
    ["sum by (a) (m) or sum by (b) (n)", []],
    ["sum by (a, b) (m) and sum by (b) (n)", ["a", "b"]],
    ["absent(m)", []],
  ] as const) {
    it(`${expr} carries ${expected.length === 0 ? "no labels" : expected.join(", ")}`, () => {
      assert.deepEqual(labels(expr), expected);
    });
  }
});
