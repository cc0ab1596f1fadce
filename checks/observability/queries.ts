/**
 * Checks what the dashboard and the alert rules query against what the mesh's Envoys expose:
 * every metric name is one the rendered configs produce (observability/metrics.ts), every label
 * a query matches on is one that metric has, and every `=` or `=~` on the proxy, cluster, stat
 * prefix, response code class or route configuration names a value the configs really have,
 * together (the cluster on that proxy). The dashboard's template variables are checked by what
 * they can hold: a variable's own `label_values(<selector>, <label>)` query must name an exposed
 * metric and label, and a matcher `label=~"$variable"` matches any exposed value of that label
 * (the variable must hold that label's values). Every label a legend or an alert's template reads
 * must be one its expression's result carries. Also checks the rule file the way Prometheus
 * loads one (model/rulefmt/rulefmt.go in prometheus/prometheus). Every problem names the panel,
 * variable or rule and the selector or field.
 */
import { load } from "js-yaml";
import type { RuleFile } from "../../observability/alerts";
import type { GrafanaDashboard } from "../../observability/dashboard";
import { BUCKET_LABEL, PROXY_LABEL, SCRAPE_LABELS, type LabelSet, type MeshMetrics } from "../../observability/metrics";
import type { ConfigIssue } from "../../topology/reader";
import { isPlainObject, show } from "../../topology/reader";
import { suggest } from "../suggest";
import { isPromDuration, parsePromql, PromqlError, type LabelMatcher, type ResultLabels, type Selector } from "./promql";

/** A template in a legend or an alert's labels and annotations, and the labels it reads. */
export interface QueryTemplate {
  /** Where, after the query's own place: `legend`, `annotations.summary`. */
  readonly field: string;
  readonly text: string;
  readonly kind: "legend" | "alert";
}

/** One PromQL expression and where it is, for messages. */
export interface QuerySource {
  readonly where: string;
  readonly expr: string;
  /** Templates that read the labels of this expression's result. */
  readonly templates?: readonly QueryTemplate[];
}

/** Every query of a dashboard: each target of each panel (rows' nested panels too), with its legend. */
export function dashboardQueries(dashboard: GrafanaDashboard): QuerySource[] {
  const sources: QuerySource[] = [];
  let row = "";
  const visit = (panels: readonly Record<string, unknown>[]) => {
    for (const panel of panels) {
      if (panel.type === "row") {
        row = String(panel.title);
        visit((panel.panels ?? []) as Record<string, unknown>[]);
        continue;
      }
      for (const target of (panel.targets ?? []) as { refId?: string; expr?: unknown; legendFormat?: unknown }[]) {
        const legend = typeof target.legendFormat === "string" && target.legendFormat !== "" ? [{ field: "legend", text: target.legendFormat, kind: "legend" as const }] : [];
        sources.push({
          where: `dashboard panel ${panel.id} "${row === "" ? "" : `${row} / `}${String(panel.title)}" target ${target.refId ?? "?"}`,
          expr: String(target.expr ?? ""),
          ...(legend.length > 0 ? { templates: legend } : {}),
        });
      }
    }
  };
  visit(dashboard.panels as unknown as Record<string, unknown>[]);
  return sources;
}

/** Every expression of a rule file (as loaded from YAML): `group "<g>" rule <n> "<alert>"`, with an alert's label and annotation templates. */
export function ruleQueries(rules: unknown): QuerySource[] {
  if (!isPlainObject(rules) || !Array.isArray(rules.groups)) return [];
  return rules.groups.flatMap((group: unknown) => {
    if (!isPlainObject(group) || !Array.isArray(group.rules)) return [];
    return group.rules.flatMap((rule: unknown, i: number) => {
      if (!isPlainObject(rule) || typeof rule.expr !== "string") return [];
      const templates: QueryTemplate[] =
        typeof rule.alert === "string"
          ? (["labels", "annotations"] as const).flatMap((key) => {
              const map = rule[key];
              return isPlainObject(map) ? Object.entries(map).flatMap(([k, v]) => (typeof v === "string" && v.includes("{{") ? [{ field: `${key}.${k}`, text: v, kind: "alert" as const }] : [])) : [];
            })
          : [];
      return [{ where: `rule group "${String(group.name)}" rule ${i + 1} "${String(rule.alert ?? rule.record)}"`, expr: rule.expr, ...(templates.length > 0 ? { templates } : {}) }];
    });
  });
}

