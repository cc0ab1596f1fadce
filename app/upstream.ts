import * as http from "node:http";

/** What came of calling one upstream. Never an exception: every failure is a value. */
export type UpstreamOutcome =
  | { readonly kind: "ok"; readonly status: number; readonly body: string; readonly servedBy?: string }
  | { readonly kind: "bad-status"; readonly status: number; readonly servedBy?: string }
  | { readonly kind: "unreachable"; readonly code: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "cancelled" };

export interface UpstreamRequest {
  /** Origin of the upstream, `http://host:port`; the request goes to `<url>/`. */
  readonly url: string;
  /** Headers to send (the forwarded tracing headers). */
  readonly headers: Readonly<Record<string, string>>;
  /** Deadline for the whole exchange: connect, headers and body. */
  readonly timeoutMs: number;
  /** Aborts the call, e.g. when the downstream client has gone away. */
  readonly signal?: AbortSignal;
}

/** The error code of a failed connection (`ECONNREFUSED`, `ENOTFOUND`, ...). */
function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") return code;
  // Connecting to a name with several addresses fails with an AggregateError of attempts.
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * GETs `<url>/` and resolves with the outcome. Uses a fresh connection per call
 * (`agent: false`): no pooled socket outlives the call, so nothing is left open when
 * the app shuts down, and a connection the upstream closed is never reused.
 */
export function callUpstream(request: UpstreamRequest): Promise<UpstreamOutcome> {
  const { signal } = request;
  if (signal?.aborted) return Promise.resolve({ kind: "cancelled" });
  return new Promise((resolve) => {
    let settled = false;
    const outgoing = http.request(new URL("/", request.url), {
      method: "GET",
      headers: { ...request.headers },
      agent: false,
    });
    const finish = (outcome: UpstreamOutcome, destroy: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (destroy) outgoing.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }, true), request.timeoutMs);
    const onAbort = (): void => finish({ kind: "cancelled" }, true);

    outgoing.on("error", (error) => finish({ kind: "unreachable", code: errorCode(error) }, true));
    outgoing.on("response", (response) => {
      response.on("error", (error) => finish({ kind: "unreachable", code: errorCode(error) }, true));
      const status = response.statusCode ?? 0;
      const servedBy = firstHeader(response.headers["x-served-by"]);
      if (status < 200 || status > 299) {
        finish({ kind: "bad-status", status, servedBy }, true);
        return;
      }
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        finish({ kind: "ok", status, body: Buffer.concat(chunks).toString("utf8"), servedBy }, false),
      );
      response.on("close", () => {
        if (!response.complete) finish({ kind: "unreachable", code: "ECONNRESET" }, true);
      });
    });

    signal?.addEventListener("abort", onAbort, { once: true });
    outgoing.end();
  });
}
