/**
 * ts-node scripts/envoy-live-check.ts --image <envoy image> --rendered <dir> --tls <dir> [--break-lds <proxy>]
 *
 * Runs each rendered proxy's Envoy for real, with its bootstrap at /etc/envoy/envoy.json and its
 * xDS files at /etc/mesh/xds, and asks it (through its health listener's /stats, as npm run
 * status does) whether every subscription loaded the files: update_success >= 1,
 * update_rejected = 0, version_text = the file's version_info. `envoy --mode validate` cannot
 * show this: it never starts the LDS and CDS subscriptions (envoyproxy/envoy
 * source/server/config_validation/server.cc creates no LDS API; config_validation/cluster_manager.cc
 * createCds builds the CDS API and throws it away).
 *
 * With --break-lds <proxy>, that proxy's LDS file is then replaced (atomically, as the kubelet
 * does) by its listeners plus one Envoy refuses; the check passes when Envoy counts
 * update_rejected = 1, still reports the good version and still runs every good listener.
 *
 * <rendered dir> holds <proxy>.json (the bootstrap) and <proxy>/ (its xDS files), as
 * `npm run render` writes them under out/envoy; <tls dir> holds <proxy>/ (identity) and
 * front-envoy-edge/ (the edge certificate), as `npm run certs` writes them under dev/tls.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { toEnvoyJson } from "../envoy/serialize";
import { CDS_FILE, EDGE_DIR, ENVOY_CONFIG_DIR, ENVOY_CONFIG_FILE, HEALTH_LISTENER, IDENTITY_DIR, LDS_FILE, XDS_DIR } from "../envoy/names";
import { LISTENER } from "../envoy/typeUrls";
import type { EnvoyObject } from "../envoy/resources";
import { expectedVersions } from "../envoy/xds";
import { EnvoyStatus, assessEnvoy, parseHttpResponse, statsPath } from "../ops/envoyStats";
import { DEV_TCP_GET, httpGetRequest } from "../ops/status";

/** The versions an Envoy must report once it loaded these files: stat prefix -> version_info. */
export function liveVersionsOf(proxy: string, bootstrap: EnvoyObject, files: Readonly<Record<string, EnvoyObject>>): Record<string, string> {
  return Object.fromEntries(expectedVersions({ proxy, bootstrap, files }).map((e) => [e.statPrefix, e.version]));
}

/** The port of the bootstrap's health listener, which routes /stats to admin. */
export function healthPortOf(bootstrap: EnvoyObject): number {
  const listeners = ((bootstrap.static_resources as { listeners?: EnvoyObject[] } | undefined)?.listeners ?? []) as EnvoyObject[];
  const health = listeners.find((l) => l.name === HEALTH_LISTENER) as { address?: { socket_address?: { port_value?: unknown } } } | undefined;
  const port = health?.address?.socket_address?.port_value;
  if (typeof port !== "number") throw new Error(`the bootstrap has no static listener ${HEALTH_LISTENER} with a port`);
  return port;
}

