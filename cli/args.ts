/**
 * What the `--out DIR [--stack NAME]` commands (render, certs) share: their flags, and how they
 * end on an error.
 */
import { ConfigError } from "../topology/reader";

/** A mistake on the command line: reported with the usage line, exit code 2. */
export class UsageError extends Error {}

export interface OutStackArgs {
  readonly out: string;
  readonly stack: string;
  /** The switches (flags without a value) that were given. */
  readonly switches: ReadonlySet<string>;
}

/**
 * `--out DIR` (required unless `defaultOut` is given), `--stack NAME` (default `defaultStack`), each
 * also as `--flag=value`, and the given `switches`.
 */
export function parseOutStackArgs(argv: readonly string[], defaultStack: string, switches: readonly string[] = [], defaultOut?: string): OutStackArgs | "help" {
  if (argv.includes("--help") || argv.includes("-h")) return "help";
  const options: Record<string, string> = {};
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (switches.includes(flag)) {
      given.add(flag);
      continue;
    }
    const [name, inline] = flag.split(/=(.*)/s);
    if (name !== "--out" && name !== "--stack") throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "" || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
    options[name.slice(2)] = value;
  }
  const out = options.out ?? defaultOut;
  if (out === undefined) throw new UsageError("--out is required");
  return { out, stack: options.stack ?? defaultStack, switches: given };
}

/**
 * The exit code of a command that failed with `error`: 2 with the usage line for a command-line
 * mistake, 1 with one line for a user's mistake (a ConfigError, or one of `userErrors`); anything
 * else is a bug and is thrown, with its stack.
 */
export function failureExitCode(command: string, usage: string, error: unknown, userErrors: readonly (abstract new (...args: never[]) => Error)[] = []): number {
  if (error instanceof UsageError) {
    console.error(`${command}: ${error.message}\n${usage}`);
    return 2;
  }
  if (error instanceof ConfigError || userErrors.some((type) => error instanceof type)) {
    console.error(`${command}: ${(error as Error).message}`);
    return 1;
  }
  throw error;
}