/**
 * The series of one metric, indexed once per check: the labels whose values come from the configs
 * (Envoy's tags and the proxy: these are checked by value), and each label's series by value. A
 * selector's first equality matcher picks its series from the index, so a mesh of many edges is
 * not checked in time quadratic in its size. Metric names of one family share their label sets
 * (MeshMetrics.labelSets), and so one index, made when a query first names one of them.
 */
interface MetricIndex {
  readonly all: readonly LabelSet[];
  readonly keys: ReadonlySet<string>;
  readonly byLabel: ReadonlyMap<string, ReadonlyMap<string, readonly LabelSet[]>>;
}

function indexSeries(all: readonly LabelSet[]): MetricIndex {
  const byLabel = new Map<string, Map<string, LabelSet[]>>();
  for (const s of all) {
    for (const label in s) {
      const value = s[label];
      let byValue = byLabel.get(label);
      if (byValue === undefined) byLabel.set(label, (byValue = new Map()));
      const list = byValue.get(value);
      if (list === undefined) byValue.set(value, [s]);
      else list.push(s);
    }
  }
  return { all, keys: new Set(byLabel.keys()), byLabel };
}

/**
 * Whether a `=~` pattern matches a whole value, as `^(?:pattern)$`. The test of a plain `a|b|c`
 * (escaped metacharacters only) is membership in its alternatives, which is what that regex
 * matches; any other pattern is compiled once per check.
 */
type FullMatch = (value: string) => boolean;

function fullMatcher(pattern: string, memo: Map<string, FullMatch>): FullMatch {
  let test = memo.get(pattern);
  if (test === undefined) {
    const alts = alternatives(pattern);
    if (alts !== undefined) {
      const set = new Set(alts);
      test = (value) => set.has(value);
    } else {
      const regex = new RegExp(`^(?:${pattern})$`);
      test = (value) => regex.test(value);
    }
    memo.set(pattern, test);
  }
  return test;
}

/** The alternatives of a plain `a|b|c` regex (escaped metacharacters allowed), or undefined for any other regex. */
function alternatives(pattern: string): string[] | undefined {
  const parts = pattern.split("|");
  if (!parts.every((p) => /^(?:[^.*+?^${}()|[\]\\]|\\[.*+?^${}()|[\]\\])+$/.test(p))) return undefined;
  return parts.map((p) => p.replace(/\\(.)/g, "$1"));
}

function values(series: readonly LabelSet[], label: string): string[] {
  return [...new Set(series.map((s) => s[label]).filter((v): v is string => v !== undefined))].sort();
}

function listed(vs: readonly string[]): string {
  return vs.length <= 8 ? vs.join(", ") : `${vs.slice(0, 8).join(", ")}, ... (${vs.length})`;
}

/** The values a label has among `candidates`: from the index while nothing has narrowed them yet. */
function labelValues(index: MetricIndex, candidates: readonly LabelSet[], label: string): readonly string[] {
  return candidates === index.all ? [...(index.byLabel.get(label)?.keys() ?? [])].sort() : values(candidates, label);
}

/** A dashboard variable as the check knows it: the label whose values it holds (undefined: a data source variable). */
interface VariableValues {
  readonly label?: string;
}

/** What one check shares between its selectors: each family's index, each regex compiled, the dashboard's variables (none for rules). */
interface CheckState {
  readonly metrics: MeshMetrics;
  readonly indexes: Map<readonly LabelSet[], MetricIndex>;
  readonly patterns: Map<string, FullMatch>;
  variables?: ReadonlyMap<string, VariableValues>;
}

/** `$name`, `${name}` (or `${name:format}`) and `[[name]]`: how Grafana refers to a variable in a query. */
const VARIABLE_REFERENCE = /\$([a-zA-Z_]\w*)|\$\{([a-zA-Z_]\w*)(?::[^}]*)?\}|\[\[([a-zA-Z_]\w*)\]\]/g;

