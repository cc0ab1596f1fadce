import * as http from "node:http";
import { composeGreeting, upstreamFailureReply, type TextReply, type UpstreamBody } from "./body";
import type { DemoConfig } from "./config";
import type { RequestLogEntry } from "./log";
import { pickTracingHeaders } from "./tracing";
import { VERSION_HEADER } from "./names";
import { callUpstream } from "./upstream";

export { ConfigError, loadConfig, type DemoConfig, type Env, type UpstreamConfig } from "./config";
export { capitalize, displayName, isServiceName, upstreamUrlEnvVar } from "./names";
export { formatRequestLog, type RequestLogEntry } from "./log";

export interface DemoServerOptions {
  /** Called once per request when its response ends or its client leaves. Default: no logging. */
  readonly onRequestLog?: (entry: RequestLogEntry) => void;
  /**
   * True once the app is shutting down: `/healthz` then answers 503 so that callers' health
   * checks take this pod out of rotation, while every other request is still served.
   * Default: never draining.
   */
  readonly isDraining?: () => boolean;
}

/** Path of the health endpoint, on the serving port and on the health port. */
export const HEALTH_PATH = "/healthz";

/**
 * User agents of health checks: Envoy's active checks (`Envoy/HC`) and the kubelet's probes.
 * Their requests are answered but not logged: they come every few seconds from every caller.
 */
const PROBE_USER_AGENT = /^(Envoy\/HC|kube-probe\/)/;

/**
 * How long an idle keep-alive connection from the sidecar stays open. Longer than Node's
 * 5 s default so that the sidecar, not the app, closes idle connections: a proxy that
 * reuses a connection the app is closing at that moment gets a reset. The sidecar's idle
 * timeout for the app's cluster should be shorter than this.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

const TEXT_PLAIN = "text/plain; charset=utf-8";

/** Path without the query string. */
function pathOf(target: string | undefined): string {
  const path = (target ?? "/").split("?", 1)[0];
  return path === "" ? "/" : path;
}

/** One request being served. */
interface Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  /** Sends a plain-text reply, unless one was sent already or the client is gone. */
  readonly reply: (reply: TextReply, headers?: http.OutgoingHttpHeaders) => void;
  /** Records why the request failed, for its log line; called before replying. */
  readonly noteError: (error: string) => void;
}

function methodNotAllowed(exchange: Exchange, method: string, path: string): void {
  exchange.reply({ status: 405, body: `method ${method} not allowed on ${path}\n` }, { allow: "GET" });
}

/** GET / : call the upstreams in order, then greet; the first failing upstream decides the answer. */
async function greet(config: DemoConfig, exchange: Exchange): Promise<void> {
  // The client leaving (or the response ending) cancels any upstream call still running.
  const cancel = new AbortController();
  exchange.res.once("close", () => cancel.abort());
  // The pinning header goes on with the trace, so it pins every hop that has such a version.
  const pinned = exchange.req.headers[VERSION_HEADER];
  const headers = { ...pickTracingHeaders(exchange.req.headers), ...(typeof pinned === "string" ? { [VERSION_HEADER]: pinned } : {}) };
  const bodies: UpstreamBody[] = [];
  const servedBy: string[] = [];
  const upstreamHeaders = (): http.OutgoingHttpHeaders =>
    servedBy.length === 0 ? {} : { "x-upstream-served-by": servedBy.join(",") };

  for (const upstream of config.upstreams) {
    const outcome = await callUpstream({
      url: upstream.url,
      headers,
      timeoutMs: config.upstreamTimeoutMs,
      signal: cancel.signal,
    });
    if (outcome.kind === "ok" || outcome.kind === "bad-status") {
      servedBy.push(`${upstream.name}=${outcome.servedBy ?? "unknown"}`);
    }
    if (outcome.kind === "cancelled") return;
    const failure = upstreamFailureReply(upstream.name, outcome, config.upstreamTimeoutMs);
    if (failure !== undefined) {
      exchange.noteError(failure.body.trimEnd());
      exchange.reply(failure, upstreamHeaders());
      return;
    }
    if (outcome.kind === "ok") bodies.push({ name: upstream.name, body: outcome.body });
  }
  exchange.reply({ status: 200, body: composeGreeting(config.serviceName, bodies, config.serviceVersion) }, upstreamHeaders());
}

