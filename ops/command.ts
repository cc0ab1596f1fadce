import { execFile } from "child_process";

/** What a finished command returned. `code` is 127 when the program is not on PATH. */
export interface CommandResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface CommandOptions {
    /** Written to the command's stdin, which is then closed. Default: nothing (stdin closed at once). */
    readonly input?: string;
    /** Kill the command after this many milliseconds. Default: no limit. */
    readonly timeoutMs?: number;
}

/**
 * Runs one program with arguments (no shell) and resolves with its exit code and output.
 * It never rejects for a non-zero exit: callers decide what a failure means.
 */
export type CommandRunner = (cmd: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

/** Exit code used for "program not found", as shells do. */
export const NOT_FOUND = 127;

/** Exit code used when the timeout killed the command. */
export const TIMED_OUT = 124;

/** The real runner: `child_process.execFile`, output decoded as UTF-8. */
export const execFileRunner: CommandRunner = (cmd, args, options = {}) =>
    new Promise((resolve) => {
        const child = execFile(
            cmd,
            [...args],
            { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0 },
            (error, stdout, stderr) => {
                if (!error) {
                    resolve({ code: 0, stdout, stderr });
                    return;
                }
                const err = error as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
                if (err.code === "ENOENT") {
                    resolve({ code: NOT_FOUND, stdout, stderr: `${cmd}: not found on PATH` });
                } else if (err.killed) {
                    resolve({ code: TIMED_OUT, stdout, stderr: `${stderr}${cmd}: timed out after ${options.timeoutMs} ms` });
                } else {
                    resolve({ code: typeof err.code === "number" ? err.code : 1, stdout, stderr });
                }
            },
        );
        // A missing program emits 'error' on stdin as well; the callback above reports it.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(options.input ?? "");
    });

/** The last non-empty line of a command's stderr, else of its stdout: enough for a one-line message. */
export function lastLine(result: CommandResult): string {
    const last = (text: string): string | undefined =>
        text
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.length > 0)
            .pop();
    return last(result.stderr) ?? last(result.stdout) ?? "";
}

/** Renders a command for messages, e.g. `kind create cluster --name envoy-mesh`. */
export function showCommand(cmd: string, args: readonly string[]): string {
    return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