/**
 * A matcher's value that is a dashboard variable: what Grafana substitutes is one of the label's
 * values the variable's query found (or several as `a|b`), so it stands for any exposed value of
 * the label. A problem when the variable is unknown, holds another label's values, or is only
 * part of the value (the check could not say what the whole matches).
 */
function variableMatcher(m: LabelMatcher, state: CheckState): { problem?: string } | undefined {
  const refs = [...m.value.matchAll(VARIABLE_REFERENCE)];
  if (refs.length === 0) return undefined;
  const name = refs[0][1] ?? refs[0][2] ?? refs[0][3];
  if (refs.length > 1 || refs[0][0] !== m.value) return { problem: `${m.label}${m.op}"${m.value}": a variable must be the whole value (the check substitutes a variable's values, not text around it)` };
  const variable = state.variables?.get(name);
  if (variable === undefined) return { problem: `${m.label}${m.op}"${m.value}": no dashboard variable ${name} is defined${state.variables === undefined ? " (rules have no variables)" : ""}` };
  if (variable.label !== m.label) return { problem: `${m.label}${m.op}"${m.value}": variable ${name} holds ${variable.label === undefined ? "a data source" : `${variable.label} values`}, not ${m.label} values` };
  return {};
}

function indexOf(state: CheckState, metric: string): MetricIndex | undefined {
  const sets = state.metrics.labelSets.get(metric);
  if (sets === undefined) return undefined;
  let index = state.indexes.get(sets);
  if (index === undefined) state.indexes.set(sets, (index = indexSeries(sets)));
  return index;
}

function selectorProblems(selector: Pick<Selector, "metric" | "matchers">, state: CheckState): string[] {
  const { metrics } = state;
  const index = indexOf(state, selector.metric);
  if (index === undefined) {
    const hint = suggest(selector.metric, [...metrics.names.keys()]);
    return [`metric ${selector.metric} is not exposed by any rendered Envoy config${hint === undefined ? "" : ` (did you mean ${hint}?)`}`];
  }
  const problems: string[] = [];
  const { keys } = index;
  const histogramBucket = selector.metric.endsWith("_bucket") && metrics.names.get(selector.metric) === "histogram";
  let candidates = index.all;
  for (const m of selector.matchers) {
    // A variable stands for any exposed value of the label it holds: the series still selected are not narrowed.
    const variable = m.op === "=" || m.op === "=~" ? variableMatcher(m, state) : undefined;
    if (variable?.problem !== undefined) problems.push(variable.problem);
    if (!keys.has(m.label)) {
      if (SCRAPE_LABELS.includes(m.label) || (histogramBucket && m.label === BUCKET_LABEL)) continue;
      problems.push(`${selector.metric} has no label ${m.label} (its labels: ${listed([...keys, ...SCRAPE_LABELS, ...(histogramBucket ? [BUCKET_LABEL] : [])].sort())})`);
      continue;
    }
    if (m.op === "!=" || m.op === "!~") continue;
    if (variable !== undefined) continue;
    const matches = m.op === "=" ? (value: string) => value === m.value : fullMatcher(m.value, state.patterns);
    const problem = matcherProblem(m, index, candidates, selector.metric, matches);
    if (problem !== undefined) {
      problems.push(problem);
      continue;
    }
    candidates =
      m.op === "=" && candidates === index.all
        ? (index.byLabel.get(m.label)?.get(m.value) ?? [])
        : candidates.filter((s) => s[m.label] !== undefined && matches(s[m.label]));
  }
  return problems;
}

