/**
 * What the observability end-to-end test reads from Jaeger's and Prometheus' HTTP APIs, as pure
 * functions (tested offline in traces.test.ts).
 */

/** A W3C `traceparent` with a known trace ID, sampled: `00-<trace id>-<parent id>-01`. */
export function traceparent(traceId: string, parentId: string): string {
    if (!/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId)) throw new Error(`trace id must be 32 lowercase hex digits, not all zero: ${traceId}`);
    if (!/^[0-9a-f]{16}$/.test(parentId) || /^0+$/.test(parentId)) throw new Error(`parent id must be 16 lowercase hex digits, not all zero: ${parentId}`);
    return `00-${traceId}-${parentId}-01`;
}

/** One trace as Jaeger's query API (`GET /api/traces/<id>`) answers: its spans and each span's service. */
export interface TraceSummary {
    readonly traceIds: readonly string[];
    readonly spanCount: number;
    /** Service names of the trace's spans, sorted, each once. */
    readonly services: readonly string[];
}

interface JaegerTrace {
    readonly traceID?: unknown;
    readonly spans?: readonly { readonly processID?: unknown }[];
    readonly processes?: Readonly<Record<string, { readonly serviceName?: unknown }>>;
}

/** Reads Jaeger's `{ data: [trace...] }`; a missing trace (404, or no data yet) gives no trace IDs. */
export function summarizeJaegerTraces(body: string): TraceSummary {
    let parsed: { data?: readonly JaegerTrace[] | null };
    try {
        parsed = JSON.parse(body) as { data?: readonly JaegerTrace[] | null };
    } catch {
        return { traceIds: [], spanCount: 0, services: [] };
    }
    const traces = Array.isArray(parsed.data) ? parsed.data : [];
    const services = new Set<string>();
    let spanCount = 0;
    for (const trace of traces) {
        for (const span of trace.spans ?? []) {
            spanCount++;
            const name = typeof span.processID === "string" ? trace.processes?.[span.processID]?.serviceName : undefined;
            if (typeof name === "string") services.add(name);
        }
    }
    return { traceIds: traces.map((t) => String(t.traceID)), spanCount, services: [...services].sort() };
}

/**
 * The value of a Prometheus instant query (`GET /api/v1/query`) with one series (a `sum(...)`):
 * the number, or undefined when the answer has no series yet or is not a success.
 */
export function instantValue(body: string): number | undefined {
    try {
        const parsed = JSON.parse(body) as { status?: string; data?: { resultType?: string; result?: { value?: [number, string] }[] } };
        if (parsed.status !== "success" || parsed.data?.resultType !== "vector") return undefined;
        const value = parsed.data.result?.[0]?.value?.[1];
        return value === undefined ? undefined : Number(value);
    } catch {
        return undefined;
    }
}
