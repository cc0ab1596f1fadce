/**
 * Asks a cluster's API server for its version with one GET of `/version`, the endpoint
 * `kubectl version` reads. Anyone may read it on a default cluster: the system:public-info-viewer
 * role is bound to system:authenticated and system:unauthenticated (kubernetes/kubernetes
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), so users whose credentials come
 * from a plugin are asked anonymously.
 */
import * as http from "node:http";
import * as https from "node:https";
import { parseServerVersion, type ServerVersion } from "./serverVersion";
import { versionRequest, type KubeconfigSource, type VersionRequest } from "./kubeconfig";

export type ProbeResult =
  | { readonly known: true; readonly version: ServerVersion; readonly context: string; readonly url: string }
  | { readonly known: false; readonly reason: string };

/** How long the check may take; preview waits for it. */
export const PROBE_TIMEOUT_MS = 5000;

interface Answer {
  readonly status: number;
  readonly body: string;
}

function get(req: VersionRequest, timeoutMs: number): Promise<Answer> {
  const headers: Record<string, string> = { accept: "application/json" };
  const auth = req.auth;
  if (auth.kind === "token") headers.authorization = `Bearer ${auth.token}`;
  if (auth.kind === "basic") headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
  const tls = req.url.startsWith("https:")
    ? {
        rejectUnauthorized: !req.insecure,
        ...(req.ca !== undefined ? { ca: req.ca } : {}),
        ...(req.servername !== undefined ? { servername: req.servername } : {}),
        ...(auth.kind === "client certificate" ? { cert: auth.cert, key: auth.key } : {}),
      }
    : {};
  const client = req.url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const r = client.get(req.url, { agent: false, headers, timeout: timeoutMs, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        // /version is a few hundred bytes; do not buffer whatever a wrong server sends.
        if (size > 64 * 1024) r.destroy(new Error("answer larger than 64 KiB"));
        else chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    r.on("timeout", () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on("error", reject);
  });
}

/** Sends the request and reads `gitVersion` from the answer. Never throws. */
export async function fetchServerVersion(req: VersionRequest, timeoutMs: number = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const where = `${req.url} (context ${req.context})`;
  let answer: Answer;
  try {
    answer = await get(req, timeoutMs);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { known: false, reason: `GET ${where} failed: ${err.code ? `${err.code}: ` : ""}${err.message}` };
  }
  if (answer.status !== 200) {
    const asked = req.auth.kind === "anonymous" ? ` (asked anonymously: ${req.auth.why})` : "";
    return { known: false, reason: `GET ${where} answered HTTP ${answer.status}${asked}` };
  }
  try {
    const doc = JSON.parse(answer.body) as { gitVersion?: unknown } | null;
    return { known: true, version: parseServerVersion(doc?.gitVersion), context: req.context, url: req.url };
  } catch (e) {
    return { known: false, reason: `GET ${where}: ${(e as Error).message}` };
  }
}

/** The version of the server the provider would talk to, or why it is not known. Never throws. */
export async function probeServerVersion(
  source: KubeconfigSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  const resolved = versionRequest(source, env);
  return resolved.ok ? fetchServerVersion(resolved.request, timeoutMs) : { known: false, reason: resolved.reason };
}
