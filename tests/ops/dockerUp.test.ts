import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runDown } from "../../ops/down";
import { DEFAULT_PASSPHRASE } from "../../ops/pulumiStack";
import { runDockerUp, runUp } from "../../ops/up";
import { BackendCall, EDGE_CA_PEM, FakeBackend, FakeHttp, FakeMachine, FakeTime, MESH_BODY, dockerStatusCommands, fakeDeps, makeRepo, meshAnswer, opsError } from "./fakes";

const PROBES = ["docker info --format '{{.ServerVersion}}'", "pulumi version"];
const PUBLISHERS = "docker ps --filter publish=8080 --format '{{.Names}}\t{{.Networks}}\t{{.Label \"com.docker.compose.project\"}}'";

describe("ops/up: runDockerUp (npm run up -- --stack docker)", () => {
    let repo: string;
    let machine: FakeMachine;
    let backend: FakeBackend;
    let time: FakeTime;
    let http: FakeHttp;
    const deps = (options: { takenPorts?: string[] } = {}) => fakeDeps(machine, backend, (http = new FakeHttp([meshAnswer()])), time, options);

    beforeEach(() => {
        repo = makeRepo();
        machine = new FakeMachine();
        backend = new FakeBackend();
        time = new FakeTime();
    });
    afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("with no Docker daemon and no pulumi: names both with a fix each, never kind, and only probes", async () => {
        machine.dockerDaemon = false;
        machine.pulumiVersion = undefined;
        machine.kindInstalled = false;
        const d = deps();
        const err = await opsError(runDockerUp(d, { repoRoot: repo }));
        assert.match(err.message, /^needs docker, pulumi, which are missing or not working:\n/);
        assert.match(err.message, /docker: the Docker daemon is not reachable/);
        assert.match(err.message, /pulumi: not found on PATH\n\s+fix: install the Pulumi CLI/);
        assert.doesNotMatch(err.message, /kind/);
        assert.deepEqual(machine.commands(), PROBES);
        assert.deepEqual(d.probed, []);
        assert.deepEqual(backend.calls, []);
        assert.equal(fs.existsSync(path.join(repo, ".pulumi-state")), false);
    });

    it("names only the missing tool: pulumi alone, or docker alone", async () => {
        machine.pulumiVersion = undefined;
        const err = await opsError(runDockerUp(deps(), { repoRoot: repo }));
        assert.match(err.message, /^needs pulumi, which is missing or not working:\n {2}- pulumi: /);
        assert.doesNotMatch(err.message, /docker:|kind/);

        machine.pulumiVersion = "v3.248.0";
        machine.dockerInstalled = false;
        const err2 = await opsError(runDockerUp(deps(), { repoRoot: repo }));
        assert.match(err2.message, /^needs docker, which is missing or not working:\n {2}- docker: not found on PATH/);
        assert.doesNotMatch(err2.message, /pulumi:|kind/);
    });

    it("needs no kind at all: works with kind absent", async () => {
        machine.kindInstalled = false;
        const result = await runDockerUp(deps(), { repoRoot: repo });
        assert.equal(result.body, MESH_BODY);
    });

    it("on a fresh machine: probes docker and pulumi, checks ports 8080 and 8443, updates the docker stack, writes the edge CA, prints the steps, the answer and both ways in", async () => {
        const d = deps();
        const result = await runDockerUp(d, { repoRoot: repo });

        assert.deepEqual(machine.commands(), [...PROBES, ...dockerStatusCommands()], "no kind, no cluster, no registry: Pulumi does the rest; then every Envoy is asked for its config");
        assert.deepEqual(d.probed, ["127.0.0.1:8080", "127.0.0.1:8443"]);
        const stateDir = path.join(repo, ".pulumi-state");
        assert.deepEqual(backend.calls, [
            {
                op: "createOrSelectStack",
                args: { stackName: "docker", workDir: repo },
                options: {
                    envVars: { PULUMI_BACKEND_URL: `file://${stateDir}`, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_CONFIG_PASSPHRASE: DEFAULT_PASSPHRASE },
                    secretsProvider: "passphrase",
                },
            },
            { op: "up", stack: "docker", color: "never" },
        ]);
        assert.ok(fs.statSync(stateDir).isDirectory());
        const edgeCaFile = path.join(repo, ".mesh", "docker", "edge-ca.crt");
        assert.deepEqual(result, { frontUrl: "http://localhost:8080", body: MESH_BODY, edgeCaFile, frontPort: "free" });
        assert.equal(fs.readFileSync(edgeCaFile, "utf8"), EDGE_CA_PEM, "the stack's edgeCaCertificate output, as it is");
        assert.equal(fs.statSync(edgeCaFile).mode & 0o777, 0o644);
        assert.deepEqual(d.lines, [
            "[1/4] Prerequisites: docker 28.2.2, pulumi v3.248.0",
            "[2/4] Front ports: 127.0.0.1:8080 free, 127.0.0.1:8443 free",
            "[3/4] Pulumi stack docker (local state in .pulumi-state/, default passphrase): updating...",
            "      the edge CA's certificate is in .mesh/docker/edge-ca.crt",
            "[4/4] Waiting for http://localhost:8080/ and https://localhost:8443/ to answer (up to 180 s)...",
            "http://localhost:8080/ answered:",
            MESH_BODY.trimEnd(),
            "https://localhost:8443/ answered the same, with a certificate the edge CA signed.",
            "Waiting for every Envoy to run the delivered config (listeners, clusters, routes; up to 180 s)...",
            "  ok        front-envoy front-envoy-5f7d8-abcde: 2 subscriptions at the expected version, 0 restarts",
            "every Envoy runs the expected config (1 asked)",
            "",
            "The mesh answers at:",
            "  curl http://localhost:8080/",
            "  curl --cacert .mesh/docker/edge-ca.crt https://localhost:8443/",
            "",
            "The mesh is up. `npm run down -- --stack docker` removes it.",
        ]);
        assert.deepEqual(http.urls, ["http://localhost:8080/", "https://localhost:8443/"]);
        assert.deepEqual(http.trusted, [undefined, EDGE_CA_PEM], "HTTPS trusts the edge CA, and only for HTTPS");
    });

    it("run twice: the second run finds port 8080 held by this stack's own front and updates the same stack", async () => {
        await runDockerUp(deps(), { repoRoot: repo });
        machine.calls.length = 0;
        backend.calls.length = 0;
        const front = [{ name: "envoy-mesh-front-envoy-1", networks: "envoy-mesh", composeProject: "" }];
        machine.publishers.set(8080, front);
        machine.publishers.set(8443, front);
        const d = deps({ takenPorts: ["127.0.0.1:8080", "127.0.0.1:8443"] });
        const result = await runDockerUp(d, { repoRoot: repo });
        assert.deepEqual(machine.commands(), [...PROBES, PUBLISHERS, PUBLISHERS.replace("8080", "8443"), ...dockerStatusCommands()]);
        assert.deepEqual(backend.ops(), ["createOrSelectStack", "up"]);
        assert.equal(result.frontPort, "ours");
        assert.ok(
            d.lines.includes("[2/4] Front ports: 127.0.0.1:8080 held by this stack's envoy-mesh-front-envoy-1, 127.0.0.1:8443 held by this stack's envoy-mesh-front-envoy-1"),
            d.lines.join("\n"),
        );
    });

    it("with envoy-mesh:namespace set, this stack's front is the one on the network of that name", async () => {
        fs.rmSync(repo, { recursive: true, force: true });
        repo = makeRepo(undefined, { "envoy-mesh:target": "docker", "envoy-mesh:namespace": "mesh-dev" });
        machine.publishers.set(8080, [{ name: "mesh-dev-front-envoy-1", networks: "mesh-dev", composeProject: "" }]);
        const result = await runDockerUp(deps({ takenPorts: ["127.0.0.1:8080"] }), { repoRoot: repo });
        assert.equal(result.frontPort, "ours");

        machine.publishers.set(8080, [{ name: "envoy-mesh-front-envoy-1", networks: "envoy-mesh", composeProject: "" }]);
        const err = await opsError(runDockerUp(deps({ takenPorts: ["127.0.0.1:8080"] }), { repoRoot: repo }));
        assert.match(err.message, /^port 8080 on 127\.0\.0\.1 is already in use by container envoy-mesh-front-envoy-1;/, "another stack's mesh is not ours");
    });

    it("port 8080 taken by some process: fails before Pulumi runs, naming the port, its use and how to find the process", async () => {
        const d = deps({ takenPorts: ["127.0.0.1:8080"] });
        const err = await opsError(runDockerUp(d, { repoRoot: repo }));
        assert.match(err.message, /^port 8080 on 127\.0\.0\.1 is already in use; the docker stack publishes the Front Envoy on it \(so the mesh answers at http:\/\/localhost:8080\/\)/);
        assert.match(err.message, /lsof -iTCP:8080 -sTCP:LISTEN/);
        assert.match(err.message, /npm run up -- --stack docker/);
        assert.deepEqual(machine.commands(), [...PROBES, PUBLISHERS]);
        assert.deepEqual(backend.calls, []);
        assert.equal(fs.existsSync(path.join(repo, ".pulumi-state")), false);
    });

    it("port 8080 taken by a rendered compose file's front, even on a network of the same name: names it and how to stop it", async () => {
        machine.publishers.set(8080, [{ name: "envoy-mesh-front-envoy-1", networks: "envoy-mesh", composeProject: "envoy-mesh" }]);
        const err = await opsError(runDockerUp(deps({ takenPorts: ["127.0.0.1:8080"] }), { repoRoot: repo }));
        assert.match(err.message, /^port 8080 on 127\.0\.0\.1 is already in use by container envoy-mesh-front-envoy-1;/);
        assert.match(err.message, /docker stop envoy-mesh-front-envoy-1`, or `docker compose down`/);
        assert.deepEqual(backend.calls, []);
    });

    it("port 8080 taken by a container off the mesh's network: refused, naming only that one", async () => {
        machine.publishers.set(8080, [
            { name: "web", networks: "bridge", composeProject: "" },
            { name: "envoy-mesh-front-envoy-1", networks: "envoy-mesh", composeProject: "" },
        ]);
        const err = await opsError(runDockerUp(deps({ takenPorts: ["127.0.0.1:8080"] }), { repoRoot: repo }));
        assert.match(err.message, /^port 8080 on 127\.0\.0\.1 is already in use by container web;/);
        assert.deepEqual(backend.calls, []);
    });

    it("refuses a Pulumi.docker.yaml whose target is not docker (or unset, which means kind), before touching anything", async () => {
        for (const config of [{ "envoy-mesh:target": "kind" }, {}] as Record<string, string>[]) {
            fs.rmSync(repo, { recursive: true, force: true });
            repo = makeRepo(undefined, config);
            machine.calls.length = 0;
            const d = deps();
            const err = await opsError(runDockerUp(d, { repoRoot: repo }));
            assert.equal(err.message, 'Pulumi.docker.yaml: config envoy-mesh:target is "kind"; npm run up deploys the local docker stack, whose target must be "docker"');
            assert.deepEqual(machine.commands(), PROBES);
            assert.deepEqual(d.probed, []);
            assert.deepEqual(backend.calls, []);
        }
    });

    it("without Pulumi.docker.yaml: says which file is missing", async () => {
        fs.rmSync(path.join(repo, "Pulumi.docker.yaml"));
        const err = await opsError(runDockerUp(deps(), { repoRoot: repo }));
        assert.equal(err.message, `Pulumi.docker.yaml: not found in ${repo}; the docker stack's file sets envoy-mesh:target: docker`);
    });

    it("a bad value in Pulumi.docker.yaml: the program's message with the file, before anything is probed or created", async () => {
        fs.rmSync(repo, { recursive: true, force: true });
        repo = makeRepo(undefined, { "envoy-mesh:target": "docker", "envoy-mesh:namespace": "Not_A_Namespace" });
        const d = deps();
        const err = await opsError(runDockerUp(d, { repoRoot: repo }));
        assert.match(err.message, /^Pulumi\.docker\.yaml: invalid stack configuration \(1 problem\):\n {2}- envoy-mesh:namespace: "Not_A_Namespace"/);
        assert.deepEqual(machine.commands(), PROBES);
        assert.deepEqual(d.probed, []);
        assert.deepEqual(backend.calls, []);
    });

    it("gives up after the timeout, saying where to look with docker, not kubectl", async () => {
        const http = new FakeHttp([{ status: 503, headers: {}, body: "no healthy upstream" }]);
        const err = await opsError(runDockerUp(fakeDeps(machine, backend, http, time), { repoRoot: repo, waitTimeoutMs: 30_000 }));
        assert.match(err.message, /^http:\/\/localhost:8080\/ did not answer with HTTP 200 within 30 s \(last attempt: HTTP 503: no healthy upstream\)/);
        assert.match(err.message, /docker ps --all --filter network=envoy-mesh,/);
        assert.doesNotMatch(err.message, /kubectl/);
    });

    it("a failed pulumi up names the docker stack", async () => {
        backend.failWith = new Error("code: 255\n stdout: \n stderr: error: update failed\n err?: \n");
        const err = await opsError(runDockerUp(deps(), { repoRoot: repo }));
        assert.equal(err.message, "pulumi up on stack docker failed (exit code 255); the output above says why");
    });
});

describe("ops/down: runDown with the docker stack (npm run down -- --stack docker)", () => {
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

    it("with no local state: nothing to do, no tool needed", async () => {
        machine.dockerInstalled = false;
        machine.pulumiVersion = undefined;
        const d = deps();
        assert.deepEqual(await runDown(d, { repoRoot: repo, stack: "docker" }), { stack: "absent" });
        assert.deepEqual(machine.commands(), []);
        assert.deepEqual(backend.calls, []);
        assert.deepEqual(d.lines, ["Pulumi stack docker: no local state (.pulumi-state/), nothing to destroy"]);
    });

    it("after up: destroys the docker stack, no kind command; a second run is safe and destroys again", async () => {
        await runDockerUp(deps(), { repoRoot: repo });
        for (let run = 1; run <= 2; run++) {
            machine.calls.length = 0;
            backend.calls.length = 0;
            const d = deps();
            assert.deepEqual(await runDown(d, { repoRoot: repo, stack: "docker" }), { stack: "destroyed" }, `run ${run}`);
            assert.deepEqual(machine.commands(), PROBES, `run ${run}`);
            assert.deepEqual(backend.ops(), ["listStacks", "selectStack", "destroy"], `run ${run}`);
            const select = backend.calls.find((c): c is Extract<BackendCall, { op: "selectStack" }> => c.op === "selectStack");
            assert.deepEqual(select?.args, { stackName: "docker", workDir: repo });
            const removed = run === 1 ? ["removed .mesh/docker/ (the edge CA's certificate)"] : [];
            assert.deepEqual(d.lines, ["Pulumi stack docker: destroying...", "Pulumi stack docker: destroyed", ...removed], `run ${run}`);
            assert.equal(fs.existsSync(path.join(repo, ".mesh", "docker")), false, "the edge CA written by up is gone");
        }
    });

    it("a failed destroy keeps .mesh/docker/: the mesh may still run and need its CA", async () => {
        await runDockerUp(deps(), { repoRoot: repo });
        backend.failWith = new Error("code: 255\n stdout: \n stderr: error\n err?: \n");
        await opsError(runDown(deps(), { repoRoot: repo, stack: "docker" }));
        assert.ok(fs.existsSync(path.join(repo, ".mesh", "docker", "edge-ca.crt")));
    });

    it("leaves the kind stack alone, and the kind flow leaves the docker stack alone", async () => {
        await runUp(deps(), { repoRoot: repo });
        backend.calls.length = 0;
        const d = deps();
        assert.deepEqual(await runDown(d, { repoRoot: repo, stack: "docker" }), { stack: "absent" });
        assert.deepEqual(backend.ops(), ["listStacks"]);
        assert.deepEqual(d.lines, ["Pulumi stack docker: not found in .pulumi-state/, nothing to destroy"]);
        assert.ok(machine.clusters.has("envoy-mesh"), "the kind cluster is untouched");
    });

    it("refuses deleteCluster: the docker stack has no cluster", async () => {
        const err = await opsError(runDown(deps(), { repoRoot: repo, stack: "docker", deleteCluster: true }));
        assert.match(err.message, /^--cluster deletes the kind cluster and its registry, and the docker stack has neither/);
        assert.deepEqual(machine.commands(), []);
    });

    it("with state but no Docker daemon: names docker only, destroys nothing", async () => {
        fs.mkdirSync(path.join(repo, ".pulumi-state"));
        machine.dockerDaemon = false;
        const err = await opsError(runDown(deps(), { repoRoot: repo, stack: "docker" }));
        assert.match(err.message, /^needs docker, which is missing or not working/);
        assert.deepEqual(backend.calls, []);
    });

    it("a failed destroy names the docker stack", async () => {
        fs.mkdirSync(path.join(repo, ".pulumi-state"));
        backend.stacks.add("docker");
        backend.failWith = new Error("code: 255\n stdout: \n stderr: error: deleting failed\n err?: \n");
        const err = await opsError(runDown(deps(), { repoRoot: repo, stack: "docker" }));
        assert.equal(err.message, "pulumi destroy on stack docker failed (exit code 255); the output above says why");
    });
});
