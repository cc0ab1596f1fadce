import * as assert from "node:assert/strict";
import { isTracingHeader, pickTracingHeaders } from "../../app/tracing";

describe("tracing headers", () => {
  it("recognises Envoy's, B3's, W3C's and Lightstep's headers in any case", () => {
    for (const name of [
      "x-request-id",
      "X-Request-Id",
      "x-b3-traceid",
      "x-b3-spanid",
      "x-b3-parentspanid",
      "x-b3-sampled",
      "x-b3-flags",
      "b3",
      "traceparent",
      "tracestate",
      "x-ot-span-context",
    ]) {
      assert.equal(isTracingHeader(name), true, name);
    }
  });

  it("rejects everything else", () => {
    for (const name of ["authorization", "cookie", "host", "x-forwarded-for", "x-envoy-expected-rq-timeout-ms", "b3x", "x-b3"]) {
      assert.equal(isTracingHeader(name), false, name);
    }
  });

  it("picks only tracing headers, joining repeated values", () => {
    assert.deepEqual(
      pickTracingHeaders({
        "x-request-id": "r1",
        "x-b3-sampled": "1",
        cookie: "a=b",
        "set-cookie": ["a", "b"],
        tracestate: ["a=1", "b=2"] as unknown as string,
        traceparent: undefined,
      }),
      { "x-request-id": "r1", "x-b3-sampled": "1", tracestate: "a=1, b=2" },
    );
  });
});
