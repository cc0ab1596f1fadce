/**
 * A strict parser for the part of PromQL our dashboard and rules use, enough to pull out every
 * metric selector with its label matchers. Anything outside that part is an error naming the
 * position, never skipped: a query the checker cannot read is a query it cannot vouch for.
 *
 * Grammar and precedence follow Prometheus' own (promql/parser/generated_parser.y and lex.go in
 * prometheus/prometheus): `^` binds tightest (right-assoc), then `* / %`, `+ -`, comparisons,
 * `and unless`, `or`. Grafana's `$__rate_interval`, `$__interval` and `$__range` are accepted
 * where a duration goes, as Grafana substitutes them before Prometheus reads the query.
 */

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOp;
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
  /** The range, as written (`5m`, `$__rate_interval`); undefined for an instant selector. */
  readonly range?: string;
  /** The selector as written, for messages. */
  readonly text: string;
}

export class PromqlError extends Error {}

type Kind = "ident" | "number" | "string" | "duration" | "punct" | "eof";
interface Token {
  readonly kind: Kind;
  readonly text: string;
  readonly at: number;
  /** Where the token's text ends in the source. */
  readonly end: number;
}

const PUNCT = ["=~", "!~", "!=", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",", "=", "+", "-", "*", "/", "%", "^", ">", "<"];
const GRAFANA_DURATIONS = new Set(["$__rate_interval", "$__interval", "$__range"]);
/** Prometheus' duration syntax (model/time.go ParseDuration): units in descending order. */
const DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;

/**
 * Each token kind's pattern, sticky: it matches at `lastIndex` only, as an `^`-anchored pattern
 * on the rest of the text would, without copying the rest for every token.
 */
const SPACE = /\s+/y;
const GRAFANA_VARIABLE = /\$__[a-z_]+/y;
const DURATION_TOKEN = /\d+(?:y|w|d|h|ms|m|s)(?:\d+(?:y|w|d|h|ms|m|s))*(?![a-zA-Z0-9_.])/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![a-zA-Z_])/y;
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
/** A double-quoted string with Go's escapes; only `\"` and `\\` are needed here. */
const STRING = /"((?:[^"\\\n]|\\["\\])*)"/y;

/** `[a-zA-Z_:]`, and `[a-zA-Z0-9_:]` (IDENT). */
const isIdentStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 0x30 && c <= 0x39);
/** Punctuation no longer operator starts with. */
const SINGLE_PUNCT = new Map([..."{}()[],"].map((p) => [p.charCodeAt(0), p]));

