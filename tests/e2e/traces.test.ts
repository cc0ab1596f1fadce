import { strict as assert } from "assert";
import { instantValue, summarizeJaegerTraces, traceparent } from "./traces";

describe("e2e/traces: reading Jaeger's and Prometheus' answers", () => {
    it("builds a sampled W3C traceparent and refuses malformed or all-zero IDs", () => {
        assert.equal(traceparent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert.throws(() => traceparent("0".repeat(32), "00f067aa0ba902b7"), /trace id/);
        assert.throws(() => traceparent("4BF92F3577B34DA6A3CE929D0E0E4736", "00f067aa0ba902b7"), /trace id/);
        assert.throws(() => traceparent("4bf92f3577b34da6a3ce929d0e0e4736", "0".repeat(16)), /parent id/);
    });

    it("names the services of every span of a Jaeger trace, through its processes", () => {
        const body = JSON.stringify({
            data: [
                {
                    traceID: "4bf92f3577b34da6a3ce929d0e0e4736",
                    spans: [{ processID: "p1" }, { processID: "p2" }, { processID: "p2" }, { processID: "p3" }],
                    processes: { p1: { serviceName: "front-envoy" }, p2: { serviceName: "service-a" }, p3: { serviceName: "service-b" } },
                },
            ],
        });
        assert.deepEqual(summarizeJaegerTraces(body), { traceIds: ["4bf92f3577b34da6a3ce929d0e0e4736"], spanCount: 4, services: ["front-envoy", "service-a", "service-b"] });
    });

    it("reads a trace Jaeger does not have yet (404 body, null data, not JSON) as no trace", () => {
        const none = { traceIds: [], spanCount: 0, services: [] };
        assert.deepEqual(summarizeJaegerTraces(JSON.stringify({ data: null, errors: [{ code: 404, msg: "trace not found" }] })), none);
        assert.deepEqual(summarizeJaegerTraces("404 page not found"), none);
    });

    it("reads the value of a one-series instant query, and nothing from an empty or failed one", () => {
        assert.equal(instantValue(JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1700000000, "0.25"] }] } })), 0.25);
        assert.equal(instantValue(JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } })), undefined);
        assert.equal(instantValue(JSON.stringify({ status: "error", error: "bad query" })), undefined);
        assert.equal(instantValue("<html>"), undefined);
    });
});
