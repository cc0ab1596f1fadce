import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DOWN_USAGE, UP_USAGE, parseDownArgs, parseUpArgs, runCli } from "../../ops/cli";
import { OpsError } from "../../ops/errors";

const REPO = path.resolve(__dirname, "..", "..");

function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe("ops/cli: arguments", () => {
    it("up takes --timeout in seconds, either form", () => {
        assert.deepEqual(parseUpArgs([]), { help: false });
        assert.deepEqual(parseUpArgs(["--timeout", "300"]), { help: false, waitTimeoutMs: 300_000 });
        assert.deepEqual(parseUpArgs(["--timeout=60"]), { help: false, waitTimeoutMs: 60_000 });
    });

    it("up refuses a bad --timeout and unknown arguments, naming them", () => {
        assert.throws(() => parseUpArgs(["--timeout"]), { name: "UsageError", message: "--timeout needs a value: a whole number of seconds" });
        assert.throws(() => parseUpArgs(["--timeout", "soon"]), { message: '--timeout must be a whole number of seconds from 1 to 3600 (got "soon")' });
        assert.throws(() => parseUpArgs(["--timeout=0"]), /from 1 to 3600 \(got "0"\)/);
        assert.throws(() => parseUpArgs(["--cluster"]), { message: 'unknown argument "--cluster"' });
    });

    it("down takes --cluster and nothing else", () => {
        assert.deepEqual(parseDownArgs([]), { help: false, cluster: false });
        assert.deepEqual(parseDownArgs(["--cluster"]), { help: false, cluster: true });
        assert.deepEqual(parseDownArgs(["-h"]), { help: true, cluster: false });
        assert.throws(() => parseDownArgs(["--all"]), { name: "UsageError", message: 'unknown argument "--all"' });
    });
});

describe("ops/cli: runCli", () => {
    it("a usage error: message and usage on stderr, exit 2, the action not run", async () => {
        const c = capture();
        let ran = false;
        const code = await runCli("npm run down", DOWN_USAGE, ["--nope"], parseDownArgs, async () => (ran = true), c.io);
        assert.equal(code, 2);
        assert.equal(ran, false);
        assert.equal(c.err.join(""), `npm run down: unknown argument "--nope"\n\n${DOWN_USAGE}\n`);
    });

    it("--help prints the usage on stdout and exits 0", async () => {
        const c = capture();
        assert.equal(await runCli("npm run up", UP_USAGE, ["--help"], parseUpArgs, async () => assert.fail("not run"), c.io), 0);
        assert.equal(c.out.join(""), `${UP_USAGE}\n`);
        assert.match(UP_USAGE, /checks that the cluster runs Kubernetes 1\.30 or newer/);
    });

    it("a known failure: its message alone, no stack trace, its exit code", async () => {
        const c = capture();
        const code = await runCli("npm run up", UP_USAGE, [], parseUpArgs, async () => {
            throw new OpsError("port 8080 on 127.0.0.1 is already in use");
        }, c.io);
        assert.equal(code, 1);
        assert.equal(c.err.join(""), "npm run up: port 8080 on 127.0.0.1 is already in use\n");
    });

    it("an unexpected failure: one line and how to see the trace, exit 1", async () => {
        const c = capture();
        const code = await runCli("npm run up", UP_USAGE, [], parseUpArgs, async () => {
            throw new TypeError("boom");
        }, c.io);
        assert.equal(code, 1);
        assert.equal(c.err.join(""), "npm run up: unexpected error: boom\n  (set DEBUG=1 to see the stack trace)\n");
    });
});

describe("cli/up.ts as a process", () => {
    it("with docker, kind and pulumi off PATH: exits 1 within seconds naming all three, no stack trace", async function () {
        this.timeout(30_000);
        // An empty PATH makes every tool missing, whatever this machine has installed.
        const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), "empty-path-"));
        const started = Date.now();
        const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            execFile(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", path.join(REPO, "cli", "up.ts")],
                { cwd: REPO, env: { PATH: emptyBin, HOME: os.tmpdir() } },
                (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
            );
        });
        fs.rmSync(emptyBin, { recursive: true, force: true });
        const seconds = (Date.now() - started) / 1000;
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^npm run up: needs docker, kind, pulumi, which are missing or not working:\n/);
        for (const tool of ["docker", "kind", "pulumi"]) {
            assert.match(result.stderr, new RegExp(`  - ${tool}: not found on PATH\\n      fix: `));
        }
        assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
        assert.ok(seconds < 15, `took ${seconds} s`);
    });
});
