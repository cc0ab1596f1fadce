import { strict as assert } from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { fetchGetter, waitForHttp } from "../../ops/http";
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
        const err = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
        const r = await waitForHttp(new FakeHttp([err]).get, time.sleep, time.clock, "http://x/", { timeoutMs: 1000, intervalMs: 500 });
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.last, "ECONNRESET");
    });
});

describe("ops/http: fetchGetter", () => {
    it("returns status, lower-cased headers and body of a real HTTP answer", async () => {
        const server = http.createServer((_req, res) => {
            res.setHeader("X-Served-By", "service-a-1");
            res.end("hello\n");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const { port } = server.address() as AddressInfo;
            const r = await fetchGetter(`http://127.0.0.1:${port}/`, 2000);
            assert.equal(r.status, 200);
            assert.equal(r.headers["x-served-by"], "service-a-1");
            assert.equal(r.body, "hello\n");
        } finally {
            server.close();
        }
    });
});
