import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createDemoServer } from "../../app/server";
import { closeGracefully } from "../../app/shutdown";
import { demoConfig, refuses, request, ServerPool, startFakeUpstream, waitFor } from "./fixtures";


describe("closeGracefully", () => {
  const pool = new ServerPool();
  afterEach(() => pool.closeAll());

  /** A demo service whose only upstream holds each request until `release` is called. */
  async function serviceWithHeldUpstream() {
    const held: http.ServerResponse[] = [];
    const b = await startFakeUpstream(pool, (_req, res) => held.push(res));
    const server = createDemoServer(demoConfig({ upstreams: [{ name: "service-b", url: b.url }] }));
    const url = await pool.listen(server);
    const port = (server.address() as AddressInfo).port;
    const release = (): void => {
      for (const res of held.splice(0)) res.end("Hello from service B\n");
    };
    return { server, url, port, upstream: b, release };
  }

  it("refuses new connections, finishes the in-flight request, then reports drained", async () => {
    const { server, url, port, upstream, release } = await serviceWithHeldUpstream();
    // A keep-alive client: draining must not wait for its idle connection to time out.
    const agent = new http.Agent({ keepAlive: true });
    try {
      const inFlight = request(`${url}/`, { agent });
      await waitFor(() => upstream.requests.length === 1);

      const closing = closeGracefully(server, 5000);
      assert.equal(await refuses(port), true, "a new connection was accepted during shutdown");
      release();

      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.equal(res.body, "Calling Service B\nHello from service B\nHello from service A\n");
      assert.equal(res.headers.connection, "close");
      const started = Date.now();
      assert.equal(await closing, "drained");
      assert.ok(Date.now() - started < 1000, "draining waited for an idle keep-alive connection");
    } finally {
      agent.destroy();
    }
  });

  it("closes idle keep-alive connections at once", async () => {
    const server = createDemoServer(demoConfig());
    const url = await pool.listen(server);
    const agent = new http.Agent({ keepAlive: true });
    try {
      assert.equal((await request(`${url}/healthz`, { agent })).status, 200);
      const started = Date.now();
      assert.equal(await closeGracefully(server, 5000), "drained");
      assert.ok(Date.now() - started < 1000);
    } finally {
      agent.destroy();
    }
  });

  it("cuts off requests still running at the timeout and reports timed-out", async () => {
    const { server, url, upstream } = await serviceWithHeldUpstream();
    const inFlight = request(`${url}/`).then(
      () => "answered",
      () => "cut off",
    );
    await waitFor(() => upstream.requests.length === 1);
    assert.equal(await closeGracefully(server, 100), "timed-out");
    assert.equal(await inFlight, "cut off");
  });
});
