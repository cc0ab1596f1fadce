import { strict as assert } from "assert";
import { CommandResult, CommandRunner } from "../../ops/command";
import { MIN_PULUMI_VERSION, checkPrerequisites, formatFound } from "../../ops/prerequisites";
import { compareVersions, findVersion, parseVersion } from "../../ops/version";

/** A runner answering each program with a fixed result. */
function runner(answers: Record<string, CommandResult>): CommandRunner {
    return async (cmd) => answers[cmd] ?? { code: 127, stdout: "", stderr: `${cmd}: not found on PATH` };
}

const OK_DOCKER = { code: 0, stdout: "28.2.2\n", stderr: "" };
const OK_KIND = { code: 0, stdout: "kind v0.33.0 go1.24.6 linux/amd64\n", stderr: "" };

describe("ops/prerequisites", () => {
    it("reports every tool working with its version, in a fixed order", async () => {
        const statuses = await checkPrerequisites(runner({ docker: OK_DOCKER, kind: OK_KIND, pulumi: { code: 0, stdout: "v3.248.0\n", stderr: "" } }));
        assert.deepEqual(
            statuses.map((s) => [s.tool, s.ok, s.version]),
            [
                ["docker", true, "28.2.2"],
                ["kind", true, "v0.33.0"],
                ["pulumi", true, "v3.248.0"],
            ],
        );
        assert.equal(formatFound(statuses), "docker 28.2.2, kind v0.33.0, pulumi v3.248.0");
    });

    it("tells a missing docker client from a daemon that does not answer", async () => {
        const [missing] = await checkPrerequisites(runner({}), ["docker"]);
        assert.equal(missing.problem, "not found on PATH");
        assert.match(missing.hint ?? "", /docs\.docker\.com/);
        const [down] = await checkPrerequisites(runner({ docker: { code: 1, stdout: "\n", stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" } }), ["docker"]);
        assert.equal(down.ok, false);
        assert.match(down.problem ?? "", /^the Docker daemon is not reachable \(docker info: Cannot connect/);
        assert.match(down.hint ?? "", /systemctl start docker/);
    });

    it("accepts the minimum Pulumi version and refuses the one before it", async () => {
        const check = async (v: string) => (await checkPrerequisites(runner({ pulumi: { code: 0, stdout: `${v}\n`, stderr: "" } }), ["pulumi"]))[0];
        assert.equal((await check("v3.100.0")).ok, true);
        assert.equal((await check("v3.248.1-alpha.1700000000")).ok, true);
        const old = await check("v3.99.9");
        assert.equal(old.ok, false);
        assert.equal(old.problem, "version v3.99.9 is older than the required 3.100.0");
        const garbage = await check("unknown");
        assert.match(garbage.problem ?? "", /cannot read a version from `pulumi version` output "unknown"/);
    });

    it("notes a kind release other than the one the node image was built for, without failing", async () => {
        const [kind] = await checkPrerequisites(runner({ kind: { code: 0, stdout: "kind v0.30.0 go1.24.6 linux/amd64\n", stderr: "" } }), ["kind"]);
        assert.equal(kind.ok, true);
        assert.match(kind.note ?? "", /built for kind v0\.33\.0; with kind v0\.30\.0/);
        const [exact] = await checkPrerequisites(runner({ kind: OK_KIND }), ["kind"]);
        assert.equal(exact.note, undefined);
    });

    it("gives every probe a timeout so a hung daemon cannot hang npm run up", async () => {
        const seen: (number | undefined)[] = [];
        await checkPrerequisites(async (_cmd, _args, options) => {
            seen.push(options?.timeoutMs);
            return { code: 0, stdout: "v3.248.0", stderr: "" };
        });
        assert.equal(seen.length, 3);
        assert.ok(seen.every((t) => typeof t === "number" && t > 0 && t <= 30_000), String(seen));
    });
});

describe("ops/version", () => {
    it("finds X.Y.Z in tool output and orders versions numerically", () => {
        assert.deepEqual(findVersion("kind v0.33.0 go1.24.6 linux/amd64"), { major: 0, minor: 33, patch: 0 });
        assert.equal(findVersion("no digits here"), undefined);
        assert.ok(compareVersions(parseVersion("3.100.0"), parseVersion("3.99.0")) > 0);
        assert.equal(compareVersions(parseVersion("v3.100.0"), MIN_PULUMI_VERSION), 0);
        assert.throws(() => parseVersion("3.100"), /not a version of the form X\.Y\.Z: "3\.100"/);
    });
});
