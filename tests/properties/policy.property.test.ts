import { strict as assert } from "node:assert";
import fc from "fast-check";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { kubernetesEnvoyTarget } from "../../k8s";
import { RETRY_CONDITIONS, parseTopology } from "../../topology";
import { assertProperty } from "../helpers/properties";
import { validTopology } from "../helpers/topologyArbitraries";

const KIND_NAMES = { namespace: "mesh", clusterDomain: "cluster.local" };
/** Bounded so the whole suite stays well inside its time budget. */
const RUNS = { numRuns: 15 };

/**
 * Timeouts and retries, written together so that every block is valid on its own whatever it is
 * merged over: a per-try timeout comes with a longer request timeout and a condition that retries it,
 * and without one the block removes any per-try timeout it is merged over (0).
 */
const timing = fc.oneof(
  fc.constant({}),
  fc.record({
    timeoutMs: fc.integer({ min: 1, max: 3_600_000 }),
    perTryTimeoutMs: fc.constant(0),
    retries: fc.record(
      {
        count: fc.integer({ min: 0, max: 10 }),
        retryOn: fc.subarray([...RETRY_CONDITIONS], { minLength: 1 }),
        idempotentOnly: fc.boolean(),
        previousHosts: fc.boolean(),
      },
      { requiredKeys: ["retryOn"] },
    ),
  }),
  fc.integer({ min: 2, max: 3_600_000 }).chain((timeoutMs) =>
    fc.record({
      timeoutMs: fc.constant(timeoutMs),
      perTryTimeoutMs: fc.integer({ min: 1, max: timeoutMs - 1 }),
      retries: fc.record({
        count: fc.integer({ min: 1, max: 10 }),
        retryOn: fc.tuple(fc.constantFrom("5xx", "gateway-error", "reset"), fc.subarray(["connect-failure", "not-delivered", "retriable-4xx"])).map(([t, rest]) => [t, ...rest]),
        idempotentOnly: fc.boolean(),
      }),
    }),
  ),
);

/** What belongs to the callee's cluster, except the retry cap (mesh-wide only, see below). */
const clusterFields = fc.record(
  {
    circuitBreakers: fc.record({ maxConnections: fc.integer({ min: 1, max: 1_000_000 }), maxPendingRequests: fc.integer({ min: 1, max: 1_000_000 }), maxRequests: fc.integer({ min: 1, max: 1_000_000 }) }, { requiredKeys: [] }),
    outlierDetection: fc.record(
      {
        consecutiveLocalOriginFailure: fc.integer({ min: 1, max: 1000 }),
        consecutive5xx: fc.integer({ min: 0, max: 1000 }),
        consecutiveGatewayFailure: fc.integer({ min: 0, max: 1000 }),
        intervalMs: fc.integer({ min: 100, max: 3_600_000 }),
        baseEjectionTimeMs: fc.integer({ min: 100, max: 3_600_000 }),
        maxEjectionPercent: fc.integer({ min: 0, max: 100 }),
      },
      { requiredKeys: [] },
    ),
    healthCheck: fc.record(
      {
        enabled: fc.boolean(),
        intervalMs: fc.integer({ min: 100, max: 3_600_000 }),
        noTrafficIntervalMs: fc.integer({ min: 100, max: 3_600_000 }),
        timeoutMs: fc.integer({ min: 1, max: 60_000 }),
        unhealthyThreshold: fc.integer({ min: 1, max: 100 }),
        healthyThreshold: fc.integer({ min: 1, max: 100 }),
      },
      { requiredKeys: [] },
    ),
    http2: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** The retry cap: a budget, or none and a max_retries circuit breaker. */
const retryCap = fc.oneof(
  fc.constant({}),
  fc.record({ percent: fc.integer({ min: 1, max: 100 }), minConcurrency: fc.integer({ min: 0, max: 1_000_000 }) }, { requiredKeys: [] }).map((budget) => ({ budget })),
  fc.integer({ min: 0, max: 1_000_000 }).map((maxRetries) => ({ budget: false as const, maxRetries })),
);

const meshPolicy = fc.tuple(timing, clusterFields, retryCap).map(([t, cluster, cap]) => {
  const { maxRetries, ...retryBudget } = cap as { budget?: unknown; maxRetries?: number };
  return {
    ...t,
    ...cluster,
    retries: { ...(t as { retries?: object }).retries, ...retryBudget },
    circuitBreakers: { ...cluster.circuitBreakers, ...(maxRetries !== undefined ? { maxRetries } : {}) },
  };
});
const upstreamPolicy = fc.tuple(timing, clusterFields).map(([t, cluster]) => ({ ...t, ...cluster }));

/** A valid topology with a random mesh-wide policy, random overrides on upstreams, and timing overrides on front routes. */
const withPolicies = validTopology.chain((raw: any) =>
  fc.record({
    mesh: fc.option(meshPolicy, { nil: undefined }),
    upstreams: fc.array(fc.option(upstreamPolicy, { nil: undefined }), { minLength: 40, maxLength: 40 }),
    routes: fc.array(fc.option(timing, { nil: undefined }), { minLength: 4, maxLength: 4 }),
  }).map(({ mesh, upstreams, routes }) => {
    let next = 0;
    const services = raw.services.map((s: any) => ({
      ...s,
      upstreams: s.upstreams.map((u: any) => {
        const policy = upstreams[next++ % upstreams.length];
        return policy === undefined ? u : { service: typeof u === "string" ? u : u.service, ...(typeof u === "string" ? {} : u), policy };
      }),
    }));
    const frontRoutes = raw.front.routes.map((r: any, i: number) => (routes[i] === undefined ? r : { ...r, policy: routes[i] }));
    return { ...raw, ...(mesh !== undefined ? { policy: mesh } : {}), services, front: { ...raw.front, routes: frontRoutes } };
  }),
);

describe("properties of edge policies", () => {
  it("every valid random policy, mesh-wide and per edge, renders Envoy configs that pass strict validation", function () {
    assertProperty(
      this.test,
      fc.property(withPolicies, (raw) => {
        assert.deepEqual(meshEnvoyConfigProblems(parseTopology(raw), kubernetesEnvoyTarget(KIND_NAMES)), []);
      }),
      RUNS,
    );
  });
});
