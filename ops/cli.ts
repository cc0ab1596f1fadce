import { MIN_KUBERNETES_VERSION, formatRelease } from "../k8s/serverVersion";
import { DOCKER_NO_CLUSTER } from "./down";
import { OpsError, UsageError } from "./errors";
import { KIND_STACK, UP_STACKS, UpStack, isUpStack } from "./stackSettings";

export interface UpArgs {
    readonly help: boolean;
    /** `--stack <name>`: kind (the default) or docker. */
    readonly stack: UpStack;
    /** `--timeout <seconds>`, in milliseconds; undefined means the default. */
    readonly waitTimeoutMs?: number;
}

export interface DownArgs {
    readonly help: boolean;
    /** `--stack <name>`: kind (the default) or docker. */
    readonly stack: UpStack;
    /** `--cluster`: also delete the kind cluster and the local registry. */
    readonly cluster: boolean;
}

export const UP_USAGE = `Usage: npm run up [-- --stack kind|docker] [--timeout <seconds>]

--stack kind (the default; needs Docker, kind and the Pulumi CLI): creates (or reuses) kind's
local image registry and the kind cluster from kind/cluster.yaml,
checks that the cluster runs Kubernetes ${formatRelease(MIN_KUBERNETES_VERSION)} or newer, runs \`pulumi up\` on the local
stack "kind".

--stack docker (needs Docker and the Pulumi CLI only; no kind, no cluster, no registry): checks
that 127.0.0.1:8080 and 127.0.0.1:8443 are free, runs \`pulumi up\` on the local stack "docker",
which builds the images and runs the mesh as containers on this machine's Docker engine.

Either way the state stays in .pulumi-state/ (no login). It writes the local edge CA's
certificate to .mesh/<stack>/edge-ca.crt, waits until the Front Envoy answers at
http://localhost:8080/ and at https://localhost:8443/ (trusting only that CA), and prints the
answer and both ways in, e.g. curl --cacert .mesh/kind/edge-ca.crt https://localhost:8443/
Then it waits until every Envoy reports the versions of listeners, clusters and routes the update
delivered (as npm run status does): a running pod gets changed ConfigMap files from its kubelet
within 60-90 s, so a lagging pod is annotated, which makes its kubelet rewrite them at once (the
pod keeps its name and restarts). On timeout it names each lagging pod and the versions it runs.

Options:
  --stack <name>       the local stack to deploy: ${UP_STACKS.join(" or ")} (default ${KIND_STACK})
  --timeout <seconds>  how long to wait for that answer after the update, and then for every
                       Envoy to run the delivered config (default 180 each)
  -h, --help           show this help

Environment:
  PULUMI_CONFIG_PASSPHRASE  passphrase of the local stack (default "envoy-mesh-local")`;

export const DOWN_USAGE = `Usage: npm run down [-- --stack kind|docker] [--cluster]

Destroys what \`npm run up\` deployed on the local stack (default "kind"); with --stack docker,
the mesh's containers and network (the images stay in Docker's image store; remove them with
\`docker image rm\`). Then removes .mesh/<stack>/ (the edge CA's certificate). Safe to run again.

Options:
  --stack <name>  the local stack to destroy: ${UP_STACKS.join(" or ")} (default ${KIND_STACK})
  --cluster       also delete the kind cluster and the local registry container (kind only)
  -h, --help      show this help`;

function isHelp(arg: string): boolean {
    return arg === "-h" || arg === "--help";
}

/**
 * Reads `--stack <name>` or `--stack=<name>` at argv[i]; returns the stack and the index of the
 * last argument used, or undefined when argv[i] is something else.
 */
function stackArg(argv: readonly string[], i: number): { stack: UpStack; next: number } | undefined {
    const arg = argv[i];
    const eq = /^--stack=(.*)$/.exec(arg);
    if (!eq && arg !== "--stack") {
        return undefined;
    }
    const value = eq ? eq[1] : argv[i + 1];
    if (value === undefined) {
        throw new UsageError(`--stack needs a value: ${UP_STACKS.join(" or ")}`);
    }
    if (!isUpStack(value)) {
        throw new UsageError(`unknown stack ${JSON.stringify(value)}: npm run up and npm run down drive the local stacks ${UP_STACKS.join(" and ")}`);
    }
    return { stack: value, next: eq ? i : i + 1 };
}

