import fc from "fast-check";

/** Environment variables that replay a property test's failure: its seed, and where it failed. */
export const SEED_ENV = "FC_SEED";
export const PATH_ENV = "FC_PATH";

/** Where a run of a property starts: the replayed seed and path, or a fresh seed. */
export function runStart(env: NodeJS.ProcessEnv = process.env): { seed: number; path?: string } {
  const raw = env[SEED_ENV];
  if (raw === undefined || raw === "") return { seed: (Date.now() ^ (Math.random() * 0x100000000)) | 0 };
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`${SEED_ENV}: ${JSON.stringify(raw)} is not an integer seed`);
  const path = env[PATH_ENV];
  return path === undefined || path === "" ? { seed } : { seed, path };
}

/**
 * `fc.assert`, with the seed chosen here so that a failure says how to replay it:
 * `FC_SEED=<seed> FC_PATH=<path> npx mocha -g "<test>"` runs the failing case first.
 * `test` is the running Mocha test (`this.test` in a `function` callback).
 */
export function assertProperty<Ts>(test: Mocha.Runnable | undefined, property: fc.IProperty<Ts>, params: fc.Parameters<Ts> = {}): void {
  const start = runStart();
  const details = fc.check(property, { ...params, ...start });
  if (!details.failed) return;
  const title = test?.fullTitle() ?? "<test title>";
  const replay = `${SEED_ENV}=${details.seed} ${PATH_ENV}=${details.counterexamplePath ?? ""} npx mocha -g ${JSON.stringify(title)}`;
  const error = new Error(`${fc.defaultReportMessage(details)}\n\nReplay this failure with:\n  ${replay}`);
  // Print it too: an assertion library or reporter may shorten the message.
  console.error(`property failed (seed ${details.seed}, path ${details.counterexamplePath}); replay with: ${replay}`);
  throw error;
}
