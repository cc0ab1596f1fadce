import { CommandRunner, execFileRunner } from "./command";
import { Clock, HttpGetter, Sleep, freshConnectionGetter, realClock, realSleep } from "./http";
import { PortProbe, tcpPortProbe } from "./ports";
import { StackBackend, automationBackend } from "./pulumiStack";

/** Every side effect `up` and `down` have, so tests can give a state and watch the calls. */
export interface OpsDeps {
    readonly run: CommandRunner;
    readonly probePort: PortProbe;
    readonly http: HttpGetter;
    readonly sleep: Sleep;
    readonly clock: Clock;
    /** The wall-clock time, in milliseconds since the epoch: certificates expire at a date. */
    readonly now: () => number;
    readonly backend: StackBackend;
    /** The caller's environment (for PULUMI_CONFIG_PASSPHRASE). */
    readonly env: Readonly<Record<string, string | undefined>>;
    /** Prints one status line. */
    readonly log: (line: string) => void;
    /** Streams Pulumi's stdout as it arrives. */
    readonly stream: (chunk: string) => void;
    /** Streams Pulumi's stderr as it arrives. */
    readonly streamErr: (chunk: string) => void;
    /** Whether Pulumi output may carry colour codes. */
    readonly color: boolean;
}

/** The real thing: child processes, TCP, HTTP, the Automation API, this process's terminal. */
export function realDeps(): OpsDeps {
    return {
        run: execFileRunner,
        probePort: tcpPortProbe,
        http: freshConnectionGetter,
        sleep: realSleep,
        clock: realClock,
        now: () => Date.now(),
        backend: automationBackend,
        env: process.env,
        log: (line) => process.stdout.write(`${line}\n`),
        stream: (chunk) => process.stdout.write(chunk),
        streamErr: (chunk) => process.stderr.write(chunk),
        color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    };
}
