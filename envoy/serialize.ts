import { dump } from "js-yaml";

/**
 * Strings at least this long are written as literal blocks by toYaml itself, not styled by
 * js-yaml: js-yaml tests every scalar against several Unicode regular expressions to choose its
 * style, which for the megabytes of Envoy JSON in a mesh's ConfigMaps was most of the dump.
 */
const LITERAL_MIN_LENGTH = 1024;

/**
 * Text js-yaml (with lineWidth -1) writes as a clipped literal block (`|`), line for line, in any
 * block context: non-empty lines of printable ASCII, the first not starting with a space, one final
 * line break, and no line a document marker (`---`/`...`) could be read from. (js-yaml's
 * canUseBlock, doubleQuoteForInvisibles and tryLongOrMultilineAsBlock in src/ast of nodeca/js-yaml.)
 */
function isPlainLiteral(text: string): boolean {
  return /^[!-~][ -~]*(?:\n[ -~]+)*\n$/.test(text) && !/^(?:---|\.\.\.)(?=$|[ \n])/m.test(text);
}

/** `text` as js-yaml's literal block body indented by `indent` (its indentString, no line being empty, without the last line break). */
function literalBody(text: string, indent: string): string {
  return indent + text.slice(0, -1).replaceAll("\n", `\n${indent}`);
}

/**
 * Serializes a Kubernetes object (or another YAML file the project writes). Key order is the
 * builders' insertion order, so the same input always gives the same bytes; strings that YAML 1.1
 * readers would take for booleans or numbers are quoted. Long multi-line strings (ConfigMap data)
 * go through js-yaml as one-line stand-ins that it styles exactly as it would style them (a `|`
 * block), and are put in place afterwards: the output is byte for byte js-yaml's.
 */
export function toYaml(value: unknown): string {
  const literals: string[] = [];
  const marked = withLiteralStandIns(value, literals);
  const text = dump(marked, { noRefs: true, lineWidth: -1 });
  if (literals.length === 0) return text;
  let out = text;
  for (let i = 0; i < literals.length; i++) {
    const token = standIn(i);
    const at = out.indexOf(token);
    const lineStart = out.lastIndexOf("\n", at) + 1;
    const indent = out.slice(lineStart, at);
    // A stand-in anywhere else than alone on its line, or twice, means the assumption failed: js-yaml decides.
    if (at < 0 || !/^ +$/.test(indent) || out.indexOf(token, at + token.length) >= 0 || out[at + token.length] !== "\n") {
      return dump(value, { noRefs: true, lineWidth: -1 });
    }
    out = out.slice(0, lineStart) + literalBody(literals[i], indent) + out.slice(at + token.length);
  }
  return out;
}

const standIn = (i: number) => `envoy-mesh-literal-${i}-of-this-document`;

/**
 * `value` with each long plain-literal string replaced by a one-line stand-in for it (kept in
 * `literals`): copied only along the way to such a string, `value` itself when there is none.
 */
function withLiteralStandIns(value: unknown, literals: string[]): unknown {
  if (typeof value === "string") {
    if (value.length < LITERAL_MIN_LENGTH || !isPlainLiteral(value)) return value;
    literals.push(value);
    return `${standIn(literals.length - 1)}\n`;
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => withLiteralStandIns(v, literals));
    return items.every((v, i) => v === value[i]) ? value : items;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const replaced = withLiteralStandIns(v, literals);
      if (replaced !== v) copy ??= { ...value };
      if (copy !== undefined) copy[k] = replaced;
    }
    return copy ?? value;
  }
  return value;
}

/**
 * Serializes an Envoy config (a bootstrap or an xDS file) as JSON, which Envoy reads from a file
 * whose name does not end in `.yaml`/`.yml` (envoy/names.ts): several times faster to write and to
 * read back than YAML, and just as deterministic (insertion order, two-space indent, final newline).
 */
export function toEnvoyJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
