/**
 * Just enough of kubeconfig to ask a cluster's API server for `/version`: find the files the
 * Kubernetes provider would read, select the context, and build the request. Reads files,
 * never the network, never runs credential plugins.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { load } from "js-yaml";
import { isPlainObject } from "../topology/reader";

/** The kubeconfig and context, as given to the Kubernetes provider. */
export interface KubeconfigSource {
  /** Contents of a kubeconfig, or the path of one. Default: $KUBECONFIG, else ~/.kube/config. */
  readonly kubeconfig?: string;
  /** Default: the kubeconfig's current-context. */
  readonly context?: string;
}

/** How the request proves who it is. */
export type VersionAuth =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "client certificate"; readonly cert: string; readonly key: string }
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  /** `why`: the user authenticates some way this check does not use (exec plugin, ...), or not at all. */
  | { readonly kind: "anonymous"; readonly why: string };

/** A GET of the API server's `/version`, ready to send. */
export interface VersionRequest {
  readonly context: string;
  readonly url: string;
  /** PEM of the cluster's CA; undefined means the system's trusted CAs. */
  readonly ca?: string;
  /** insecure-skip-tls-verify: the server's certificate is not checked (and no credentials are sent). */
  readonly insecure: boolean;
  /** tls-server-name: the name to check the server's certificate for, when not the URL's host. */
  readonly servername?: string;
  readonly auth: VersionAuth;
}

export type ResolvedRequest = { readonly ok: true; readonly request: VersionRequest } | { readonly ok: false; readonly reason: string };

/** One kubeconfig document and the folder its relative paths are relative to. */
interface LoadedConfig {
  readonly doc: Record<string, unknown>;
  readonly dir: string;
  readonly label: string;
}

type Env = Readonly<Record<string, string | undefined>>;

class Skip extends Error {}

const expandHome = (p: string): string => p.replace(/^~(?=$|\/)/, homedir());

/** The provider takes either a path or the contents (pulumi-kubernetes: "The contents of a kubeconfig file or the path to a kubeconfig file"). */
function loadGiven(kubeconfig: string): LoadedConfig {
  const file = expandHome(kubeconfig);
  if (!kubeconfig.includes("\n") && existsSync(file) && statSync(file).isFile()) return loadFile(file);
  const doc = parseDoc(kubeconfig, "envoy-mesh:kubeconfig");
  if (!doc) {
    throw new Skip(kubeconfig.includes("\n") ? "envoy-mesh:kubeconfig is not a kubeconfig (no clusters or contexts)" : `envoy-mesh:kubeconfig: no file ${file}`);
  }
  return { doc, dir: process.cwd(), label: "envoy-mesh:kubeconfig" };
}

function parseDoc(text: string, label: string): Record<string, unknown> | undefined {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (e) {
    // The message quotes the YAML around the error, which may hold a credential: keep only its first line.
    throw new Skip(`${label} is not valid YAML (${(e as Error).message.split("\n")[0]})`);
  }
  return isPlainObject(doc) && (Array.isArray(doc.clusters) || Array.isArray(doc.contexts)) ? doc : undefined;
}

function loadFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Skip(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const doc = parseDoc(text, file);
  if (!doc) throw new Skip(`${file} is not a kubeconfig (no clusters or contexts)`);
  return { doc, dir: dirname(resolve(file)), label: file };
}

/** client-go's default loading rules: every file in $KUBECONFIG that exists, else ~/.kube/config. */
function loadDefault(env: Env): LoadedConfig[] {
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  const files = listed.length > 0 ? listed.filter((p) => existsSync(p)) : [join(homedir(), ".kube", "config")].filter((p) => existsSync(p));
  if (files.length === 0) {
    throw new Skip(listed.length > 0 ? `no file in KUBECONFIG exists (${listed.join(delimiter)})` : "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist");
  }
  return files.map(loadFile);
}

