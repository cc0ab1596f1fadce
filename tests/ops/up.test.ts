import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { DEFAULT_WAIT_TIMEOUT_MS, runUp } from "../../ops/up";
import { runDown } from "../../ops/down";
import { EDGE_CA_PEM, FakeBackend, FakeHttp, FakeMachine, FakeTime, MESH_BODY, fail, fakeDeps, kindStatusCommands, kubectlVersionJson, LIVE, statsText, makeRepo, meshAnswer, ok, opsError } from "./fakes";

const PROBES = ["docker info --format '{{.ServerVersion}}'", "kind version", "pulumi version"];
const SERVER_VERSION = "docker exec envoy-mesh-control-plane kubectl --kubeconfig=/etc/kubernetes/admin.conf version -o json";

describe("ops/up: runUp", () => {
    let repo: string;
    let machine: FakeMachine;
    let backend: FakeBackend;
    let time: FakeTime;

    beforeEach(() => {
        repo = makeRepo();
        machine = new FakeMachine();
        backend = new FakeBackend();
        time = new FakeTime();
    });
    afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("with no Docker daemon, kind or pulumi: names all three with a fix each, and only probes", async () => {
        machine.dockerDaemon = false;
        machine.kindInstalled = false;
        machine.pulumiVersion = undefined;
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        const err = await opsError(runUp(deps, { repoRoot: repo }));
        assert.match(err.message, /needs docker, kind, pulumi/);
        assert.match(err.message, /docker: the Docker daemon is not reachable \(docker info: Cannot connect to the Docker daemon/);
        assert.match(err.message, /kind: not found on PATH\n\s+fix: install kind v0\.33\.0/);
        assert.match(err.message, /pulumi: not found on PATH\n\s+fix: install the Pulumi CLI \(>= 3\.100\.0\)/);
        assert.equal(err.exitCode, 1);
        assert.deepEqual(machine.commands(), PROBES);
        assert.deepEqual(backend.calls, []);
        assert.deepEqual(deps.probed, []);
        assert.equal(fs.existsSync(path.join(repo, ".pulumi-state")), false);
    });

    it("names only the missing tool when the others work", async () => {
        machine.kindInstalled = false;
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^needs kind, which is missing/);
        assert.doesNotMatch(err.message, /docker:|pulumi:/);
    });

    it("refuses a Pulumi CLI older than 3.100.0, naming both versions", async () => {
        machine.pulumiVersion = "v3.99.0";
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /pulumi: version v3\.99\.0 is older than the required 3\.100\.0/);
    });

    it("on a fresh machine: creates the registry, then the cluster, wires the nodes, updates the stack and prints the answer", async () => {
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        const result = await runUp(deps, { repoRoot: repo });

        const config = path.join(repo, "kind", "cluster.yaml");
        assert.deepEqual(machine.commands(), [
            ...PROBES,
            "docker inspect --format '{{.State.Running}}' kind-registry",
            "kind get clusters",
            "docker run --detach --restart=always --publish 127.0.0.1:5001:5000 --network bridge --name kind-registry registry:3.0.0",
            `kind create cluster --name envoy-mesh --config ${config} --wait 120s`,
            SERVER_VERSION,
            "docker inspect --format '{{json .NetworkSettings.Networks.kind}}' kind-registry",
            "docker network connect kind kind-registry",
            "kind get nodes --name envoy-mesh",
            "docker exec envoy-mesh-control-plane mkdir -p /etc/containerd/certs.d/localhost:5001",
            "docker exec -i envoy-mesh-control-plane cp /dev/stdin /etc/containerd/certs.d/localhost:5001/hosts.toml",
            "docker exec -i envoy-mesh-control-plane kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -",
            ...kindStatusCommands(),
        ]);
        assert.equal(
            machine.nodeFiles.get("envoy-mesh-control-plane:/etc/containerd/certs.d/localhost:5001/hosts.toml"),
            '[host."http://kind-registry:5000"]\n',
        );
        const configMap = machine.calls.find((c) => c.args.includes("apply"))?.input ?? "";
        assert.match(configMap, /name: local-registry-hosting\n {2}namespace: kube-public/);
        assert.match(configMap, /host: "localhost:5001"/);
        assert.deepEqual(deps.probed, ["127.0.0.1:5001", "127.0.0.1:8080", "127.0.0.1:8443"]);

        const stateDir = path.join(repo, ".pulumi-state");
        assert.deepEqual(backend.calls, [
            {
                op: "createOrSelectStack",
                args: { stackName: "kind", workDir: repo },
                options: {
                    envVars: {
                        PULUMI_BACKEND_URL: pathToFileURL(stateDir).href,
                        PULUMI_SKIP_UPDATE_CHECK: "true",
                        PULUMI_CONFIG_PASSPHRASE: "envoy-mesh-local",
                    },
                    secretsProvider: "passphrase",
                },
            },
            { op: "up", stack: "kind", color: "never" },
        ]);
        assert.ok(fs.statSync(stateDir).isDirectory(), "the local state directory is created");
        assert.deepEqual(deps.streamed, ["Updating (kind):\n"], "Pulumi's progress is streamed");

        const edgeCaFile = path.join(repo, ".mesh", "kind", "edge-ca.crt");
        assert.deepEqual(result, { frontUrl: "http://localhost:8080", body: MESH_BODY, edgeCaFile, cluster: "created", registry: "created" });
        const printed = deps.lines.join("\n");
        assert.ok(printed.includes(`http://localhost:8080/ answered:\n${MESH_BODY.trimEnd()}`), printed);
    });

    it("run twice: the second run reuses the registry and cluster and creates nothing", async () => {
        await runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo });
        machine.calls.length = 0;
        backend.calls.length = 0;
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        const result = await runUp(deps, { repoRoot: repo });

        assert.deepEqual(machine.commands(), [
            ...PROBES,
            "docker inspect --format '{{.State.Running}}' kind-registry",
            "kind get clusters",
            "docker inspect --format '{{.State.Running}}' envoy-mesh-control-plane",
            "docker port envoy-mesh-control-plane 30080/tcp",
            "docker port envoy-mesh-control-plane 30443/tcp",
            SERVER_VERSION,
            "docker inspect --format '{{json .NetworkSettings.Networks.kind}}' kind-registry",
            "kind get nodes --name envoy-mesh",
            "docker exec envoy-mesh-control-plane mkdir -p /etc/containerd/certs.d/localhost:5001",
            "docker exec -i envoy-mesh-control-plane cp /dev/stdin /etc/containerd/certs.d/localhost:5001/hosts.toml",
            "docker exec -i envoy-mesh-control-plane kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -",
            ...kindStatusCommands(),
        ]);
        assert.deepEqual(deps.probed, [], "no port is needed when nothing is created");
        assert.deepEqual(backend.ops(), ["createOrSelectStack", "up"]);
        assert.equal(result.cluster, "reused");
        assert.equal(result.registry, "running");
    });

    it("waits for every Envoy to run the delivered config: nudges a lagging pod, and on timeout names it with the versions", async () => {
        machine.envoys[0].stats = [statsText({ ...LIVE, "listener_manager.lds": "0ld0000000000000" })];
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        const err = await opsError(runUp(deps, { repoRoot: repo, waitTimeoutMs: 20_000 }));
        assert.match(err.message, /^after 20 s, not every Envoy runs the expected config: 1 lagging \(front-envoy-5f7d8-abcde\)/);
        assert.match(err.message, /listener_manager\.lds: runs 0ld0000000000000, expected 1d5000000000000a/);
        assert.equal(machine.nudged.length, 1, "the lagging pod is annotated once");
        assert.ok(deps.lines.includes("Waiting for every Envoy to run the delivered config (listeners, clusters, routes; up to 20 s)..."), deps.lines.join("\n"));
    });

    it("port 8080 taken and no cluster yet: fails before creating anything, naming the port and its use", async () => {
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time, { takenPorts: ["127.0.0.1:8080"] });
        const err = await opsError(runUp(deps, { repoRoot: repo }));
        assert.match(err.message, /^port 8080 on 127\.0\.0\.1 is already in use; the kind cluster maps the Front Envoy NodePort 30080 to it/);
        assert.match(err.message, /lsof -iTCP:8080 -sTCP:LISTEN/);
        assert.ok(!machine.commands().some((c) => c.startsWith("docker run") || c.startsWith("kind create")), machine.commands().join("\n"));
        assert.deepEqual(backend.calls, []);
    });

    it("port 8443 taken and no cluster yet: fails before creating anything, naming the HTTPS NodePort", async () => {
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time, { takenPorts: ["127.0.0.1:8443"] });
        const err = await opsError(runUp(deps, { repoRoot: repo }));
        assert.match(err.message, /^port 8443 on 127\.0\.0\.1 is already in use; the kind cluster maps the Front Envoy's HTTPS NodePort 30443 to it \(so the mesh answers at https:\/\/localhost:8443\/\)/);
        assert.ok(!machine.commands().some((c) => c.startsWith("docker run") || c.startsWith("kind create")), machine.commands().join("\n"));
        assert.deepEqual(backend.calls, []);
    });

    it("a cluster created before the HTTPS mapping existed: says to recreate it, deploys nothing", async () => {
        machine.clusters.set("envoy-mesh", { running: true, publishes: true, publishesTls: false });
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /kind cluster envoy-mesh exists but does not publish NodePort 30443 on host port 8443 \(it was not created from .*, or before that file mapped the front's HTTPS port\)/);
        assert.match(err.message, /npm run down -- --cluster/);
        assert.deepEqual(backend.calls, []);
    });

    it("a kind/cluster.yaml without the HTTPS port mapping: names the file and the port, before anything", async () => {
        const file = path.join(repo, "kind", "cluster.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/containerPort: 30443/, "containerPort: 30444"));
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^kind\/cluster\.yaml: nodes\[\]\.extraPortMappings: no entry maps containerPort 30443 \(the Front Envoy's HTTPS NodePort, envoy-mesh:frontTlsNodePort\)/);
        assert.deepEqual(machine.commands(), PROBES);
    });

    it("port 8080 in use by the existing cluster itself is fine: the port is not probed", async () => {
        machine.clusters.set("envoy-mesh", { running: true, publishes: true });
        machine.registry = "running";
        machine.registryOnKindNetwork = true;
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time, { takenPorts: ["127.0.0.1:8080", "127.0.0.1:5001"] });
        const result = await runUp(deps, { repoRoot: repo });
        assert.equal(result.cluster, "reused");
        assert.deepEqual(deps.probed, []);
    });

    it("registry port 5001 taken and no registry container: fails before creating anything", async () => {
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time, { takenPorts: ["127.0.0.1:5001"] });
        const err = await opsError(runUp(deps, { repoRoot: repo }));
        assert.match(err.message, /^port 5001 on 127\.0\.0\.1 is already in use; the local image registry \(kind-registry\) needs it/);
        assert.ok(!machine.commands().some((c) => c.startsWith("docker run") || c.startsWith("kind create")));
    });

    it("a stopped registry container is started, not recreated", async () => {
        machine.registry = "stopped";
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        const result = await runUp(deps, { repoRoot: repo });
        assert.equal(result.registry, "started");
        assert.ok(machine.commands().includes("docker start kind-registry"));
        assert.ok(!machine.commands().some((c) => c.startsWith("docker run")));
    });

    it("a cluster whose node Docker stopped is started again", async () => {
        machine.clusters.set("envoy-mesh", { running: false, publishes: true });
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        const result = await runUp(deps, { repoRoot: repo });
        assert.equal(result.cluster, "started");
        assert.ok(machine.commands().includes("docker start envoy-mesh-control-plane"));
        assert.ok(!machine.commands().some((c) => c.startsWith("kind create")));
    });

    it("a cluster of that name without the port mapping: says to delete it, deploys nothing", async () => {
        machine.clusters.set("envoy-mesh", { running: true, publishes: false });
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /kind cluster envoy-mesh exists but does not publish NodePort 30080 on host port 8080/);
        assert.match(err.message, /npm run down -- --cluster/);
        assert.deepEqual(backend.calls, []);
    });

    it("uses envoy-mesh:kindClusterName from Pulumi.kind.yaml for every kind and node command", async () => {
        fs.rmSync(repo, { recursive: true, force: true });
        repo = makeRepo({ "envoy-mesh:target": "kind", "envoy-mesh:kindClusterName": "mesh-dev" });
        await runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo });
        const cmds = machine.commands();
        assert.ok(cmds.some((c) => c.startsWith("kind create cluster --name mesh-dev ")));
        assert.ok(cmds.includes("docker exec mesh-dev-control-plane mkdir -p /etc/containerd/certs.d/localhost:5001"));
        assert.ok(!cmds.some((c) => c.includes("envoy-mesh-control-plane")));
    });

    it("with a registry that is not on this machine: leaves registries alone", async () => {
        fs.rmSync(repo, { recursive: true, force: true });
        repo = makeRepo({ "envoy-mesh:target": "kind", "envoy-mesh:registry": "ghcr.io/example" });
        const result = await runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo });
        assert.equal(result.registry, "remote");
        assert.ok(!machine.commands().some((c) => c.includes("kind-registry") || c.includes("certs.d")));
    });

    it("refuses a kind stack whose target is cloud, before touching anything", async () => {
        fs.rmSync(repo, { recursive: true, force: true });
        repo = makeRepo({ "envoy-mesh:target": "cloud" });
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.equal(err.message, 'Pulumi.kind.yaml: config envoy-mesh:target is "cloud"; npm run up deploys the local kind stack, whose target must be "kind"');
        assert.deepEqual(machine.commands(), PROBES);
    });

    it("takes the passphrase from PULUMI_CONFIG_PASSPHRASE when set", async () => {
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time, { env: { PULUMI_CONFIG_PASSPHRASE: "s3cret" } });
        await runUp(deps, { repoRoot: repo });
        const first = backend.calls[0];
        assert.ok(first.op === "createOrSelectStack");
        assert.equal(first.options.envVars.PULUMI_CONFIG_PASSPHRASE, "s3cret");
        assert.ok(deps.lines.some((l) => l.includes("passphrase from PULUMI_CONFIG_PASSPHRASE")));
    });

    it("waits through 503s and refused connections until the Front Envoy answers 200", async () => {
        const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8080"), { code: "ECONNREFUSED" });
        const http = new FakeHttp([refused, { status: 503, headers: {}, body: "no healthy upstream" }, meshAnswer()]);
        const deps = fakeDeps(machine, backend, http, time);
        const result = await runUp(deps, { repoRoot: repo });
        assert.equal(result.body, MESH_BODY);
        assert.deepEqual(http.urls, ["http://localhost:8080/", "http://localhost:8080/", "http://localhost:8080/", "https://localhost:8443/"]);
        assert.deepEqual(time.sleeps, [2000, 2000]);
    });

    it("gives up after the timeout with the last answer and where to look", async () => {
        const http = new FakeHttp([{ status: 503, headers: {}, body: "no healthy upstream" }]);
        const err = await opsError(runUp(fakeDeps(machine, backend, http, time), { repoRoot: repo, waitTimeoutMs: 30_000 }));
        assert.match(err.message, /^http:\/\/localhost:8080\/ did not answer with HTTP 200 within 30 s \(last attempt: HTTP 503: no healthy upstream\)/);
        assert.match(err.message, /kubectl --context kind-envoy-mesh --namespace envoy-mesh get pods/);
        assert.ok(time.now <= 30_000, `waited ${time.now} ms`);
        assert.ok(http.urls.length >= 10 && http.urls.length <= 16, `${http.urls.length} attempts`);
    });

    it("waits 180 s by default", () => {
        assert.equal(DEFAULT_WAIT_TIMEOUT_MS, 180_000);
    });

    it("a failed pulumi up: short message with the exit code (its output was streamed)", async () => {
        backend.failWith = new Error("code: 255\n stdout: lots of output\n stderr: error: update failed\n err?: \n");
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.equal(err.message, "pulumi up on stack kind failed (exit code 255); the output above says why");
    });

    it("a stack without the frontUrl output: names the outputs it has", async () => {
        backend.outputs = { namespace: { value: "envoy-mesh", secret: false } };
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.equal(err.message, "stack kind has no string output frontUrl after the update (outputs: namespace)");
    });

    it("refuses an existing cluster older than Kubernetes 1.30 before deploying, naming its version, the minimum and why", async () => {
        machine.clusters.set("envoy-mesh", { running: true, publishes: true });
        machine.serverAnswers = [ok(kubectlVersionJson("v1.29.4"))];
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^kind cluster envoy-mesh: Kubernetes v1\.29\.4 is older than 1\.30, the oldest release this mesh runs on:/);
        assert.match(err.message, /lifecycle\.preStop\.sleep .* needs 1\.30\+ \(PodLifecycleSleepAction/);
        assert.match(err.message, /npm run down -- --cluster/);
        assert.deepEqual(backend.calls, [], "nothing is deployed");
        assert.equal(machine.commands().at(-1), SERVER_VERSION, "the check runs before the registry is wired into the cluster");
    });

    it("prints the server's version once it passes", async () => {
        const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
        await runUp(deps, { repoRoot: repo });
        assert.ok(deps.lines.includes("      Kubernetes v1.35.8 (1.30 or newer needed)"), deps.lines.join("\n"));
    });

    it("waits for the API server of a node Docker just started, then checks its version", async () => {
        machine.clusters.set("envoy-mesh", { running: false, publishes: true });
        const refused = fail("The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?");
        machine.serverAnswers = [refused, refused, ok(kubectlVersionJson("v1.35.8"))];
        const result = await runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo });
        assert.equal(result.cluster, "started");
        assert.equal(machine.commands().filter((c) => c === SERVER_VERSION).length, 3);
        assert.deepEqual(time.sleeps.slice(0, 2), [2000, 2000]);
    });

    it("an API server that never answers: gives up after 60 s with kubectl's last words, deploys nothing", async () => {
        machine.clusters.set("envoy-mesh", { running: true, publishes: true });
        machine.serverAnswers = [fail("The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?")];
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^the API server of kind cluster envoy-mesh did not tell its version within 60 s: The connection to the server 127\.0\.0\.1:6443 was refused/);
        assert.ok(time.now <= 60_000);
        assert.deepEqual(backend.calls, []);
    });

    it("a version that is not one: says so, with the command", async () => {
        machine.clusters.set("envoy-mesh", { running: true, publishes: true });
        machine.serverAnswers = [ok(kubectlVersionJson("garbage"))];
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^cannot read the Kubernetes version of kind cluster envoy-mesh: not a Kubernetes version \(expected vMAJOR\.MINOR\.PATCH, e\.g\. v1\.31\.2\): "garbage"/);
        assert.match(err.message, /command: docker exec envoy-mesh-control-plane kubectl/);
    });

    it("a kind/cluster.yaml pinning a node image older than 1.30: refuses before creating anything", async () => {
        const file = path.join(repo, "kind", "cluster.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/kindest\/node:v1\.35\.8@sha256:[0-9a-f]+/, "kindest/node:v1.29.14"));
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^kind\/cluster\.yaml: nodes\[0\]\.image kindest\/node:v1\.29\.14: Kubernetes v1\.29\.14 is older than 1\.30/);
        assert.match(err.message, /Pin a kindest\/node image of 1\.30 or newer/);
        assert.deepEqual(machine.commands(), PROBES);
    });

    it("a kind/cluster.yaml without the front port mapping: names the file and the port", async () => {
        fs.writeFileSync(path.join(repo, "kind", "cluster.yaml"), "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n");
        const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
        assert.match(err.message, /^kind\/cluster\.yaml: nodes\[\]\.extraPortMappings: no entry maps containerPort 30080/);
        assert.deepEqual(machine.commands(), PROBES);
    });

    describe("the edge: its CA, HTTPS and what is printed", () => {
        const CA = path.join("tests", "k8s", "fixtures", "tls");
        const edgeCa = () => path.join(repo, ".mesh", "kind", "edge-ca.crt");
        const withTopology = (topology: unknown) => {
            fs.rmSync(repo, { recursive: true, force: true });
            repo = makeRepo({ "envoy-mesh:target": "kind", "envoy-mesh:topology": JSON.stringify({ extends: "seed", ...(topology as object) }) });
        };

        it("writes the stack's edgeCaCertificate to .mesh/kind/edge-ca.crt (0644), checks HTTPS trusting it, and prints both ways in", async () => {
            const http = new FakeHttp([meshAnswer()]);
            const deps = fakeDeps(machine, backend, http, time);
            await runUp(deps, { repoRoot: repo });
            assert.equal(fs.readFileSync(edgeCa(), "utf8"), EDGE_CA_PEM);
            assert.equal(fs.statSync(edgeCa()).mode & 0o777, 0o644);
            assert.deepEqual(http.urls, ["http://localhost:8080/", "https://localhost:8443/"]);
            assert.deepEqual(http.trusted, [undefined, EDGE_CA_PEM]);
            const tail = deps.lines.slice(deps.lines.indexOf("[5/5] Waiting for http://localhost:8080/ and https://localhost:8443/ to answer (up to 180 s)..."));
            assert.deepEqual(tail, [
                "[5/5] Waiting for http://localhost:8080/ and https://localhost:8443/ to answer (up to 180 s)...",
                "http://localhost:8080/ answered:",
                MESH_BODY.trimEnd(),
                "https://localhost:8443/ answered the same, with a certificate the edge CA signed.",
                "Waiting for every Envoy to run the delivered config (listeners, clusters, routes; up to 180 s)...",
                "  ok        front-envoy front-envoy-5f7d8-abcde: 2 subscriptions at the expected version, 0 restarts",
                "every Envoy runs the expected config (1 asked)",
                "",
                "The mesh answers at:",
                "  curl http://localhost:8080/",
                "  curl --cacert .mesh/kind/edge-ca.crt https://localhost:8443/",
                "",
                "The mesh is up. `npm run down` removes it; `npm run down -- --cluster` also deletes the kind cluster and the registry.",
            ]);
            assert.ok(deps.lines.includes("      the edge CA's certificate is in .mesh/kind/edge-ca.crt"));
            assert.ok(!deps.lines.some((l) => l.startsWith("warning:")), "no warning on the default topology");
        });

        it("a second up replaces the file and its mode, whatever they were", async () => {
            fs.mkdirSync(path.dirname(edgeCa()), { recursive: true });
            fs.writeFileSync(edgeCa(), "stale", { mode: 0o600 });
            await runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo });
            assert.equal(fs.readFileSync(edgeCa(), "utf8"), EDGE_CA_PEM);
            assert.equal(fs.statSync(edgeCa()).mode & 0o777, 0o644);
        });

        it("a stack without the edgeCaCertificate output: names the outputs it has, and waits for nothing", async () => {
            backend.outputs = { frontUrl: { value: "http://localhost:8080", secret: false } };
            const http = new FakeHttp([meshAnswer()]);
            const err = await opsError(runUp(fakeDeps(machine, backend, http, time), { repoRoot: repo }));
            assert.equal(err.message, "stack kind has no string output edgeCaCertificate (the local edge CA's certificate) after the update (outputs: frontUrl)");
            assert.deepEqual(http.urls, []);
        });

        it("an edgeCaCertificate that is not a CA's certificate is refused, naming what it is", async () => {
            backend.outputs = { ...backend.outputs, edgeCaCertificate: { value: fs.readFileSync(path.join(CA, "server.crt"), "utf8"), secret: false } };
            const err = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
            assert.match(err.message, /^stack kind: output edgeCaCertificate is a certificate for CN=kube-apiserver, not a CA's$/);
            backend.outputs = { ...backend.outputs, edgeCaCertificate: { value: "not a PEM", secret: false } };
            const err2 = await opsError(runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo }));
            assert.match(err2.message, /^stack kind: output edgeCaCertificate is not a PEM certificate: /);
        });

        it("HTTPS that never verifies: fails naming the URL and the CA it trusted, with the last error", async () => {
            const untrusted = Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
            const http = new FakeHttp([meshAnswer(), untrusted]);
            const err = await opsError(runUp(fakeDeps(machine, backend, http, time), { repoRoot: repo, waitTimeoutMs: 20_000 }));
            assert.match(err.message, /^https:\/\/localhost:8443\/ \(trusting \.mesh\/kind\/edge-ca\.crt\) did not answer with HTTP 200 within 20 s \(last attempt: UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
            assert.ok(time.now <= 20_000, "both waits share the one timeout");
        });

        it("HTTPS answering something else than plain HTTP: fails, showing it", async () => {
            const http = new FakeHttp([meshAnswer(), { status: 200, headers: {}, body: "Hello from somewhere else\n" }]);
            const err = await opsError(runUp(fakeDeps(machine, backend, http, time), { repoRoot: repo }));
            assert.equal(err.message, "https://localhost:8443/ answered differently from http://localhost:8080/:\nHello from somewhere else");
        });

        it("front.plainHttp redirect: waits on HTTPS only, and says how plain HTTP behaves", async () => {
            withTopology({ front: { plainHttp: "redirect" } });
            const http = new FakeHttp([meshAnswer()]);
            const deps = fakeDeps(machine, backend, http, time);
            const result = await runUp(deps, { repoRoot: repo });
            assert.equal(result.body, MESH_BODY);
            assert.deepEqual(http.urls, ["https://localhost:8443/"]);
            assert.ok(deps.lines.includes("[5/5] Waiting for https://localhost:8443/ to answer (up to 180 s)..."), deps.lines.join("\n"));
            assert.ok(deps.lines.includes("https://localhost:8443/ answered:"));
            assert.ok(!deps.lines.includes("  curl http://localhost:8080/"));
            assert.ok(deps.lines.includes("  (http://localhost:8080/ redirects to HTTPS: curl -L --cacert .mesh/kind/edge-ca.crt http://localhost:8080/)"));
        });

        it("security.mtls off: warns before the update and again at the end", async () => {
            withTopology({ security: { mtls: "off" } });
            const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
            await runUp(deps, { repoRoot: repo });
            const warnings = deps.lines.filter((l) => l.startsWith("warning: security.mtls is off in this stack's topology"));
            assert.equal(warnings.length, 2, deps.lines.join("\n"));
            assert.match(warnings[0], /plain HTTP to each other and every service accepts any caller\. Use it for debugging only/);
            assert.ok(deps.lines.indexOf(warnings[0]) < deps.lines.findIndex((l) => l.startsWith("[5/5]")));
            assert.ok(deps.lines.lastIndexOf(warnings[1]) > deps.lines.indexOf("The mesh answers at:"), "repeated after the ways in");
        });

        it("faults injected on an edge: warns before the update and again at the end, naming the edge", async () => {
            withTopology({ services: [{ name: "service-a", upstreams: ["service-b", { service: "service-c", fault: { abort: { httpStatus: 503, percentage: 50 } } }] }] });
            const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
            await runUp(deps, { repoRoot: repo });
            const warnings = deps.lines.filter((l) => l.startsWith("warning: fault injection is on"));
            assert.deepEqual(warnings, [
                "warning: fault injection is on for 1 edge, for testing only: service-a → service-c: abort with HTTP 503 for 50%",
                "warning: fault injection is on for 1 edge, for testing only: service-a → service-c: abort with HTTP 503 for 50%",
            ], deps.lines.join("\n"));
            assert.ok(deps.lines.indexOf(warnings[0]) < deps.lines.findIndex((l) => l.startsWith("[5/5]")));
            assert.ok(deps.lines.lastIndexOf(warnings[1]) > deps.lines.indexOf("The mesh answers at:"), "repeated after the ways in");
        });

        it("no faults: says nothing about them", async () => {
            const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
            await runUp(deps, { repoRoot: repo });
            assert.deepEqual(deps.lines.filter((l) => /fault injection/.test(l)), []);
        });

        it("a certificate still inside its renewal window after the update: warns, naming it and its expiry", async () => {
            // NOW is 2026-12-02T07:00Z; the default window is 720 h (30 days).
            backend.outputs = {
                ...backend.outputs,
                certificateExpiries: { value: { "service-b": "2026-12-20T00:00:00Z", "service-a": "2027-03-02T07:00:00Z", "front-envoy": "2026-12-31T00:00:00Z" }, secret: false },
            };
            const deps = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
            await runUp(deps, { repoRoot: repo });
            const warning = deps.lines.find((l) => l.startsWith("warning: 2 certificates are inside the renewal window"));
            assert.ok(warning, deps.lines.join("\n"));
            assert.match(warning, /\(security\.certificates\.renewBeforeHours: 720\)/);
            assert.match(warning, /\n {2}- front-envoy: expires 2026-12-31T00:00:00Z\n {2}- service-b: expires 2026-12-20T00:00:00Z\n/);
            assert.match(warning, /pulumi up --refresh --stack kind/);
        });

        it("npm run down removes .mesh/kind/ once the stack is destroyed", async () => {
            await runUp(fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time), { repoRoot: repo });
            assert.ok(fs.existsSync(edgeCa()));
            const d = fakeDeps(machine, backend, new FakeHttp([meshAnswer()]), time);
            await runDown(d, { repoRoot: repo });
            assert.equal(fs.existsSync(path.join(repo, ".mesh", "kind")), false);
            assert.ok(d.lines.includes("removed .mesh/kind/ (the edge CA's certificate)"), d.lines.join("\n"));
        });
    });
});
