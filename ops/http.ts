/** One HTTP response, headers with lower-case names. */
export interface HttpResponse {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
}

/** GETs a URL; rejects on a network error or when `timeoutMs` passes. */
export type HttpGetter = (url: string, timeoutMs: number) => Promise<HttpResponse>;

/** Milliseconds since some fixed point; only differences matter. */
export type Clock = () => number;

export type Sleep = (ms: number) => Promise<void>;

export const fetchGetter: HttpGetter = async (url, timeoutMs) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
    });
    return { status: res.status, headers, body: await res.text() };
};

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const realClock: Clock = () => Date.now();

export interface WaitOptions {
    /** Give up after this long. */
    readonly timeoutMs: number;
    /** Pause between attempts. Default: 2000 ms. */
    readonly intervalMs?: number;
    /** Timeout of a single request. Default: 5000 ms. */
    readonly requestTimeoutMs?: number;
}

export type WaitResult =
    | { readonly ok: true; readonly response: HttpResponse; readonly attempts: number }
    | { readonly ok: false; readonly last: string; readonly attempts: number };

/** Describes a failed attempt in a few words: `HTTP 503: no healthy upstream` or the network error. */
function describe(outcome: HttpResponse | Error): string {
    if (outcome instanceof Error) {
        const cause = (outcome as Error & { cause?: { code?: string; message?: string } }).cause;
        return cause?.code ?? cause?.message ?? outcome.message;
    }
    const body = outcome.body.trim().split("\n")[0].slice(0, 80);
    return `HTTP ${outcome.status}${body ? `: ${body}` : ""}`;
}

/** Polls `url` until it answers 200 or the time is up. Never throws. */
export async function waitForHttp(get: HttpGetter, sleep: Sleep, clock: Clock, url: string, options: WaitOptions): Promise<WaitResult> {
    const interval = options.intervalMs ?? 2000;
    const requestTimeout = options.requestTimeoutMs ?? 5000;
    const deadline = clock() + options.timeoutMs;
    let attempts = 0;
    let last = "no attempt made";
    for (;;) {
        attempts += 1;
        let outcome: HttpResponse | Error;
        try {
            outcome = await get(url, Math.max(1, Math.min(requestTimeout, deadline - clock())));
        } catch (e) {
            outcome = e instanceof Error ? e : new Error(String(e));
        }
        if (!(outcome instanceof Error) && outcome.status === 200) {
            return { ok: true, response: outcome, attempts };
        }
        last = describe(outcome);
        if (clock() + interval > deadline) {
            return { ok: false, last, attempts };
        }
        await sleep(interval);
    }
}