function matchAt(pattern: RegExp, expr: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(expr);
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    // Fast paths for the commonest characters, each one no pattern before IDENT or PUNCT can match at.
    const c = expr.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      let end = i + 1;
      while (end < expr.length && isIdentPart(expr.charCodeAt(end))) end++;
      tokens.push({ kind: "ident", text: expr.slice(i, end), at: i, end });
      i = end;
      continue;
    }
    const single = SINGLE_PUNCT.get(c);
    if (single !== undefined) {
      tokens.push({ kind: "punct", text: single, at: i, end: i + 1 });
      i++;
      continue;
    }
    const space = matchAt(SPACE, expr, i);
    if (space) {
      i += space[0].length;
      continue;
    }
    const grafana = matchAt(GRAFANA_VARIABLE, expr, i);
    if (grafana) {
      if (!GRAFANA_DURATIONS.has(grafana[0])) throw new PromqlError(`unknown Grafana variable ${grafana[0]} at ${i}`);
      tokens.push({ kind: "duration", text: grafana[0], at: i, end: i + grafana[0].length });
      i += grafana[0].length;
      continue;
    }
    const duration = matchAt(DURATION_TOKEN, expr, i);
    if (duration) {
      if (!DURATION.test(duration[0])) throw new PromqlError(`bad duration ${duration[0]} at ${i}`);
      tokens.push({ kind: "duration", text: duration[0], at: i, end: i + duration[0].length });
      i += duration[0].length;
      continue;
    }
    const number = matchAt(NUMBER, expr, i);
    if (number) {
      tokens.push({ kind: "number", text: number[0], at: i, end: i + number[0].length });
      i += number[0].length;
      continue;
    }
    const ident = matchAt(IDENT, expr, i);
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0], at: i, end: i + ident[0].length });
      i += ident[0].length;
      continue;
    }
    if (expr[i] === '"') {
      const str = matchAt(STRING, expr, i);
      if (!str) throw new PromqlError(`unterminated or badly escaped string at ${i}`);
      tokens.push({ kind: "string", text: str[1].includes("\\") ? str[1].replace(/\\(["\\])/g, "$1") : str[1], at: i, end: i + str[0].length });
      i += str[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => expr.startsWith(p, i));
    if (punct === undefined) throw new PromqlError(`unexpected character ${JSON.stringify(expr[i])} at ${i}`);
    tokens.push({ kind: "punct", text: punct, at: i, end: i + punct.length });
    i += punct.length;
  }
  tokens.push({ kind: "eof", text: "", at: expr.length, end: expr.length });
  return tokens;
}

/** Aggregation operators (lex.go); `topk`, `bottomk`, `quantile`, `count_values` take a parameter first. */
const AGGREGATIONS = new Set(["sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values"]);
const PARAMETER_AGGREGATIONS = new Set(["topk", "bottomk", "quantile", "count_values"]);
/** Functions by argument types: `v` instant vector, `m` range vector, `s` scalar, `S` string; `?` optional after. */
const FUNCTIONS: Readonly<Record<string, string>> = {
  rate: "m",
  irate: "m",
  increase: "m",
  delta: "m",
  idelta: "m",
  changes: "m",
  resets: "m",
  deriv: "m",
  max_over_time: "m",
  min_over_time: "m",
  avg_over_time: "m",
  sum_over_time: "m",
  absent_over_time: "m",
  histogram_quantile: "sv",
  abs: "v",
  ceil: "v",
  floor: "v",
  round: "v?s",
  clamp_min: "vs",
  clamp_max: "vs",
  absent: "v",
  scalar: "v",
  vector: "s",
  sort: "v",
  sort_desc: "v",
  time: "",
};
const KEYWORD_BINARY = new Set(["and", "or", "unless"]);
const COMPARISONS = new Set(["==", "!=", ">", "<", ">=", "<="]);
const PRECEDENCE: Readonly<Record<string, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  "==": 3,
  "!=": 3,
  ">": 3,
  "<": 3,
  ">=": 3,
  "<=": 3,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  "%": 5,
  "^": 6,
};

type ValueType = "vector" | "range" | "scalar" | "string";

/**
 * The labels an expression's result carries, given the labels each metric's series have (the
 * checker knows those; the parser does not). What `{{ $labels.x }}` in an alert's annotations and
 * `{{x}}` in a panel's legend can read. Follows Prometheus' evaluation (promql/engine.go in
 * prometheus/prometheus): an aggregation keeps its `by` labels (or drops its `without` ones),
 * topk/bottomk keep the whole series; functions and arithmetic drop the metric name,
 * histogram_quantile drops `le`; a binary operation between vectors keeps the left side's labels
 * (resultMetric: only the `on` labels with `on`, less the `ignoring` ones; the "many" side's plus
 * the group modifier's labels with group_left/group_right); `and`/`unless` keep the left side's,
 * `or` only the labels both sides carry.
 */
export type ResultLabels = (labelsOf: (metric: string) => ReadonlySet<string>) => ReadonlySet<string>;

/** The metric name label: a selector's result carries it, most operations drop it. */
export const METRIC_NAME_LABEL = "__name__";

interface Value {
  readonly type: ValueType;
  readonly labels: ResultLabels;
}

const NO_LABELS: ResultLabels = () => new Set();
const without =
  (labels: ResultLabels, drop: readonly string[]): ResultLabels =>
  (of) =>
    new Set([...labels(of)].filter((l) => !drop.includes(l)));
const scalar: Value = { type: "scalar", labels: NO_LABELS };

interface VectorMatching {
  readonly on?: readonly string[];
  readonly ignoring?: readonly string[];
  readonly group?: { readonly side: "left" | "right"; readonly labels: readonly string[] };
}

class Parser {
  private pos = 0;
  readonly selectors: Selector[] = [];
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private next(): Token {
    return this.tokens[this.pos++];
  }
  private fail(message: string, token = this.peek()): never {
    throw new PromqlError(`${message} at ${token.at}${token.kind === "eof" ? " (end)" : ` (${JSON.stringify(token.text)})`}`);
  }
  private expect(text: string): Token {
    const token = this.next();
    if (token.text !== text || token.kind === "string") this.fail(`expected ${JSON.stringify(text)}`, token);
    return token;
  }
  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === "punct" && t.text === text;
  }

  parse(): Value {
    const value = this.expression(0);
    if (this.peek().kind !== "eof") this.fail("unexpected token");
    return value;
  }

  private binaryOperator(): string | undefined {
    const t = this.peek();
    if (t.kind === "punct" && PRECEDENCE[t.text] !== undefined) return t.text;
    if (t.kind === "ident" && KEYWORD_BINARY.has(t.text)) return t.text;
    return undefined;
  }

  private expression(minPrecedence: number): Value {
    let left = this.unary();
    for (;;) {
      const op = this.binaryOperator();
      if (op === undefined || PRECEDENCE[op] < minPrecedence) break;
      this.next();
      let returnBool = false;
      if (COMPARISONS.has(op) && this.peek().kind === "ident" && this.peek().text === "bool") {
        this.next();
        returnBool = true;
      }
      const matching = this.vectorMatching();
      // `^` is right-associative; every other operator left-associative.
      const right = this.expression(op === "^" ? PRECEDENCE[op] : PRECEDENCE[op] + 1);
      for (const side of [left.type, right.type]) if (side === "range" || side === "string") this.fail(`operator ${op} on a ${side}`);
      if (KEYWORD_BINARY.has(op) && (left.type !== "vector" || right.type !== "vector")) this.fail(`${op} needs vectors on both sides`);
      left = binaryResult(op, returnBool, matching, left, right);
    }
    return left;
  }

  private vectorMatching(): VectorMatching {
    const t = this.peek();
    if (t.kind !== "ident" || (t.text !== "on" && t.text !== "ignoring")) return {};
    this.next();
    const labels = this.labelList();
    const matching: VectorMatching = t.text === "on" ? { on: labels } : { ignoring: labels };
    const g = this.peek();
    if (g.kind === "ident" && (g.text === "group_left" || g.text === "group_right")) {
      this.next();
      const extra = this.isPunct("(") ? this.labelList() : [];
      return { ...matching, group: { side: g.text === "group_left" ? "left" : "right", labels: extra } };
    }
    return matching;
  }

  private labelList(): string[] {
    this.expect("(");
    const labels: string[] = [];
    while (!this.isPunct(")")) {
      const t = this.next();
      if (t.kind !== "ident" || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(t.text)) this.fail("expected a label name", t);
      labels.push(t.text);
      if (!this.isPunct(")")) this.expect(",");
    }
    this.expect(")");
    return labels;
  }

  private unary(): Value {
    if (this.isPunct("-") || this.isPunct("+")) {
      this.next();
      const value = this.unary();
      if (value.type !== "vector" && value.type !== "scalar") this.fail("unary sign on a non-number");
      return { type: value.type, labels: without(value.labels, [METRIC_NAME_LABEL]) };
    }
    return this.postfix(this.primary());
  }

  /** A range `[d]` after a selector, then `offset d`. */
  private postfix(value: Value): Value {
    if (this.peek().kind === "ident" && this.peek().text === "offset") {
      if (value.type !== "vector" && value.type !== "range") this.fail("offset on a non-selector");
      this.next();
      if (this.next().kind !== "duration") this.fail("expected a duration after offset", this.tokens[this.pos - 1]);
    }
    return value;
  }

  private primary(): Value {
    const t = this.peek();
    if (t.kind === "number") {
      this.next();
      return scalar;
    }
    if (t.kind === "string") {
      this.next();
      return { type: "string", labels: NO_LABELS };
    }
    if (t.kind === "punct" && t.text === "(") {
      this.next();
      const value = this.expression(0);
      this.expect(")");
      return value;
    }
    if (t.kind === "punct" && t.text === "{") this.fail("a selector without a metric name");
    if (t.kind !== "ident") this.fail("expected an expression");
    if (AGGREGATIONS.has(t.text)) return this.aggregation();
    const following = this.tokens[this.pos + 1];
    if (following.kind === "punct" && following.text === "(") return this.call();
    if (KEYWORD_BINARY.has(t.text) || ["by", "without", "on", "ignoring", "bool", "offset", "group_left", "group_right"].includes(t.text)) this.fail("unexpected keyword");
    return this.selector();
  }

  private aggregation(): Value {
    const op = this.next().text;
    let grouping: { by: boolean; labels: string[] } | undefined;
    const readGrouping = () => {
      const g = this.peek();
      if (g.kind === "ident" && (g.text === "by" || g.text === "without")) {
        this.next();
        grouping = { by: g.text === "by", labels: this.labelList() };
        return true;
      }
      return false;
    };
    const before = readGrouping();
    this.expect("(");
    if (PARAMETER_AGGREGATIONS.has(op)) {
      const param = this.expression(0);
      if (param.type !== (op === "count_values" ? "string" : "scalar")) this.fail(`${op} takes a ${op === "count_values" ? "string" : "scalar"} parameter`);
      this.expect(",");
    }
    const inner = this.expression(0);
    if (inner.type !== "vector") this.fail(`${op} over a ${inner.type}`);
    this.expect(")");
    if (readGrouping() && before) this.fail(`${op} grouped twice`);
    const group = grouping as { by: boolean; labels: string[] } | undefined;
    // topk and bottomk return the input's series whole; every other aggregation makes new ones from the grouping.
    if (op === "topk" || op === "bottomk") return { type: "vector", labels: inner.labels };
    if (group === undefined) return { type: "vector", labels: NO_LABELS };
    const labels = group.labels;
    return { type: "vector", labels: group.by ? () => new Set(labels) : without(inner.labels, [...labels, METRIC_NAME_LABEL]) };
  }

  private call(): Value {
    const name = this.next();
    const signature = FUNCTIONS[name.text];
    if (signature === undefined) this.fail("unknown function", name);
    this.expect("(");
    const args: Value[] = [];
    while (!this.isPunct(")")) {
      args.push(this.expression(0));
      if (!this.isPunct(")")) this.expect(",");
    }
    this.expect(")");
    const required = signature.split("?")[0];
    const all = signature.replace("?", "");
    if (args.length < required.length || args.length > all.length) this.fail(`${name.text} takes ${required.length === all.length ? all.length : `${required.length} to ${all.length}`} arguments`, name);
    const wanted: Record<string, ValueType> = { v: "vector", m: "range", s: "scalar", S: "string" };
    args.forEach((arg, i) => {
      if (arg.type !== wanted[all[i]]) this.fail(`argument ${i + 1} of ${name.text} must be a ${wanted[all[i]]}, not a ${arg.type}`, name);
    });
    if (name.text === "scalar" || name.text === "time") return scalar;
    // absent() and vector() make series of their own; sort keeps its input whole; every other function drops the name (histogram_quantile also le).
    if (name.text === "absent" || name.text === "absent_over_time" || name.text === "vector") return { type: "vector", labels: NO_LABELS };
    const input = args.find((a) => a.type === "vector" || a.type === "range") ?? scalar;
    if (name.text === "sort" || name.text === "sort_desc") return { type: "vector", labels: input.labels };
    return { type: "vector", labels: without(input.labels, name.text === "histogram_quantile" ? [METRIC_NAME_LABEL, "le"] : [METRIC_NAME_LABEL]) };
  }

  private selector(): Value {
    const start = this.peek();
    const metric = this.next().text;
    const matchers: LabelMatcher[] = [];
    if (this.isPunct("{")) {
      this.next();
      while (!this.isPunct("}")) {
        const label = this.next();
        if (label.kind !== "ident" || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label.text)) this.fail("expected a label name", label);
        const op = this.next();
        if (op.kind !== "punct" || !["=", "!=", "=~", "!~"].includes(op.text)) this.fail("expected a label matcher operator", op);
        const value = this.next();
        if (value.kind !== "string") this.fail("expected a quoted label value", value);
        if (op.text === "=~" || op.text === "!~") {
          try {
            new RegExp(`^(?:${value.text})$`);
          } catch {
            this.fail(`bad regular expression ${JSON.stringify(value.text)}`, value);
          }
        }
        if (matchers.some((m) => m.label === label.text && m.op === op.text)) this.fail(`label ${label.text} matched twice`, label);
        matchers.push({ label: label.text, op: op.text as MatchOp, value: value.text });
        if (!this.isPunct("}")) this.expect(",");
      }
      this.expect("}");
    }
    let range: string | undefined;
    if (this.isPunct("[")) {
      this.next();
      const d = this.next();
      if (d.kind !== "duration") this.fail("expected a range duration", d);
      range = d.text;
      this.expect("]");
    }
    const end = this.tokens[this.pos - 1];
    const text = this.source.slice(start.at, end.end);
    this.selectors.push({ metric, matchers, ...(range === undefined ? {} : { range }), text });
    return { type: range === undefined ? "vector" : "range", labels: (of) => new Set([...of(metric), METRIC_NAME_LABEL]) };
  }
}

/** The labels a binary operation's result carries (resultMetric in promql/engine.go). */
function binaryResult(op: string, returnBool: boolean, matching: VectorMatching, left: Value, right: Value): Value {
  if (left.type !== "vector" && right.type !== "vector") return scalar;
  // Arithmetic, and a comparison with `bool`, drop the metric name; a filtering comparison keeps the sample as it is.
  const dropName = !COMPARISONS.has(op) || returnBool;
  const named = (labels: ResultLabels) => (dropName ? without(labels, [METRIC_NAME_LABEL]) : labels);
  if (left.type !== "vector") return { type: "vector", labels: named(right.labels) };
  if (right.type !== "vector") return { type: "vector", labels: named(left.labels) };
  if (op === "and" || op === "unless") return left;
  if (op === "or") {
    return {
      type: "vector",
      labels: (of) => {
        const r = right.labels(of);
        return new Set([...left.labels(of)].filter((l) => r.has(l)));
      },
    };
  }
  const { group } = matching;
  if (group !== undefined) {
    const many = group.side === "left" ? left : right;
    return { type: "vector", labels: (of) => new Set([...named(many.labels)(of), ...group.labels]) };
  }
  const { on, ignoring } = matching;
  if (on !== undefined) return { type: "vector", labels: (of) => new Set([...named(left.labels)(of)].filter((l) => on.includes(l))) };
  return { type: "vector", labels: without(named(left.labels), ignoring ?? []) };
}

/** Every metric selector of a PromQL expression, in order, and the labels of its result; throws PromqlError on anything it does not accept. */
export function parsePromql(expr: string): { readonly type: ValueType; readonly selectors: readonly Selector[]; readonly labels: ResultLabels } {
  const parser = new Parser(expr, tokenize(expr));
  const { type, labels } = parser.parse();
  return { type, selectors: parser.selectors, labels };
}

/** Whether `text` is a Prometheus duration (`5m`, `1h30m`; not empty). */
export function isPromDuration(text: string): boolean {
  return text !== "" && text !== "0" && DURATION.test(text);
}