/** Why a `=` or `=~` matcher selects nothing among the series still selected, if it does not. */
function matcherProblem(m: LabelMatcher, index: MetricIndex, candidates: readonly LabelSet[], metric: string, matches: FullMatch): string | undefined {
  const has = (value: string) => (candidates === index.all ? index.byLabel.get(m.label)?.has(value) === true : candidates.some((s) => s[m.label] === value));
  const alts = m.op === "=" ? [m.value] : alternatives(m.value);
  // Each alternative of `a|b` must exist: a typo in one would silently drop its series.
  const missing = alts === undefined ? (labelValues(index, candidates, m.label).some(matches) ? [] : [m.value]) : alts.filter((a) => !has(a));
  if (missing.length === 0) return undefined;
  const known = labelValues(index, candidates, m.label);
  const proxies = labelValues(index, candidates, PROXY_LABEL);
  const scope = proxies.length === 1 && m.label !== PROXY_LABEL ? ` on ${proxies[0]}, which has ${m.label}: ${listed(known)}` : ` (the rendered configs have ${m.label}: ${listed(known)})`;
  if (m.op === "=") {
    const hint = suggest(m.value, known);
    return `${m.label}="${m.value}" matches no series of ${metric}${scope}${hint === undefined ? "" : `; did you mean "${hint}"?`}`;
  }
  return `${m.label}=~"${m.value}": ${missing.map((v) => `"${v}"`).join(", ")} matches no series of ${metric}${scope}`;
}

/** PromQL parsed once per expression text (a rule's is read twice: for the file's structure, then for its metrics). */
type Parse = (expr: string) => ReturnType<typeof parsePromql>;

function memoParse(): Parse {
  const memo = new Map<string, ReturnType<typeof parsePromql> | PromqlError>();
  return (expr) => {
    let result = memo.get(expr);
    if (result === undefined) {
      try {
        result = parsePromql(expr);
      } catch (error) {
        if (!(error instanceof PromqlError)) throw error;
        result = error;
      }
      memo.set(expr, result);
    }
    if (result instanceof PromqlError) throw result;
    return result;
  };
}

/**
 * Problems in the queries: each one that does not parse, and each selector whose metric, labels
 * or label values the rendered configs do not produce. Empty when every query is sound.
 */
export function queryProblems(sources: readonly QuerySource[], metrics: MeshMetrics): ConfigIssue[] {
  return checkQueries(sources, newCheckState(metrics), parsePromql);
}

function newCheckState(metrics: MeshMetrics): CheckState {
  return { metrics, indexes: new Map(), patterns: new Map() };
}

/** The labels a metric's series carry once scraped: the configs' (and the proxy), the scrape's, `le` on a histogram's buckets. */
function seriesLabels(state: CheckState, metric: string): ReadonlySet<string> {
  const index = indexOf(state, metric);
  const bucket = metric.endsWith("_bucket") && state.metrics.names.get(metric) === "histogram";
  return new Set([...(index?.keys ?? []), ...SCRAPE_LABELS, ...(bucket ? [BUCKET_LABEL] : [])]);
}

/** The labels a template reads: `{{label}}` in a Grafana legend; `$labels.label` or `index $labels "label"` in an alert's. */
function templateLabels(template: QueryTemplate): string[] {
  if (template.kind === "legend") return [...template.text.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]);
  return [...template.text.matchAll(/\{\{(.*?)\}\}/g)].flatMap((action) => [
    ...[...action[1].matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1]),
    ...[...action[1].matchAll(/index\s+\$labels\s+"([^"]*)"/g)].map((m) => m[1]),
  ]);
}

/** Every label a template reads that the expression's result does not carry (an alert's would print empty, a legend's its raw text). */
function resultLabelProblems(source: QuerySource, labels: ResultLabels, state: CheckState): ConfigIssue[] {
  if (source.templates === undefined) return [];
  const carried = labels((metric) => seriesLabels(state, metric));
  return source.templates.flatMap((template) => {
    const missing = [...new Set(templateLabels(template))].filter((l) => !carried.has(l));
    return missing.map((label) => ({
      path: `${source.where} ${template.field}`,
      message: `reads label ${label}, which the result of ${show(source.expr)} does not carry (it carries: ${[...carried].sort().join(", ") || "no labels"})`,
    }));
  });
}

