// End-to-end test of the docker target on this machine's Docker engine: `npm run test:e2e:docker`
// (not part of `npm test`). Two flows, each removing what it created:
//  - the rendered compose file under `docker compose` (Docker with the Compose plugin; no Pulumi),
//    its certificates issued by `npm run certs`, the seed's answer over HTTP and HTTPS at the edge,
//  - `npm run up -- --stack docker` / `npm run down -- --stack docker` (Docker and the Pulumi CLI),
//    with the zero-trust checks: HTTPS at the edge, no way into a sidecar without a mesh
//    certificate, 403 for an undeclared caller (a throwaway curl container on the mesh's network
//    holding service-c's identity, copied out of its Envoy container), and a forced renewal of
//    service-b's certificate served by its running Envoy: only its files container is replaced,
//    no Envoy or app restarts, no request fails.
// Without the tools every test is skipped, with one line naming what is missing.
// Both flows publish the front on 127.0.0.1:8080: stop anything else listening there first.
import { strict as assert } from "assert";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { dump } from "js-yaml";
import { composeGreeting } from "../../app/body";
import { spiffeId } from "../../envoy/identity";
import { DOCKER_LABELS } from "../../docker";
import { CA_FILE, CERTIFICATE_FILE } from "../../envoy/names";
import { NOT_FOUND, execFileRunner, lastLine } from "../../ops/command";
import { HttpResponse, freshConnectionGetter } from "../../ops/http";
import { checkPrerequisites } from "../../ops/prerequisites";
import { realDeps } from "../../ops/deps";
import { runStatus } from "../../ops/status";
import { MeshStack, automationBackend, exportedResources, localBackend } from "../../ops/pulumiStack";
import { readDockerSettings } from "../../ops/stackSettings";
import { readYamlFile } from "../../ops/yaml";
import { DEFAULT_SECURITY } from "../../topology";
import { isPlainObject } from "../../topology/reader";
import { type ContainerRun, changedRuns, containerRuns, identityCopyArgs, leafCertificateUrn } from "./dockerRenewal";
import { CURL_IMAGE, CURL_UID, meshCurlArgs, parseMeshCurl, plainCurlArgs, uriSans } from "./probe";
import { loadLoop } from "./loadLoop";
import { runEchoed } from "./run";

const REPO = path.resolve(__dirname, "..", "..");
const STACK = "docker";
const FRONT = "http://127.0.0.1:8080/";
const FRONT_TLS = "https://localhost:8443/";
/** Where `npm run up -- --stack docker` writes the local edge CA's certificate. */
const EDGE_CA = path.join(REPO, ".mesh", "docker", "edge-ca.crt");
const FRONT_PORT = "8080";
/** Compose project name for every compose command here, so that nothing depends on the output folder's name. */
const PROJECT = "envoy-mesh-e2e";
/** A stack file the compose flow writes next to Pulumi.docker.yaml for the scaled render, and removes. */
const SCALED_STACK = "e2e-docker-scaled";

const SCALED = { extends: "seed", services: [{ name: "service-b", replicas: 3 }] };
/** A change to the front's routes only: no service proxy's config changes. */
const FRONT_ONLY = {
    extends: "seed",
    front: {
        routes: [
            { prefix: "/c", service: "service-c" },
            { prefix: "/", service: "service-a" },
        ],
    },
};
/** A mesh-wide bootstrap setting (Envoy's command line): every Envoy container is replaced. */
const BOOTSTRAP_CHANGE = { ...FRONT_ONLY, envoy: { logLevel: "warning" } };

/** The seed's answer at the front, as the demo app composes it: A calls B, then C. */
function seedAnswer(): string {
    return composeGreeting("service-a", [
        { name: "service-b", body: composeGreeting("service-b", []) },
        { name: "service-c", body: composeGreeting("service-c", []) },
    ]);
}

/** Runs a command in the repository, echoing its output, and returns its exit code and output. */
function run(cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
    return runEchoed(REPO, cmd, args);
}

function npmRun(script: string, args: readonly string[]): Promise<{ code: number; output: string }> {
    return run("npm", ["run", "--silent", script, "--", ...args]);
}

