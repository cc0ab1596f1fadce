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
        assert.deepEqual(parseUpArgs([]), { help: false, stack: "kind" });
        assert.deepEqual(parseUpArgs(["--timeout", "300"]), { help: false, stack: "kind", waitTimeoutMs: 300_000 });
        assert.deepEqual(parseUpArgs(["--timeout=60"]), { help: false, stack: "kind", waitTimeoutMs: 60_000 });
    });

    it("up refuses a bad --timeout and unknown arguments, naming them", () => {
        assert.throws(() => parseUpArgs(["--timeout"]), { name: "UsageError", message: "--timeout needs a value: a whole number of seconds" });
        assert.throws(() => parseUpArgs(["--timeout", "soon"]), { message: '--timeout must be a whole number of seconds from 1 to 3600 (got "soon")' });
        assert.throws(() => parseUpArgs(["--timeout=0"]), /from 1 to 3600 \(got "0"\)/);
        assert.throws(() => parseUpArgs(["--cluster"]), { message: 'unknown argument "--cluster"' });
    });

    it("up and down take --stack kind or docker, either form; kind is the default", () => {
        assert.deepEqual(parseUpArgs(["--stack", "docker"]), { help: false, stack: "docker" });
        assert.deepEqual(parseUpArgs(["--stack=docker", "--timeout", "60"]), { help: false, stack: "docker", waitTimeoutMs: 60_000 });
        assert.deepEqual(parseUpArgs(["--stack", "kind"]), { help: false, stack: "kind" });
        assert.deepEqual(parseDownArgs(["--stack", "docker"]), { help: false, stack: "docker", cluster: false });
        assert.deepEqual(parseDownArgs(["--stack=kind", "--cluster"]), { help: false, stack: "kind", cluster: true });
    });

    it("refuses an unknown stack, listing the stacks up supports", () => {
        const message = 'unknown stack "cloud-example": npm run up and npm run down drive the local stacks kind and docker';
        assert.throws(() => parseUpArgs(["--stack", "cloud-example"]), { name: "UsageError", message });
        assert.throws(() => parseDownArgs(["--stack=cloud-example"]), { name: "UsageError", message });
        assert.throws(() => parseUpArgs(["--stack"]), { name: "UsageError", message: "--stack needs a value: kind or docker" });
    });

    it("down refuses --cluster with the docker stack, which has no cluster", () => {
        for (const argv of [["--stack", "docker", "--cluster"], ["--cluster", "--stack=docker"]]) {
            assert.throws(() => parseDownArgs(argv), {
                name: "UsageError",
                message: "--cluster deletes the kind cluster and its registry, and the docker stack has neither: `npm run down -- --stack docker` alone removes everything it created",
            });
        }
    });

    it("--help says what each stack needs", () => {
        assert.match(UP_USAGE, /--stack docker \(needs Docker and the Pulumi CLI only; no kind, no cluster, no registry\)/);
        assert.match(UP_USAGE, /--stack <name> +the local stack to deploy: kind or docker \(default kind\)/);
        assert.match(DOWN_USAGE, /--cluster +also delete the kind cluster and the local registry container \(kind only\)/);
    });

    it("down takes --cluster and nothing else", () => {
        assert.deepEqual(parseDownArgs([]), { help: false, stack: "kind", cluster: false });
        assert.deepEqual(parseDownArgs(["--cluster"]), { help: false, stack: "kind", cluster: true });
        assert.deepEqual(parseDownArgs(["-h"]), { help: true, stack: "kind", cluster: false });
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

    it("down --stack docker --cluster: exit 2 with the reason and the usage, the action not run", async () => {
        const c = capture();
        const code = await runCli("npm run down", DOWN_USAGE, ["--stack", "docker", "--cluster"], parseDownArgs, async () => assert.fail("not run"), c.io);
        assert.equal(code, 2);
        assert.match(c.err.join(""), /^npm run down: --cluster deletes the kind cluster and its registry, and the docker stack has neither/);
        assert.match(c.err.join(""), /Usage: npm run down/);
    });

    it("--help prints the usage on stdout and exits 0", async () => {
        const c = capture();
        assert.equal(await runCli("npm run up", UP_USAGE, ["--help"], parseUpArgs, async () => assert.fail("not run"), c.io), 0);
        assert.equal(c.out.join(""), `${UP_USAGE}\n`);
        assert.match(UP_USAGE, /checks that the cluster runs Kubernetes 1\.30 or newer/);
        assert.match(UP_USAGE, /curl --cacert \.mesh\/kind\/edge-ca\.crt https:\/\/localhost:8443\//);
        assert.match(DOWN_USAGE, /removes \.mesh\/<stack>\/ \(the edge CA's certificate\)/);
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

/** Runs a cli/ entry point with an empty PATH, so every tool is missing whatever this machine has. */
async function runWithoutTools(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
    const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), "empty-path-"));
    const started = Date.now();
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(REPO, "cli", script), ...args],
            { cwd: REPO, env: { PATH: emptyBin, HOME: os.tmpdir() } },
            (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
        );
    });
    fs.rmSync(emptyBin, { recursive: true, force: true });
    return { ...result, seconds: (Date.now() - started) / 1000 };
}

describe("cli/up.ts as a process", () => {
    it("with docker, kind and pulumi off PATH: exits 1 within seconds naming all three, no stack trace", async function () {
        this.timeout(30_000);
        const result = await runWithoutTools("up.ts", []);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^npm run up: needs docker, kind, pulumi, which are missing or not working:\n/);
        for (const tool of ["docker", "kind", "pulumi"]) {
            assert.match(result.stderr, new RegExp(`  - ${tool}: not found on PATH\\n      fix: `));
        }
        assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
        assert.ok(result.seconds < 15, `took ${result.seconds} s`);
    });

    it("--stack docker with nothing on PATH: names docker and pulumi only, never kind", async function () {
        this.timeout(30_000);
        const result = await runWithoutTools("up.ts", ["--stack", "docker"]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^npm run up: needs docker, pulumi, which are missing or not working:\n/);
        assert.doesNotMatch(result.stderr, /kind/);
    });
});
