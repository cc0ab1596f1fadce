import type { IncomingHttpHeaders } from "node:http";

/**
 * Headers that carry a trace across services (Envoy's request ID, Zipkin B3 in both forms,
 * W3C Trace Context, Lightstep). An app must copy them onto its outgoing calls for the
 * mesh to stitch one trace together; nothing else is forwarded.
 */
const TRACING_HEADER_NAMES: ReadonlySet<string> = new Set([
  "x-request-id",
  "b3",
  "traceparent",
  "tracestate",
  "x-ot-span-context",
]);

/** True for a header that is forwarded to upstreams (`name` is compared case-insensitively). */
export function isTracingHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return TRACING_HEADER_NAMES.has(lower) || lower.startsWith("x-b3-");
}

/** The tracing headers of an incoming request, ready to send on an outgoing one. */
export function pickTracingHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !isTracingHeader(name)) continue;
    picked[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return picked;
}