function checkQueries(sources: readonly QuerySource[], state: CheckState, parse: Parse): ConfigIssue[] {
  return sources.flatMap((source) => {
    const { where, expr } = source;
    let parsed: ReturnType<Parse>;
    try {
      parsed = parse(expr);
    } catch (error) {
      if (error instanceof PromqlError) return [{ path: where, message: `cannot parse ${show(expr)}: ${error.message}` }];
      throw error;
    }
    const { selectors } = parsed;
    if (selectors.length === 0) return [{ path: where, message: `${show(expr)} queries no metric` }];
    const problems = selectors.flatMap((selector) => selectorProblems(selector, state).map((message) => ({ path: `${where} selector ${selector.text}`, message })));
    // The labels of a result are only known once every selector's metric is.
    return problems.length > 0 ? problems : resultLabelProblems(source, parsed.labels, state);
  });
}

/** Grafana's own pattern for a Prometheus `label_values` variable (packages/grafana-prometheus/src/metric_find_query.ts in grafana/grafana), its metric selector required. */
const LABEL_VALUES = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$/;

/**
 * The dashboard's template variables, checked: a query variable's `label_values(<selector>,
 * <label>)` (the form Grafana's Prometheus data source reads) names an exposed metric whose series carry that label, its own matchers
 * checked like any query's; a panel's `repeat` names a variable. Sets the variables the
 * dashboard's queries may use in `state`.
 */
function dashboardVariableProblems(dashboard: GrafanaDashboard, state: CheckState): ConfigIssue[] {
  const list = (isPlainObject(dashboard.templating) && Array.isArray(dashboard.templating.list) ? dashboard.templating.list : []) as readonly Record<string, unknown>[];
  const variables = new Map<string, VariableValues>();
  const problems: ConfigIssue[] = [];
  const queries: { where: string; name: string; selector: string; label: string }[] = [];
  for (const variable of list) {
    const name = String(variable.name);
    const where = `dashboard variable "${name}"`;
    if (variable.type === "datasource") {
      variables.set(name, {});
      continue;
    }
    const query = isPlainObject(variable.query) ? variable.query.query : variable.query;
    const parts = variable.type === "query" && typeof query === "string" ? LABEL_VALUES.exec(query) : null;
    if (parts === null) {
      problems.push({ path: where, message: `only query variables of the form label_values(<metric selector>, <label>) are checked, got type ${show(variable.type)} query ${show(query)}` });
      continue;
    }
    variables.set(name, { label: parts[2] });
    queries.push({ where, name, selector: parts[1], label: parts[2] });
  }
  state.variables = variables;
  for (const { where, selector, label } of queries) {
    let selectors: readonly Selector[];
    try {
      selectors = parsePromql(selector).selectors;
    } catch (error) {
      if (!(error instanceof PromqlError)) throw error;
      problems.push({ path: where, message: `cannot parse ${show(selector)}: ${error.message}` });
      continue;
    }
    if (selectors.length !== 1 || selectors[0].text !== selector || selectors[0].range !== undefined) {
      problems.push({ path: where, message: `label_values needs one instant metric selector, got ${show(selector)}` });
      continue;
    }
    const found = selectorProblems(selectors[0], state);
    problems.push(...found.map((message) => ({ path: `${where} selector ${selectors[0].text}`, message })));
    const index = indexOf(state, selectors[0].metric);
    if (found.length === 0 && index !== undefined && !index.keys.has(label)) {
      problems.push({ path: where, message: `label_values reads label ${label}, which ${selectors[0].metric} does not have (its labels: ${listed([...index.keys].sort())})` });
    }
  }
  const visit = (panels: readonly Record<string, unknown>[]) => {
    for (const panel of panels) {
      if (panel.repeat !== undefined && (typeof panel.repeat !== "string" || !variables.has(panel.repeat))) {
        problems.push({ path: `dashboard panel ${panel.id} repeat`, message: `repeats over ${show(panel.repeat)}, which is no variable of the dashboard (${[...variables.keys()].join(", ")})` });
      }
      if (Array.isArray(panel.panels)) visit(panel.panels as Record<string, unknown>[]);
    }
  };
  visit(dashboard.panels as unknown as Record<string, unknown>[]);
  return problems;
}

