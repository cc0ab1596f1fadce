import * as http from "node:http";
import { composeGreeting, upstreamFailureReply, type TextReply, type UpstreamBody } from "./body";
import type { DemoConfig } from "./config";
import type { RequestLogEntry } from "./log";
import { pickTracingHeaders } from "./tracing";
import { callUpstream } from "./upstream";

export { ConfigError, loadConfig, type DemoConfig, type Env, type UpstreamConfig } from "./config";
export { capitalize, displayName, isServiceName, upstreamUrlEnvVar } from "./names";
export { formatRequestLog, type RequestLogEntry } from "./log";

export interface DemoServerOptions {
  /** Called once per request when its response ends or its client leaves. Default: no logging. */
  readonly onRequestLog?: (entry: RequestLogEntry) => void;
}

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

function send(res: http.ServerResponse, reply: TextReply, headers: http.OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status, {
    ...headers,
    "content-type": TEXT_PLAIN,
    "content-length": Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}

function methodNotAllowed(res: http.ServerResponse, method: string, path: string): void {
  send(res, { status: 405, body: `method ${method} not allowed on ${path}\n` }, { allow: "GET" });
}

/** Records why a request failed, for its log line; called before the response is sent. */
type NoteError = (error: string) => void;

/** GET / : call the upstreams in order, then greet; the first failing upstream decides the answer. */
async function greet(
  config: DemoConfig,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  noteError: NoteError,
): Promise<void> {
  // The client leaving (or the response ending) cancels any upstream call still running.
  const cancel = new AbortController();
  res.once("close", () => cancel.abort());
  const headers = pickTracingHeaders(req.headers);
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
      noteError(failure.body.trimEnd());
      send(res, failure, upstreamHeaders());
      return;
    }
    if (outcome.kind === "ok") bodies.push({ name: upstream.name, body: outcome.body });
  }
  send(res, { status: 200, body: composeGreeting(config.serviceName, bodies) }, upstreamHeaders());
}

/** Routes one request. */
async function route(
  config: DemoConfig,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  noteError: NoteError,
): Promise<void> {
  const method = req.method ?? "GET";
  const path = pathOf(req.url);
  if (path === "/healthz") {
    if (method !== "GET") methodNotAllowed(res, method, path);
    else send(res, { status: 200, body: "ok\n" });
  } else if (path !== "/") {
    send(res, { status: 404, body: `no route for ${path}\n` });
  } else if (method !== "GET") {
    methodNotAllowed(res, method, path);
  } else {
    await greet(config, req, res, noteError);
  }
}

/**
 * The demo service as an HTTP server (not yet listening): `GET /` greets, after calling the
 * configured upstreams in order through their sidecar URLs; `GET /healthz` answers `ok`.
 * Every response carries `x-served-by: <pod>`. Once the server stops listening (shutdown),
 * responses ask the client to close the connection so that draining ends promptly.
 */
export function createDemoServer(config: DemoConfig, options: DemoServerOptions = {}): http.Server {
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    let error: string | undefined;
    res.setHeader("x-served-by", config.podName);
    if (!server.listening) res.setHeader("connection", "close");
    res.once("close", () => {
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
    const noteError = (message: string): void => {
      error = message;
    };
    route(config, req, res, noteError).catch((unexpected: unknown) => {
      // A bug must cost one request, never the process.
      noteError(unexpected instanceof Error ? unexpected.message : String(unexpected));
      send(res, { status: 500, body: "internal error\n" });
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}
