/**
 * Edge protection (rate limit, body size limit, timeouts of the front proxy) and opt-in fault
 * injection, as written in the topology: read with the same all-at-once issues as the rest of it
 * (path, value, allowed range), then completed with the defaults.
 */
import { DEFAULT_FRONT_PROTECTION, FRONT_PROXY_NAME } from "./defaults";
import { type IssueCollector, show } from "./reader";
import type { EdgeProtection, EdgeTimeouts, FaultInjection, FrontProtection, Percentage, RateLimit, Topology } from "./types";

/** Largest uint32, the type of Envoy's token bucket counts (envoy/type/v3/token_bucket.proto). */
const MAX_UINT32 = 4_294_967_295;
/**
 * Envoy refuses a shorter fill interval: "local rate limit token bucket fill timer must be >= 50ms"
 * (source/extensions/filters/common/local_ratelimit/local_ratelimit_impl.cc in envoyproxy/envoy).
 */
export const MIN_FILL_INTERVAL_MS = 50;
const MAX_FILL_INTERVAL_MS = 86_400_000;
/** The front proxy holds a whole request body in memory before it forwards it. */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const BODY_WHY = " (the front proxy holds each whole body in memory before forwarding it)";
/** Longest edge timeout and fault delay accepted: one day. */
const MAX_TIMEOUT_MS = 86_400_000;
const MAX_DELAY_MS = 3_600_000;
/** A fault abort's status: Envoy's FaultAbort.http_status is from 200 to 599 (envoy/extensions/filters/http/fault/v3/fault.proto). */
const MIN_ABORT_STATUS = 200;
const MAX_ABORT_STATUS = 599;
/** Percentages go to Envoy as a FractionalPercent over a million, so four decimals are exact. */
const PERCENT_DECIMALS = 4;

/** Edge protection as written: any field may be missing until defaults apply; `rateLimit: false` turns it off. */
export interface ProtectionDraft {
  readonly rateLimit?: Partial<RateLimit> | false;
  readonly maxRequestBytes?: number;
}

export interface FrontProtectionDraft extends ProtectionDraft {
  readonly timeouts?: Partial<EdgeTimeouts>;
}

const PROTECTION_KEYS = ["rateLimit", "maxRequestBytes"] as const;
const RATE_LIMIT_KEYS = ["maxTokens", "tokensPerFill", "fillIntervalMs"] as const;
const TIMEOUT_KEYS = ["requestMs", "requestHeadersMs", "streamIdleMs", "idleMs"] as const;

function readRateLimit(c: IssueCollector, raw: unknown, path: string): Partial<RateLimit> | false | undefined {
  if (raw === false) return false;
  if (raw === true) return c.report(path, "true is not a rate limit: write an object (maxTokens, tokensPerFill, fillIntervalMs) or false to turn it off");
  const obj = c.object(raw, path, RATE_LIMIT_KEYS);
  if (obj === undefined) return undefined;
  const count = (key: "maxTokens" | "tokensPerFill") => (obj[key] === undefined ? undefined : c.integer(obj[key], `${path}.${key}`, 1, MAX_UINT32));
  return {
    maxTokens: count("maxTokens"),
    tokensPerFill: count("tokensPerFill"),
    fillIntervalMs:
      obj.fillIntervalMs === undefined
        ? undefined
        : c.integer(obj.fillIntervalMs, `${path}.fillIntervalMs`, MIN_FILL_INTERVAL_MS, MAX_FILL_INTERVAL_MS, " (Envoy's token bucket fill timer must be at least 50 ms)"),
  };
}

function readProtectionFields(c: IssueCollector, obj: Record<string, unknown>, path: string): ProtectionDraft {
  return {
    rateLimit: obj.rateLimit === undefined ? undefined : readRateLimit(c, obj.rateLimit, `${path}.rateLimit`),
    maxRequestBytes:
      obj.maxRequestBytes === undefined ? undefined : c.integer(obj.maxRequestBytes, `${path}.maxRequestBytes`, 1, MAX_REQUEST_BYTES, BODY_WHY),
  };
}

/** `topology.front.protection`: every route's defaults and the front proxy's timeouts. */
export function readFrontProtection(c: IssueCollector, raw: unknown, path: string): FrontProtectionDraft {
  const obj = c.object(raw, path, [...PROTECTION_KEYS, "timeouts"]);
  if (obj === undefined) return {};
  let timeouts: Partial<EdgeTimeouts> | undefined;
  if (obj.timeouts !== undefined) {
    const at = `${path}.timeouts`;
    const t = c.object(obj.timeouts, at, TIMEOUT_KEYS);
    if (t !== undefined) {
      timeouts = Object.fromEntries(
        TIMEOUT_KEYS.filter((k) => t[k] !== undefined).map((k) => [k, c.integer(t[k], `${at}.${k}`, 0, MAX_TIMEOUT_MS, " (0 turns it off)")]),
      );
    }
  }
  return { ...readProtectionFields(c, obj, path), timeouts };
}

/** A front route's `protection`: overrides of the mesh-wide rate limit and body size limit. */
export function readRouteProtection(c: IssueCollector, raw: unknown, path: string): ProtectionDraft {
  if (raw !== null && typeof raw === "object" && "timeouts" in raw) {
    c.report(`${path}.timeouts`, "timeouts apply to the whole front proxy (each of its listeners), not to one route: set them in topology.front.protection.timeouts");
    const rest: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
    delete rest.timeouts;
    raw = rest;
  }
  const obj = c.object(raw, path, PROTECTION_KEYS);
  return obj === undefined ? {} : readProtectionFields(c, obj, path);
}