/** Problems in a dashboard: its variables, then its queries (which may use the variables). */
export function dashboardProblems(dashboard: GrafanaDashboard, metrics: MeshMetrics): ConfigIssue[] {
  const state = newCheckState(metrics);
  return [...dashboardVariableProblems(dashboard, state), ...checkQueries(dashboardQueries(dashboard), state, parsePromql)];
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const GROUP_KEYS = ["name", "interval", "query_offset", "limit", "rules", "labels"];
const RULE_KEYS = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];
/** Variables an alert template may use (testTemplateParsing in rulefmt.go defines these). */
const TEMPLATE_VARIABLES = new Set(["$labels", "$value", "$externalLabels", "$externalURL"]);

function labelMapProblems(value: unknown, path: string, what: "label" | "annotation"): ConfigIssue[] {
  if (value === undefined) return [];
  if (!isPlainObject(value)) return [{ path, message: `must be a map of ${what}s, got ${show(value)}` }];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(!LABEL_NAME.test(k) || (what === "label" && k === "__name__") ? [{ path: `${path}.${k}`, message: `invalid ${what} name` }] : []),
    ...(typeof v !== "string" ? [{ path: `${path}.${k}`, message: `must be a string, got ${show(v)}` }] : templateProblems(v, `${path}.${k}`)),
  ]);
}

/** Go templates in labels and annotations: balanced actions, and only the variables Prometheus defines. */
function templateProblems(text: string, path: string): ConfigIssue[] {
  // Without braces there is no action to check (most label values).
  if (!text.includes("{{") && !text.includes("}}")) return [];
  const opens = text.split("{{").length - 1;
  const closes = text.split("}}").length - 1;
  if (opens !== closes) return [{ path, message: `unbalanced template braces in ${show(text)}` }];
  const unknown = [...text.matchAll(/\{\{(.*?)\}\}/g)].flatMap((m) => [...m[1].matchAll(/\$[a-zA-Z_]\w*/g)].map((v) => v[0])).filter((v) => !TEMPLATE_VARIABLES.has(v));
  return unknown.map((v) => ({ path, message: `template variable ${v} is not defined for alert templates` }));
}

function durationProblem(value: unknown, path: string): ConfigIssue[] {
  if (value === undefined) return [];
  return typeof value === "string" && isPromDuration(value) ? [] : [{ path, message: `must be a Prometheus duration like 5m or 1h30m, got ${show(value)}` }];
}

/** The rule file's structure as Prometheus checks it when it loads the file (unknown fields refused). */
export function ruleFileProblems(text: string, file = "prometheus-rules.yaml"): ConfigIssue[] {
  const loaded = loadRuleFile(text, file);
  return "problem" in loaded ? [loaded.problem] : ruleDocumentProblems(loaded.doc, file, memoParse());
}

function loadRuleFile(text: string, file: string): { doc: unknown } | { problem: ConfigIssue } {
  try {
    return { doc: load(text) };
  } catch (error) {
    return { problem: { path: file, message: `not YAML: ${(error as Error).message}` } };
  }
}

