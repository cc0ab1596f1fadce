import * as assert from "node:assert/strict";
import { capitalize, displayName, isServiceName, upstreamUrlEnvVar } from "../../app/names";

describe("names", () => {
  describe("displayName", () => {
    it("upper-cases one-letter parts and joins parts with spaces", () => {
      assert.equal(displayName("service-b"), "service B");
      assert.equal(displayName("service-a"), "service A");
      assert.equal(displayName("a-b-c"), "A B C");
      assert.equal(displayName("x"), "X");
    });

    it("leaves longer parts as they are", () => {
      assert.equal(displayName("payments"), "payments");
      assert.equal(displayName("order-api-v2"), "order api v2");
    });
  });

  it("capitalize upper-cases the first character only", () => {
    assert.equal(capitalize("service B"), "Service B");
    assert.equal(capitalize("payments"), "Payments");
    assert.equal(capitalize(""), "");
  });

  describe("upstreamUrlEnvVar", () => {
    it("upper-cases, turns '-' into '_' and appends _URL", () => {
      assert.equal(upstreamUrlEnvVar("service-b"), "SERVICE_B_URL");
      assert.equal(upstreamUrlEnvVar("payments"), "PAYMENTS_URL");
      assert.equal(upstreamUrlEnvVar("order-api-v2"), "ORDER_API_V2_URL");
    });

    it("gives distinct variables for distinct names", () => {
      const names = ["a", "a-b", "ab", "a-b-c", "a-bc", "ab-c", "abc", "a1", "a-1"];
      assert.equal(new Set(names.map(upstreamUrlEnvVar)).size, names.length);
    });

    it("rejects names that are not service names, naming the value", () => {
      for (const bad of ["", "Service-B", "service_b", "-b", "b-", "1b", "a".repeat(64)]) {
        assert.throws(() => upstreamUrlEnvVar(bad), (error: Error) => error.message.includes(JSON.stringify(bad)));
      }
    });
  });

  it("isServiceName accepts RFC 1035 labels only", () => {
    for (const good of ["a", "service-a", "payments", "a1", "a--b", "a".repeat(63)]) {
      assert.equal(isServiceName(good), true, good);
    }
    for (const bad of ["", "A", "1a", "-a", "a-", "a_b", "a.b", "a b", "a".repeat(64)]) {
      assert.equal(isServiceName(bad), false, bad);
    }
  });
});