/** Routes one request. */
async function route(config: DemoConfig, exchange: Exchange, isDraining: () => boolean): Promise<void> {
  const method = exchange.req.method ?? "GET";
  const path = pathOf(exchange.req.url);
  if (path === HEALTH_PATH) {
    if (method !== "GET") methodNotAllowed(exchange, method, path);
    else if (isDraining()) exchange.reply({ status: 503, body: "draining\n" });
    else exchange.reply({ status: 200, body: "ok\n" });
  } else if (path !== "/") {
    exchange.reply({ status: 404, body: `no route for ${path}\n` });
  } else if (method !== "GET") {
    methodNotAllowed(exchange, method, path);
  } else {
    await greet(config, exchange);
  }
}

/**
 * The demo service as an HTTP server (not yet listening): `GET /` greets, after calling the
 * configured upstreams in order through their sidecar URLs; `GET /healthz` answers `ok`, or 503
 * `draining` once `isDraining` says so.
 * Every response carries `x-served-by: <pod>`. Once the server stops listening (shutdown),
 * responses close their connection so that draining ends as soon as they are sent.
 */
export function createDemoServer(config: DemoConfig, options: DemoServerOptions = {}): http.Server {
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    let error: string | undefined;
    const exchange: Exchange = {
      req,
      res,
      reply: (reply, headers = {}) => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(reply.status, {
          ...headers,
          "x-served-by": config.podName,
          "content-type": TEXT_PLAIN,
          "content-length": Buffer.byteLength(reply.body),
          // Not listening means shutting down: let this connection end with the response.
          ...(server.listening ? {} : { connection: "close" }),
        });
        res.end(reply.body);
      },
      noteError: (message) => {
        error = message;
      },
    };
    const probe = PROBE_USER_AGENT.test(req.headers["user-agent"] ?? "");
    res.once("close", () => {
      if (probe) return;
      const finished = res.writableFinished;
      options.onRequestLog?.({
        method: req.method ?? "",
        path: req.url ?? "",
        status: finished ? res.statusCode : 499,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        requestId: pickTracingHeaders(req.headers)["x-request-id"],
        error: error ?? (finished ? undefined : "client closed the connection"),
      });
    });
    route(config, exchange, options.isDraining ?? (() => false)).catch((unexpected: unknown) => {
      // A bug must cost one request, never the process.
      exchange.noteError(unexpected instanceof Error ? unexpected.message : String(unexpected));
      exchange.reply({ status: 500, body: "internal error\n" });
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

/**
 * The health port's server (not yet listening): `GET /healthz` answers 200 `ok` for as long as
 * the process runs, anything else 404 or 405. It is what kubelet probes reach on the pod IP
 * (the serving port is on 127.0.0.1), so it logs nothing and never goes through the sidecar:
 * a sidecar restart does not fail the app's probes.
 */
export function createHealthServer(config: DemoConfig): http.Server {
  const server = http.createServer((req, res) => {
    const path = pathOf(req.url);
    const method = req.method ?? "GET";
    const [status, body, extra]: [number, string, http.OutgoingHttpHeaders] =
      path !== HEALTH_PATH
        ? [404, `no route for ${path}\n`, {}]
        : method !== "GET"
          ? [405, `method ${method} not allowed on ${path}\n`, { allow: "GET" }]
          : [200, "ok\n", {}];
    res.writeHead(status, {
      ...extra,
      "x-served-by": config.podName,
      "content-type": TEXT_PLAIN,
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
  // Probes open a connection per check; nothing is gained by holding them open.
  server.keepAliveTimeout = 1000;
  return server;
}
