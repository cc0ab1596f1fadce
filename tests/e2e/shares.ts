// Pure helpers for the end-to-end tests that count answers: how likely a fair run is to land
// outside an accepted share (so a test's tolerance is chosen, not guessed), and how an answer
// through the front shows an injected abort on the service-a → service-c edge.
import { upstreamFailureReply } from "../../app/body";

/** The counts k out of n whose share 100·k/n is within `points` percentage points of `percent`. */
export function acceptedCounts(n: number, percent: number, points: number): { low: number; high: number } {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`n must be a positive integer, got ${n}`);
    // Integer arithmetic on hundredths of a point, so that a bound like 42% of 400 is exactly 168.
    const low = Math.ceil((n * Math.round((percent - points) * 100)) / 10_000);
    const high = Math.floor((n * Math.round((percent + points) * 100)) / 10_000);
    return { low: Math.max(0, low), high: Math.min(n, high) };
}

/** Whether `count` of `n` is within `points` percentage points of `percent`. */
export function withinPoints(count: number, n: number, percent: number, points: number): boolean {
    const { low, high } = acceptedCounts(n, percent, points);
    return count >= low && count <= high;
}

/**
 * The exact probability that X ~ Binomial(n, p) falls outside [low, high]: the chance that a
 * mesh doing exactly what it was told fails the test anyway. Computed in log space, term by term
 * (pmf(k+1) = pmf(k)·(n−k)/(k+1)·p/(1−p)), so large n does not underflow.
 */
export function binomialOutside(n: number, p: number, low: number, high: number): number {
    if (!(p > 0 && p < 1)) throw new Error(`p must be between 0 and 1 (exclusive), got ${p}`);
    let logPmf = n * Math.log1p(-p);
    const step = Math.log(p) - Math.log1p(-p);
    let inside = 0;
    for (let k = 0; k <= n; k++) {
        if (k >= low && k <= high) inside += Math.exp(logPmf);
        logPmf += Math.log(n - k) - Math.log(k + 1) + step;
    }
    return Math.max(0, 1 - inside);
}

/** The share's standard deviation in percentage points for n draws at probability p. */
export function standardDeviationPoints(n: number, p: number): number {
    return 100 * Math.sqrt((p * (1 - p)) / n);
}

/** The injected fault of the end-to-end test: half of service-a's calls to service-c aborted with 503 in A's sidecar. */
export const C_ABORT = { abort: { httpStatus: 503, percentage: 50 } } as const;

/** The seed with service-a's call to service-c faulted (the seed's upstreams, in the seed's order). */
export const C_ABORT_SERVICE_A = { name: "service-a", upstreams: ["service-b", { service: "service-c", fault: C_ABORT }] } as const;

/**
 * What the front answers when A's sidecar aborts A's call to C: A's app saw its upstream answer
 * 503 and answers 502 naming it (app/body.ts); the front passes A's answer through (its local reply
 * mappers rewrite only Envoy's own answers).
 */
export const C_ABORT_ANSWER = (() => {
    const reply = upstreamFailureReply("service-c", { kind: "bad-status", status: C_ABORT.abort.httpStatus }, 0);
    if (reply === undefined) throw new Error("the demo app must answer a failed upstream");
    return reply;
})();

export type FaultOutcome = "served" | "c-aborted" | "other";

/** Sorts one answer through the front: the whole greeting, C's injected abort, or anything else (a failure of the test). */
export function faultOutcome(status: number, body: string): FaultOutcome {
    if (status === 200 && ["A", "B", "C"].every((s) => body.includes(`Hello from service ${s}\n`))) return "served";
    if (status === C_ABORT_ANSWER.status && body === C_ABORT_ANSWER.body) return "c-aborted";
    return "other";
}
