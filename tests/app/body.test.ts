import * as assert from "node:assert/strict";
import { composeGreeting, upstreamFailureReply } from "../../app/body";

describe("response bodies", () => {
  describe("composeGreeting", () => {
    it("says hello alone for a leaf service", () => {
      assert.equal(composeGreeting("service-b", []), "Hello from service B\n");
      assert.equal(composeGreeting("payments", []), "Hello from payments\n");
    });

    it("reproduces the seed: call B, B's answer, hello, then C's answer", () => {
      assert.equal(
        composeGreeting("service-a", [
          { name: "service-b", body: "Hello from service B\n" },
          { name: "service-c", body: "Hello from service C\n" },
        ]),
        "Calling Service B\nHello from service B\nHello from service A\nHello from service C\n",
      );
    });

    it("capitalises the first upstream's display name", () => {
      assert.equal(composeGreeting("front", [{ name: "payments", body: "paid" }]), "Calling Payments\npaid\nHello from front\n");
    });

    it("keeps multi-line upstream bodies and drops their trailing newlines", () => {
      assert.equal(
        composeGreeting("service-a", [{ name: "service-b", body: "Calling Service D\nHello from service D\nHello from service B\r\n\n" }]),
        "Calling Service B\nCalling Service D\nHello from service D\nHello from service B\nHello from service A\n",
      );
    });

    it("writes no blank line for an empty upstream body", () => {
      assert.equal(
        composeGreeting("service-a", [
          { name: "service-b", body: "" },
          { name: "service-c", body: "\n" },
        ]),
        "Calling Service B\nHello from service A\n",
      );
    });
  });

  describe("upstreamFailureReply", () => {
    it("maps unreachable to 502 with the error code", () => {
      assert.deepEqual(upstreamFailureReply("service-b", { kind: "unreachable", code: "ENOTFOUND" }, 3000), {
        status: 502,
        body: "upstream service-b unreachable: ENOTFOUND\n",
      });
    });

    it("maps a non-2xx answer to 502 with the status", () => {
      assert.deepEqual(upstreamFailureReply("service-c", { kind: "bad-status", status: 503 }, 3000), {
        status: 502,
        body: "upstream service-c answered 503\n",
      });
    });

    it("maps a timeout to 504 with the configured deadline", () => {
      assert.deepEqual(upstreamFailureReply("service-b", { kind: "timeout" }, 3000), {
        status: 504,
        body: "upstream service-b timed out after 3000 ms\n",
      });
    });

    it("has no reply for success or cancellation", () => {
      assert.equal(upstreamFailureReply("service-b", { kind: "ok", status: 200, body: "" }, 3000), undefined);
      assert.equal(upstreamFailureReply("service-b", { kind: "cancelled" }, 3000), undefined);
    });
  });
});
