/**
 * The traffic policy of each edge (front → service, service → upstream): a mesh-wide
 * `topology.policy` over DEFAULT_EDGE_POLICY, and a `policy` override on an upstream object or a
 * front route over that. Every field is checked where it is written, with its range; rules that
 * tie fields together are checked on the merged policy, at the block that wrote one of them.
 */
import { IssueCollector, show } from "./reader";
import { RETRY_CONDITIONS, type CircuitBreakers, type EdgePolicy, type HealthCheckSettings, type OutlierDetection, type RetryBudget, type RetryCondition } from "./types";

/**
 * Safe defaults that keep the mesh's earlier behaviour:
 * - timeoutMs 15000 is Envoy's own route timeout (api/envoy/config/route/v3/route_components.proto,
 *   RouteAction.timeout), now written out; no per-try timeout.
 * - retries: only failures where the request cannot have reached an app, twice, each on a host
 *   not tried yet. A budget of 20% of active requests with a floor of 3 concurrent retries is
 *   Envoy's own default budget (api/envoy/config/cluster/v3/circuit_breaker.proto,
 *   RetryBudget): a failing callee gets at most one retry per five requests in flight, so retries
 *   cannot multiply the load of an outage, while a quiet caller can still retry.
 * - circuit breakers: Envoy's defaults (1024 connections, pending and active requests), written out.
 * - outlier detection: eject a host after 2 connection failures in a row (local origin), never
 *   for its answers, up to half the hosts, Envoy's 10 s interval and 30 s base ejection time: a
 *   callee answering 5xx because its own upstream fails must not be ejected for it.
 * - health checks: `/healthz` every 2 s (5 s before the first request), 1 s timeout, 2 network
 *   failures mark a host down (a non-2xx answer at once), 1 success brings it back.
 * - HTTP/2 between sidecars: many requests share one connection, and a stream refused by a
 *   draining callee is safe to retry (refused-stream).
 */
export const DEFAULT_EDGE_POLICY: EdgePolicy = {
  timeoutMs: 15_000,
  retries: {
    count: 2,
    retryOn: ["connect-failure", "refused-stream", "reset-before-request", "not-delivered"],
    idempotentOnly: true,
    previousHosts: true,
    budget: { percent: 20, minConcurrency: 3 },
  },
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024 },
  outlierDetection: {
    consecutiveLocalOriginFailure: 2,
    consecutive5xx: 0,
    consecutiveGatewayFailure: 0,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionPercent: 50,
  },
  healthCheck: { enabled: true, intervalMs: 2000, noTrafficIntervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 },
  http2: true,
};

/** Retry conditions that can retry a request the app already received (and maybe acted on). */
export const DELIVERED_RETRY_CONDITIONS: readonly RetryCondition[] = ["5xx", "gateway-error", "reset", "retriable-4xx"];

/**
 * Conditions under which Envoy retries a try that hit its per-try timeout: the router resets
 * that try's stream, which was already sent (its timer starts once the request is), and
 * RetryStateImpl::wouldRetryFromReset retries such a reset only on reset, 5xx or gateway-error
 * (source/common/router/router.cc and retry_state_impl.cc in envoyproxy/envoy; the router
 * filter's docs of x-envoy-retry-on say the same: "does not respond at all (... read timeout)").
 */
export const PER_TRY_TIMEOUT_RETRY_CONDITIONS: readonly RetryCondition[] = ["5xx", "gateway-error", "reset"];

const HOUR_MS = 3_600_000;
const MAX_COUNT = 1_000_000;

/** A policy block as written: any field may be missing; `budget: false` turns the budget off. */
export interface PolicyDraft {
  readonly path: string;
  readonly timeoutMs?: number;
  readonly perTryTimeoutMs?: number;
  readonly retries?: {
    readonly count?: number;
    readonly retryOn?: readonly RetryCondition[];
    readonly idempotentOnly?: boolean;
    readonly previousHosts?: boolean;
    readonly budget?: Partial<RetryBudget> | false;
  };
  readonly circuitBreakers?: Partial<CircuitBreakers>;
  readonly outlierDetection?: Partial<OutlierDetection>;
  readonly healthCheck?: Partial<HealthCheckSettings>;
  readonly http2?: boolean;
}

function boolean(c: IssueCollector, value: unknown, path: string): boolean | undefined {
  if (typeof value !== "boolean") return c.report(path, `${show(value)} is not true or false`);
  return value;
}

/** Reads `keys` of `obj` as integers in their ranges; missing keys stay missing. */
function integers<K extends string>(
  c: IssueCollector,
  obj: Record<string, unknown>,
  path: string,
  ranges: Readonly<Record<K, readonly [number, number, string?]>>,
): Partial<Record<K, number>> {
  const result: Partial<Record<K, number>> = {};
  for (const key of Object.keys(ranges) as K[]) {
    const [min, max, why] = ranges[key];
    if (obj[key] !== undefined) result[key] = c.integer(obj[key], `${path}.${key}`, min, max, why ?? "");
  }
  return result;
}

