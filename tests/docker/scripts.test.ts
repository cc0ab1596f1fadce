import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appHealthcheck, envoyHealthcheck, envoyWrapperScript } from "../../docker";
import { parseTopology, type Topology } from "../../topology";

const HAS_BASH = spawnSync("/bin/bash", ["-c", "true"]).status === 0;

/** An HTTP server on 127.0.0.1 that answers with `status()` and records each request line. */
async function server(status: (path: string) => number): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const s: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(status(req.url ?? "")).end();
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return { port: (s.address() as AddressInfo).port, requests, close: () => new Promise((resolve) => s.close(() => resolve())) };
}

/** Runs a healthcheck's exec form (`["CMD", program, ...args]`) and resolves with its exit code. */
function runCheck(test: readonly string[]): Promise<number | null> {
  const [, program, ...args] = test;
  const command = program === "/usr/local/bin/node" ? process.execPath : program;
  return new Promise((resolve) => spawn(command, args, { stdio: "ignore" }).on("exit", (code) => resolve(code)));
}

function topologyWith(ports: Record<string, number>, envoy: Record<string, unknown> = {}): Topology {
  return parseTopology({ extends: "seed", ports, envoy });
}

describe("docker: the scripts the containers run", function () {
  before(function () {
    if (!HAS_BASH) this.skip();
  });

  describe("Envoy's health check (bash, no curl)", () => {
    for (const [status, healthy] of [[200, true], [503, false]] as const) {
      it(`is ${healthy ? "healthy" : "unhealthy"} when /ready answers ${status}`, async () => {
        const admin = await server((path) => (path === "/ready" ? status : 404));
        try {
          assert.equal(await runCheck(envoyHealthcheck(topologyWith({ health: admin.port })).test), healthy ? 0 : 1);
          assert.deepEqual(admin.requests, ["GET /ready"]);
        } finally {
          await admin.close();
        }
      });
    }

    it("is unhealthy when nothing listens", async () => {
      const gone = await server(() => 200);
      await gone.close();
      assert.notEqual(await runCheck(envoyHealthcheck(topologyWith({ health: gone.port })).test), 0);
    });
  });

  describe("the app's health check (node)", () => {
    for (const [status, healthy] of [[200, true], [503, false]] as const) {
      it(`is ${healthy ? "healthy" : "unhealthy"} when /healthz answers ${status}`, async () => {
        const app = await server((path) => (path === "/healthz" ? status : 404));
        try {
          assert.equal(await runCheck(appHealthcheck(topologyWith({ appHealth: app.port })).test), healthy ? 0 : 1);
        } finally {
          await app.close();
        }
      });
    }
  });

  describe("the Envoy wrapper", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "envoy-wrapper-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** A stand-in for Envoy: logs its arguments and the signals it gets; exits with `code` on SIGTERM or at once when told. */
    function fakeEnvoy(exitAtOnce?: number): { path: string; log: () => string[] } {
      const path = join(dir, "envoy");
      const log = join(dir, "log");
      const body = exitAtOnce === undefined
        ? `trap 'echo "term $(date +%s%N)" >> ${log}; exit 0' TERM\necho "args $*" >> ${log}\nwhile true; do sleep 0.05; done\n`
        : `echo "args $*" >> ${log}\nexit ${exitAtOnce}\n`;
      writeFileSync(path, `#!/bin/bash\n${body}`);
      chmodSync(path, 0o755);
      return { path, log: () => { try { return readFileSync(log, "utf8").trim().split("\n"); } catch { return []; } } };
    }

    async function until(check: () => boolean, what: string): Promise<void> {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(check(), `timed out waiting for ${what}`);
    }

    it("handles SIGTERM from its first command on: the trap is set before Envoy starts (PID 1 drops unhandled signals)", () => {
      const lines = envoyWrapperScript(topologyWith({}, {}), true).split("\n");
      const trap = lines.findIndex((l) => l.startsWith("trap "));
      const start = lines.findIndex((l) => l.startsWith('"$0" "$@" &'));
      assert.ok(trap >= 0 && start >= 0, lines.join("\n"));
      assert.ok(trap < start, `the trap (line ${trap + 1}) comes after Envoy's start (line ${start + 1})`);
    });

    it("on SIGTERM drains through the admin API, waits drainSeconds, then stops Envoy and exits with its status", async () => {
      const admin = await server(() => 200);
      try {
        const envoy = fakeEnvoy();
        const topology = topologyWith({ admin: admin.port }, { drainSeconds: 1 });
        const wrapper = spawn("/bin/bash", ["-c", envoyWrapperScript(topology, true), envoy.path, "--config-yaml", "a: b"], { stdio: "ignore" });
        const exited = new Promise<number | null>((resolve) => wrapper.on("exit", (code) => resolve(code)));
        await until(() => envoy.log().some((l) => l.startsWith("args")), "the fake Envoy to start");
        assert.deepEqual(envoy.log(), ["args --config-yaml a: b"]);
        const signalled = Date.now();
        wrapper.kill("SIGTERM");
        assert.equal(await exited, 0);
        assert.deepEqual(admin.requests, ["POST /drain_listeners?graceful&inboundonly"]);
        const term = envoy.log().find((l) => l.startsWith("term"));
        assert.ok(term, "Envoy never got SIGTERM");
        const waitedMs = Number(BigInt(term.split(" ")[1]) / 1_000_000n) - signalled;
        assert.ok(waitedMs >= 900, `Envoy was stopped after ${waitedMs} ms, before the 1 s drain`);
      } finally {
        await admin.close();
      }
    });

    it("exits with Envoy's own status when Envoy stops by itself", async () => {
      const envoy = fakeEnvoy(3);
      const result = spawnSync("/bin/bash", ["-c", envoyWrapperScript(topologyWith({}), false), envoy.path]);
      assert.equal(result.status, 3);
    });
  });
});
