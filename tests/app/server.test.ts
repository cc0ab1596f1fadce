import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { DemoConfig, UpstreamConfig } from "../../app/config";
import type { RequestLogEntry } from "../../app/log";
import { createDemoServer, createHealthServer, type DemoServerOptions } from "../../app/server";
import {
  answer,
  closedPortUrl,
  demoConfig,
  request,
  ServerPool,
  startFakeUpstream,
  waitFor,
  type FakeUpstream,
} from "./fixtures";

describe("demo server", () => {
  const pool = new ServerPool();
  afterEach(() => pool.closeAll());

  const startDemo = (overrides: Partial<DemoConfig> = {}, options: DemoServerOptions = {}): Promise<string> =>
    pool.listen(createDemoServer(demoConfig(overrides), options));

  const upstream = (name: string, fake: FakeUpstream | string): UpstreamConfig => ({
    name,
    url: typeof fake === "string" ? fake : fake.url,
  });

  describe("a leaf service", () => {
    it("greets with its display name on GET /", async () => {
      const url = await startDemo({ serviceName: "service-b", podName: "service-b-7d9f" });
      const res = await request(`${url}/`);
      assert.equal(res.status, 200);
      assert.equal(res.body, "Hello from service B\n");
      assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    });

    it("ignores the query string", async () => {
      const url = await startDemo({ serviceName: "payments" });
      const res = await request(`${url}/?verbose=1`);
      assert.equal(res.status, 200);
      assert.equal(res.body, "Hello from payments\n");
    });

    it("sends x-served-by with the pod name and no x-upstream-served-by", async () => {
      const url = await startDemo({ serviceName: "service-b", podName: "service-b-7d9f" });
      const res = await request(`${url}/`);
      assert.equal(res.headers["x-served-by"], "service-b-7d9f");
      assert.equal(res.headers["x-upstream-served-by"], undefined);
    });
  });

  describe("a service with upstreams", () => {
    it("answers the seed's exact body, calling real B and C demo servers", async () => {
      const b = await startDemo({ serviceName: "service-b", podName: "b-1" });
      const c = await startDemo({ serviceName: "service-c", podName: "c-1" });
      const a = await startDemo({
        serviceName: "service-a",
        podName: "a-1",
        upstreams: [upstream("service-b", b), upstream("service-c", c)],
      });
      const res = await request(`${a}/`);
      assert.equal(res.status, 200);
      assert.equal(
        res.body,
        "Calling Service B\nHello from service B\nHello from service A\nHello from service C\n",
      );
      assert.equal(res.headers["x-served-by"], "a-1");
      assert.equal(res.headers["x-upstream-served-by"], "service-b=b-1,service-c=c-1");
    });

    it("calls the upstreams one after the other, in the listed order", async () => {
      const order: string[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const slowHello = (name: string) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
        order.push(name);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight -= 1;
          res.end(`Hello from ${name}\n`);
        }, 20);
      };
      const c = await startFakeUpstream(pool, slowHello("c"));
      const b = await startFakeUpstream(pool, slowHello("b"));
      const d = await startFakeUpstream(pool, slowHello("d"));
      const url = await startDemo({
        upstreams: [upstream("service-c", c), upstream("service-b", b), upstream("service-d", d)],
      });
      const res = await request(`${url}/`);
      assert.deepEqual(order, ["c", "b", "d"]);
      assert.equal(maxInFlight, 1);
      assert.equal(res.body, "Calling Service C\nHello from c\nHello from service A\nHello from b\nHello from d\n");
    });

    it("requests GET / from each upstream", async () => {
      const b = await startFakeUpstream(pool, answer(200, "b\n"));
      const url = await startDemo({ upstreams: [upstream("service-b", b)] });
      await request(`${url}/?x=1`);
      assert.deepEqual(
        b.requests.map((r) => [r.method, r.url]),
        [["GET", "/"]],
      );
    });

    it("leaves no blank line for upstream bodies with or without trailing newlines", async () => {
      const b = await startFakeUpstream(pool, answer(200, "line from b\n\n"));
      const c = await startFakeUpstream(pool, answer(200, "line from c"));
      const url = await startDemo({ upstreams: [upstream("service-b", b), upstream("service-c", c)] });
      const res = await request(`${url}/`);
      assert.equal(res.body, "Calling Service B\nline from b\nHello from service A\nline from c\n");
    });

    it("reports upstreams that send no x-served-by as unknown", async () => {
      const b = await startFakeUpstream(pool, answer(200, "b\n"));
      const url = await startDemo({ upstreams: [upstream("service-b", b)] });
      const res = await request(`${url}/`);
      assert.equal(res.headers["x-upstream-served-by"], "service-b=unknown");
    });
  });

  describe("header propagation", () => {
    const tracing = {
      "x-request-id": "5f2a9c1e-req",
      "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
      "x-b3-spanid": "e457b5a2e4d86bd1",
      "x-b3-parentspanid": "05e3ac9a4f6e3b90",
      "x-b3-sampled": "1",
      "x-b3-flags": "0",
      b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "congo=t61rcWkgMzE",
      "x-ot-span-context": "0af7651916cd43dd;b7ad6b7169203331;0000000000000000",
    };
    const private_ = {
      authorization: "Bearer secret-token",
      cookie: "session=abc",
      "x-forwarded-for": "10.1.2.3",
      "x-custom": "keep-me-home",
    };

    it("forwards every tracing header to every upstream and nothing else", async () => {
      const b = await startFakeUpstream(pool, answer(200, "b\n"));
      const c = await startFakeUpstream(pool, answer(200, "c\n"));
      const url = await startDemo({ upstreams: [upstream("service-b", b), upstream("service-c", c)] });
      await request(`${url}/`, { headers: { ...tracing, ...private_ } });
      for (const fake of [b, c]) {
        assert.equal(fake.requests.length, 1);
        const received = fake.requests[0].headers;
        for (const [name, value] of Object.entries(tracing)) assert.equal(received[name], value, name);
        for (const name of Object.keys(private_)) assert.equal(received[name], undefined, name);
        const unexpected = Object.keys(received).filter(
          (name) => !(name in tracing) && name !== "host" && name !== "connection",
        );
        assert.deepEqual(unexpected, []);
      }
    });

    it("sends no tracing header the client did not send", async () => {
      const b = await startFakeUpstream(pool, answer(200, "b\n"));
      const url = await startDemo({ upstreams: [upstream("service-b", b)] });
      await request(`${url}/`, { headers: { traceparent: tracing.traceparent } });
      const received = b.requests[0].headers;
      assert.equal(received.traceparent, tracing.traceparent);
      assert.equal(received["x-request-id"], undefined);
      assert.equal(received.b3, undefined);
    });
  });

  describe("upstream failures", () => {
    it("answers 502 naming the error code when an upstream refuses connections", async () => {
      const url = await startDemo({ upstreams: [upstream("service-b", await closedPortUrl())] });
      const res = await request(`${url}/`);
      assert.equal(res.status, 502);
      assert.equal(res.body, "upstream service-b unreachable: ECONNREFUSED\n");
      assert.equal(res.headers["x-served-by"], "service-a-pod-1");
    });

    it("answers 502 when an upstream answers 503, and stops calling the rest", async () => {
      const b = await startFakeUpstream(pool, answer(503, "no healthy upstream", "b-2"));
      const c = await startFakeUpstream(pool, answer(200, "c\n"));
      const url = await startDemo({ upstreams: [upstream("service-b", b), upstream("service-c", c)] });
      const res = await request(`${url}/`);
      assert.equal(res.status, 502);
      assert.equal(res.body, "upstream service-b answered 503\n");
      assert.equal(res.headers["x-upstream-served-by"], "service-b=b-2");
      assert.equal(c.requests.length, 0);
    });

    it("names the failing upstream when an earlier one succeeded", async () => {
      const b = await startFakeUpstream(pool, answer(200, "b\n", "b-1"));
      const c = await startFakeUpstream(pool, answer(404, "nope", "c-1"));
      const url = await startDemo({ upstreams: [upstream("service-b", b), upstream("service-c", c)] });
      const res = await request(`${url}/`);
      assert.equal(res.status, 502);
      assert.equal(res.body, "upstream service-c answered 404\n");
      assert.equal(res.headers["x-upstream-served-by"], "service-b=b-1,service-c=c-1");
    });

    it("answers 504 when an upstream is slower than the timeout, closing the upstream connection", async () => {
      let upstreamClosed = false;
      const b = await startFakeUpstream(pool, (req) => {
        // Never answers; records when the app gives up on the connection.
        req.socket.once("close", () => {
          upstreamClosed = true;
        });
      });
      const url = await startDemo({ upstreamTimeoutMs: 200, upstreams: [upstream("service-b", b)] });
      const started = Date.now();
      const res = await request(`${url}/`);
      const elapsed = Date.now() - started;
      assert.equal(res.status, 504);
      assert.equal(res.body, "upstream service-b timed out after 200 ms\n");
      assert.ok(elapsed >= 190 && elapsed < 1500, `answered after ${elapsed} ms`);
      await waitFor(() => upstreamClosed);
    });

    it("answers 504 when the upstream sends headers but stalls the body", async () => {
      const b = await startFakeUpstream(pool, (_req, res) => {
        res.writeHead(200, { "content-length": "100" });
        res.write("partial");
      });
      const url = await startDemo({ upstreamTimeoutMs: 200, upstreams: [upstream("service-b", b)] });
      const res = await request(`${url}/`);
      assert.equal(res.status, 504);
    });

    it("answers 502 when an upstream drops the connection mid-body", async () => {
      const b = await startFakeUpstream(pool, (_req, res) => {
        res.writeHead(200, { "content-length": "100" });
        res.write("partial", () => res.socket?.destroy());
      });
      const url = await startDemo({ upstreams: [upstream("service-b", b)] });
      const res = await request(`${url}/`);
      assert.equal(res.status, 502);
      assert.equal(res.body, "upstream service-b unreachable: ECONNRESET\n");
    });

    it("keeps serving after failures", async () => {
      const url = await startDemo({ upstreams: [upstream("service-b", await closedPortUrl())] });
      for (let i = 0; i < 3; i += 1) assert.equal((await request(`${url}/`)).status, 502);
      assert.equal((await request(`${url}/healthz`)).status, 200);
    });

    it("cancels the upstream call when the client goes away", async () => {
      let upstreamClosed = false;
      const b = await startFakeUpstream(pool, (req) => {
        req.socket.once("close", () => {
          upstreamClosed = true;
        });
      });
      const entries: RequestLogEntry[] = [];
      const url = await startDemo(
        { upstreamTimeoutMs: 5000, upstreams: [upstream("service-b", b)] },
        { onRequestLog: (entry) => entries.push(entry) },
      );
      const client = http.request(`${url}/`, { agent: false });
      client.on("error", () => undefined);
      client.end();
      await waitFor(() => b.requests.length === 1);
      client.destroy();
      await waitFor(() => upstreamClosed);
      await waitFor(() => entries.length === 1);
      assert.equal(entries[0].status, 499);
    });
  });

  describe("routes", () => {
    it("answers GET /healthz with 200 ok", async () => {
      const url = await startDemo({ upstreams: [upstream("service-b", await closedPortUrl())] });
      const res = await request(`${url}/healthz`);
      assert.equal(res.status, 200);
      assert.equal(res.body, "ok\n");
      assert.equal(res.headers["x-served-by"], "service-a-pod-1");
    });

    it("answers GET /healthz with 503 draining while draining, and keeps serving everything else", async () => {
      let draining = false;
      const url = await startDemo({ serviceName: "service-b" }, { isDraining: () => draining });
      assert.equal((await request(`${url}/healthz`)).status, 200);
      draining = true;
      const health = await request(`${url}/healthz`);
      assert.equal(health.status, 503);
      assert.equal(health.body, "draining\n");
      const greeting = await request(`${url}/`);
      assert.equal(greeting.status, 200);
      assert.equal(greeting.body, "Hello from service B\n");
    });

    it("answers 404 for unknown paths", async () => {
      const url = await startDemo();
      for (const path of ["/nope", "/healthz/x", "//", "/index.html"]) {
        const res = await request(`${url}${path}`);
        assert.equal(res.status, 404, path);
        assert.equal(res.headers["x-served-by"], "service-a-pod-1");
      }
    });

    it("answers 405 with Allow: GET for other methods on / and /healthz", async () => {
      const url = await startDemo();
      for (const [method, path] of [
        ["POST", "/"],
        ["DELETE", "/"],
        ["HEAD", "/"],
        ["PUT", "/healthz"],
      ]) {
        const res = await request(`${url}${path}`, { method });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.allow, "GET");
      }
    });

    it("does not call upstreams for a rejected method", async () => {
      const b = await startFakeUpstream(pool, answer(200, "b\n"));
      const url = await startDemo({ upstreams: [upstream("service-b", b)] });
      await request(`${url}/`, { method: "POST" });
      assert.equal(b.requests.length, 0);
    });
  });

  describe("request log", () => {
    it("reports method, path, status, duration and request id once per request", async () => {
      const entries: RequestLogEntry[] = [];
      const url = await startDemo({ serviceName: "service-b" }, { onRequestLog: (entry) => entries.push(entry) });
      await request(`${url}/?a=1`, { headers: { "x-request-id": "req-42" } });
      await request(`${url}/missing`);
      await waitFor(() => entries.length === 2);
      assert.deepEqual(
        entries.map(({ method, path, status, requestId }) => ({ method, path, status, requestId })),
        [
          { method: "GET", path: "/?a=1", status: 200, requestId: "req-42" },
          { method: "GET", path: "/missing", status: 404, requestId: undefined },
        ],
      );
      assert.ok(entries.every((entry) => entry.durationMs >= 0 && entry.durationMs < 1000));
    });

    it("does not log health checks from Envoy or the kubelet, and logs everything else", async () => {
      const entries: RequestLogEntry[] = [];
      const url = await startDemo({ serviceName: "service-b" }, { onRequestLog: (entry) => entries.push(entry) });
      for (const agent of ["Envoy/HC", "kube-probe/1.35"]) await request(`${url}/healthz`, { headers: { "user-agent": agent } });
      await request(`${url}/healthz`, { headers: { "user-agent": "curl/8.5.0" } });
      await request(`${url}/`, { headers: { "user-agent": "Envoy/HC" } });
      await request(`${url}/healthz`);
      await waitFor(() => entries.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(entries.map((e) => e.path), ["/healthz", "/healthz"]);
    });

    it("records why an upstream call failed", async () => {
      const entries: RequestLogEntry[] = [];
      const url = await startDemo(
        { upstreams: [upstream("service-b", await closedPortUrl())] },
        { onRequestLog: (entry) => entries.push(entry) },
      );
      await request(`${url}/`);
      await waitFor(() => entries.length === 1);
      assert.equal(entries[0].status, 502);
      assert.equal(entries[0].error, "upstream service-b unreachable: ECONNREFUSED");
    });
  });
});

describe("health server (the port kubelet probes)", () => {
  const pool = new ServerPool();
  afterEach(() => pool.closeAll());

  it("answers GET /healthz with 200 ok, naming the pod", async () => {
    const url = await pool.listen(createHealthServer(demoConfig({ podName: "b-1" })));
    const res = await request(`${url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.body, "ok\n");
    assert.equal(res.headers["x-served-by"], "b-1");
  });

  it("serves nothing else: no greeting, no upstream call", async () => {
    const url = await pool.listen(createHealthServer(demoConfig()));
    for (const path of ["/", "/healthz/x", "/metrics"]) assert.equal((await request(`${url}${path}`)).status, 404, path);
    const post = await request(`${url}/healthz`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, "GET");
  });
});
