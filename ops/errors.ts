/**
 * A failure the user can act on: the CLI prints `message` alone (no stack trace) and exits
 * with `exitCode`.
 */
export class OpsError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = 1,
    ) {
        super(message);
        this.name = "OpsError";
    }
}

/** Exit code for a bad command line, as most Unix tools use. */
export const USAGE_EXIT_CODE = 2;

/** A bad command line: unknown flag or bad flag value. */
export class UsageError extends OpsError {
    constructor(message: string) {
        super(message, USAGE_EXIT_CODE);
        this.name = "UsageError";
    }
}
