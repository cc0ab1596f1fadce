import { strict as assert } from "assert";
import { composeGreeting } from "../../app/body";
import { parseTopology } from "../../topology";
import { faultWarning } from "../../topology/edge";
import { C_ABORT_ANSWER, C_ABORT_SERVICE_A, acceptedCounts, binomialOutside, faultOutcome, standardDeviationPoints, withinPoints } from "./shares";

describe("e2e shares: the tolerance of a counted share", () => {
    it("accepts exactly the counts within the points, bounds included", () => {
        assert.deepEqual(acceptedCounts(400, 50, 8), { low: 168, high: 232 });
        assert.deepEqual(acceptedCounts(1000, 10, 4), { low: 60, high: 140 });
        assert.deepEqual(acceptedCounts(10, 5, 20), { low: 0, high: 2 });
        assert.ok(withinPoints(168, 400, 50, 8) && withinPoints(232, 400, 50, 8));
        assert.ok(!withinPoints(167, 400, 50, 8) && !withinPoints(233, 400, 50, 8));
        assert.throws(() => acceptedCounts(0, 50, 8), /n must be a positive integer, got 0/);
    });

    it("computes exact binomial tails (checked against closed forms)", () => {
        // P(X = 5) for Binomial(10, 1/2) is C(10,5)/2^10 = 252/1024.
        assert.ok(Math.abs(binomialOutside(10, 0.5, 5, 5) - (1 - 252 / 1024)) < 1e-12);
        // P(X = 0) = 0.7^10.
        assert.ok(Math.abs(binomialOutside(10, 0.3, 1, 10) - 0.7 ** 10) < 1e-12);
        assert.ok(binomialOutside(10, 0.3, 0, 10) < 1e-12);
        // Large n must not underflow to "everything is outside".
        assert.ok(binomialOutside(100_000, 0.5, 0, 100_000) < 1e-9);
        assert.throws(() => binomialOutside(10, 1, 0, 10), /p must be between 0 and 1/);
    });

    it("50% ± 8 points over 400 requests: a correct mesh fails about 1 run in 900, a fault at 35% or 65% fails 99.8% of runs", () => {
        const { low, high } = acceptedCounts(400, 50, 8);
        assert.equal(standardDeviationPoints(400, 0.5), 2.5);
        const falseFailure = binomialOutside(400, 0.5, low, high);
        assert.ok(falseFailure > 0.001 && falseFailure < 0.0012, `false failure ${falseFailure}`);
        assert.ok(binomialOutside(400, 0.35, low, high) > 0.997);
        assert.ok(binomialOutside(400, 0.65, low, high) > 0.997);
    });

    it("the canary's 10% ± 4 points over 1,000 requests fails a correct mesh less than 1 run in 10,000", () => {
        const { low, high } = acceptedCounts(1000, 10, 4);
        assert.ok(binomialOutside(1000, 0.1, low, high) < 1e-4);
    });
});

describe("e2e shares: the injected abort on service-a → service-c", () => {
    it("is a topology the parser accepts, keeps A's upstreams in the seed's order, and is warned about", () => {
        const topology = parseTopology({ extends: "seed", services: [C_ABORT_SERVICE_A] });
        const a = topology.services.find((s) => s.name === "service-a");
        assert.deepEqual(a?.upstreams.map((u) => [u.service, u.fault]), [
            ["service-b", undefined],
            ["service-c", { abort: { httpStatus: 503, percentage: 50 } }],
        ]);
        assert.equal(faultWarning(topology), "warning: fault injection is on for 1 edge, for testing only: service-a → service-c: abort with HTTP 503 for 50%");
    });

    it("reaches the client as A's 502 naming C's 503; the whole greeting is served; anything else is neither", () => {
        assert.deepEqual(C_ABORT_ANSWER, { status: 502, body: "upstream service-c answered 503\n" });
        assert.equal(faultOutcome(502, "upstream service-c answered 503\n"), "c-aborted");
        const greeting = composeGreeting("service-a", [
            { name: "service-b", body: composeGreeting("service-b", []) },
            { name: "service-c", body: composeGreeting("service-c", []) },
        ]);
        assert.equal(faultOutcome(200, greeting), "served");
        assert.equal(faultOutcome(502, "upstream service-b answered 503\n"), "other");
        assert.equal(faultOutcome(503, "no healthy upstream"), "other");
        assert.equal(faultOutcome(200, composeGreeting("service-a", [])), "other");
    });
});
