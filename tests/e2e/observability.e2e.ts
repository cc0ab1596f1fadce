// End-to-end test of the observability add-ons on a real kind cluster (not part of `npm test`):
//   npx mocha --no-config --require ts-node/register --extension ts --timeout 3600000 tests/e2e/observability.e2e.ts
// Needs Docker, kind and the Pulumi CLI; without them it is skipped, saying which tool is missing.
// It turns `envoy-mesh:observability.addons` on in the kind stack through the Automation API,
// runs `npm run up` (which must print how to open Jaeger and Grafana), sends one request through
// the front with a client's W3C traceparent (which the edge drops: the front starts the trace),
// finds the front's trace ID in its JSON access log, and reads Jaeger's query API until that trace
// holds spans of the front proxy and of services A, B and C; then Prometheus must report a non-zero request
// rate from service-a's pods to service B. Both APIs are read through the API server's service
// proxy, with the kubectl inside the kind node. At the end it restores Pulumi.kind.yaml and runs
// `npm run down` (the cluster stays, for the next suite).
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { ADDONS_NAMESPACE, COLLECTOR_SERVICE, GRAFANA_SERVICE, JAEGER_SERVICE, PROMETHEUS_SERVICE } from "../../observability/addons";
import { controlPlaneNode } from "../../ops/cluster";
import { CommandResult, execFileRunner, lastLine } from "../../ops/command";
import { checkPrerequisites } from "../../ops/prerequisites";
import { localBackend } from "../../ops/pulumiStack";
import { KIND_STACK, readSettings } from "../../ops/stackSettings";
import { runEchoed } from "./run";
import { instantValue, summarizeJaegerTraces, traceparent } from "./traces";

const REPO = path.resolve(__dirname, "..", "..");
const STACK_FILE = path.join(REPO, `Pulumi.${KIND_STACK}.yaml`);
const FRONT = "http://localhost:8080/";
/** The proxies one request through the front crosses, as the OpenTelemetry tracer names their spans' service. */
const PROXIES = ["front-envoy", "service-a", "service-b", "service-c"];
/** Spans reach Jaeger after Envoy's flush (5 s) and the collector's batch (1 s); allow for pods still starting. */
const TRACE_WAIT_MS = 180_000;
/** rate(...[1m]) needs two scrapes (every 15 s) of a counter that grew in between. */
const RATE_WAIT_MS = 240_000;
const RATE_QUERY = 'sum(rate(envoy_cluster_upstream_rq_total{envoy_cluster_name="upstream_service_b",mesh_proxy="service-a"}[1m]))';

function npmRun(script: string, args: string[] = []): Promise<{ code: number; output: string }> {
    return runEchoed(REPO, "npm", ["run", "--silent", script, ...(args.length > 0 ? ["--", ...args] : [])]);
}

/** kubectl inside the kind node, in the add-ons' namespace (or `namespace`). */
function kubectl(args: readonly string[], namespace = ADDONS_NAMESPACE): Promise<CommandResult> {
    const { kindClusterName } = readSettings(REPO);
    return execFileRunner("docker", ["exec", controlPlaneNode(kindClusterName), "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "--namespace", namespace, ...args], {
        timeoutMs: 360_000,
    });
}

/** The trace ID the front logged (JSON access log, key trace_id) for the request whose path holds `marker`. */
async function frontTraceId(marker: string): Promise<string | undefined> {
    const r = await kubectl(["logs", "-l", "app.kubernetes.io/name=front-envoy", "-c", "envoy", "--tail=500"], readSettings(REPO).namespace);
    for (const line of r.stdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        const entry = JSON.parse(line) as { path?: string; proxy?: string; trace_id?: string | null };
        if (entry.proxy === "front-envoy" && entry.path?.includes(marker) && typeof entry.trace_id === "string") return entry.trace_id;
    }
    return undefined;
}

/** GET through the API server's service proxy: `/api/v1/namespaces/observability/services/<service>:<port>/proxy<path>`. */
async function viaServiceProxy(service: string, port: string, pathAndQuery: string): Promise<CommandResult> {
    return kubectl(["get", "--raw", `/api/v1/namespaces/${ADDONS_NAMESPACE}/services/${service}:${port}/proxy${pathAndQuery}`]);
}

