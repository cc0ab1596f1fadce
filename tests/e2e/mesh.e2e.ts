// End-to-end test on a real kind cluster: `npm run test:e2e` (not part of `npm test`).
// Needs Docker, kind and the Pulumi CLI; without them every test is skipped, saying which
// tool is missing. It creates the kind cluster and registry, and deletes them at the end.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { dump } from "js-yaml";
import { controlPlaneNode } from "../../ops/cluster";
import { execFileRunner } from "../../ops/command";
import { HttpResponse, freshConnectionGetter } from "../../ops/http";
import { checkPrerequisites } from "../../ops/prerequisites";
import { MeshStack, automationBackend, localBackend } from "../../ops/pulumiStack";
import { KIND_STACK, readSettings } from "../../ops/stackSettings";
import { readYamlFile } from "../../ops/yaml";
import { isPlainObject } from "../../topology/reader";
import { runEchoed } from "./run";

const REPO = path.resolve(__dirname, "..", "..");
const FRONT = "http://localhost:8080/";
const SERVICES = ["A", "B", "C"];

/** Runs `npm run <script> [-- args]` in the repository, echoing its output, and returns code and output. */
function npmRun(script: string, args: string[] = []): Promise<{ code: number; output: string }> {
    return runEchoed(REPO, "npm", ["run", "--silent", script, ...(args.length > 0 ? ["--", ...args] : [])]);
}

/** Who served a request through the front: A's pod, and the B and C pods A called. */
interface Servers {
    readonly a: string;
    readonly b: string;
    readonly c: string;
}

function servers(r: HttpResponse): Servers {
    const upstream = new Map(
        (r.headers["x-upstream-served-by"] ?? "")
            .split(",")
            .map((kv) => kv.trim().split("=") as [string, string])
            .filter((kv) => kv.length === 2),
    );
    const a = r.headers["x-served-by"];
    const b = upstream.get("service-b");
    const c = upstream.get("service-c");
    assert.ok(a && b && c, `missing x-served-by / x-upstream-served-by headers: ${JSON.stringify(r.headers)}`);
    return { a, b, c };
}

async function get(): Promise<HttpResponse> {
    return freshConnectionGetter(FRONT, 5000);
}

/** Pods seen over `count` requests, per service. */
async function sample(count: number): Promise<{ a: Set<string>; b: Set<string>; c: Set<string> }> {
    const seen = { a: new Set<string>(), b: new Set<string>(), c: new Set<string>() };
    for (let i = 0; i < count; i++) {
        const r = await get();
        assert.equal(r.status, 200, `GET ${FRONT}: HTTP ${r.status} ${r.body}`);
        const s = servers(r);
        seen.a.add(s.a);
        seen.b.add(s.b);
        seen.c.add(s.c);
    }
    return seen;
}

/** A copy of Pulumi.kind.yaml (salt included) with `topology` set, for `pulumi up --config-file`. */
function configWithTopology(topology: unknown): string {
    const doc = readYamlFile(path.join(REPO, `Pulumi.${KIND_STACK}.yaml`));
    const base = isPlainObject(doc) ? doc : {};
    const config = isPlainObject(base.config) ? base.config : {};
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "envoy-mesh-e2e-")), `Pulumi.${KIND_STACK}.yaml`);
    fs.writeFileSync(file, dump({ ...base, config: { ...config, "envoy-mesh:topology": JSON.stringify(topology) } }));
    return file;
}

async function update(stack: MeshStack, topology: unknown): Promise<void> {
    const write = (chunk: string) => process.stdout.write(chunk);
    await stack.up({ onOutput: write, onError: write, color: "never", configFile: configWithTopology(topology) });
}

/** Prints what the cluster says about the mesh, using the kubectl inside the kind node. */
async function printDiagnostics(): Promise<void> {
    const { kindClusterName, namespace } = readSettings(REPO);
    const kubectl = (...args: string[]) =>
        execFileRunner("docker", ["exec", controlPlaneNode(kindClusterName), "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "--namespace", namespace, ...args], {
            timeoutMs: 60_000,
        });
    for (const args of [["get", "all", "-o", "wide"], ["get", "events", "--sort-by=.lastTimestamp"], ["describe", "pods"]]) {
        const r = await kubectl(...args);
        console.log(`--- kubectl ${args.join(" ")}\n${r.stdout}${r.stderr}`);
    }
    const pods = (await kubectl("get", "pods", "-o", "name")).stdout.split("\n").filter((l) => l.length > 0);
    for (const pod of pods) {
        const r = await kubectl("logs", pod, "--all-containers", "--prefix", "--tail=50");
        console.log(`--- kubectl logs ${pod}\n${r.stdout}${r.stderr}`);
    }
}

