import type * as http from "node:http";

/** `drained`: every in-flight request finished; `timed-out`: the rest were cut off. */
export type ShutdownResult = "drained" | "timed-out";

/**
 * Stops accepting connections, lets in-flight requests finish, and closes idle keep-alive
 * connections. After `timeoutMs` the remaining connections are closed and the result is
 * `timed-out`.
 */
export function closeGracefully(server: http.Server, timeoutMs: number): Promise<ShutdownResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve("timed-out");
    }, timeoutMs);
    server.close(() => {
      clearTimeout(timer);
      resolve("drained");
    });
    server.closeIdleConnections();
  });
}
