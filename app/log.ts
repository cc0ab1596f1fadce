/** One-line logs in logfmt (`key=value ...`), easy to grep and to parse. */

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** A value as logfmt writes it: bare when safe, JSON-quoted otherwise; `-` when absent. */
function logValue(value: string | number | boolean | undefined): string {
  if (value === undefined) return "-";
  const text = String(value);
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}

/** `fields` as one logfmt line (no newline), keys in the given order. */
export function formatLogLine(fields: LogFields): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${logValue(value)}`)
    .join(" ");
}

/** What the app reports about each request it served. */
export interface RequestLogEntry {
  readonly method: string;
  /** Request target as received (path and query). */
  readonly path: string;
  /** Status sent; 499 (nginx's convention) when the client left before the response ended. */
  readonly status: number;
  readonly durationMs: number;
  /** The `x-request-id` header, when present. */
  readonly requestId?: string;
  /** Why the request failed, when it did. */
  readonly error?: string;
}

/** The request log line: `event=request method=GET path=/ status=200 duration_ms=1.2 request_id=...`. */
export function formatRequestLog(entry: RequestLogEntry): string {
  return formatLogLine({
    event: "request",
    method: entry.method,
    path: entry.path,
    status: entry.status,
    duration_ms: entry.durationMs.toFixed(1),
    request_id: entry.requestId,
    error: entry.error,
  });
}
