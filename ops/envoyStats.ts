/**
 * What every running Envoy says about its live config, and how that compares with what the stack
 * delivered: pure functions over the stack output `envoyConfig` and Envoy's own `/stats` text.
 * `npm run status` and the end of `npm run up` print these reports.
 */
import type { LiveConfigSummary } from "../envoy/xds";
import { STATS_PATH } from "../envoy/names";
import { OpsError } from "./errors";

/** The stack output `envoyConfig`: each proxy's bootstrap version and the version of each xDS subscription. */
export type ExpectedConfig = Readonly<Record<string, LiveConfigSummary>>;

export const ENVOY_CONFIG_OUTPUT = "envoyConfig";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads the stack output `envoyConfig`; throws an OpsError naming the field when it has another
 * shape (a stack deployed by an older version of this program has no such output).
 */
export function parseEnvoyConfigOutput(stackName: string, value: unknown): ExpectedConfig {
  if (value === undefined) {
    throw new OpsError(`stack ${stackName} has no output ${ENVOY_CONFIG_OUTPUT}: it was deployed by an older version of this program, or not at all; run npm run up (or pulumi up) first`);
  }
  const problems: string[] = [];
  const result: Record<string, LiveConfigSummary> = {};
  if (!isRecord(value) || Object.keys(value).length === 0) {
    throw new OpsError(`stack ${stackName}: output ${ENVOY_CONFIG_OUTPUT} must map each proxy to { bootstrap, live }, got ${JSON.stringify(value)}`);
  }
  for (const proxy of Object.keys(value).sort()) {
    const entry = value[proxy];
    const where = `${ENVOY_CONFIG_OUTPUT}.${proxy}`;
    if (!isRecord(entry) || typeof entry.bootstrap !== "string" || !isRecord(entry.live)) {
      problems.push(`${where} must be { bootstrap: string, live: { <stat prefix>: <version> } }, got ${JSON.stringify(entry)}`);
      continue;
    }
    const live: Record<string, string> = {};
    for (const [prefix, version] of Object.entries(entry.live)) {
      if (typeof version !== "string" || version === "") {
        problems.push(`${where}.live.${prefix} must be a version string, got ${JSON.stringify(version)}`);
      } else {
        live[prefix] = version;
      }
    }
    result[proxy] = { bootstrap: entry.bootstrap, live };
  }
  if (problems.length > 0) {
    throw new OpsError(`stack ${stackName}: output ${ENVOY_CONFIG_OUTPUT} is not what this program writes:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  return result;
}

/** The per-subscription stats compared: `<prefix>.version_text` (a text readout) and three counters. */
export const SUBSCRIPTION_STATS = ["version_text", "update_success", "update_rejected", "update_failure"] as const;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The `filter` of `/stats?filter=`: exactly the subscription stats of these prefixes (RE2 syntax; Envoy's default stats matcher). */
export function statsFilter(prefixes: readonly string[]): string {
  const sorted = [...new Set(prefixes)].sort();
  return `^(${sorted.map(escapeRegex).join("|")})\\.(${SUBSCRIPTION_STATS.join("|")})$`;
}

/** The admin path and query that asks for them, as the health listener forwards it to admin. */
export function statsPath(prefixes: readonly string[]): string {
  return `${STATS_PATH}?filter=${encodeURIComponent(statsFilter(prefixes))}`;
}

/**
 * Parses `/stats` text: `name: 12` for counters and gauges, `name: "text"` for text readouts
 * (envoyproxy/envoy source/server/admin/stats_render.cc, StatsTextRender). Lines of another shape
 * (histograms) are skipped.
 */
export function parseStatsText(text: string): Map<string, number | string> {
  const stats = new Map<string, number | string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([^:\s]+): (.*)$/.exec(line);
    if (!m) continue;
    const [, name, value] = m;
    if (/^-?\d+$/.test(value)) {
      stats.set(name, Number(value));
    } else if (/^".*"$/.test(value)) {
      stats.set(name, unquote(value));
    }
  }
  return stats;
}

/** Text readouts are printed JSON-escaped (stats_render.cc uses Json::sanitize); a bad escape keeps the raw text. */
function unquote(value: string): string {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "string" ? parsed : value.slice(1, -1);
  } catch {
    return value.slice(1, -1);
  }
}

/**
 * Parses a raw HTTP/1.1 response (status line, headers, body), undoing chunked transfer encoding:
 * what a plain socket read from Envoy's health listener returns.
 */
export function parseHttpResponse(raw: string): { status: number; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = split < 0 ? raw : raw.slice(0, split);
  const rest = split < 0 ? "" : raw.slice(split + 4);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status) {
    throw new Error(`not an HTTP response: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  const chunked = /^transfer-encoding:\s*chunked\s*$/im.test(head);
  return { status: Number(status[1]), body: chunked ? dechunk(rest) : rest };
}

function dechunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) return out;
    const size = parseInt(body.slice(at, eol).split(";")[0], 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** One Envoy of the mesh: a pod's sidecar (or the front's Envoy), or a docker container. */
export interface MeshEnvoy {
  readonly proxy: string;
  /** The pod's or container's name. */
  readonly name: string;
  /** Container restarts: the pod's containers summed, or the container's RestartCount. */
  readonly restarts: number;
  readonly ready: boolean;
  /** Set when the Envoy does not run (pod pending, container stopped): why its stats are not asked. */
  readonly notRunning?: string;
}

/** One subscription of one Envoy: the version it must report and what it reports. */
export interface SubscriptionStatus {
  readonly statPrefix: string;
  readonly expected: string;
  /** `version_text`; undefined when Envoy has no such subscription (yet). */
  readonly running?: string;
  readonly updateSuccess: number;
  readonly updateRejected: number;
  readonly updateFailure: number;
}

export type EnvoyState = "converged" | "lagging" | "rejected" | "unreadable" | "unexpected";

export interface EnvoyStatus extends MeshEnvoy {
  readonly state: EnvoyState;
  readonly subscriptions: readonly SubscriptionStatus[];
  /** Why the stats could not be read (state unreadable), or why the Envoy is not expected. */
  readonly reason?: string;
}

export type StatsReading = { readonly text: string } | { readonly error: string };

const counter = (stats: Map<string, number | string>, name: string): number => {
  const v = stats.get(name);
  return typeof v === "number" ? v : 0;
};

/**
 * Compares what one Envoy reports with what its proxy's entry in `envoyConfig` expects. A
 * subscription lags when its version_text is not the expected version; it was rejected when it
 * lags and Envoy counted a rejected or failed update (Envoy then keeps its last good config).
 */
export function assessEnvoy(envoy: MeshEnvoy, expected: ExpectedConfig, reading: StatsReading | undefined): EnvoyStatus {
  const summary = expected[envoy.proxy];
  if (summary === undefined) {
    return { ...envoy, state: "unexpected", subscriptions: [], reason: `proxy ${envoy.proxy} is not in the stack's ${ENVOY_CONFIG_OUTPUT} output` };
  }
  if (envoy.notRunning !== undefined) {
    return { ...envoy, state: "unreadable", subscriptions: [], reason: envoy.notRunning };
  }
  if (reading === undefined || "error" in reading) {
    return { ...envoy, state: "unreadable", subscriptions: [], reason: reading?.error ?? "its stats were not read" };
  }
  const stats = parseStatsText(reading.text);
  const subscriptions = Object.keys(summary.live)
    .sort()
    .map((statPrefix): SubscriptionStatus => {
      const running = stats.get(`${statPrefix}.version_text`);
      return {
        statPrefix,
        expected: summary.live[statPrefix],
        ...(running !== undefined ? { running: String(running) } : {}),
        updateSuccess: counter(stats, `${statPrefix}.update_success`),
        updateRejected: counter(stats, `${statPrefix}.update_rejected`),
        updateFailure: counter(stats, `${statPrefix}.update_failure`),
      };
    });
  const lagging = subscriptions.filter((s) => s.running !== s.expected);
  const state: EnvoyState = lagging.length === 0 ? "converged" : lagging.some((s) => s.updateRejected > 0 || s.updateFailure > 0) ? "rejected" : "lagging";
  return { ...envoy, state, subscriptions };
}

export interface StatusReport {
  readonly envoys: readonly EnvoyStatus[];
  /** Proxies in `envoyConfig` with no Envoy found at all. */
  readonly missing: readonly string[];
  readonly converged: boolean;
}

/** The report over every Envoy found, sorted by proxy then name. */
export function buildReport(expected: ExpectedConfig, envoys: readonly EnvoyStatus[]): StatusReport {
  const sorted = [...envoys].sort((a, b) => (a.proxy === b.proxy ? (a.name < b.name ? -1 : 1) : a.proxy < b.proxy ? -1 : 1));
  const seen = new Set(sorted.map((e) => e.proxy));
  const missing = Object.keys(expected)
    .filter((p) => !seen.has(p))
    .sort();
  return { envoys: sorted, missing, converged: missing.length === 0 && sorted.every((e) => e.state === "converged") };
}

const show = (v: string | undefined) => (v === undefined ? "no such subscription" : v === "" ? "no version yet" : v);

const restarts = (n: number) => `${n} restart${n === 1 ? "" : "s"}`;

/** Where to look when an Envoy rejected a file: its log, as the target names it. */
export type LogsHint = (envoy: MeshEnvoy) => string;

/** The report as lines for the terminal: one per converged Envoy, more for one that is not. */
export function formatReport(report: StatusReport, logsHint: LogsHint): string[] {
  const lines: string[] = [];
  for (const e of report.envoys) {
    const who = `${e.proxy} ${e.name}`;
    if (e.state === "converged") {
      lines.push(`  ok        ${who}: ${e.subscriptions.length} subscriptions at the expected version, ${restarts(e.restarts)}`);
    } else if (e.state === "unreadable") {
      lines.push(`  unknown   ${who}: its stats cannot be read: ${e.reason}`);
    } else if (e.state === "unexpected") {
      lines.push(`  unknown   ${who}: ${e.reason}`);
    } else {
      const lagging = e.subscriptions.filter((s) => s.running !== s.expected);
      if (e.state === "rejected") {
        lines.push(`  rejected  ${who}: Envoy rejected an update and kept its last good config (${restarts(e.restarts)}); see ${logsHint(e)} (Envoy logs "Filesystem config update rejected")`);
      } else {
        lines.push(`  lagging   ${who}: ${lagging.length} of ${e.subscriptions.length} subscriptions still at an older version, ${restarts(e.restarts)}`);
      }
      for (const s of lagging) {
        const counters = s.updateRejected > 0 || s.updateFailure > 0 ? ` (update_rejected ${s.updateRejected}, update_failure ${s.updateFailure})` : "";
        lines.push(`            ${s.statPrefix}: runs ${show(s.running)}, expected ${s.expected}${counters}`);
      }
    }
  }
  for (const proxy of report.missing) {
    lines.push(`  missing   ${proxy}: no running Envoy found`);
  }
  return lines;
}

/** One line saying how far the mesh is from the expected config. */
export function summarize(report: StatusReport): string {
  const total = report.envoys.length;
  if (report.converged) {
    return `every Envoy runs the expected config (${total} asked)`;
  }
  const count = (state: EnvoyState) => report.envoys.filter((e) => e.state === state);
  const parts: string[] = [];
  const named = (list: readonly EnvoyStatus[], what: string) => {
    if (list.length > 0) parts.push(`${list.length} ${what} (${list.map((e) => e.name).join(", ")})`);
  };
  named(count("lagging"), "lagging");
  named(count("rejected"), "rejected an update");
  named([...count("unreadable"), ...count("unexpected")], "unknown");
  if (report.missing.length > 0) parts.push(`no Envoy for ${report.missing.join(", ")}`);
  return `not every Envoy runs the expected config: ${parts.join("; ")}`;
}