const SCALED = { extends: "seed", services: [{ name: "service-b", replicas: 3 }] };

describe("the mesh on kind, end to end", function () {
    this.timeout(60 * 60_000);
    let stack: MeshStack;

    before(async function () {
        const missing = (await checkPrerequisites(execFileRunner)).filter((t) => !t.ok);
        if (missing.length > 0) {
            console.log(
                `    skipped: the end-to-end test needs Docker (with a running daemon), kind and the Pulumi CLI; ` +
                    `missing: ${missing.map((t) => `${t.tool} (${t.problem})`).join("; ")}`,
            );
            this.skip();
        }
    });

    afterEach(async function () {
        // The last test deletes the cluster, so say what it showed while it still exists.
        if (this.currentTest?.state === "failed") {
            await printDiagnostics();
        }
    });

    it("npm run up creates the cluster, deploys, and prints the seed's answer", async () => {
        const { code, output } = await npmRun("up", ["--timeout", "600"]);
        assert.equal(code, 0, "npm run up failed");
        assert.match(output, /Calling Service B\nHello from service B\nHello from service A\nHello from service C/);
        const r = await get();
        assert.equal(r.status, 200);
        for (const s of SERVICES) {
            assert.ok(r.body.includes(`Hello from service ${s}`), `body lacks service ${s}: ${r.body}`);
        }
        stack = await automationBackend.selectStack({ stackName: KIND_STACK, workDir: REPO }, localBackend(REPO, process.env).options);
    });

    it("with service B scaled to 3 replicas, A's requests reach more than one B pod (client-side load balancing)", async () => {
        await update(stack, SCALED);
        // Envoy re-resolves the headless Service every 5 s; give the new pods time to be ready and found.
        const deadline = Date.now() + 180_000;
        const bPods = new Set<string>();
        while (bPods.size < 2 && Date.now() < deadline) {
            for (const b of (await sample(10)).b) {
                bPods.add(b);
            }
        }
        assert.ok(bPods.size > 1, `every request went to one B pod: ${[...bPods].join(", ")}`);
    });

    it("changing an Envoy setting rolls every pod, with no failed request during the rollout", async () => {
        const before = await sample(30);
        const failures: string[] = [];
        let requests = 0;
        let running = true;
        const loop = (async () => {
            while (running) {
                requests += 1;
                try {
                    const r = await get();
                    if (r.status !== 200) {
                        failures.push(`HTTP ${r.status}: ${r.body.trim().slice(0, 120)}`);
                    }
                } catch (e) {
                    failures.push((e as NodeJS.ErrnoException).code ?? (e as Error).message);
                }
                await new Promise((r) => setTimeout(r, 50));
            }
        })();
        try {
            // Each old service pod is stopped only once its replacement has been ready for
            // minReadySeconds; it then answers /healthz with 503 for drainSeconds while still
            // serving, so callers' health checks move away from it before its app stops accepting.
            await update(stack, { ...SCALED, envoy: { connectTimeoutMs: 500 } });
            // The last old pods are still draining when the rollout completes: keep the load on
            // until their apps have stopped (preStop 1 s + drain 10 s + shutdown) and beyond.
            await new Promise((r) => setTimeout(r, 30_000));
        } finally {
            running = false;
            await loop;
        }
        assert.ok(requests > 100, `only ${requests} requests were made during the rollout`);
        assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${requests} requests failed during the rollout`);

        const after = await sample(30);
        for (const key of ["a", "b", "c"] as const) {
            const kept = [...after[key]].filter((p) => before[key].has(p));
            assert.deepEqual(kept, [], `service ${key.toUpperCase()} still answers from pods of before the change`);
        }
    });

    it("npm run down removes the stack, and with --cluster the cluster; each is safe to run twice", async () => {
        for (const args of [[], [], ["--cluster"], ["--cluster"]]) {
            const { code } = await npmRun("down", args);
            assert.equal(code, 0, `npm run down ${args.join(" ")} failed`);
        }
        await assert.rejects(get(), "the front must stop answering once the cluster is gone");
    });
});