function readRetryOn(c: IssueCollector, raw: unknown, path: string): RetryCondition[] | undefined {
  const list = c.array(raw, path);
  if (list === undefined) return undefined;
  if (list.length === 0) return c.report(path, "must list at least one condition (set retries.count: 0 to turn retries off)");
  const seen = new Set<string>();
  const result: RetryCondition[] = [];
  list.forEach((entry, i) => {
    const condition = c.oneOf(entry, `${path}[${i}]`, RETRY_CONDITIONS);
    if (condition === undefined) return;
    if (seen.has(condition)) c.report(`${path}[${i}]`, `${show(condition)} is listed twice`);
    seen.add(condition);
    result.push(condition);
  });
  return result.length === list.length ? result : undefined;
}

/** Reads a `policy` block (mesh-wide or an override), reporting every bad field. */
export function readPolicy(c: IssueCollector, raw: unknown, path: string): PolicyDraft {
  const obj = c.object(raw, path, ["timeoutMs", "perTryTimeoutMs", "retries", "circuitBreakers", "outlierDetection", "healthCheck", "http2"]);
  if (obj === undefined) return { path };
  const draft: { -readonly [K in keyof PolicyDraft]: PolicyDraft[K] } = {
    path,
    ...integers(c, obj, path, { timeoutMs: [1, HOUR_MS], perTryTimeoutMs: [0, HOUR_MS, " (0: none)"] }),
  };
  if (obj.http2 !== undefined) draft.http2 = boolean(c, obj.http2, `${path}.http2`);
  if (obj.retries !== undefined) {
    const at = `${path}.retries`;
    const retries = c.object(obj.retries, at, ["count", "retryOn", "idempotentOnly", "previousHosts", "budget"]);
    if (retries !== undefined) {
      let budget: Partial<RetryBudget> | false | undefined;
      if (retries.budget === false) budget = false;
      else if (retries.budget !== undefined) {
        const b = c.object(retries.budget, `${at}.budget`, ["percent", "minConcurrency"]);
        budget = b === undefined ? undefined : integers(c, b, `${at}.budget`, { percent: [1, 100], minConcurrency: [0, MAX_COUNT] });
      }
      draft.retries = {
        ...integers(c, retries, at, { count: [0, 10] }),
        ...(retries.retryOn !== undefined ? { retryOn: readRetryOn(c, retries.retryOn, `${at}.retryOn`) } : {}),
        ...(retries.idempotentOnly !== undefined ? { idempotentOnly: boolean(c, retries.idempotentOnly, `${at}.idempotentOnly`) } : {}),
        ...(retries.previousHosts !== undefined ? { previousHosts: boolean(c, retries.previousHosts, `${at}.previousHosts`) } : {}),
        ...(budget !== undefined ? { budget } : {}),
      };
    }
  }
  if (obj.circuitBreakers !== undefined) {
    const at = `${path}.circuitBreakers`;
    const breakers = c.object(obj.circuitBreakers, at, ["maxConnections", "maxPendingRequests", "maxRequests", "maxRetries"]);
    if (breakers !== undefined) {
      draft.circuitBreakers = integers(c, breakers, at, {
        maxConnections: [1, MAX_COUNT],
        maxPendingRequests: [1, MAX_COUNT],
        maxRequests: [1, MAX_COUNT],
        maxRetries: [0, MAX_COUNT],
      });
    }
  }
  if (obj.outlierDetection !== undefined) {
    const at = `${path}.outlierDetection`;
    const keys = ["consecutiveLocalOriginFailure", "consecutive5xx", "consecutiveGatewayFailure", "intervalMs", "baseEjectionTimeMs", "maxEjectionPercent"] as const;
    const outlier = c.object(obj.outlierDetection, at, keys);
    if (outlier !== undefined) {
      draft.outlierDetection = integers(c, outlier, at, {
        consecutiveLocalOriginFailure: [1, 1000],
        consecutive5xx: [0, 1000, " (0: off)"],
        consecutiveGatewayFailure: [0, 1000, " (0: off)"],
        intervalMs: [100, HOUR_MS],
        baseEjectionTimeMs: [100, HOUR_MS],
        maxEjectionPercent: [0, 100, " (Envoy refuses more than 100)"],
      });
    }
  }
  if (obj.healthCheck !== undefined) {
    const at = `${path}.healthCheck`;
    const keys = ["enabled", "intervalMs", "noTrafficIntervalMs", "timeoutMs", "unhealthyThreshold", "healthyThreshold"] as const;
    const check = c.object(obj.healthCheck, at, keys);
    if (check !== undefined) {
      draft.healthCheck = {
        ...(check.enabled !== undefined ? { enabled: boolean(c, check.enabled, `${at}.enabled`) } : {}),
        ...integers(c, check, at, {
          intervalMs: [100, HOUR_MS],
          noTrafficIntervalMs: [100, HOUR_MS],
          timeoutMs: [1, 60_000],
          unhealthyThreshold: [1, 100],
          healthyThreshold: [1, 100],
        }),
      };
    }
  }
  return draft;
}