export function parseUpArgs(argv: readonly string[]): UpArgs {
    let help = false;
    let stack: UpStack = KIND_STACK;
    let waitTimeoutMs: number | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (isHelp(arg)) {
            help = true;
            continue;
        }
        const s = stackArg(argv, i);
        if (s) {
            stack = s.stack;
            i = s.next;
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
    return { help, stack, ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}) };
}

export interface StatusArgs {
    readonly help: boolean;
    /** `--stack <name>`: any stack with a Pulumi.<name>.yaml (default kind). */
    readonly stack: string;
    /** `--wait <seconds>`, in milliseconds; undefined asks every Envoy once. */
    readonly waitMs?: number;
    /** `--no-nudge`: never annotate a lagging pod. */
    readonly nudge: boolean;
}

export const STATUS_USAGE = `Usage: npm run status [-- --stack <name>] [--wait <seconds>] [--no-nudge]

Asks every running Envoy of the stack's mesh which version of its live config (listeners,
clusters, routes) it runs, and compares it with what the last update delivered (the stack output
envoyConfig, read from the state; nothing is updated). On Kubernetes it reads each pod's /stats
through the API server's pod proxy; on docker, through docker exec. Prints one line per Envoy;
for one that lags, each subscription's version against the expected one; for one that rejected
a file, where its log is.

Exit code 0 when every Envoy runs the expected config, 1 when not (or on an error), 2 for a bad
command line.

Options:
  --stack <name>    the stack (Pulumi.<name>.yaml): kind, docker or a cloud stack (default ${KIND_STACK})
  --wait <seconds>  wait up to this long for every Envoy to catch up, asking every 5 s
                    (a kubelet rewrites a pod's config files within 60-90 s; see --no-nudge)
  --no-nudge        while waiting, do not annotate lagging pods (an annotation makes the kubelet
                    rewrite the pod's config files at once; the pod keeps its name and restarts)
  -h, --help        show this help`;

/** `--name <seconds>` or `--name=<seconds>` at argv[i]: a whole number from 1 to 3600, in milliseconds. */
function secondsArg(argv: readonly string[], i: number, name: string): { ms: number; next: number } | undefined {
    const arg = argv[i];
    const eq = new RegExp(`^${name}=(.*)$`).exec(arg);
    if (!eq && arg !== name) {
        return undefined;
    }
    const value = eq ? eq[1] : argv[i + 1];
    if (value === undefined) {
        throw new UsageError(`${name} needs a value: a whole number of seconds`);
    }
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3600) {
        throw new UsageError(`${name} must be a whole number of seconds from 1 to 3600 (got ${JSON.stringify(value)})`);
    }
    return { ms: Number(value) * 1000, next: eq ? i : i + 1 };
}

/** Pulumi's stack names: letters, digits, "-", "_" and ".". */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseStatusArgs(argv: readonly string[]): StatusArgs {
    let help = false;
    let stack: string = KIND_STACK;
    let waitMs: number | undefined;
    let nudge = true;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (isHelp(arg)) {
            help = true;
            continue;
        }
        if (arg === "--no-nudge") {
            nudge = false;
            continue;
        }
        const eq = /^--stack=(.*)$/.exec(arg);
        if (eq || arg === "--stack") {
            const value = eq ? eq[1] : argv[++i];
            if (value === undefined || !STACK_NAME.test(value)) {
                throw new UsageError(`--stack needs a stack name (letters, digits, "-", "_", "."), got ${JSON.stringify(value ?? "")}`);
            }
            stack = value;
            continue;
        }
        const wait = secondsArg(argv, i, "--wait");
        if (wait) {
            waitMs = wait.ms;
            i = wait.next;
            continue;
        }
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
    return { help, stack, nudge, ...(waitMs !== undefined ? { waitMs } : {}) };
}

export function parseDownArgs(argv: readonly string[]): DownArgs {
    let help = false;
    let stack: UpStack = KIND_STACK;
    let cluster = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const s = stackArg(argv, i);
        if (s) {
            stack = s.stack;
            i = s.next;
        } else if (isHelp(arg)) {
            help = true;
        } else if (arg === "--cluster") {
            cluster = true;
        } else {
            throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        }
    }
    if (cluster && stack !== KIND_STACK && !help) {
        throw new UsageError(DOCKER_NO_CLUSTER);
    }
    return { help, stack, cluster };
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
