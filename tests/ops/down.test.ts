import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runDown } from "../../ops/down";
import { OpsError } from "../../ops/errors";
import { runUp } from "../../ops/up";
import { BackendCall, FakeBackend, FakeHttp, FakeMachine, FakeTime, fakeDeps, makeRepo, meshAnswer } from "./fakes";

describe("ops/down: runDown", () => {
    let repo: string;
    let machine: FakeMachine;
    let backend: FakeBackend;
    const deps = () => fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), new FakeTime());

    beforeEach(() => {
        repo = makeRepo();
        machine = new FakeMachine();
        backend = new FakeBackend();
    });
    afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

    /** State after a successful `npm run up`, with the call logs cleared. */
    async function afterUp(): Promise<void> {
        await runUp(deps(), { repoRoot: repo });
        machine.calls.length = 0;
        backend.calls.length = 0;
    }

    const destroyEnv = (): Readonly<Record<string, string>> => {
        const select = backend.calls.find((c): c is Extract<BackendCall, { op: "selectStack" }> => c.op === "selectStack");
        assert.ok(select, "the stack was selected");
        return select.options.envVars;
    };

    it("with no local state and no flag: nothing to do, no tool needed", async () => {
        machine.dockerDaemon = false;
        machine.kindInstalled = false;
        machine.pulumiVersion = undefined;
        const d = deps();
        const result = await runDown(d, { repoRoot: repo });
        assert.deepEqual(result, { stack: "absent" });
        assert.deepEqual(machine.commands(), []);
        assert.deepEqual(backend.calls, []);
        assert.deepEqual(d.lines, ["Pulumi stack kind: no local state (.pulumi-state/), nothing to destroy"]);
    });

    it("after up: destroys the kind stack on the local backend and keeps the cluster", async () => {
        await afterUp();
        const d = deps();
        const result = await runDown(d, { repoRoot: repo });
        assert.deepEqual(result, { stack: "destroyed" });
        assert.deepEqual(machine.commands(), ["pulumi version", "kind get clusters"]);
        assert.deepEqual(backend.ops(), ["listStacks", "selectStack", "destroy"]);
        assert.equal(destroyEnv().PULUMI_CONFIG_PASSPHRASE, "envoy-mesh-local");
        assert.equal(destroyEnv().PULUMI_K8S_DELETE_UNREACHABLE, undefined, "a reachable cluster's resources are really deleted");
        assert.ok(machine.clusters.has("envoy-mesh"));
        assert.deepEqual(d.streamed, ["Updating (kind):\n"], "Pulumi's progress is streamed");
    });

    it("when the cluster is already gone: drops its resources from the state instead of failing", async () => {
        await afterUp();
        machine.clusters.clear();
        await runDown(deps(), { repoRoot: repo });
        assert.equal(destroyEnv().PULUMI_K8S_DELETE_UNREACHABLE, "true");
    });

    it("with --cluster: destroys the stack, then deletes the cluster and the registry; a second run finds nothing", async () => {
        await afterUp();
        const first = await runDown(deps(), { repoRoot: repo, deleteCluster: true });
        assert.deepEqual(first, { stack: "destroyed", cluster: "deleted", registry: "removed" });
        assert.deepEqual(machine.commands(), [
            "pulumi version",
            "docker info --format '{{.ServerVersion}}'",
            "kind version",
            "kind get clusters",
            "kind get clusters",
            "kind delete cluster --name envoy-mesh",
            "docker inspect --format '{{.State.Running}}' kind-registry",
            "docker rm --force kind-registry",
        ]);
        assert.deepEqual(backend.ops(), ["listStacks", "selectStack", "destroy"]);

        machine.calls.length = 0;
        backend.calls.length = 0;
        const d = deps();
        const second = await runDown(d, { repoRoot: repo, deleteCluster: true });
        assert.deepEqual(second, { stack: "destroyed", cluster: "absent", registry: "absent" });
        assert.ok(!machine.commands().some((c) => c.startsWith("kind delete") || c.startsWith("docker rm")), machine.commands().join("\n"));
        assert.equal(destroyEnv().PULUMI_K8S_DELETE_UNREACHABLE, "true");
        assert.ok(d.lines.includes("kind cluster envoy-mesh: not found, nothing to delete"));
        assert.ok(d.lines.includes("registry container kind-registry: not found, nothing to remove"));
    });

    it("with --cluster and no state: deletes the cluster and registry without needing pulumi", async () => {
        machine.pulumiVersion = undefined;
        machine.clusters.set("envoy-mesh", { running: true, publishes: true });
        machine.registry = "running";
        const result = await runDown(deps(), { repoRoot: repo, deleteCluster: true });
        assert.deepEqual(result, { stack: "absent", cluster: "deleted", registry: "removed" });
        assert.deepEqual(backend.calls, []);
    });

    it("with --cluster but no Docker daemon and no kind: names both, deletes nothing", async () => {
        machine.dockerDaemon = false;
        machine.kindInstalled = false;
        try {
            await runDown(deps(), { repoRoot: repo, deleteCluster: true });
            assert.fail("expected a failure");
        } catch (e) {
            assert.ok(e instanceof OpsError);
            assert.match(e.message, /^needs docker, kind, which are missing/);
        }
        assert.deepEqual(machine.commands(), ["docker info --format '{{.ServerVersion}}'", "kind version"]);
    });

    it("with state but no kind stack in it: destroys nothing", async () => {
        fs.mkdirSync(path.join(repo, ".pulumi-state"));
        const d = deps();
        const result = await runDown(d, { repoRoot: repo });
        assert.deepEqual(result, { stack: "absent" });
        assert.deepEqual(backend.ops(), ["listStacks"]);
        assert.ok(d.lines.includes("Pulumi stack kind: not found in .pulumi-state/, nothing to destroy"));
    });

    it("a failed destroy: short message with the exit code", async () => {
        await afterUp();
        backend.failWith = new Error("code: 255\n stdout: \n stderr: error: deleting failed\n err?: \n");
        await assert.rejects(runDown(deps(), { repoRoot: repo }), {
            name: "OpsError",
            message: "pulumi destroy on stack kind failed (exit code 255); the output above says why",
        });
    });

    it("with a remote registry: --cluster leaves registries alone", async () => {
        fs.rmSync(repo, { recursive: true, force: true });
        repo = makeRepo({ "envoy-mesh:target": "kind", "envoy-mesh:registry": "ghcr.io/example" });
        machine.clusters.set("envoy-mesh", { running: true, publishes: true });
        const result = await runDown(deps(), { repoRoot: repo, deleteCluster: true });
        assert.deepEqual(result, { stack: "absent", cluster: "deleted" });
        assert.ok(!machine.commands().some((c) => c.includes("kind-registry")));
    });
});