function defined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `draft` over `base`, block by block. */
function merge(base: EdgePolicy, draft: PolicyDraft): EdgePolicy {
  const { budget, ...retries } = draft.retries ?? {};
  const mergedBudget = budget === false ? undefined : budget === undefined ? base.retries.budget : { ...(base.retries.budget ?? DEFAULT_BUDGET), ...defined(budget) };
  const { budget: _ignored, ...baseRetries } = base.retries;
  void _ignored;
  // 0 removes a per-try timeout set mesh-wide.
  const perTry = draft.perTryTimeoutMs === 0 ? undefined : (draft.perTryTimeoutMs ?? base.perTryTimeoutMs);
  return {
    timeoutMs: draft.timeoutMs ?? base.timeoutMs,
    ...(perTry !== undefined ? { perTryTimeoutMs: perTry } : {}),
    retries: { ...baseRetries, ...defined(retries), ...(mergedBudget !== undefined ? { budget: mergedBudget } : {}) },
    circuitBreakers: { ...base.circuitBreakers, ...defined(draft.circuitBreakers) },
    outlierDetection: { ...base.outlierDetection, ...defined(draft.outlierDetection) },
    healthCheck: { ...base.healthCheck, ...defined(draft.healthCheck) },
    http2: draft.http2 ?? base.http2,
  };
}

const DEFAULT_BUDGET: RetryBudget = DEFAULT_EDGE_POLICY.retries.budget as RetryBudget;

/**
 * The policy of `draft` over `base`, with the rules between fields checked when `draft` wrote
 * one of the fields a rule involves (so a mesh-wide mistake is reported once, at `topology.policy`).
 */
export function resolvePolicy(c: IssueCollector, base: EdgePolicy, draft: PolicyDraft | undefined): EdgePolicy {
  if (draft === undefined) return base;
  const policy = merge(base, draft);
  const failed = (field: string) => c.issues.some((i) => i.path.startsWith(`${draft.path}.${field}`));
  const { timeoutMs, perTryTimeoutMs, retries, circuitBreakers } = policy;
  const wrote = {
    timeouts: draft.timeoutMs !== undefined || draft.perTryTimeoutMs !== undefined,
    retryOn: draft.retries?.retryOn !== undefined || draft.retries?.count !== undefined,
  };
  if (perTryTimeoutMs !== undefined && wrote.timeouts && !failed("timeoutMs") && !failed("perTryTimeoutMs") && perTryTimeoutMs >= timeoutMs) {
    c.report(
      `${draft.path}.perTryTimeoutMs`,
      `${perTryTimeoutMs} must be less than timeoutMs (${timeoutMs}): Envoy ignores a per-try timeout that is not below the request timeout (source/common/router/router.cc, FilterUtility::finalTimeout)`,
    );
  }
  const retriesTimedOutTry = retries.count > 0 && retries.retryOn.some((r) => PER_TRY_TIMEOUT_RETRY_CONDITIONS.includes(r));
  if (perTryTimeoutMs !== undefined && (wrote.timeouts || wrote.retryOn) && !failed("perTryTimeoutMs") && !failed("retries") && !retriesTimedOutTry) {
    c.report(
      `${draft.path}.perTryTimeoutMs`,
      `${perTryTimeoutMs} has no retry to time: a try that times out is retried only on ${PER_TRY_TIMEOUT_RETRY_CONDITIONS.join(", ")} ` +
        `(retries.retryOn is ${retries.count > 0 ? retries.retryOn.join(", ") : "off: count 0"}); add one of them, or set timeoutMs instead`,
    );
  }
  const wroteBudgetOrMax = draft.circuitBreakers?.maxRetries !== undefined || draft.retries?.budget !== undefined;
  if (circuitBreakers.maxRetries !== undefined && retries.budget !== undefined && wroteBudgetOrMax) {
    c.report(
      `${draft.path}.circuitBreakers.maxRetries`,
      `${circuitBreakers.maxRetries} would be ignored: Envoy ignores max_retries while a retry budget is set (api/envoy/config/cluster/v3/circuit_breaker.proto); set retries.budget: false to use maxRetries`,
    );
  }
  return policy;
}

/** The fields of a policy that belong to the callee's cluster, not to one route. */
export function clusterPolicyOf(policy: EdgePolicy): Pick<EdgePolicy, "circuitBreakers" | "outlierDetection" | "healthCheck" | "http2"> & { readonly budget?: RetryBudget } {
  const { circuitBreakers, outlierDetection, healthCheck, http2 } = policy;
  return { circuitBreakers, outlierDetection, healthCheck, http2, ...(policy.retries.budget !== undefined ? { budget: policy.retries.budget } : {}) };
}
