import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { DemoConfig } from "../../app/config";

/** Servers started by a test, closed (connections included) by `closeAll`. */
export class ServerPool {
  private readonly servers: http.Server[] = [];

  /** Starts `server` on 127.0.0.1 with a free port and returns its origin. */
  async listen(server: http.Server): Promise<string> {
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async closeAll(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) {
              server.closeAllConnections();
              resolve();
              return;
            }
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** A stand-in upstream: records each request, then lets `handler` answer it. */
export interface FakeUpstream {
  readonly url: string;
  readonly requests: RecordedRequest[];
}

export async function startFakeUpstream(
  pool: ServerPool,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    handler(req, res);
  });
  return { url: await pool.listen(server), requests };
}

/** An upstream that answers `body` with `status`, naming `pod` in x-served-by. */
export function answer(status: number, body: string, pod?: string) {
  return (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(status, pod === undefined ? {} : { "x-served-by": pod });
    res.end(body);
  };
}

/** An origin where nothing listens: a port just freed by the system. */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly agent?: http.Agent;
}

/** One HTTP request over a fresh connection unless an agent is given. */
export function request(url: string, options: RequestOptions = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      agent: options.agent ?? false,
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.end();
  });
}

/** A complete configuration with test defaults; `overrides` wins. */
export function demoConfig(overrides: Partial<DemoConfig> = {}): DemoConfig {
  return {
    serviceName: "service-a",
    host: "127.0.0.1",
    port: 1,
    upstreams: [],
    upstreamTimeoutMs: 2000,
    podName: "service-a-pod-1",
    shutdownTimeoutMs: 2000,
    drainMs: 0,
    healthPort: undefined,
    ...overrides,
  };
}

/** Resolves when `predicate` holds, polling briefly; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** True if a TCP connection to `port` on 127.0.0.1 is refused. */
export function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}
