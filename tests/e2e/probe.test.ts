// Offline checks of the end-to-end tests' probe: its pod passes the namespace's Pod Security and
// the schema, and its curl command does what the tests read from it, against a local TLS server.
import { strict as assert } from "assert";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import type { TLSSocket } from "tls";
import { checkPodPolicy } from "../../checks/kubernetes/policy";
import { validateKubernetesObject } from "../../checks/kubernetes/schema";
import { NOT_FOUND, execFileRunner } from "../../ops/command";
import { CURL_IMAGE, meshCurlArgs, parseMeshCurl, plainCurlArgs, probePod, uriSans } from "./probe";

const TLS = path.resolve(__dirname, "..", "k8s", "fixtures", "tls");
const read = (f: string) => fs.readFileSync(path.join(TLS, f), "utf8");

describe("end-to-end probe", () => {
    it("the probe pod meets the restricted Pod Security Standard and the Pod schema, with or without identities", () => {
        for (const pod of [probePod("p", "envoy-mesh"), probePod("p", "envoy-mesh", { "service-c-identity": "/id/c", "service-a-identity": "/id/a" })]) {
            assert.deepEqual(
                checkPodPolicy(pod).filter((f) => f.rule.startsWith("restricted/")),
                [],
            );
            assert.deepEqual(validateKubernetesObject(pod), []);
        }
    });

    it("mounts each identity Secret read-only where the test reads it", () => {
        const spec = probePod("p", "ns", { "service-c-identity": "/id/c" }).spec as { containers: { volumeMounts: unknown[] }[]; volumes: unknown[] };
        assert.deepEqual(spec.containers[0].volumeMounts, [{ name: "identity-0", mountPath: "/id/c", readOnly: true }]);
        assert.deepEqual(spec.volumes, [{ name: "identity-0", secret: { secretName: "service-c-identity", defaultMode: 0o440 } }]);
    });

    it("pins curl by tag and digest", () => {
        assert.match(CURL_IMAGE, /^curlimages\/curl:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    });

    it("reads body, status and the served certificate from curl's output", () => {
        const out = `RBAC: access denied\n--mesh-e2e-status:403\nSubject:CN = x\n${read("server.crt")}\n`;
        const r = parseMeshCurl(out);
        assert.equal(r.status, 403);
        assert.equal(r.body, "RBAC: access denied");
        assert.equal(r.served?.serialNumber, "720A045DF2A62F517CF20C564195FD76F301DA15");
        assert.deepEqual(uriSans(r.served!), []);
        assert.equal(parseMeshCurl("\n--mesh-e2e-status:000\n").served, undefined);
    });

    describe("with this machine's curl, against a server that requires a client certificate", function () {
        let server: https.Server;
        let port = 0;
        before(async function () {
            if ((await execFileRunner("curl", ["--version"])).code === NOT_FOUND) this.skip();
            server = https.createServer(
                { cert: read("server.crt"), key: read("server.key"), ca: read("ca.crt"), requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" },
                (req, res) => {
                    const peer = (req.socket as TLSSocket).getPeerCertificate();
                    res.statusCode = 403;
                    res.end(`denied: ${peer.subject?.CN ?? "?"}`);
                },
            );
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            port = (server.address() as AddressInfo).port;
        });
        after(() => server?.close());

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-"));
        fs.copyFileSync(path.join(TLS, "client.crt"), path.join(dir, "tls.crt"));
        fs.copyFileSync(path.join(TLS, "client.key"), path.join(dir, "tls.key"));
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("a caller with a certificate gets the server's answer, and sees the server's certificate", async () => {
            const [cmd, ...args] = meshCurlArgs(`https://127.0.0.1:${port}/`, { dir });
            const r = await execFileRunner(cmd, args, { timeoutMs: 10_000 });
            assert.equal(r.code, 0, r.stderr);
            const answer = parseMeshCurl(r.stdout);
            assert.equal(answer.status, 403);
            assert.match(answer.body, /^denied: /);
            assert.equal(answer.served?.serialNumber, new X509Certificate(read("server.crt")).serialNumber);
        });

        it("a caller without one is refused in the handshake: curl fails, no status", async () => {
            const [cmd, ...args] = meshCurlArgs(`https://127.0.0.1:${port}/`);
            const r = await execFileRunner(cmd, args, { timeoutMs: 10_000 });
            assert.notEqual(r.code, 0);
        });

        it("a plain HTTP request to a TLS port never gets a 200", async () => {
            const [cmd, ...args] = plainCurlArgs(`http://127.0.0.1:${port}/`);
            const r = await execFileRunner(cmd, args, { timeoutMs: 10_000 });
            assert.notEqual(r.stdout.trim(), "200");
        });
    });
});
