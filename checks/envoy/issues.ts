/** One problem found in a config, located by its path inside the config. */
export interface ValidationIssue {
  /**
   * Where the problem is, with the field names as written in the input, e.g.
   * `static_resources.clusters[1].connect_timeout`. Empty for the document as a whole.
   */
  readonly path: string;
  readonly message: string;
}

export interface ValidationResult {
  /** True when there are no errors (warnings do not count unless `strict` was set). */
  readonly ok: boolean;
  readonly errors: readonly ValidationIssue[];
  readonly warnings: readonly ValidationIssue[];
}

export interface ValidateOptions {
  /** Report deprecated fields and other warnings as errors. Default: false. */
  readonly strict?: boolean;
}

/** Collects issues in the order they are found. */
export class IssueSink {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  warning(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  /** Final result; with `strict`, warnings become errors. Issues are sorted by path, then text. */
  result(options: ValidateOptions = {}): ValidationResult {
    const errors = dedupe(options.strict ? [...this.errors, ...this.warnings] : this.errors);
    const warnings = options.strict ? [] : dedupe(this.warnings);
    return { ok: errors.length === 0, errors, warnings };
  }
}

function dedupe(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const key = `${issue.path}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  }
  return out.sort((a, b) => comparePaths(a.path, b.path) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

/** Orders paths so that `x[2]` sorts before `x[10]` and a parent sorts before its children. */
export function comparePaths(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (i % 2 === 1 && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** `a.b` for an object key. */
export function childPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** `a[3]` for a list element. */
export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** `a["key"]` for a map entry. */
export function mapKeyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

/** Short description of a JSON value's kind for error messages. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}
