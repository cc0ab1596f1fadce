/**
 * The stack's `observability` key: where every proxy sends its trace spans, how many requests are
 * traced, and whether the add-ons (OpenTelemetry Collector, Jaeger, Prometheus, Grafana) run next
 * to the mesh on kind.
 *
 *   envoy-mesh:observability:
 *     tracing:                 # or false: no tracing
 *       collector: host:port   # OTLP/gRPC; default: the add-on collector when addons is on
 *       samplingPercent: 100   # default: the target's (100 on kind and docker, 1 on cloud)
 *       continueClientTraces: false  # default: the front drops a client's traceparent and starts its own trace
 *     addons: false            # kind only
 */
import { suggest } from "../checks/suggest";
import type { EnvoyTracing } from "../envoy/proxies";
import { ADDONS_NAMESPACE, COLLECTOR_SERVICE, OTLP_GRPC_PORT } from "../observability/addons";
import { type IssueCollector, isPlainObject, show } from "../topology/reader";
import { DNS_1123_SUBDOMAIN } from "./targets";

export interface ObservabilitySettings {
  /** Undefined: no tracer, no collector cluster. */
  readonly tracing?: EnvoyTracing;
  /** Whether the add-ons are deployed (kind only). */
  readonly addons: boolean;
}

/** What a target allows and defaults to. */
export interface ObservabilityDefaults {
  /** Percent of requests traced when the stack sets none. */
  readonly samplingPercent: number;
  /** Whether the target can run the add-ons (a local kind cluster). */
  readonly addons: boolean;
}

const KEYS = ["tracing", "addons"] as const;
const TRACING_KEYS = ["collector", "samplingPercent", "continueClientTraces"] as const;

/** The add-on collector's address inside the cluster. */
export function addonCollector(clusterDomain: string): { readonly host: string; readonly port: number } {
  return { host: `${COLLECTOR_SERVICE}.${ADDONS_NAMESPACE}.svc.${clusterDomain}`, port: OTLP_GRPC_PORT };
}

/** Unknown keys of `value` at `path`, each reported with the nearest known key when it looks like a misspelling. */
function unknownKeys(c: IssueCollector, value: Record<string, unknown>, path: string, known: readonly string[]): void {
  for (const key of Object.keys(value).filter((k) => !known.includes(k))) {
    const near = suggest(key, known);
    c.report(`${path}.${key}`, `unknown key${near === undefined ? "" : `; did you mean ${near}?`} (allowed: ${known.join(", ")})`);
  }
}

/** `host:port`, the host a DNS name or IPv4 address, or `[IPv6]:port`. */
function hostPort(c: IssueCollector, value: unknown, path: string): { host: string; port: number } | undefined {
  const text = c.string(value, path);
  if (text === undefined) return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = match === null ? NaN : Number(match[3]);
  const hostOk = host !== undefined && (match?.[1] !== undefined || (host.length <= 253 && DNS_1123_SUBDOMAIN.test(host.replace(/\.$/, ""))));
  if (!hostOk || !(port >= 1 && port <= 65535)) {
    return c.report(path, `${show(text)} is not host:port (a DNS name or IP, and a port from 1 to 65535), for example otel-collector.observability.svc.cluster.local:${OTLP_GRPC_PORT}`);
  }
  return { host: host as string, port };
}

/** Pulumi passes numbers and booleans set with `pulumi config set --path` as text. */
const typed = (value: unknown) => (value === "true" ? true : value === "false" ? false : typeof value === "string" && /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value);

/**
 * Reads the key's value (an object, undefined when unset) at `path`; problems are reported,
 * every one, and the result is undefined when there was any.
 */
export function parseObservability(
  c: IssueCollector,
  raw: unknown,
  path: string,
  target: { readonly name: string; readonly clusterDomain: string; readonly defaults: ObservabilityDefaults },
): ObservabilitySettings | undefined {
  const before = c.issues.length;
  if (raw !== undefined && !isPlainObject(raw)) {
    return c.report(path, `expected a mapping with tracing and addons, got ${show(raw)}`);
  }
  const value = raw ?? {};
  unknownKeys(c, value, path, KEYS);
  const addons = value.addons === undefined ? false : typed(value.addons);
  if (typeof addons !== "boolean") c.report(`${path}.addons`, `${show(value.addons)} is not true or false`);
  else if (addons && !target.defaults.addons) {
    c.report(`${path}.addons`, `true, but the add-ons run on target kind only, not ${target.name}: point tracing.collector at your own OTLP collector instead`);
  }
  const rawTracing = typed(value.tracing);
  let tracing: EnvoyTracing | undefined;
  if (rawTracing === false) {
    tracing = undefined;
  } else if (rawTracing !== undefined && rawTracing !== true && !isPlainObject(rawTracing)) {
    c.report(`${path}.tracing`, `expected a mapping (collector, samplingPercent, continueClientTraces) or false, got ${show(value.tracing)}`);
  } else {
    const spec = isPlainObject(rawTracing) ? rawTracing : {};
    unknownKeys(c, spec, `${path}.tracing`, TRACING_KEYS);
    const sampling = spec.samplingPercent === undefined ? target.defaults.samplingPercent : typed(spec.samplingPercent);
    if (typeof sampling !== "number" || !Number.isFinite(sampling) || sampling < 0 || sampling > 100) {
      c.report(`${path}.tracing.samplingPercent`, `${show(spec.samplingPercent)} is not a percentage from 0 to 100`);
    }
    const collector =
      spec.collector !== undefined ? hostPort(c, spec.collector, `${path}.tracing.collector`) : addons === true ? addonCollector(target.clusterDomain) : undefined;
    if (collector === undefined && spec.collector === undefined && (isPlainObject(rawTracing) || rawTracing === true)) {
      c.report(`${path}.tracing.collector`, `required: no collector to send spans to (set host:port of an OTLP/gRPC collector${target.defaults.addons ? ", or addons: true" : ""})`);
    }
    const continueClientTraces = spec.continueClientTraces === undefined ? false : typed(spec.continueClientTraces);
    if (typeof continueClientTraces !== "boolean") c.report(`${path}.tracing.continueClientTraces`, `${show(spec.continueClientTraces)} is not true or false`);
    if (collector !== undefined && typeof sampling === "number") {
      tracing = { collectorHost: collector.host, collectorPort: collector.port, samplingPercent: sampling, ...(continueClientTraces === true ? { continueClientTraces } : {}) };
    }
  }
  if (c.issues.length > before) return undefined;
  return { ...(tracing === undefined ? {} : { tracing }), addons: addons === true };
}
