import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { closedPortUrl, refuses, request, ServerPool, startFakeUpstream, waitFor } from "./fixtures";

const repoRoot = path.resolve(__dirname, "..", "..");

/** The app's entry point run the way a developer runs it, with exactly `env`. */
class RunningMain {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ["-r", "ts-node/register", path.join("app", "main.ts")], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", TS_NODE_TRANSPILE_ONLY: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => (this.stdout += chunk.toString("utf8")));
    this.child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  stdoutLines(): string[] {
    return this.stdout.split("\n").filter((line) => line !== "");
  }

  waitForStdout(fragment: string): Promise<void> {
    return waitFor(() => this.stdout.includes(fragment), 5000).catch(() => {
      throw new Error(`no "${fragment}" on stdout; stdout: ${this.stdout} stderr: ${this.stderr}`);
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

async function freePort(): Promise<number> {
  return Number(new URL(await closedPortUrl()).port);
}


describe("app/main.ts", () => {
  const pool = new ServerPool();
  const running: RunningMain[] = [];
  const run = (env: Record<string, string>): RunningMain => {
    const main = new RunningMain(env);
    running.push(main);
    return main;
  };
  afterEach(async () => {
    for (const main of running.splice(0)) main.kill();
    await pool.closeAll();
  });

  async function heldUpstream() {
    const held: http.ServerResponse[] = [];
    const fake = await startFakeUpstream(pool, (_req, res) => held.push(res));
    const release = (): void => {
      for (const res of held.splice(0)) res.writeHead(200, { "x-served-by": "b-1" }).end("Hello from service B\n");
    };
    return { fake, release };
  }

  it("on SIGTERM stops accepting, finishes the in-flight request, logs it and exits 0", async () => {
    const { fake, release } = await heldUpstream();
    const port = await freePort();
    const main = run({
      SERVICE_NAME: "service-a",
      PORT: String(port),
      POD_NAME: "a-1",
      UPSTREAMS: "service-b",
      SERVICE_B_URL: fake.url,
    });
    await main.waitForStdout("event=listening");

    const inFlight = request(`http://127.0.0.1:${port}/`, { headers: { "x-request-id": "req-7" } });
    await waitFor(() => fake.requests.length === 1, 5000);
    main.child.kill("SIGTERM");
    await main.waitForStdout("event=shutdown");
    assert.equal(await refuses(port), true, "accepted a connection after SIGTERM");
    release();

    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(res.body, "Calling Service B\nHello from service B\nHello from service A\n");
    assert.equal(res.headers["x-served-by"], "a-1");
    assert.equal(res.headers["x-upstream-served-by"], "service-b=b-1");
    assert.deepEqual(await main.exited, { code: 0, signal: null });

    const lines = main.stdoutLines();
    assert.equal(lines[0], `event=listening service=service-a address=127.0.0.1:${port} pod=a-1 upstreams=service-b`);
    assert.equal(lines[1], "event=shutdown signal=SIGTERM drain_ms=0 timeout_ms=10000");
    assert.match(lines[2], /^event=request method=GET path=\/ status=200 duration_ms=\d+\.\d request_id=req-7 error=-$/);
    assert.equal(lines[3], "event=stopped result=drained");
    assert.equal(lines.length, 4);
    assert.equal(main.stderr, "");
  });

  it("with DRAIN_MS, keeps serving after SIGTERM while /healthz answers 503, then stops accepting and exits 0", async () => {
    const port = await freePort();
    const healthPort = await freePort();
    const main = run({ SERVICE_NAME: "service-b", PORT: String(port), HEALTH_PORT: String(healthPort), DRAIN_MS: "700", POD_NAME: "b-1" });
    await main.waitForStdout("event=listening");
    const envoyCheck = { headers: { "user-agent": "Envoy/HC" } };
    assert.equal((await request(`http://127.0.0.1:${port}/healthz`, envoyCheck)).status, 200);

    const signalled = Date.now();
    main.child.kill("SIGTERM");
    await main.waitForStdout("event=shutdown");
    // Callers' health checks see the drain at once...
    assert.equal((await request(`http://127.0.0.1:${port}/healthz`, envoyCheck)).status, 503);
    assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).status, 503);
    // ...while their requests in the meantime are still answered,
    const greeting = await request(`http://127.0.0.1:${port}/`);
    assert.equal(greeting.status, 200);
    assert.equal(greeting.body, "Hello from service B\n");
    // and the kubelet's probes still find the process alive.
    assert.equal((await request(`http://127.0.0.1:${healthPort}/healthz`)).status, 200);

    assert.deepEqual(await main.exited, { code: 0, signal: null });
    assert.ok(Date.now() - signalled >= 700, "stopped before DRAIN_MS had passed");
    assert.equal(await refuses(port), true);
    const lines = main.stdoutLines();
    assert.equal(lines[0], `event=listening service=service-b address=127.0.0.1:${port} pod=b-1 health_port=${healthPort} upstreams=-`);
    assert.equal(lines[1], "event=shutdown signal=SIGTERM drain_ms=700 timeout_ms=10000");
    // Requests on the serving port are logged; health checks and the health port's probes are not.
    assert.deepEqual(
      lines.slice(2).map((l) => l.replace(/ duration_ms=\S+/, "")),
      [
        "event=request method=GET path=/healthz status=503 request_id=- error=-",
        "event=request method=GET path=/ status=200 request_id=- error=-",
        "event=stopped result=drained",
      ],
    );
  });

  it("answers the health port on the pod's addresses, not only on 127.0.0.1, and logs no probe", async () => {
    const port = await freePort();
    const healthPort = await freePort();
    const main = run({ SERVICE_NAME: "service-b", PORT: String(port), HEALTH_PORT: String(healthPort) });
    await main.waitForStdout("event=listening");
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a !== undefined && !a.internal && a.family === "IPv4");
    const hosts = ["127.0.0.1", ...(external ? [external.address] : [])];
    for (const host of hosts) assert.equal((await request(`http://${host}:${healthPort}/healthz`)).status, 200, host);
    assert.equal(main.stdoutLines().length, 1, main.stdout);
  });

  it("stops on SIGINT too", async () => {
    const port = await freePort();
    const main = run({ SERVICE_NAME: "service-b", PORT: String(port) });
    await main.waitForStdout("event=listening");
    assert.equal((await request(`http://127.0.0.1:${port}/`)).body, "Hello from service B\n");
    main.child.kill("SIGINT");
    assert.deepEqual(await main.exited, { code: 0, signal: null });
  });

  it("exits 1 when in-flight requests outlast SHUTDOWN_TIMEOUT_MS", async () => {
    const { fake } = await heldUpstream();
    const port = await freePort();
    const main = run({
      SERVICE_NAME: "service-a",
      PORT: String(port),
      UPSTREAMS: "service-b",
      SERVICE_B_URL: fake.url,
      SHUTDOWN_TIMEOUT_MS: "150",
    });
    await main.waitForStdout("event=listening");
    const inFlight = request(`http://127.0.0.1:${port}/`).then(
      () => "answered",
      () => "cut off",
    );
    await waitFor(() => fake.requests.length === 1, 5000);
    main.child.kill("SIGTERM");
    assert.deepEqual(await main.exited, { code: 1, signal: null });
    assert.equal(await inFlight, "cut off");
    assert.ok(main.stdout.includes("event=stopped result=timed-out"), main.stdout);
  });

  it("rejects bad environment with one line on stderr, no stack trace, exit code 2", async () => {
    const main = run({ SERVICE_NAME: "service_a", PORT: "99999", UPSTREAMS: "service-b" });
    assert.deepEqual(await main.exited, { code: 2, signal: null });
    assert.equal(main.stdout, "");
    const lines = main.stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, main.stderr);
    assert.match(lines[0], /^invalid configuration: /);
    for (const fragment of ['SERVICE_NAME must be', '"service_a"', "PORT must be", '"99999"', "SERVICE_B_URL is required"]) {
      assert.ok(lines[0].includes(fragment), `missing ${fragment}: ${lines[0]}`);
    }
  });

  it("reports a port already in use on stderr and exits 1", async () => {
    const taken = http.createServer();
    const url = await pool.listen(taken);
    const main = run({ SERVICE_NAME: "service-b", PORT: new URL(url).port });
    assert.deepEqual(await main.exited, { code: 1, signal: null });
    assert.equal(main.stderr, `cannot listen on 127.0.0.1:${new URL(url).port}: EADDRINUSE\n`);
  });
});
