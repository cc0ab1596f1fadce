import * as http from "http";
import * as https from "https";

/** One HTTP response, headers with lower-case names. */
export interface HttpResponse {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
}

/** How to trust an HTTPS server: the PEM of the CA that signed its certificate (instead of the system's CAs). */
export interface TlsTrust {
    readonly ca?: string;
}

/** GETs a URL (http or https); rejects on a network error, a certificate it cannot verify, or when `timeoutMs` passes. */
export type HttpGetter = (url: string, timeoutMs: number, trust?: TlsTrust) => Promise<HttpResponse>;

/** Milliseconds since some fixed point; only differences matter. */
export type Clock = () => number;

export type Sleep = (ms: number) => Promise<void>;

/**
 * GETs over a new connection that is closed after the answer, as `curl` does. A client reusing
 * kept-alive connections can lose a request to a server closing that connection at the same
 * moment; counting requests during a rollout should not count that race.
 */
export const freshConnectionGetter: HttpGetter = (url, timeoutMs, trust = {}) =>
    new Promise((resolve, reject) => {
        const options = { agent: false, headers: { connection: "close" }, timeout: timeoutMs } as const;
        const onResponse = (res: http.IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
                const headers: Record<string, string> = {};
                for (const [name, value] of Object.entries(res.headers)) {
                    if (value !== undefined) {
                        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
                    }
                }
                resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8") });
            });
        };
        // Node checks the certificate's names against the URL's host and sends it as SNI (not for an IP address).
        const req = url.startsWith("https:")
            ? https.get(url, { ...options, ...(trust.ca === undefined ? {} : { ca: trust.ca }) }, onResponse)
            : http.get(url, options, onResponse);
        req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
        req.on("error", reject);
    });

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const realClock: Clock = () => Date.now();

export interface WaitOptions {
    /** Give up after this long. */
    readonly timeoutMs: number;
    /** Pause between attempts. Default: 2000 ms. */
    readonly intervalMs?: number;
    /** Timeout of a single request. Default: 5000 ms. */
    readonly requestTimeoutMs?: number;
    /** For an https URL: the CA to trust. */
    readonly trust?: TlsTrust;
}

export type WaitResult =
    | { readonly ok: true; readonly response: HttpResponse; readonly attempts: number }
    | { readonly ok: false; readonly last: string; readonly attempts: number };

/** Describes a failed attempt in a few words: `HTTP 503: no healthy upstream` or the network error. */
function describe(outcome: HttpResponse | Error): string {
    if (outcome instanceof Error) {
        return (outcome as NodeJS.ErrnoException).code ?? outcome.message;
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
            const timeout = Math.max(1, Math.min(requestTimeout, deadline - clock()));
            outcome = await (options.trust === undefined ? get(url, timeout) : get(url, timeout, options.trust));
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
