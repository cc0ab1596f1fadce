/**
 * Docker Compose's interpolation of a string with no variables set, ported from compose-go
 * template/template.go (`DefaultPattern`): `$$` is a literal `$`; `$name` and `${name...}` are
 * variables; `${` followed by anything else is an invalid template, which stops compose; any
 * other `$` stays as it is. Throws on variables and invalid templates, since the mesh's compose
 * file must mean the same whatever the environment holds.
 */
const PATTERN = /\$(?:(?<escaped>\$)|(?<named>[_a-z][_a-z0-9]*)|\{(?:(?<braced>[_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|(?<invalid>)))/gi;

export function interpolate(template: string): string {
  return template.replace(PATTERN, (match, ...args) => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    if (groups.escaped !== undefined) return "$";
    if (groups.named !== undefined || groups.braced !== undefined) throw new Error(`compose would substitute a variable: ${match}`);
    throw new Error(`Invalid template: ${JSON.stringify(template)}`);
  });
}

/** Every string of a loaded compose document, interpolated. */
export function interpolateDocument(value: unknown): unknown {
  if (typeof value === "string") return interpolate(value);
  if (Array.isArray(value)) return value.map(interpolateDocument);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDocument(v)]));
  return value;
}
