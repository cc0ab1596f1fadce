import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as path from "path";
import { freshConnectionGetter, waitForHttp } from "../../ops/http";
import { FakeHttp, FakeTime } from "./fakes";

describe("ops/http: waitForHttp", () => {
    it("never waits past the deadline, and never asks a request to outlive it", async () => {
        const time = new FakeTime();
        const timeouts: number[] = [];
        const get = async (_url: string, timeoutMs: number) => {
            timeouts.push(timeoutMs);
            time.now += 1000; // each attempt takes a second
            return { status: 502, headers: {}, body: "" };
        };
        const r = await waitForHttp(get, time.sleep, time.clock, "http://x/", { timeoutMs: 10_000, intervalMs: 2000, requestTimeoutMs: 5000 });
        assert.deepEqual(r, { ok: false, last: "HTTP 502", attempts: 4 });
        assert.ok(time.now <= 10_000, `${time.now}`);
        assert.ok(timeouts.every((t) => t >= 1 && t <= 5000));
    });

    it("describes network errors by their code", async () => {
        const time = new FakeTime();
        const err = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        const r = await waitForHttp(new FakeHttp([err]).get, time.sleep, time.clock, "http://x/", { timeoutMs: 1000, intervalMs: 500 });
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.last, "ECONNRESET");
    });
});

describe("ops/http: freshConnectionGetter", () => {
    it("uses a new connection per request and returns status, headers and body", async () => {
        const sockets = new Set<unknown>();
        const server = http.createServer((req, res) => {
            sockets.add(req.socket);
            res.statusCode = 503;
            res.setHeader("X-Served-By", "front-1");
            res.end("no healthy upstream");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
            const first = await freshConnectionGetter(url, 2000);
            await freshConnectionGetter(url, 2000);
            assert.deepEqual([first.status, first.headers["x-served-by"], first.body], [503, "front-1", "no healthy upstream"]);
            assert.equal(sockets.size, 2);
        } finally {
            server.close();
        }
    });

    it("rejects with ETIMEDOUT when the server does not answer in time", async () => {
        const server = http.createServer(() => undefined);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
            await assert.rejects(freshConnectionGetter(url, 100), { code: "ETIMEDOUT" });
        } finally {
            server.closeAllConnections();
            server.close();
        }
    });

    describe("over HTTPS, trusting only the CA it is given", () => {
        // Test-only material: a server certificate for 127.0.0.1 signed by ca.crt, and an unrelated CA.
        const TLS = path.resolve(__dirname, "..", "k8s", "fixtures", "tls");
        const read = (f: string) => fs.readFileSync(path.join(TLS, f), "utf8");
        let server: https.Server;
        let url = "";
        before(async () => {
            server = https.createServer({ cert: read("server.crt"), key: read("server.key") }, (_req, res) => res.end("Hello over TLS"));
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        });
        after(() => server.close());

        it("answers when the server's certificate chains to that CA", async () => {
            const r = await freshConnectionGetter(url, 2000, { ca: read("ca.crt") });
            assert.deepEqual([r.status, r.body], [200, "Hello over TLS"]);
        });

        it("rejects a server whose certificate another CA signed, and one no CA was given for", async () => {
            await assert.rejects(freshConnectionGetter(url, 2000, { ca: read("other-ca.crt") }), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
            await assert.rejects(freshConnectionGetter(url, 2000), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
        });

        it("waitForHttp passes the CA on every attempt", async () => {
            const seen: unknown[] = [];
            const time = new FakeTime();
            const get = async (_u: string, _t: number, trust?: { ca?: string }) => {
                seen.push(trust);
                return { status: seen.length < 2 ? 503 : 200, headers: {}, body: "" };
            };
            await waitForHttp(get, time.sleep, time.clock, url, { timeoutMs: 10_000, trust: { ca: "PEM" } });
            assert.deepEqual(seen, [{ ca: "PEM" }, { ca: "PEM" }]);
        });
    });
});
