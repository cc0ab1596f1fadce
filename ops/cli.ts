import { MIN_KUBERNETES_VERSION, formatRelease } from "../k8s/serverVersion";
import { OpsError, UsageError } from "./errors";

export interface UpArgs {
    readonly help: boolean;
    /** `--timeout <seconds>`, in milliseconds; undefined means the default. */
    readonly waitTimeoutMs?: number;
}

export interface DownArgs {
    readonly help: boolean;
    /** `--cluster`: also delete the kind cluster and the local registry. */
    readonly cluster: boolean;
}

export const UP_USAGE = `Usage: npm run up [-- --timeout <seconds>]

Creates (or reuses) kind's local image registry and the kind cluster from kind/cluster.yaml,
checks that the cluster runs Kubernetes ${formatRelease(MIN_KUBERNETES_VERSION)} or newer, runs \`pulumi up\` on the local
stack "kind" (state in .pulumi-state/, no login), waits until the Front Envoy answers at
http://localhost:8080/ and prints its answer.

Options:
  --timeout <seconds>  how long to wait for that answer after the update (default 180)
  -h, --help           show this help

Environment:
  PULUMI_CONFIG_PASSPHRASE  passphrase of the local stack (default "envoy-mesh-local")`;

export const DOWN_USAGE = `Usage: npm run down [-- --cluster]

Destroys what \`npm run up\` deployed on the local stack "kind". Safe to run again.

Options:
  --cluster   also delete the kind cluster and the local registry container
  -h, --help  show this help`;

function isHelp(arg: string): boolean {
    return arg === "-h" || arg === "--help";
}

export function parseUpArgs(argv: readonly string[]): UpArgs {
    let help = false;
    let waitTimeoutMs: number | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (isHelp(arg)) {
            help = true;
            continue;
        }
        const eq = /^--timeout=(.*)$/.exec(arg);
        if (eq || arg === "--timeout") {
            const value = eq ? eq[1] : argv[++i];
            if (value === undefined) {
                throw new UsageError("--timeout needs a value: a whole number of seconds");
            }
            if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3600) {
                throw new UsageError(`--timeout must be a whole number of seconds from 1 to 3600 (got ${JSON.stringify(value)})`);
            }
            waitTimeoutMs = Number(value) * 1000;
            continue;
        }
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
    return { help, ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}) };
}

export function parseDownArgs(argv: readonly string[]): DownArgs {
    let help = false;
    let cluster = false;
    for (const arg of argv) {
        if (isHelp(arg)) {
            help = true;
        } else if (arg === "--cluster") {
            cluster = true;
        } else {
            throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        }
    }
    return { help, cluster };
}

export interface CliIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    /** Print stack traces of unexpected errors. Default: false. */
    readonly debug?: boolean;
}

/**
 * Runs a command-line entry point and returns its exit code: 0 on success, 2 for a bad
 * command line (with the usage), the OpsError's code for a known failure (message only, no
 * stack trace), 1 for anything unexpected.
 */
export async function runCli<A extends { readonly help: boolean }>(
    name: string,
    usage: string,
    argv: readonly string[],
    parse: (argv: readonly string[]) => A,
    action: (args: A) => Promise<unknown>,
    io: CliIo,
): Promise<number> {
    let args: A;
    try {
        args = parse(argv);
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`${name}: ${e.message}\n\n${usage}\n`);
            return e.exitCode;
        }
        throw e;
    }
    if (args.help) {
        io.out(`${usage}\n`);
        return 0;
    }
    try {
        await action(args);
        return 0;
    } catch (e) {
        if (e instanceof OpsError) {
            io.err(`${name}: ${e.message}\n`);
            return e.exitCode;
        }
        const err = e instanceof Error ? e : new Error(String(e));
        io.err(`${name}: unexpected error: ${err.message}\n${io.debug ? `${err.stack}\n` : "  (set DEBUG=1 to see the stack trace)\n"}`);
        return 1;
    }
}
