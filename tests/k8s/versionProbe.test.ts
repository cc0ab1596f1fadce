import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";
import { dump } from "js-yaml";
import { versionRequest, type VersionRequest } from "../../k8s/kubeconfig";
import { fetchServerVersion, probeServerVersion } from "../../k8s/versionProbe";

const TLS = path.join(__dirname, "fixtures", "tls");
const pem = (name: string) => fs.readFileSync(path.join(TLS, name), "utf8");
const b64 = (name: string) => Buffer.from(pem(name)).toString("base64");

/** A kubeconfig with one cluster per server, one user per credential kind, one context per pair. */
function kubeconfig(server: string, extra: { cluster?: Record<string, unknown>; user?: Record<string, unknown>; current?: string } = {}) {
  return {
    apiVersion: "v1",
    kind: "Config",
    "current-context": extra.current ?? "cloud",
    clusters: [{ name: "cloud", cluster: { server, "certificate-authority-data": b64("ca.crt"), ...extra.cluster } }],
    users: [{ name: "admin", user: extra.user ?? { "client-certificate-data": b64("client.crt"), "client-key-data": b64("client.key") } }],
    contexts: [{ name: "cloud", context: { cluster: "cloud", user: "admin" } }],
  };
}

describe("k8s/kubeconfig: versionRequest", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-mesh-kubeconfig-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof doc === "string" ? doc : dump(doc));
    return file;
  };
  const request = (r: ReturnType<typeof versionRequest>): VersionRequest => {
    assert.ok(r.ok, r.ok ? "" : r.reason);
    return r.request;
  };
  const reason = (r: ReturnType<typeof versionRequest>): string => {
    assert.ok(!r.ok, "expected no request");
    return r.reason;
  };

  it("reads the file given, the current context, the CA and the client certificate", () => {
    const file = write("config", kubeconfig("https://203.0.113.7:6443/"));
    const r = request(versionRequest({ kubeconfig: file }, {}));
    assert.equal(r.url, "https://203.0.113.7:6443/version");
    assert.equal(r.context, "cloud");
    assert.equal(r.ca, pem("ca.crt"));
    assert.equal(r.insecure, false);
    assert.deepEqual(r.auth, { kind: "client certificate", cert: pem("client.crt"), key: pem("client.key") });
  });

  it("takes kubeconfig contents as well as a path, as the provider does", () => {
    const r = request(versionRequest({ kubeconfig: dump(kubeconfig("https://example.test")) }, {}));
    assert.equal(r.url, "https://example.test/version");
  });

  it("selects the context given over current-context, and says when it is not there", () => {
    const doc = kubeconfig("https://a.test", { current: "cloud" });
    doc.clusters.push({ name: "other", cluster: { server: "https://b.test/prefix", "certificate-authority-data": b64("ca.crt") } });
    doc.contexts.push({ name: "other", context: { cluster: "other", user: "admin" } });
    const file = write("config", doc);
    assert.equal(request(versionRequest({ kubeconfig: file, context: "other" }, {})).url, "https://b.test/prefix/version");
    assert.equal(reason(versionRequest({ kubeconfig: file, context: "nope" }, {})), `context nope is not in ${file}`);
  });

  it("reads tokenFile and certificate-authority relative to the kubeconfig's folder", () => {
    fs.writeFileSync(path.join(dir, "token"), "s3cret-token\n");
    fs.copyFileSync(path.join(TLS, "ca.crt"), path.join(dir, "ca.pem"));
    const file = write("config", kubeconfig("https://a.test", { cluster: { "certificate-authority-data": undefined, "certificate-authority": "ca.pem" }, user: { tokenFile: "token" } }));
    const r = request(versionRequest({ kubeconfig: file }, {}));
    assert.deepEqual(r.auth, { kind: "token", token: "s3cret-token" });
    assert.equal(r.ca, pem("ca.crt"));
  });

  it("asks anonymously for a user whose credentials come from an exec plugin (EKS, GKE), saying so", () => {
    const file = write("config", kubeconfig("https://a.test", { user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token"] } } }));
    assert.deepEqual(request(versionRequest({ kubeconfig: file }, {})).auth, {
      kind: "anonymous",
      why: "user admin gets credentials from an exec plugin (aws), which this check does not run",
    });
  });

  it("sends no credentials to a cluster that skips TLS verification", () => {
    const file = write("config", kubeconfig("https://a.test", { cluster: { "insecure-skip-tls-verify": true, "certificate-authority-data": undefined }, user: { token: "t" } }));
    const r = request(versionRequest({ kubeconfig: file }, {}));
    assert.equal(r.insecure, true);
    assert.equal(r.auth.kind, "anonymous");
  });

  it("merges the files in KUBECONFIG, the first to name an entry winning, as client-go does", () => {
    const first = write("a", { apiVersion: "v1", kind: "Config", "current-context": "cloud", clusters: [{ name: "cloud", cluster: { server: "https://first.test" } }] });
    const second = write("b", { ...kubeconfig("https://second.test"), "current-context": "ignored" });
    const r = request(versionRequest({}, { KUBECONFIG: [path.join(dir, "missing"), first, second].join(path.delimiter) }));
    assert.equal(r.url, "https://first.test/version");
    assert.equal(r.auth.kind, "client certificate");
  });

  it("gives a reason, never an exception, for what it cannot use", () => {
    assert.match(reason(versionRequest({}, { KUBECONFIG: path.join(dir, "missing") })), /^no file in KUBECONFIG exists/);
    assert.equal(reason(versionRequest({ kubeconfig: path.join(dir, "missing") }, {})), `envoy-mesh:kubeconfig: no file ${path.join(dir, "missing")}`);
    assert.match(reason(versionRequest({ kubeconfig: write("bad", "clusters: [\n  token: abc") }, {})), /is not valid YAML/);
    assert.match(reason(versionRequest({ kubeconfig: write("c", kubeconfig("https://a.test", { cluster: { "proxy-url": "socks5://localhost:1080" } })) }, {})), /proxy-url/);
    assert.match(reason(versionRequest({ kubeconfig: write("d", kubeconfig("https://a.test")) }, { HTTPS_PROXY: "http://proxy:3128" })), /HTTPS_PROXY/);
    assert.match(reason(versionRequest({ kubeconfig: write("e", kubeconfig("a.test:6443")) }, {})), /server "a\.test:6443" is not an http\(s\) URL/);
    assert.match(reason(versionRequest({ kubeconfig: write("f", { ...kubeconfig("https://a.test"), "current-context": "" }) }, {})), /^no context/);
  });

  it("never puts a credential in a reason", () => {
    const r = versionRequest({ kubeconfig: write("bad", `users:\n- name: u\n  user:\n    token: TOPSECRET\n   bad: [`) }, {});
    assert.ok(!r.ok);
    assert.doesNotMatch(r.reason, /TOPSECRET/);
  });
});

describe("k8s/versionProbe: GET /version", () => {
  let server: https.Server | http.Server;
  let seen: { authorization?: string; clientCN?: string; path?: string }[];
  let answer: { status: number; body: string } | "hang";

  const listen = async (s: https.Server | http.Server): Promise<number> => {
    server = s;
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    return (s.address() as AddressInfo).port;
  };
  const handler: http.RequestListener = (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    seen.push({ authorization: req.headers.authorization, clientCN: peer?.subject?.CN, path: req.url });
    if (answer === "hang") return;
    res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
  };
  const tlsServer = () =>
    listen(https.createServer({ key: pem("server.key"), cert: pem("server.crt"), ca: pem("ca.crt"), requestCert: true, rejectUnauthorized: false }, handler));

  beforeEach(() => {
    seen = [];
    answer = { status: 200, body: JSON.stringify({ major: "1", minor: "31+", gitVersion: "v1.31.2-eks-7f9249a", platform: "linux/amd64" }) };
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("over TLS with the cluster's CA and a client certificate: reads gitVersion", async () => {
    const port = await tlsServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-mesh-kubeconfig-"));
    try {
      const file = path.join(dir, "config");
      fs.writeFileSync(file, dump(kubeconfig(`https://127.0.0.1:${port}`)));
      const result = await probeServerVersion({ kubeconfig: file, context: "cloud" }, {});
      assert.ok(result.known, result.known ? "" : result.reason);
      assert.equal(result.version.gitVersion, "v1.31.2-eks-7f9249a");
      assert.equal(result.version.minor, 31);
      assert.deepEqual(seen, [{ authorization: undefined, clientCN: "test-admin", path: "/version" }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sends a bearer token", async () => {
    const port = await tlsServer();
    const r = await fetchServerVersion({ context: "c", url: `https://127.0.0.1:${port}/version`, ca: pem("ca.crt"), insecure: false, auth: { kind: "token", token: "abc" } });
    assert.ok(r.known);
    assert.equal(seen[0].authorization, "Bearer abc");
    assert.equal(seen[0].clientCN, undefined);
  });

  it("refuses a server whose certificate another CA signed, and sends it nothing", async () => {
    const port = await tlsServer();
    const r = await fetchServerVersion({ context: "c", url: `https://127.0.0.1:${port}/version`, ca: pem("other-ca.crt"), insecure: false, auth: { kind: "token", token: "abc" } });
    assert.ok(!r.known);
    assert.match(r.reason, /^GET https:\/\/127\.0\.0\.1:\d+\/version \(context c\) failed: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    assert.deepEqual(seen, []);
  });

  it("a 401 to an anonymous request: unknown, saying why it was anonymous", async () => {
    answer = { status: 401, body: "{}" };
    const port = await listen(http.createServer(handler));
    const r = await fetchServerVersion({ context: "c", url: `http://127.0.0.1:${port}/version`, insecure: false, auth: { kind: "anonymous", why: "user u gets credentials from an exec plugin (gke-gcloud-auth-plugin), which this check does not run" } });
    assert.deepEqual(r, {
      known: false,
      reason: `GET http://127.0.0.1:${port}/version (context c) answered HTTP 401 (asked anonymously: user u gets credentials from an exec plugin (gke-gcloud-auth-plugin), which this check does not run)`,
    });
  });

  it("an answer that is not a version: unknown, naming the value", async () => {
    answer = { status: 200, body: JSON.stringify({ gitVersion: "garbage" }) };
    const port = await listen(http.createServer(handler));
    const r = await fetchServerVersion({ context: "c", url: `http://127.0.0.1:${port}/version`, insecure: false, auth: { kind: "anonymous", why: "-" } });
    assert.ok(!r.known);
    assert.match(r.reason, /not a Kubernetes version .*: "garbage"$/);
  });

  it("a server that does not answer: unknown after the timeout", async () => {
    answer = "hang";
    const port = await listen(http.createServer(handler));
    const r = await fetchServerVersion({ context: "c", url: `http://127.0.0.1:${port}/version`, insecure: false, auth: { kind: "anonymous", why: "-" } }, 100);
    assert.ok(!r.known);
    assert.match(r.reason, /failed: no answer within 100 ms$/);
  });

  it("nothing listening: unknown, with the connection error", async () => {
    const port = await listen(http.createServer(handler));
    await new Promise((resolve) => server.close(resolve));
    const r = await fetchServerVersion({ context: "c", url: `http://127.0.0.1:${port}/version`, insecure: false, auth: { kind: "anonymous", why: "-" } });
    assert.ok(!r.known);
    assert.match(r.reason, /failed: ECONNREFUSED/);
    server = http.createServer().listen(0, "127.0.0.1");
  });
});
