import { strict as assert } from "assert";
import { NOT_FOUND, TIMED_OUT, execFileRunner, lastLine, showCommand } from "../../ops/command";

describe("ops/command: execFileRunner", () => {
    const node = process.execPath;

    it("resolves with the exit code and both outputs, never rejecting on failure", async () => {
        const r = await execFileRunner(node, ["-e", "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)"]);
        assert.deepEqual(r, { code: 3, stdout: "out", stderr: "err" });
    });

    it("passes arguments verbatim, with no shell in between", async () => {
        const r = await execFileRunner(node, ["-e", "process.stdout.write(process.argv[1])", "$HOME; echo 'x' | cat"]);
        assert.equal(r.stdout, "$HOME; echo 'x' | cat");
    });

    it("writes the input to stdin", async () => {
        const r = await execFileRunner(node, ["-e", "process.stdin.pipe(process.stdout)"], { input: '[host."http://kind-registry:5000"]\n' });
        assert.equal(r.stdout, '[host."http://kind-registry:5000"]\n');
    });

    it("reports a program that is not on PATH as code 127", async () => {
        const r = await execFileRunner("no-such-program-envoy-mesh", ["version"]);
        assert.equal(r.code, NOT_FOUND);
        assert.equal(r.stderr, "no-such-program-envoy-mesh: not found on PATH");
    });

    it("kills a command that outlives its timeout", async () => {
        const r = await execFileRunner(node, ["-e", "setTimeout(() => {}, 10000)"], { timeoutMs: 200 });
        assert.equal(r.code, TIMED_OUT);
        assert.match(r.stderr, /timed out after 200 ms/);
    });
});

describe("ops/command: helpers", () => {
    it("lastLine prefers stderr's last non-empty line", () => {
        assert.equal(lastLine({ code: 1, stdout: "a\nb\n", stderr: "x\ny\n\n" }), "y");
        assert.equal(lastLine({ code: 1, stdout: "a\nb\n", stderr: "" }), "b");
    });

    it("showCommand quotes only what a shell would need quoted", () => {
        assert.equal(showCommand("docker", ["inspect", "--format", "{{.State.Running}}", "kind-registry"]), "docker inspect --format '{{.State.Running}}' kind-registry");
        assert.equal(showCommand("kind", ["create", "cluster", "--config", "/a b/c.yaml"]), "kind create cluster --config '/a b/c.yaml'");
    });
});
