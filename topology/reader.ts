/** One problem in user input, located by its path from the config key. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Every problem found in a piece of configuration, reported at once. */
export class ConfigError extends Error {
  constructor(
    readonly issues: readonly ConfigIssue[],
    heading = "invalid configuration",
  ) {
    super(`${heading} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` + formatIssues(issues));
    this.name = "ConfigError";
  }
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join("\n");
}

/** Renders a user's value for an error message: short, unambiguous, never `[object Object]`. */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads untyped input (stack config, YAML) while collecting every problem instead of stopping
 * at the first, so that a user fixes the whole config in one round.
 */
export class IssueCollector {
  private readonly found: ConfigIssue[] = [];

  get issues(): readonly ConfigIssue[] {
    return this.found;
  }

  report(path: string, message: string): undefined {
    this.found.push({ path, message });
    return undefined;
  }

  /** A field left out: said plainly, instead of quoting `undefined` as if the user wrote it. */
  required(path: string, value?: null): undefined {
    return this.report(path, value === null ? "required (the value is empty)" : "required");
  }

  /** An object whose keys are all in `allowed`; unknown keys are reported one by one. */
  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return this.required(path, value);
    if (!isPlainObject(value)) return this.report(path, `expected an object, got ${show(value)}`);
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        this.report(`${path}.${key}`, `unknown key (allowed: ${allowed.join(", ")})`);
      }
    }
    return value;
  }

  array(value: unknown, path: string): readonly unknown[] | undefined {
    if (value === undefined || value === null) return this.required(path, value);
    if (!Array.isArray(value)) return this.report(path, `expected a list, got ${show(value)}`);
    return value;
  }

  string(value: unknown, path: string): string | undefined {
    if (value === undefined || value === null) return this.required(path, value);
    if (typeof value !== "string" || value.length === 0) {
      return this.report(path, `expected a non-empty string, got ${show(value)}`);
    }
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number, why = ""): number | undefined {
    if (value === undefined || value === null) return this.required(path, value);
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      return this.report(path, `${show(value)} is not an integer from ${min} to ${max}${why}`);
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
    if (value === undefined || value === null) return this.required(path, value);
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      return this.report(path, `${show(value)} is not one of ${allowed.join(", ")}`);
    }
    return value as T;
  }
}
