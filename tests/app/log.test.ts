import * as assert from "node:assert/strict";
import { formatLogLine, formatRequestLog } from "../../app/log";

describe("log lines", () => {
  it("writes logfmt with keys in order", () => {
    assert.equal(formatLogLine({ event: "listening", port: 8080, ready: true }), "event=listening port=8080 ready=true");
  });

  it("quotes values with spaces, quotes, '=' or backslashes, and marks absent ones with -", () => {
    assert.equal(
      formatLogLine({ a: "two words", b: 'say "hi"', c: "k=v", d: "back\\slash", e: undefined, f: "" }),
      'a="two words" b="say \\"hi\\"" c="k=v" d="back\\\\slash" e=- f=""',
    );
  });

  it("escapes newlines so one entry stays on one line", () => {
    const line = formatLogLine({ id: "evil\nevent=forged" });
    assert.equal(line.includes("\n"), false);
    assert.equal(line, 'id="evil\\nevent=forged"');
  });

  it("formats a request with method, path, status, duration and request id", () => {
    assert.equal(
      formatRequestLog({ method: "GET", path: "/", status: 200, durationMs: 3.14159, requestId: "abc-1" }),
      "event=request method=GET path=/ status=200 duration_ms=3.1 request_id=abc-1 error=-",
    );
    assert.equal(
      formatRequestLog({ method: "GET", path: "/", status: 502, durationMs: 12, error: "upstream service-b answered 503" }),
      'event=request method=GET path=/ status=502 duration_ms=12.0 request_id=- error="upstream service-b answered 503"',
    );
  });
});