/** The rule file's structure, from the document its YAML loads as. */
function ruleDocumentProblems(doc: unknown, file: string, parse: Parse): ConfigIssue[] {
  if (!isPlainObject(doc)) return [{ path: file, message: "must be a map with a groups list" }];
  const problems: ConfigIssue[] = Object.keys(doc)
    .filter((k) => k !== "groups")
    .map((k) => ({ path: `${file}: ${k}`, message: "unknown field (Prometheus refuses it)" }));
  if (!Array.isArray(doc.groups)) return [...problems, { path: `${file}: groups`, message: `must be a list, got ${show(doc.groups)}` }];
  const names = new Set<string>();
  doc.groups.forEach((group: unknown, g: number) => {
    const at = `${file}: groups[${g}]`;
    if (!isPlainObject(group)) {
      problems.push({ path: at, message: "must be a map" });
      return;
    }
    problems.push(...Object.keys(group).filter((k) => !GROUP_KEYS.includes(k)).map((k) => ({ path: `${at}.${k}`, message: "unknown field (Prometheus refuses it)" })));
    if (typeof group.name !== "string" || group.name === "") problems.push({ path: `${at}.name`, message: "must be a non-empty string" });
    else if (names.has(group.name)) problems.push({ path: `${at}.name`, message: `group name "${group.name}" is repeated in the same file` });
    else names.add(group.name);
    problems.push(...durationProblem(group.interval, `${at}.interval`), ...labelMapProblems(group.labels, `${at}.labels`, "label"));
    if (group.rules === undefined || group.rules === null) return;
    if (!Array.isArray(group.rules)) {
      problems.push({ path: `${at}.rules`, message: `must be a list, got ${show(group.rules)}` });
      return;
    }
    group.rules.forEach((rule: unknown, r: number) => {
      const ra = `${at}.rules[${r}]`;
      if (!isPlainObject(rule)) {
        problems.push({ path: ra, message: "must be a map" });
        return;
      }
      problems.push(...Object.keys(rule).filter((k) => !RULE_KEYS.includes(k)).map((k) => ({ path: `${ra}.${k}`, message: "unknown field (Prometheus refuses it)" })));
      const isAlert = typeof rule.alert === "string" && rule.alert !== "";
      const isRecord = typeof rule.record === "string" && rule.record !== "";
      if (isAlert === isRecord) problems.push({ path: ra, message: isAlert ? "only one of 'record' and 'alert' must be set" : "one of 'record' or 'alert' must be set" });
      if (isRecord && !METRIC_NAME.test(rule.record as string)) problems.push({ path: `${ra}.record`, message: `invalid recording rule name ${show(rule.record)}` });
      // A YAML scalar of another type (`expr: 1`) reads as its text, as Prometheus' string field takes it.
      const expr = typeof rule.expr === "number" || typeof rule.expr === "boolean" ? String(rule.expr) : rule.expr;
      if (typeof expr !== "string" || expr === "") problems.push({ path: `${ra}.expr`, message: "must be set" });
      else {
        try {
          parse(expr);
        } catch (error) {
          if (!(error instanceof PromqlError)) throw error;
          problems.push({ path: `${ra}.expr`, message: `could not parse expression: ${error.message}` });
        }
      }
      for (const key of ["for", "keep_firing_for", "annotations"] as const) {
        if (isRecord && rule[key] !== undefined) problems.push({ path: `${ra}.${key}`, message: `invalid field '${key}' in recording rule` });
      }
      problems.push(
        ...durationProblem(rule.for, `${ra}.for`),
        ...durationProblem(rule.keep_firing_for, `${ra}.keep_firing_for`),
        ...labelMapProblems(rule.labels, `${ra}.labels`, "label"),
        ...labelMapProblems(rule.annotations, `${ra}.annotations`, "annotation"),
      );
    });
  });
  return problems;
}

/**
 * Everything render checks before it writes the observability files: the rule file's structure,
 * and every query of the dashboard and the rules against the rendered configs' series. The rule
 * file is its YAML text, or the object render dumps it from (alertRulesYaml: js-yaml dumps plain
 * data that loads back equal), checked as the same document without reading 6 MB of YAML back
 * at 1,000 services.
 */
export function observabilityProblems(dashboard: GrafanaDashboard, rules: string | RuleFile, metrics: MeshMetrics): ConfigIssue[] {
  const file = "prometheus-rules.yaml";
  // The rules' expressions are parsed once for both checks; the dashboard's, once anyway.
  const parseRule = memoParse();
  const loaded = typeof rules === "string" ? loadRuleFile(rules, file) : { doc: rules as unknown };
  const structure = "problem" in loaded ? [loaded.problem] : ruleDocumentProblems(loaded.doc, file, parseRule);
  const ruleSources = structure.length === 0 && "doc" in loaded ? ruleQueries(loaded.doc) : [];
  const state = newCheckState(metrics);
  const dashboardIssues = [...dashboardVariableProblems(dashboard, state), ...checkQueries(dashboardQueries(dashboard), state, parsePromql)];
  // The dashboard's variables mean nothing in a rule: a `$caller` there is a regex matching no value.
  state.variables = undefined;
  return [...structure, ...dashboardIssues, ...checkQueries(ruleSources, state, parseRule)];
}