function readPercentage(c: IssueCollector, raw: unknown, path: string): Percentage | undefined {
  if (raw === undefined || raw === null) return c.required(path, raw);
  const scaled = typeof raw === "number" ? raw * 10 ** PERCENT_DECIMALS : NaN;
  if (typeof raw !== "number" || !(raw >= 0 && raw <= 100) || Math.abs(scaled - Math.round(scaled)) > 1e-6) {
    return c.report(path, `${show(raw)} is not a percentage from 0 to 100 (at most ${PERCENT_DECIMALS} decimals)`);
  }
  return raw;
}

/** A `fault` key on an upstream object or a front route: a delay and/or an abort, each for a percentage of requests. */
export function readFault(c: IssueCollector, raw: unknown, path: string): FaultInjection | undefined {
  const obj = c.object(raw, path, ["delay", "abort"]);
  if (obj === undefined) return undefined;
  if (obj.delay === undefined && obj.abort === undefined) return c.report(path, "set delay, abort or both (or leave fault out)");
  let delay: FaultInjection["delay"];
  let abort: FaultInjection["abort"];
  let failed = false;
  if (obj.delay !== undefined) {
    const d = c.object(obj.delay, `${path}.delay`, ["fixedDelayMs", "percentage"]);
    const fixedDelayMs = d === undefined ? undefined : c.integer(d.fixedDelayMs, `${path}.delay.fixedDelayMs`, 1, MAX_DELAY_MS);
    const percentage = d === undefined ? undefined : readPercentage(c, d.percentage, `${path}.delay.percentage`);
    if (fixedDelayMs !== undefined && percentage !== undefined) delay = { fixedDelayMs, percentage };
    else failed = true;
  }
  if (obj.abort !== undefined) {
    const a = c.object(obj.abort, `${path}.abort`, ["httpStatus", "percentage"]);
    const httpStatus = a === undefined ? undefined : c.integer(a.httpStatus, `${path}.abort.httpStatus`, MIN_ABORT_STATUS, MAX_ABORT_STATUS);
    const percentage = a === undefined ? undefined : readPercentage(c, a.percentage, `${path}.abort.percentage`);
    if (httpStatus !== undefined && percentage !== undefined) abort = { httpStatus, percentage };
    else failed = true;
  }
  if (failed) return undefined;
  return { ...(delay ? { delay } : {}), ...(abort ? { abort } : {}) };
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fields written override `base`; a partial rate limit fills in from `base`'s (or the built-in one when `base` has none). */
function mergeProtection(base: EdgeProtection, draft: ProtectionDraft): EdgeProtection {
  const limit = draft.rateLimit;
  const rateLimit =
    limit === undefined ? base.rateLimit : limit === false ? undefined : { ...(base.rateLimit ?? DEFAULT_FRONT_PROTECTION.rateLimit), ...definedFields(limit) } as RateLimit;
  return { ...(rateLimit ? { rateLimit } : {}), maxRequestBytes: draft.maxRequestBytes ?? base.maxRequestBytes };
}

/** The mesh-wide edge protection: the defaults with `topology.front.protection` over them. */
export function completeFrontProtection(draft: FrontProtectionDraft = {}): FrontProtection {
  const { timeouts, ...fields } = DEFAULT_FRONT_PROTECTION;
  return { ...mergeProtection(fields, draft), timeouts: { ...timeouts, ...definedFields(draft.timeouts ?? {}) } };
}

/** One route's protection: the mesh-wide one with the route's overrides. */
export function completeRouteProtection(front: FrontProtection, draft: ProtectionDraft = {}): EdgeProtection {
  return mergeProtection({ ...(front.rateLimit ? { rateLimit: front.rateLimit } : {}), maxRequestBytes: front.maxRequestBytes }, draft);
}

function describeFault(fault: FaultInjection): string {
  return [
    ...(fault.delay ? [`delay ${fault.delay.fixedDelayMs} ms for ${fault.delay.percentage}%`] : []),
    ...(fault.abort ? [`abort with HTTP ${fault.abort.httpStatus} for ${fault.abort.percentage}%`] : []),
  ].join(" and ");
}

/** Every edge with an injected fault, one line each (`front-envoy → service-a (/)`: ...), in config order. */
export function faultyEdges(topology: Topology): string[] {
  return [
    ...topology.front.routes.flatMap((r) => (r.fault ? [`${FRONT_PROXY_NAME} → ${r.service} (route ${r.prefix}): ${describeFault(r.fault)}`] : [])),
    ...topology.services.flatMap((s) =>
      [...s.upstreams]
        .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
        .flatMap((u) => (u.fault ? [`${s.name} → ${u.service}: ${describeFault(u.fault)}`] : [])),
    ),
  ];
}

/**
 * What render and `pulumi up` say when faults are configured: faults make requests fail or wait
 * on purpose, which nobody should ship by accident. Undefined when there are none.
 */
export function faultWarning(topology: Topology): string | undefined {
  const edges = faultyEdges(topology);
  if (edges.length === 0) return undefined;
  return `warning: fault injection is on for ${edges.length} edge${edges.length === 1 ? "" : "s"}, for testing only: ${edges.join("; ")}`;
}