/** One request through the front proxy with the given headers. */
function getFront(headers: Record<string, string>, query = ""): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(`${FRONT}${query}`, { headers, agent: false, timeout: 10_000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${FRONT}: no answer in 10 s`)));
        req.on("error", reject);
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the observability add-ons on kind, end to end", function () {
    this.timeout(60 * 60_000);
    let originalStackFile: string | undefined;
    let deployed = false;

    before(async function () {
        const missing = (await checkPrerequisites(execFileRunner)).filter((t) => !t.ok);
        if (missing.length > 0) {
            console.log(`    skipped: the add-ons' end-to-end test needs Docker (with a running daemon), kind and the Pulumi CLI; missing: ${missing.map((t) => `${t.tool} (${t.problem})`).join("; ")}`);
            this.skip();
        }
        // Turn the add-ons on as a user would (`pulumi config set --path observability.addons true`), through the Automation API.
        originalStackFile = fs.readFileSync(STACK_FILE, "utf8");
        const backend = localBackend(REPO, process.env);
        fs.mkdirSync(backend.stateDir, { recursive: true });
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName: KIND_STACK, workDir: REPO },
            { workDir: REPO, envVars: { ...backend.options.envVars }, secretsProvider: backend.options.secretsProvider },
        );
        await stack.setConfig("envoy-mesh:observability.addons", { value: "true" }, true);
    });

    after(async function () {
        if (originalStackFile !== undefined) fs.writeFileSync(STACK_FILE, originalStackFile);
        if (deployed) await npmRun("down");
    });

    afterEach(async function () {
        if (this.currentTest?.state !== "failed") return;
        for (const args of [["get", "all", "-o", "wide"], ["get", "events", "--sort-by=.lastTimestamp"], ["logs", "--all-containers", "--prefix", "--tail=80", "-l", "app.kubernetes.io/component=observability"]]) {
            const r = await kubectl(args);
            console.log(`--- kubectl -n ${ADDONS_NAMESPACE} ${args.join(" ")}\n${r.stdout}${r.stderr}`);
        }
    });

    it("npm run up deploys the mesh with the add-ons and prints how to open Jaeger and Grafana", async () => {
        deployed = true;
        const { code, output } = await npmRun("up", ["--timeout", "600"]);
        assert.equal(code, 0, "npm run up failed");
        assert.match(output, /port-forward svc\/jaeger 16686/);
        assert.match(output, /port-forward svc\/grafana 3000/);
        for (const name of [COLLECTOR_SERVICE, JAEGER_SERVICE, PROMETHEUS_SERVICE, GRAFANA_SERVICE]) {
            const r = await kubectl(["rollout", "status", `deployment/${name}`, "--timeout=300s"]);
            assert.equal(r.code, 0, `${name} is not ready: ${lastLine(r)}`);
        }
    });

    it(`one request through the front is one trace in Jaeger with spans of ${PROXIES.join(", ")}, started by the front, not by the client's traceparent`, async () => {
        const clientTraceId = randomBytes(16).toString("hex");
        const marker = randomBytes(8).toString("hex");
        const answer = await getFront({ traceparent: traceparent(clientTraceId, randomBytes(8).toString("hex")) }, `?e2e=${marker}`);
        assert.equal(answer.status, 200, `GET ${FRONT}: HTTP ${answer.status} ${answer.body}`);
        let traceId: string | undefined;
        for (let i = 0; i < 12 && traceId === undefined; i++) {
            traceId = await frontTraceId(marker);
            if (traceId === undefined) await sleep(5000);
        }
        assert.ok(traceId !== undefined, `the front logged no trace_id for the request ?e2e=${marker}`);
        assert.notEqual(traceId, clientTraceId, "the edge dropped the client's traceparent and started its own trace");
        const started = Date.now();
        let seen = summarizeJaegerTraces("");
        let last = "";
        while (Date.now() - started < TRACE_WAIT_MS) {
            const r = await viaServiceProxy(JAEGER_SERVICE, "query-http", `/api/traces/${traceId}`);
            last = r.code === 0 ? r.stdout.slice(0, 300) : lastLine(r);
            seen = summarizeJaegerTraces(r.code === 0 ? r.stdout : "");
            if (PROXIES.every((p) => seen.services.includes(p))) break;
            await sleep(5000);
        }
        console.log(`    trace ${traceId}: ${seen.spanCount} spans from ${seen.services.join(", ") || "nobody"} after ${Math.round((Date.now() - started) / 1000)} s`);
        assert.deepEqual(seen.traceIds, [traceId], `Jaeger holds exactly the one trace (last answer: ${last})`);
        for (const proxy of PROXIES) assert.ok(seen.services.includes(proxy), `the trace has a span of ${proxy}; it has ${seen.services.join(", ")}`);
    });

    it("Prometheus reports a non-zero request rate from service-a's pods to service B", async () => {
        const started = Date.now();
        let value: number | undefined;
        let last = "";
        while (Date.now() - started < RATE_WAIT_MS) {
            // Keep traffic flowing: the rate is over the last minute.
            for (let i = 0; i < 10; i++) {
                await getFront({}).catch(() => undefined);
                await sleep(1000);
            }
            const r = await viaServiceProxy(PROMETHEUS_SERVICE, "http", `/api/v1/query?query=${encodeURIComponent(RATE_QUERY)}`);
            last = r.code === 0 ? r.stdout.slice(0, 300) : lastLine(r);
            value = r.code === 0 ? instantValue(r.stdout) : undefined;
            if (value !== undefined && value > 0) break;
        }
        console.log(`    ${RATE_QUERY} = ${value} after ${Math.round((Date.now() - started) / 1000)} s`);
        assert.ok(value !== undefined && value > 0, `no non-zero rate (last answer: ${last})`);
    });
});