/** A listener Envoy refuses on LDS: its address is no IP address. */
export const REFUSED_LISTENER: EnvoyObject = {
  "@type": LISTENER,
  name: "refused-on-purpose",
  address: { socket_address: { address: "not-an-ip-address", port_value: 1 } },
  filter_chains: [{ filters: [{ name: "envoy.filters.network.tcp_proxy", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", stat_prefix: "refused", cluster: "none" } }] }],
};

/**
 * An LDS file Envoy rejects: the good listeners (so a correct Envoy changes nothing: LDS applies
 * what it can of a file, envoyproxy/envoy source/common/listener_manager/lds_api.cc) plus one it
 * refuses, under a new version_info it must not report.
 */
export function brokenLds(good: EnvoyObject): EnvoyObject {
  return { version_info: "refused-on-purpose", resources: [...((good.resources ?? []) as EnvoyObject[]), REFUSED_LISTENER] };
}

interface Args {
  readonly image: string;
  readonly rendered: string;
  readonly tls: string;
  readonly breakLds?: string;
}

export function parseArgs(argv: readonly string[]): Args {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s);
    if (!["--image", "--rendered", "--tls", "--break-lds"].includes(name)) throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new Error(`${name} needs a value`);
    values[name.slice(2)] = value;
  }
  for (const required of ["image", "rendered", "tls"]) {
    if (values[required] === undefined) throw new Error(`--${required} is required`);
  }
  return { image: values.image, rendered: values.rendered, tls: values.tls, ...(values["break-lds"] !== undefined ? { breakLds: values["break-lds"] } : {}) };
}

const docker = (args: readonly string[]): string => execFileSync("docker", [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });

/** A container's log: Envoy writes to stderr. */
function dockerLogs(container: string): string {
  const r = spawnSync("docker", ["logs", container], { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`;
}

function readEnvoyFile(file: string): EnvoyObject {
  return JSON.parse(readFileSync(file, "utf8")) as EnvoyObject;
}

/** Asks the Envoy in `container` for its subscription stats, once. */
function ask(container: string, proxy: string, port: number, live: Record<string, string>): EnvoyStatus {
  const envoy = { proxy, name: container, restarts: 0, ready: true };
  const expected = { [proxy]: { bootstrap: "", live } };
  try {
    const raw = docker(["exec", container, "/bin/bash", "-c", DEV_TCP_GET, "bash", String(port), httpGetRequest(statsPath(Object.keys(live)))]);
    const response = parseHttpResponse(raw);
    return assessEnvoy(envoy, expected, response.status === 200 ? { text: response.body } : { error: `HTTP ${response.status}` });
  } catch (e) {
    return assessEnvoy(envoy, expected, { error: (e as Error).message.split("\n")[0] });
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => T, done: (t: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = probe();
    if (done(t)) return t;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function checkProxy(args: Args, proxy: string): Promise<void> {
  const bootstrapFile = join(args.rendered, `${proxy}.json`);
  const xdsSource = join(args.rendered, proxy);
  const bootstrap = readEnvoyFile(bootstrapFile);
  const fileNames = readdirSync(xdsSource).filter((f) => f.endsWith(".json")).sort();
  const files = Object.fromEntries(fileNames.map((f) => [f, readEnvoyFile(join(xdsSource, f))]));
  if (files[LDS_FILE] === undefined || files[CDS_FILE] === undefined) throw new Error(`${xdsSource}: no ${LDS_FILE} or ${CDS_FILE}`);
  const live = liveVersionsOf(proxy, bootstrap, files);
  const port = healthPortOf(bootstrap);

  const stage = mkdtempSync(join(tmpdir(), `live-${proxy}-`));
  mkdirSync(join(stage, "envoy"));
  mkdirSync(join(stage, "xds"));
  copyFileSync(bootstrapFile, join(stage, "envoy", ENVOY_CONFIG_FILE));
  for (const f of fileNames) copyFileSync(join(xdsSource, f), join(stage, "xds", f));
  const mounts = ["-v", `${join(stage, "envoy")}:${ENVOY_CONFIG_DIR}:ro`, "-v", `${join(stage, "xds")}:${XDS_DIR}:ro`];
  if (existsSync(join(args.tls, proxy))) mounts.push("-v", `${resolve(args.tls, proxy)}:${IDENTITY_DIR}:ro`);
  if (existsSync(join(args.tls, `${proxy}-edge`))) mounts.push("-v", `${resolve(args.tls, `${proxy}-edge`)}:${EDGE_DIR}:ro`);
  const container = `envoy-live-check-${proxy}`;
  spawnSync("docker", ["rm", "--force", container]); // a leftover of an earlier run, if any
  docker(["run", "--detach", "--name", container, "-e", "ENVOY_UID=0", ...mounts, args.image, "-c", `${ENVOY_CONFIG_DIR}/${ENVOY_CONFIG_FILE}`]);
  try {
    const status = await until(`${proxy}: every subscription at its file's version`, 30_000, () => ask(container, proxy, port, live), (s) => s.state === "converged");
    for (const s of status.subscriptions) {
      if (s.updateSuccess < 1 || s.updateRejected !== 0 || s.updateFailure !== 0) {
        throw new Error(`${proxy}: ${s.statPrefix}: update_success ${s.updateSuccess}, update_rejected ${s.updateRejected}, update_failure ${s.updateFailure}`);
      }
    }
    console.log(`${proxy}: Envoy loaded every file: ${status.subscriptions.map((s) => `${s.statPrefix}=${s.running}`).join(", ")}`);

    if (args.breakLds === proxy) {
      const tmp = join(stage, "xds", `.${LDS_FILE}.tmp`);
      // JSON, as the file's name says: Envoy must reject the listener, not fail to parse the file.
      writeFileSync(tmp, toEnvoyJson(brokenLds(files[LDS_FILE])));
      renameSync(tmp, join(stage, "xds", LDS_FILE));
      const lds = "listener_manager.lds";
      const after = await until(`${proxy}: the broken LDS file rejected`, 15_000, () => ask(container, proxy, port, live), (s) => (s.subscriptions.find((x) => x.statPrefix === lds)?.updateRejected ?? 0) >= 1);
      const sub = after.subscriptions.find((x) => x.statPrefix === lds)!;
      if (sub.updateRejected !== 1 || sub.running !== live[lds] || after.state !== "converged") {
        throw new Error(`${proxy}: after the broken LDS file: update_rejected ${sub.updateRejected}, version_text ${sub.running} (expected 1 and ${live[lds]})`);
      }
      const line = dockerLogs(container)
        .split("\n").find((l) => l.includes("Filesystem config update rejected"));
      if (line === undefined) throw new Error(`${proxy}: Envoy did not log "Filesystem config update rejected"`);
      console.log(`${proxy}: a broken LDS file was rejected (update_rejected 1) and Envoy kept ${lds} at ${sub.running}:\n  ${line.trim()}`);
    }
  } catch (e) {
    console.error(dockerLogs(container).split("\n").slice(-60).join("\n"));
    throw e;
  } finally {
    spawnSync("docker", ["rm", "--force", container]);
    rmSync(stage, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`envoy-live-check: ${(e as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const proxies = readdirSync(args.rendered)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
  if (proxies.length === 0) throw new Error(`no bootstrap (<proxy>.json) in ${args.rendered}`);
  if (args.breakLds !== undefined && !proxies.includes(args.breakLds)) throw new Error(`--break-lds ${args.breakLds}: no such proxy in ${args.rendered}`);
  for (const proxy of proxies) await checkProxy(args, proxy);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`envoy-live-check: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