/** The first entry of that name in a list such as `clusters`, across files (the first file to set it wins, as in client-go). */
function named(configs: readonly LoadedConfig[], list: string, field: string, name: string): { value: Record<string, unknown>; from: LoadedConfig } | undefined {
  for (const from of configs) {
    const entries = Array.isArray(from.doc[list]) ? (from.doc[list] as unknown[]) : [];
    for (const entry of entries) {
      if (isPlainObject(entry) && entry.name === name && isPlainObject(entry[field])) return { value: entry[field] as Record<string, unknown>, from };
    }
  }
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Inline `<key>-data` (base64) or the file `<key>` (relative to its kubeconfig), as PEM text. */
function dataOrFile(entry: Record<string, unknown>, key: string, from: LoadedConfig): string | undefined {
  const data = str(entry[`${key}-data`]);
  if (data !== undefined) return Buffer.from(data, "base64").toString("utf8");
  const file = str(entry[key]);
  if (file === undefined) return undefined;
  const full = isAbsolute(expandHome(file)) ? expandHome(file) : join(from.dir, file);
  try {
    return readFileSync(full, "utf8");
  } catch (e) {
    throw new Skip(`cannot read ${key} ${full}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function authOf(user: Record<string, unknown> | undefined, from: LoadedConfig | undefined, userName: string | undefined): VersionAuth {
  if (!user || !from) return { kind: "anonymous", why: userName ? `user ${userName} is not in the kubeconfig` : "the context names no user" };
  const token = str(user.token) ?? dataOrFile(user, "tokenFile", from)?.trim();
  if (token) return { kind: "token", token };
  const cert = dataOrFile(user, "client-certificate", from);
  const key = dataOrFile(user, "client-key", from);
  if (cert && key) return { kind: "client certificate", cert, key };
  const username = str(user.username);
  const password = str(user.password);
  if (username && password) return { kind: "basic", username, password };
  if (isPlainObject(user.exec)) return { kind: "anonymous", why: `user ${userName} gets credentials from an exec plugin (${String(user.exec.command)}), which this check does not run` };
  if (isPlainObject(user["auth-provider"])) return { kind: "anonymous", why: `user ${userName} uses an auth-provider plugin, which this check does not run` };
  return { kind: "anonymous", why: `user ${userName} has no credentials` };
}

function resolveOrThrow(source: KubeconfigSource, env: Env): VersionRequest {
  const configs = source.kubeconfig !== undefined ? [loadGiven(source.kubeconfig)] : loadDefault(env);
  const contextName = source.context ?? configs.map((c) => str(c.doc["current-context"])).find((c) => c !== undefined);
  if (contextName === undefined) throw new Skip("no context: envoy-mesh:kubeContext is not set and the kubeconfig has no current-context");
  const context = named(configs, "contexts", "context", contextName)?.value;
  if (!context) throw new Skip(`context ${contextName} is not in ${configs.map((c) => c.label).join(", ")}`);
  const clusterName = str(context.cluster);
  const cluster = clusterName === undefined ? undefined : named(configs, "clusters", "cluster", clusterName);
  if (!cluster) throw new Skip(`context ${contextName}: cluster ${clusterName ?? "(none)"} is not in the kubeconfig`);
  const server = str(cluster.value.server);
  if (!server || !/^https?:\/\//.test(server)) throw new Skip(`cluster ${clusterName}: server ${JSON.stringify(cluster.value.server ?? null)} is not an http(s) URL`);
  if (str(cluster.value["proxy-url"])) throw new Skip(`cluster ${clusterName} is reached through proxy-url, which this check does not use`);
  const proxy = env.HTTPS_PROXY ?? env.https_proxy;
  if (proxy && server.startsWith("https:")) throw new Skip("HTTPS_PROXY is set, and this check connects directly");

  const insecure = cluster.value["insecure-skip-tls-verify"] === true;
  const userName = str(context.user);
  const user = userName === undefined ? undefined : named(configs, "users", "user", userName);
  const ca = insecure ? undefined : dataOrFile(cluster.value, "certificate-authority", cluster.from);
  // Never hand credentials to a server whose certificate is not checked: /version needs none.
  const auth: VersionAuth = insecure ? { kind: "anonymous", why: `cluster ${clusterName} skips TLS verification` } : authOf(user?.value, user?.from, userName);
  const servername = str(cluster.value["tls-server-name"]);
  return {
    context: contextName,
    url: `${server.replace(/\/+$/, "")}/version`,
    ...(ca !== undefined ? { ca } : {}),
    insecure,
    ...(servername !== undefined ? { servername } : {}),
    auth,
  };
}

/**
 * The `/version` request for the cluster the provider would use, or why there is none
 * (no kubeconfig, unknown context, a proxy, ...). Never throws.
 */
export function versionRequest(source: KubeconfigSource, env: Env = process.env): ResolvedRequest {
  try {
    return { ok: true, request: resolveOrThrow(source, env) };
  } catch (e) {
    if (e instanceof Skip) return { ok: false, reason: e.message };
    return { ok: false, reason: `cannot read the kubeconfig: ${(e as Error).message.split("\n")[0]}` };
  }
}