async function mustRun(cmd: string, args: readonly string[]): Promise<string> {
    const { code, output } = await run(cmd, args);
    assert.equal(code, 0, `${cmd} ${args.join(" ")} failed (exit code ${code})`);
    return output;
}

async function get(url = FRONT): Promise<HttpResponse> {
    return freshConnectionGetter(url, 5000);
}

/** GETs until a 200 (the front may still be finding its upstreams), else fails with the last outcome. */
async function getOk(url = FRONT, timeoutMs = 60_000): Promise<HttpResponse> {
    const deadline = Date.now() + timeoutMs;
    let last = "no attempt";
    for (;;) {
        try {
            const r = await get(url);
            if (r.status === 200) return r;
            last = `HTTP ${r.status}: ${r.body.trim().slice(0, 120)}`;
        } catch (e) {
            last = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        }
        if (Date.now() > deadline) assert.fail(`GET ${url} never answered 200; last: ${last}`);
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/** The service-b replicas (their `x-served-by`, as A reports them in `x-upstream-served-by`) seen over requests. */
async function bReplicasSeen(timeoutMs: number): Promise<Set<string>> {
    const seen = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    // Envoy re-resolves the network alias every few seconds: keep asking until it found the replicas.
    while (seen.size < 2 && Date.now() < deadline) {
        const r = await getOk();
        const upstream = new Map(
            (r.headers["x-upstream-served-by"] ?? "")
                .split(",")
                .map((kv) => kv.trim().split("=") as [string, string])
                .filter((kv) => kv.length === 2),
        );
        const b = upstream.get("service-b");
        assert.ok(b, `A's answer names no service-b server: ${JSON.stringify(r.headers)}`);
        seen.add(b);
    }
    return seen;
}

/** Pulumi.docker.yaml with `topology` set: the same stack, another mesh. */
function stackDocWith(topology: unknown): Record<string, unknown> {
    const doc = readYamlFile(path.join(REPO, `Pulumi.${STACK}.yaml`));
    const base = isPlainObject(doc) ? doc : {};
    const config = isPlainObject(base.config) ? base.config : {};
    return { ...base, config: { ...config, "envoy-mesh:topology": JSON.stringify(topology) } };
}

// --- containers, as `docker inspect` reports them -----------------------------------------------

interface Inspected {
    readonly Id: string;
    readonly Name: string;
    readonly HostConfig: { readonly NetworkMode?: string; readonly PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null };
    readonly NetworkSettings: { readonly Networks?: Record<string, unknown> | null };
}

/** The mesh's running containers: the front (published on 8080), the Envoys on its networks, and the apps in their namespaces. */
interface Mesh {
    /** Envoy containers without an app: the front proxy's. */
    readonly fronts: string[];
    /** Envoy container → the app container that shares its network namespace. */
    readonly sidecars: Map<string, string>;
}

async function meshContainers(): Promise<Mesh> {
    const ids = (await mustRunQuiet("docker", ["ps", "--quiet", "--no-trunc"])).split("\n").filter((l) => l.length > 0);
    assert.ok(ids.length > 0, "no container is running");
    const all = JSON.parse(await mustRunQuiet("docker", ["inspect", ...ids])) as Inspected[];
    const publishesFront = (c: Inspected) =>
        Object.values(c.HostConfig.PortBindings ?? {}).some((bs) => (bs ?? []).some((b) => b.HostPort === FRONT_PORT && b.HostIp === "127.0.0.1"));
    const front = all.filter(publishesFront);
    assert.equal(front.length, 1, `containers publishing 127.0.0.1:${FRONT_PORT}: ${front.map((c) => c.Name).join(", ")}`);
    const networks = new Set(Object.keys(front[0].NetworkSettings.Networks ?? {}));
    const envoys = all.filter((c) => !(c.HostConfig.NetworkMode ?? "").startsWith("container:") && Object.keys(c.NetworkSettings.Networks ?? {}).some((n) => networks.has(n)));
    // Docker keeps the `container:<name|id>` the container was created with.
    const owner = (ref: string) => envoys.find((e) => e.Id.startsWith(ref) || e.Name === `/${ref}`);
    const sidecars = new Map<string, string>();
    for (const c of all) {
        const mode = c.HostConfig.NetworkMode ?? "";
        if (!mode.startsWith("container:")) continue;
        const envoy = owner(mode.slice("container:".length));
        if (envoy === undefined) continue;
        assert.ok(!sidecars.has(envoy.Id), `two containers share the namespace of ${envoy.Name}`);
        sidecars.set(envoy.Id, c.Id);
    }
    return { fronts: envoys.filter((e) => !sidecars.has(e.Id)).map((e) => e.Id), sidecars };
}

async function mustRunQuiet(cmd: string, args: readonly string[]): Promise<string> {
    const r = await execFileRunner(cmd, args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${lastLine(r)}`);
    return r.stdout;
}

function allIds(m: Mesh): string[] {
    return [...m.fronts, ...m.sidecars.keys(), ...m.sidecars.values()].sort();
}

// --- zero trust, from a throwaway curl container on the mesh's network ----------------------------

/**
 * The identity files of a service's first replica, as its Envoy reads them now, copied out of its
 * Envoy container into `dir/<service>` (replacing an earlier copy). Each name in the container is
 * a link into the files volume's current generation: `docker cp -L` copies what it points to.
 */
async function copyIdentity(service: string, dir: string): Promise<string> {
    const network = readDockerSettings(REPO).network;
    const into = path.join(dir, service);
    fs.rmSync(into, { recursive: true, force: true });
    fs.mkdirSync(into, { recursive: true });
    for (const args of identityCopyArgs(`${network}-${service}-1-envoy`, into)) await mustRunQuiet("docker", args);
    // docker cp makes them this user's (0440 as published); the probe runs as curl's user, and reads them through the bind mount.
    for (const f of fs.readdirSync(into)) fs.chmodSync(path.join(into, f), 0o444);
    return into;
}

/** Every container of the mesh, running or exited (the files containers), by name: ID, start time, restarts. */
async function meshRuns(): Promise<Map<string, ContainerRun>> {
    const network = readDockerSettings(REPO).network;
    const ids = (await mustRunQuiet("docker", ["ps", "--all", "--quiet", "--no-trunc", "--filter", `label=${DOCKER_LABELS.partOf}=${network}`]))
        .split("\n")
        .filter((l) => l.length > 0);
    assert.ok(ids.length > 0, `no container is labelled ${DOCKER_LABELS.partOf}=${network}`);
    return containerRuns(await mustRunQuiet("docker", ["inspect", ...ids]));
}

/** Runs curl in a throwaway container on the mesh's network, hardened like the mesh's own, with `dir` at /id. */
async function probe(args: readonly string[], dir?: string) {
    const network = readDockerSettings(REPO).network;
    return execFileRunner(
        "docker",
        [
            "run", "--rm", "--network", network, "--user", `${CURL_UID}:${CURL_UID}`, "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges:true", ...(dir ? ["-v", `${dir}:/id:ro`] : []), CURL_IMAGE, ...args,
        ],
        { timeoutMs: 120_000 },
    );
}

function identityOf(service: string): string {
    return spiffeId(DEFAULT_SECURITY.trustDomain, readDockerSettings(REPO).network, service);
}

// --- the tests -----------------------------------------------------------------------------------

/** What is missing, per tool; empty when everything is there. */
const missing = new Map<"docker" | "compose" | "pulumi", string>();

describe("the docker target, end to end", function () {
    this.timeout(60 * 60_000);

    before(async function () {
        for (const t of await checkPrerequisites(execFileRunner, ["docker", "pulumi"])) {
            if (!t.ok) missing.set(t.tool as "docker" | "pulumi", t.problem ?? "not working");
        }
        if (!missing.has("docker")) {
            const r = await execFileRunner("docker", ["compose", "version"], { timeoutMs: 20_000 });
            if (r.code !== 0) missing.set("compose", r.code === NOT_FOUND ? "not found" : `docker compose version: ${lastLine(r)}`);
        }
        if (missing.size > 0) {
            console.log(
                `    skipped${missing.has("docker") ? "" : " in part"}: the docker end-to-end test needs Docker (with a running daemon), ` +
                    `its Compose plugin and the Pulumi CLI; missing: ${[...missing].map(([tool, problem]) => `${tool} (${problem})`).join("; ")}`,
            );
        }
        if (missing.has("docker")) this.skip();
    });

    describe("the rendered compose file, under docker compose", () => {
        let dir = "";
        let base = "";
        let scaled = "";
        const compose = (out: string, ...args: string[]) => ["compose", "--project-name", PROJECT, "-f", path.join(out, "docker-compose.yaml"), ...args];
        // `--wait` waits until every container is running, and healthy where it has a health check;
        // it implies --detach (docker/compose docs/reference/compose_up.md).
        const up = (out: string) => mustRun("docker", compose(out, "up", "--detach", "--wait", "--wait-timeout", "300", "--build"));
        let current: string | undefined;

        before(function () {
            if (missing.has("compose")) this.skip();
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-mesh-compose-"));
            base = path.join(dir, "seed");
            scaled = path.join(dir, "scaled");
        });

        afterEach(async function () {
            if (this.currentTest?.state === "failed" && current) {
                await run("docker", compose(current, "ps", "--all"));
                await run("docker", compose(current, "logs", "--no-color", "--tail", "100"));
            }
        });

        after(async () => {
            if (current) await run("docker", compose(current, "down"));
            fs.rmSync(path.join(REPO, `Pulumi.${SCALED_STACK}.yaml`), { force: true });
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        it("renders the docker stack, issues its certificates, and docker compose up --wait runs it: the front answers the seed's four lines, over HTTPS too", async () => {
            const { code } = await npmRun("render", ["--stack", STACK, "--out", base]);
            assert.equal(code, 0, "npm run render failed");
            assert.ok(fs.existsSync(path.join(base, "docker-compose.yaml")), "render wrote no docker-compose.yaml");
            // render writes placeholders where certificates go; strict mTLS needs real ones.
            assert.equal((await npmRun("certs", ["--stack", STACK, "--out", base])).code, 0, "npm run certs failed");
            current = base;
            await up(base);
            assert.equal((await getOk()).body, seedAnswer());
            const secure = await freshConnectionGetter(FRONT_TLS, 5000, { ca: fs.readFileSync(path.join(base, "tls", "edge-ca.crt"), "utf8") });
            assert.equal(secure.status, 200);
            assert.equal(secure.body, seedAnswer());
        });

        it("with service B at 3 replicas, A's requests reach more than one B container (client-side load balancing)", async () => {
            fs.writeFileSync(path.join(REPO, `Pulumi.${SCALED_STACK}.yaml`), dump(stackDocWith(SCALED)));
            const { code } = await npmRun("render", ["--stack", SCALED_STACK, "--out", scaled]);
            assert.equal(code, 0, "npm run render of the scaled stack failed");
            assert.equal((await npmRun("certs", ["--stack", SCALED_STACK, "--out", scaled])).code, 0, "npm run certs for the scaled stack failed");
            await mustRun("docker", compose(base, "down"));
            current = scaled;
            await up(scaled);
            const seen = await bReplicasSeen(120_000);
            assert.ok(seen.size > 1, `every request went to one B container: ${[...seen].join(", ")}`);
        });

        it("docker compose down removes the mesh", async () => {
            await mustRun("docker", compose(scaled, "down"));
            current = undefined;
            await assert.rejects(get(), "the front must stop answering once the mesh is down");
        });
    });

    describe("npm run up / down on the docker stack, with the Pulumi CLI", () => {
        let stack: MeshStack;
        let mesh: Mesh;
        let configDir = "";

        /** `pulumi up` with Pulumi.docker.yaml (salt included) but another topology, as `--config-file`. */
        async function update(topology: unknown): Promise<void> {
            const file = path.join(configDir, `Pulumi.${STACK}.yaml`);
            fs.writeFileSync(file, dump(stackDocWith(topology)));
            const write = (chunk: string) => process.stdout.write(chunk);
            await stack.up({ onOutput: write, onError: write, color: "never", configFile: file });
        }

        before(function () {
            if (missing.has("pulumi")) this.skip();
            configDir = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-mesh-docker-e2e-"));
        });

        afterEach(async function () {
            if (this.currentTest?.state === "failed") {
                await run("docker", ["ps", "--all"]);
            }
        });

        after(() => {
            if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
        });

        it("npm run up -- --stack docker deploys and prints the seed's answer; one app shares each service Envoy's namespace", async () => {
            const { code, output } = await npmRun("up", ["--stack", STACK]);
            assert.equal(code, 0, "npm run up -- --stack docker failed");
            assert.ok(output.includes(seedAnswer()), "npm run up printed the seed's four lines");
            assert.equal((await getOk()).body, seedAnswer());
            mesh = await meshContainers();
            assert.equal(mesh.sidecars.size, 3, "services A, B and C: one Envoy and one app each");
            assert.ok(mesh.fronts.length >= 1);
            stack = await automationBackend.selectStack({ stackName: STACK, workDir: REPO }, localBackend(REPO, process.env).options);
            assert.ok(output.includes(`curl --cacert .mesh/docker/edge-ca.crt ${FRONT_TLS}`), "npm run up prints how to reach the edge over HTTPS");
        });

        it("serves the seed's answer over HTTPS at the edge, trusting the CA npm run up wrote; plain HTTP still answers", async () => {
            assert.equal(fs.statSync(EDGE_CA).mode & 0o777, 0o644);
            const secure = await freshConnectionGetter(FRONT_TLS, 5000, { ca: fs.readFileSync(EDGE_CA, "utf8") });
            assert.equal(secure.status, 200);
            assert.equal(secure.body, seedAnswer());
            assert.equal((await getOk()).body, seedAnswer());
        });

        it("a container without a mesh certificate cannot reach service-b:10000", async () => {
            const plain = await probe(plainCurlArgs("http://service-b:10000/"));
            // 52: empty reply, 56: connection reset; not 6 (no such host), 7 (refused) or 28 (timeout).
            assert.ok([52, 56].includes(plain.code), `plain HTTP: curl exit code ${plain.code}: ${lastLine(plain)}`);
            const tls = await probe(meshCurlArgs("https://service-b:10000/"));
            assert.ok([35, 56].includes(tls.code), `TLS without a certificate: curl exit code ${tls.code}: ${lastLine(tls)}`);
        });

        it("a caller with a valid mesh certificate the topology does not declare (service-c calling service-b) gets 403 naming it; service-a gets through", async () => {
            const c = await copyIdentity("service-c", configDir);
            const a = await copyIdentity("service-a", configDir);
            const ca = new X509Certificate(fs.readFileSync(path.join(c, CA_FILE)));
            const denied = parseMeshCurl((await probe(meshCurlArgs("https://service-b:10000/", { dir: "/id" }), c)).stdout);
            assert.equal(denied.status, 403, `service-c calling service-b: HTTP ${denied.status} ${denied.body}`);
            assert.ok(denied.body.includes(identityOf("service-c")), `the 403 body names the caller: ${denied.body}`);
            assert.ok(denied.served?.verify(ca.publicKey), "service-b's certificate is signed by the mesh CA");
            assert.deepEqual(uriSans(denied.served!), [identityOf("service-b")]);
            const allowed = parseMeshCurl((await probe(meshCurlArgs("https://service-b:10000/", { dir: "/id" }), a)).stdout);
            assert.equal(allowed.status, 200, `service-a calling service-b: HTTP ${allowed.status} ${allowed.body}`);
            assert.equal(allowed.body, composeGreeting("service-b", []));
        });

        it("forcing a renewal of service-b's certificate (pulumi up --replace) changes the certificate its Envoy serves, replaces only its files container, and fails no request", async () => {
            const network = readDockerSettings(REPO).network;
            const urn = leafCertificateUrn(await exportedResources({ stackName: STACK, workDir: REPO }, localBackend(REPO, process.env).options), "service-b");
            // A declared caller of service-b, whose own certificate this renewal leaves alone.
            const a = await copyIdentity("service-a", configDir);
            const served = async () => parseMeshCurl((await probe(meshCurlArgs("https://service-b:10000/", { dir: "/id" }), a)).stdout).served;
            const before = await served();
            assert.ok(before, "service-b serves a certificate");
            const runsBefore = await meshRuns();

            const load = loadLoop(FRONT, FRONT_TLS, EDGE_CA);
            let after: X509Certificate | undefined;
            let renewedAt = 0;
            try {
                const write = (chunk: string) => process.stdout.write(chunk);
                await stack.up({ onOutput: write, onError: write, color: "never", replace: [urn] });
                renewedAt = Date.now();
                // The files container has published when pulumi up returns; Envoy reloads on the ..data rename at once.
                const deadline = renewedAt + 60_000;
                while (Date.now() < deadline) {
                    after = await served();
                    if (after && after.serialNumber !== before.serialNumber) break;
                    await new Promise((r) => setTimeout(r, 2000));
                }
                await new Promise((r) => setTimeout(r, 10_000));
            } finally {
                const { requests, failures } = await load.stop();
                assert.ok(requests > 100, `only ${requests} requests were made during the renewal`);
                assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${requests} requests failed during the renewal`);
            }
            assert.notEqual(after?.serialNumber, before.serialNumber, "service-b's Envoy still serves the old certificate 60 s after pulumi up returned");
            assert.deepEqual(uriSans(after!), [identityOf("service-b")]);
            const published = new X509Certificate(fs.readFileSync(path.join(await copyIdentity("service-b", configDir), CERTIFICATE_FILE)));
            assert.equal(after?.serialNumber, published.serialNumber, "it serves the certificate now in its files volume");

            const changed = changedRuns(runsBefore, await meshRuns());
            const files = `${network}-service-b-files`;
            assert.ok(changed.some((line) => line.startsWith(`${files}: id `)), `the files container ${files} was replaced: ${changed.join("; ")}`);
            assert.deepEqual(changed.filter((line) => !line.startsWith(`${files}:`)), [], "no Envoy or app container was replaced or restarted");
        });

        it("a change to the front's routes is live: only the front's files container is replaced, the front's Envoy reloads its routes and every container keeps running", async () => {
            await update(FRONT_ONLY);
            // The files container published the new route files during the update; Envoy reloads them at the swap.
            const deadline = Date.now() + 30_000;
            let body = (await getOk(`${FRONT}c`)).body;
            while (body !== composeGreeting("service-c", []) && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 1000));
                body = (await getOk(`${FRONT}c`)).body;
            }
            assert.equal(body, composeGreeting("service-c", []), "the front routes /c to service-c within 30 s of pulumi up");
            assert.equal((await getOk()).body, seedAnswer());
            const after = await meshContainers();
            assert.deepEqual([...after.sidecars].sort(), [...mesh.sidecars].sort(), "no service Envoy or app was replaced");
            assert.deepEqual([...after.fronts].sort(), [...mesh.fronts].sort(), "the front's Envoy kept running");
            mesh = after;
        });

        it("a mesh-wide bootstrap setting (envoy.logLevel) replaces every Envoy, each app follows its Envoy's namespace, and the mesh answers", async () => {
            await update(BOOTSTRAP_CHANGE);
            assert.equal((await getOk()).body, seedAnswer());
            const after = await meshContainers();
            const envoysBefore = new Set([...mesh.fronts, ...mesh.sidecars.keys()]);
            const kept = [...after.fronts, ...after.sidecars.keys()].filter((id) => envoysBefore.has(id));
            assert.deepEqual(kept, [], "every Envoy container was replaced: its config changed");
            // An app stays in the namespace it joined: it is only reachable if it joined the new Envoy's.
            assert.equal(after.sidecars.size, 3, "every app shares a running Envoy's namespace");
            mesh = after;
        });

        it("after those updates, npm run status reads every Envoy container's own stats: each runs the version the stack delivered", async () => {
            const report = await runStatus(realDeps(), { repoRoot: REPO, stack: STACK, waitMs: 60_000 });
            assert.ok(report.converged);
            assert.equal(report.envoys.length, mesh.fronts.length + mesh.sidecars.size, "every Envoy container was asked");
        });

        it("npm run down -- --stack docker removes every container; it is safe to run twice", async () => {
            for (let i = 0; i < 2; i++) {
                const { code } = await npmRun("down", ["--stack", STACK]);
                assert.equal(code, 0, `npm run down -- --stack docker (run ${i + 1}) failed`);
            }
            await assert.rejects(get(), "the front must stop answering once the stack is down");
            assert.equal(fs.existsSync(path.dirname(EDGE_CA)), false, "npm run down removed .mesh/docker/");
            const left = (await mustRunQuiet("docker", ["ps", "--all", "--quiet", "--no-trunc"])).split("\n");
            assert.deepEqual(
                allIds(mesh).filter((id) => left.includes(id)),
                [],
                "containers of the mesh are left",
            );
        });
    });
});
