import * as net from "node:net";
import * as os from "node:os";
import { isServiceName, isVersionName, SERVICE_NAME_RULE, SERVICE_VERSION_ENV, upstreamUrlEnvVar, VERSION_NAME_RULE } from "./names";

/** The process environment, or any map shaped like it (tests pass plain objects). */
export type Env = Readonly<Record<string, string | undefined>>;

/** One upstream service, called in the order UPSTREAMS lists it. */
export interface UpstreamConfig {
  /** Service name as listed in UPSTREAMS, e.g. `service-b`. */
  readonly name: string;
  /** Origin to call, `http://host:port` without a trailing slash; the app requests `<url>/`. */
  readonly url: string;
}

/** Everything the demo app needs, parsed and checked. */
export interface DemoConfig {
  /** SERVICE_NAME (required): this service's name, a lowercase DNS label. */
  readonly serviceName: string;
  /** SERVICE_VERSION: the version this workload runs, said in the greeting. Default: none (absent). */
  readonly serviceVersion?: string;
  /** HOST: address to listen on. Default `127.0.0.1`: only the sidecar can reach the app. */
  readonly host: string;
  /** PORT (required): TCP port to listen on, 1-65535. */
  readonly port: number;
  /** UPSTREAMS plus one `<NAME>_URL` per entry. Default: none (a leaf service). */
  readonly upstreams: readonly UpstreamConfig[];
  /** UPSTREAM_TIMEOUT_MS: deadline for one upstream call, whole response included. Default 3000. */
  readonly upstreamTimeoutMs: number;
  /** POD_NAME: reported in `x-served-by`. Default: the host name (a pod's host name is its name). */
  readonly podName: string;
  /** SHUTDOWN_TIMEOUT_MS: how long in-flight requests may take once the app stops accepting. Default 10000. */
  readonly shutdownTimeoutMs: number;
  /**
   * DRAIN_MS: how long the app keeps serving after SIGTERM, answering `/healthz` with 503 so that
   * callers stop sending it requests, before it stops accepting. Default 0 (stop at once).
   */
  readonly drainMs: number;
  /**
   * HEALTH_PORT: a second port, on every interface, that answers only `GET /healthz` (200 while
   * the process runs) and logs nothing: for kubelet probes, which cannot reach 127.0.0.1.
   * Default: none.
   */
  readonly healthPort: number | undefined;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 3000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10000;
export const DEFAULT_DRAIN_MS = 0;
/** Largest delay Node timers accept. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Bad environment: lists every problem found, each naming the variable and the bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

const HOSTNAME_PATTERN =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Pod names are DNS subdomains; keep to characters that are safe in a header list. */
const POD_NAME_PATTERN = /^[A-Za-z0-9._-]{1,253}$/;

/** A variable counts as unset when absent or blank (Kubernetes can set empty values). */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function parseInteger(
  env: Env,
  name: string,
  min: number,
  max: number,
  fallback: number | undefined,
  problems: string[],
): number {
  const raw = read(env, name);
  if (raw === undefined) {
    if (fallback === undefined) problems.push(`${name} is required (an integer from ${min} to ${max})`);
    return fallback ?? 0;
  }
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got ${quote(env[name] ?? "")}`);
  }
  return value;
}

function parseHealthPort(env: Env, port: number, problems: string[]): number | undefined {
  if (read(env, "HEALTH_PORT") === undefined) return undefined;
  const healthPort = parseInteger(env, "HEALTH_PORT", 1, 65535, undefined, problems);
  if (healthPort === port) problems.push(`HEALTH_PORT must differ from PORT, both are ${port}`);
  return healthPort;
}

function parseServiceName(env: Env, problems: string[]): string {
  const raw = read(env, "SERVICE_NAME");
  if (raw === undefined) {
    problems.push(`SERVICE_NAME is required (${SERVICE_NAME_RULE})`);
    return "";
  }
  if (!isServiceName(raw)) problems.push(`SERVICE_NAME must be ${SERVICE_NAME_RULE}, got ${quote(raw)}`);
  return raw;
}

function parseServiceVersion(env: Env, problems: string[]): { serviceVersion?: string } {
  const raw = read(env, SERVICE_VERSION_ENV);
  if (raw === undefined) return {};
  if (!isVersionName(raw)) problems.push(`${SERVICE_VERSION_ENV} must be ${VERSION_NAME_RULE}, got ${quote(raw)}`);
  return { serviceVersion: raw };
}

function parseHost(env: Env, problems: string[]): string {
  const host = read(env, "HOST") ?? DEFAULT_HOST;
  if (net.isIP(host) === 0 && !HOSTNAME_PATTERN.test(host)) {
    problems.push(`HOST must be an IP address or a host name, got ${quote(host)}`);
  }
  return host;
}

/** Returns the origin of an upstream URL, or a reason it is unusable. */
function parseUpstreamUrl(raw: string): { origin: string } | { reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: "is not a URL (expected http://host:port)" };
  }
  if (url.protocol !== "http:") return { reason: "must use http:// (the sidecar listens on plain HTTP)" };
  if (url.username !== "" || url.password !== "") return { reason: "must not contain credentials" };
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    return { reason: "must have no path, query or fragment (the app always requests /)" };
  }
  return { origin: url.origin };
}

function parseUpstreams(env: Env, serviceName: string, problems: string[]): UpstreamConfig[] {
  const raw = read(env, "UPSTREAMS");
  if (raw === undefined) return [];
  const upstreams: UpstreamConfig[] = [];
  const seen = new Set<string>();
  for (const entry of raw.split(",").map((item) => item.trim())) {
    if (entry === "") {
      problems.push(`UPSTREAMS has an empty entry, got ${quote(raw)}`);
      continue;
    }
    if (!isServiceName(entry)) {
      problems.push(`UPSTREAMS entries must each be ${SERVICE_NAME_RULE}, got ${quote(entry)}`);
      continue;
    }
    if (seen.has(entry)) {
      problems.push(`UPSTREAMS lists ${entry} more than once`);
      continue;
    }
    seen.add(entry);
    if (entry === serviceName) {
      problems.push(`UPSTREAMS lists ${entry}, the service itself (a request would loop)`);
      continue;
    }
    const variable = upstreamUrlEnvVar(entry);
    const rawUrl = read(env, variable);
    if (rawUrl === undefined) {
      problems.push(`${variable} is required because UPSTREAMS lists ${entry}`);
      continue;
    }
    const parsed = parseUpstreamUrl(rawUrl);
    if ("reason" in parsed) {
      problems.push(`${variable} ${parsed.reason}, got ${quote(rawUrl)}`);
      continue;
    }
    upstreams.push({ name: entry, url: parsed.origin });
  }
  return upstreams;
}

function parsePodName(env: Env, fallbackPodName: () => string, problems: string[]): string {
  const raw = read(env, "POD_NAME");
  if (raw === undefined) return fallbackPodName();
  if (!POD_NAME_PATTERN.test(raw)) {
    problems.push(`POD_NAME must contain only letters, digits, '.', '-' and '_', got ${quote(raw)}`);
  }
  return raw;
}

/**
 * Reads the demo app's configuration from `env`. Throws a ConfigError that lists every
 * problem at once, each naming the variable and its bad value.
 * `fallbackPodName` supplies POD_NAME when unset (default: os.hostname).
 */
export function loadConfig(env: Env, fallbackPodName: () => string = os.hostname): DemoConfig {
  const problems: string[] = [];
  const serviceName = parseServiceName(env, problems);
  const host = parseHost(env, problems);
  const port = parseInteger(env, "PORT", 1, 65535, undefined, problems);
  const config: DemoConfig = {
    serviceName,
    ...parseServiceVersion(env, problems),
    host,
    port,
    upstreams: parseUpstreams(env, serviceName, problems),
    upstreamTimeoutMs: parseInteger(env, "UPSTREAM_TIMEOUT_MS", 1, MAX_TIMEOUT_MS, DEFAULT_UPSTREAM_TIMEOUT_MS, problems),
    podName: parsePodName(env, fallbackPodName, problems),
    shutdownTimeoutMs: parseInteger(env, "SHUTDOWN_TIMEOUT_MS", 1, MAX_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, problems),
    drainMs: parseInteger(env, "DRAIN_MS", 0, MAX_TIMEOUT_MS, DEFAULT_DRAIN_MS, problems),
    healthPort: parseHealthPort(env, port, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
