import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { composeGreeting } from "../../app/body";
import { parseCertsArgs } from "../../cli/certs";
import { parseRenderArgs } from "../../cli/render";
import * as fs from "fs";
import * as path from "path";
import { CREATE_WAIT } from "../../ops/cluster";
import { KIND_CONFIG_FILE } from "../../ops/kindConfig";
import { KIND_RELEASE, MIN_PULUMI_VERSION } from "../../ops/prerequisites";
import { defaultSettings } from "../../ops/stackSettings";
import { compareVersions, parseVersion } from "../../ops/version";
import { parseYaml } from "../../ops/yaml";
import { isPlainObject } from "../../topology/reader";
import { IDENTITY_DIR } from "../../envoy/names";
import { CURL_IMAGE, CURL_UID } from "../e2e/probe";

const REPO = path.resolve(__dirname, "..", "..");
const FILE = ".github/workflows/ci.yaml";

interface Step {
    readonly name?: string;
    readonly if?: string;
    readonly env?: Record<string, string>;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
    readonly "timeout-minutes"?: number;
}

interface Job {
    readonly "runs-on": string;
    readonly "timeout-minutes"?: number;
    readonly needs?: string | string[];
    readonly steps: Step[];
}

let workflow: Record<string, unknown>;
let jobs: Record<string, Job>;
let env: Record<string, string>;

/** The shell lines of a job's `run:` steps, in order. */
function runLines(job: Job): string[] {
    return job.steps.flatMap((s) => (s.run ?? "").split("\n").map((l) => l.trim())).filter((l) => l.length > 0);
}

function indexOfLine(job: Job, pattern: RegExp): number {
    return runLines(job).findIndex((l) => pattern.test(l));
}

/** The one step with a `run:` line matching `pattern`. */
function stepRunning(job: Job, pattern: RegExp): Step {
    const found = job.steps.filter((s) => (s.run ?? "").split("\n").some((l) => pattern.test(l.trim())));
    assert.equal(found.length, 1, `steps running ${pattern}: ${found.length}`);
    return found[0];
}

/** The seed mesh's answer at the front, as the demo app composes it: A calls B, then C. */
function seedAnswer(): string {
    return composeGreeting("service-a", [
        { name: "service-b", body: composeGreeting("service-b", []) },
        { name: "service-c", body: composeGreeting("service-c", []) },
    ]);
}

/**
 * Checks a job's answer step: curl fails on an HTTP error (-f), retries while the front starts,
 * and the body must equal the seed's four lines exactly (diff against $EXPECTED, no transcript).
 */
function assertChecksSeedAnswer(job: Job, url: string): Step {
    const step = stepRunning(job, new RegExp(`^curl .* ${url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`));
    assert.equal(step.env?.EXPECTED, seedAnswer(), "EXPECTED is the seed's four lines, newline-terminated");
    assert.equal(seedAnswer().split("\n").filter((l) => l.length > 0).length, 4);
    const lines = (step.run ?? "").split("\n").map((l) => l.trim());
    const curl = lines.find((l) => l.startsWith("curl ") && l.endsWith(url))?.split(/\s+/) ?? [];
    assert.ok(curl.includes("-fsS") && curl.includes(url), `curl -fsS ${url}: ${curl.join(" ")}`);
    const out = curl[curl.indexOf("-o") + 1];
    assert.ok(curl.includes("-o") && out, "curl writes the body to a file");
    assert.ok(lines.includes(`printf '%s' "$EXPECTED" | diff -u - ${out}`), "the body is compared byte for byte with EXPECTED");
    assert.equal(step.if, undefined, "the answer is checked whenever the mesh came up");
    return step;
}

describe(`${FILE}`, () => {
    before(() => {
        workflow = parseYaml(fs.readFileSync(path.join(REPO, FILE), "utf8"), FILE) as Record<string, unknown>;
        jobs = workflow.jobs as Record<string, Job>;
        env = workflow.env as Record<string, string>;
    });

    it("is valid YAML that runs on pushes to main and on pull requests", () => {
        assert.ok(isPlainObject(workflow.on));
        assert.ok("push" in workflow.on && "pull_request" in workflow.on);
        assert.deepEqual(Object.keys(jobs).sort(), ["compose", "e2e", "pulumi-docker", "test", "validate-envoy"]);
    });

    it("runs every job on a standard hosted Ubuntu runner, with a time limit", () => {
        for (const [name, job] of Object.entries(jobs)) {
            assert.match(job["runs-on"], /^ubuntu-\d+\.\d+$/, name);
            assert.ok((job["timeout-minutes"] ?? 0) > 0, `${name} has no timeout-minutes`);
        }
    });

    it("pins every action to a full commit SHA, with the version in a comment", () => {
        const text = fs.readFileSync(path.join(REPO, FILE), "utf8");
        const uses = Object.values(jobs).flatMap((j) => j.steps.filter((s) => s.uses).map((s) => s.uses as string));
        assert.ok(uses.length > 0);
        for (const u of uses) {
            assert.match(u, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `not pinned: ${u}`);
            assert.match(text, new RegExp(`uses: ${u.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+\\n`), `no version comment: ${u}`);
        }
    });

    it("runs npm test on Node 20 (the tooling's floor) and 24, and the other jobs on 24, the app image's LTS", () => {
        const imageMajors = [...fs.readFileSync(path.join(REPO, "app/Dockerfile"), "utf8").matchAll(/^FROM node:(\d+)\./gm)].map((m) => m[1]);
        assert.deepEqual([...new Set(imageMajors)], ["24"]);
        const nodeOf = (job: Job) => job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"];
        const matrix = (jobs.test as Job & { strategy?: { matrix?: { node?: unknown } } }).strategy?.matrix?.node;
        assert.deepEqual(matrix, ["20", "24"]);
        assert.equal(nodeOf(jobs.test), "${{ matrix.node }}");
        const engines = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { engines?: { node?: string } }).engines?.node;
        assert.match(engines ?? "", /^>=20\./, "the matrix's 20 is the floor package.json declares");
        for (const name of ["validate-envoy", "e2e", "compose", "pulumi-docker"]) assert.equal(nodeOf(jobs[name]), "24", name);
    });

    it("test: installs dependencies, then runs npm test", () => {
        const job = jobs.test;
        const ci = indexOfLine(job, /^npm ci$/);
        assert.ok(ci >= 0 && indexOfLine(job, /^npm test$/) > ci);
    });

    it("validate-envoy: renders, then validates every config with the pinned image's envoy --mode validate", () => {
        const job = jobs["validate-envoy"];
        const render = indexOfLine(job, /^npm run render -- --out out$/);
        assert.ok(indexOfLine(job, /^npm ci$/) < render && render >= 0);
        const validate = indexOfLine(job, /^docker run --rm -e ENVOY_UID=0 "\$\{mounts\[@\]\}" "\$ENVOY_IMAGE" --mode validate -c \/etc\/envoy\/envoy\.json$/);
        assert.ok(validate > render, "validation comes after rendering");
        // Each config is validated where a pod's Envoy reads it, beside its SDS files and with the certificates they name.
        const certs = indexOfLine(job, /^npm run certs -- --stack docker --out dev$/);
        assert.ok(certs > render && validate > certs, "certificates are issued before validation");
        // The bootstrap alone in /etc/envoy, every xDS file in /etc/mesh/xds, as a pod mounts them.
        assert.ok(indexOfLine(job, /^cp "\$f" "\$stage\/envoy\/envoy\.json"$/) >= 0, "the bootstrap in its own folder");
        assert.ok(indexOfLine(job, /^cp out\/envoy\/"\$proxy"\/\*\.json "\$stage\/xds\/"$/) >= 0, "the xDS files in theirs; a proxy without them fails the job");
        assert.ok(indexOfLine(job, /^mounts=\(-v "\$stage\/envoy:\/etc\/envoy:ro" -v "\$stage\/xds:\/etc\/mesh\/xds:ro"\)$/) >= 0);
        assert.ok(indexOfLine(job, /^for f in "\$\{files\[@\]\}"; do$/) >= 0, "every file in out/envoy is validated");
        assert.ok(indexOfLine(job, /^exit 1$/) >= 0, "no rendered config fails the job");
    });

    it("validate-envoy: then runs every Envoy on its files and checks what it loaded, and that a broken LDS file is rejected", () => {
        const job = jobs["validate-envoy"];
        const validate = indexOfLine(job, /--mode validate -c \/etc\/envoy\/envoy\.json$/);
        const live = indexOfLine(job, /^npx ts-node scripts\/envoy-live-check\.ts --image "\$ENVOY_IMAGE" --rendered out\/envoy --tls dev\/tls --break-lds front-envoy$/);
        assert.ok(live > validate, "after validation");
        const step = job.steps.find((s) => s.run?.includes("envoy-live-check"));
        assert.ok(step && Number(step["timeout-minutes"]) <= 5, "bounded, inside the job's timeout");
        assert.ok(fs.existsSync(path.join(REPO, "scripts", "envoy-live-check.ts")));
    });

    it("validate-envoy: its one-liner reads the exact Envoy tag and digest from the repository's Pulumi.yaml", () => {
        const step = jobs["validate-envoy"].steps.find((s) => s.run?.includes("node -e"));
        const code = /node -e '([^']+)'/.exec(step?.run ?? "")?.[1];
        assert.ok(code, "the step runs node -e '...'");
        const image = execFileSync(process.execPath, ["-e", code], { cwd: REPO, encoding: "utf8" });
        assert.match(image, /^envoyproxy\/envoy:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    });

    it("e2e: after npm test passes, installs kind and the Pulumi CLI at the pinned versions", () => {
        const job = jobs.e2e;
        assert.equal(job.needs, "test");
        assert.equal(env.KIND_VERSION, KIND_RELEASE, "the kind release that built the pinned node image");
        assert.ok(indexOfLine(job, /^sha256sum --check kind-linux-amd64\.sha256sum$/) >= 0, "the kind binary is checked");
        assert.ok(indexOfLine(job, /^curl -fsSL https:\/\/get\.pulumi\.com \| sh -s -- --version "\$\{PULUMI_VERSION\}"$/) >= 0);
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        assert.equal(env.PULUMI_VERSION, pkg.dependencies["@pulumi/pulumi"], "the CLI matches the SDK");
        assert.ok(compareVersions(parseVersion(env.PULUMI_VERSION), MIN_PULUMI_VERSION) >= 0);
    });

    it("e2e: creates the cluster exactly as npm run up would, then runs npm run test:e2e", () => {
        const job = jobs.e2e;
        const create = indexOfLine(job, /^kind create cluster /);
        assert.equal(
            runLines(job)[create],
            `kind create cluster --name ${defaultSettings().kindClusterName} --config ${KIND_CONFIG_FILE} --wait ${CREATE_WAIT}`,
        );
        const e2e = indexOfLine(job, /^npm run test:e2e$/);
        assert.ok(e2e > create && create > indexOfLine(job, /^kind version$/));
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        const script: string = pkg.scripts["test:e2e"];
        assert.match(script, /tests\/e2e\/mesh\.e2e\.ts$/);
        assert.ok(fs.existsSync(path.join(REPO, "tests", "e2e", "mesh.e2e.ts")));
        assert.doesNotMatch(pkg.scripts.test, /e2e/, "npm test does not run the end-to-end test");
    });

    it("compose: renders the docker stack, issues its certificates into the same folder, then builds and starts the rendered compose file and waits until it is healthy", () => {
        const job = jobs.compose;
        assert.equal(job.needs, "test");
        const lines = runLines(job);
        const render = indexOfLine(job, /^npm run render /);
        assert.ok(indexOfLine(job, /^npm ci$/) >= 0 && indexOfLine(job, /^npm ci$/) < render);
        // The render command line the job runs is one the render CLI accepts, for the docker stack.
        const renderArgs = parseRenderArgs(lines[render].replace(/^npm run render -- /, "").split(/\s+/));
        assert.deepEqual(renderArgs, { out: "out", stack: "docker" });
        const up = indexOfLine(job, /^docker compose .* up /);
        assert.ok(up > render, "compose runs the file that was just rendered");
        // Render writes placeholders where certificates go: certs issues them into the same folder, before compose starts.
        const certs = indexOfLine(job, /^npm run certs /);
        assert.deepEqual(parseCertsArgs(lines[certs].replace(/^npm run certs -- /, "").split(/\s+/)), { out: renderArgs.out, stack: renderArgs.stack, renew: false });
        assert.ok(certs > render && certs < up, "certs runs after render and before docker compose up");
        const args = lines[up].split(/\s+/);
        assert.deepEqual(args.slice(0, 5), ["docker", "compose", "-f", `${renderArgs.out}/docker-compose.yaml`, "up"]);
        for (const flag of ["-d", "--wait", "--build"]) assert.ok(args.includes(flag), `docker compose up ${flag}`);
        const waitTimeout = Number(args[args.indexOf("--wait-timeout") + 1]);
        assert.ok(args.includes("--wait-timeout") && waitTimeout > 0 && waitTimeout < (job["timeout-minutes"] ?? 0) * 60, "the wait is bounded");
        assert.ok(indexOfLine(job, /^docker compose version$/) < up, "the job says which Compose it ran");
    });

    it("compose: checks the seed's answer through the front, over plain HTTP and over HTTPS with the edge CA, prints the logs on failure and always removes the mesh", () => {
        const job = jobs.compose;
        const compose = "docker compose -f out/docker-compose.yaml";
        const check = assertChecksSeedAnswer(job, "http://127.0.0.1:8080/");
        const at = (s: Step) => job.steps.indexOf(s);
        assert.ok(at(check) > at(stepRunning(job, /^docker compose .* up /)));
        // Then over HTTPS, trusting only the edge CA certs wrote (no -k).
        const secure = assertChecksSeedAnswer(job, "https://localhost:8443/");
        const curl = (secure.run ?? "").split("\n").map((l) => l.trim()).find((l) => l.startsWith("curl ")) ?? "";
        assert.match(curl, / --cacert out\/tls\/edge-ca\.crt /);
        assert.doesNotMatch(curl, / (-k|--insecure) /, "the certificate is verified");
        assert.ok(at(secure) > at(check));
        const logs = stepRunning(job, new RegExp(`^${compose} logs`));
        assert.equal(logs.if, "failure()");
        assert.ok(at(logs) > at(secure));
        const down = stepRunning(job, new RegExp(`^${compose} down$`));
        assert.equal(down.if, "always()", "the mesh is removed even when a step failed");
        assert.equal(at(down), job.steps.length - 1, "removing the mesh is the last step");
    });

    it("pulumi-docker: installs the Pulumi CLI exactly as the kind job does, and no kind", () => {
        const job = jobs["pulumi-docker"];
        assert.equal(job.needs, "test");
        const install = stepRunning(job, /get\.pulumi\.com/);
        assert.deepEqual(install, stepRunning(jobs.e2e, /get\.pulumi\.com/));
        assert.equal(indexOfLine(job, /\bkind\b/), -1, "the docker target needs Docker and the Pulumi CLI only");
        assert.ok(indexOfLine(job, /^pulumi version$/) > indexOfLine(job, /get\.pulumi\.com/));
    });

    it("pulumi-docker: npm run up on the docker stack, checks the answer, then npm run down twice, always", () => {
        const job = jobs["pulumi-docker"];
        const lines = runLines(job);
        const up = lines.indexOf("npm run up -- --stack docker");
        assert.ok(up > indexOfLine(job, /^npm ci$/) && up > indexOfLine(job, /get\.pulumi\.com/));
        const check = assertChecksSeedAnswer(job, "http://127.0.0.1:8080/");
        const at = (s: Step) => job.steps.indexOf(s);
        assert.ok(at(check) > at(stepRunning(job, /^npm run up /)));
        assert.equal(stepRunning(job, /^docker logs /).if, "failure()");
        const downs = lines.map((l, i) => (l === "npm run down -- --stack docker" ? i : -1)).filter((i) => i >= 0);
        assert.equal(downs.length, 2, "down runs twice: the second finds nothing and must still succeed");
        assert.ok(downs[0] > up);
        const down = stepRunning(job, /^npm run down /);
        assert.equal(down.if, "always()");
        assert.ok(at(down) > at(check));
        // After both downs, nothing answers on the front's port.
        const gone = stepRunning(job, /^if curl .*http:\/\/127\.0\.0\.1:8080\//);
        assert.ok(at(gone) > at(down));
    });

    it("pulumi-docker: ends with the docker end-to-end test (certificate renewal included), once the stack the job deployed is gone", () => {
        const job = jobs["pulumi-docker"];
        const e2e = indexOfLine(job, /^npm run test:e2e:docker$/);
        assert.ok(e2e > runLines(job).lastIndexOf("npm run down -- --stack docker"), "the end-to-end test needs ports 8080 and 8443 free");
    });

    it("pulumi-docker: checks the seed's answer over HTTPS at the edge, trusting only the CA npm run up wrote", () => {
        const job = jobs["pulumi-docker"];
        const check = assertChecksSeedAnswer(job, "https://localhost:8443/");
        const curl = (check.run ?? "").split("\n").map((l) => l.trim()).find((l) => l.startsWith("curl ")) ?? "";
        assert.match(curl, / --cacert \.mesh\/docker\/edge-ca\.crt /);
        assert.doesNotMatch(curl, / (-k|--insecure) /, "the certificate is verified");
        const at = (s: Step) => job.steps.indexOf(s);
        assert.ok(at(check) > at(stepRunning(job, /^npm run up /)) && at(check) < at(stepRunning(job, /^npm run down /)));
    });

    it("pulumi-docker: a caller holding service-c's valid identity gets 403 from service-b, from the curl image the e2e test pins", () => {
        const job = jobs["pulumi-docker"];
        const step = stepRunning(job, /docker cp -L envoy-mesh-service-c-1-envoy:/);
        assert.equal(step.env?.CURL_IMAGE, CURL_IMAGE, "the same curl image, by tag and digest, as tests/e2e/probe.ts");
        const lines = (step.run ?? "").split("\n").map((l) => l.trim());
        // Each name in the Envoy container links into the files volume's current generation (a folder
        // only Envoy's group enters): copy each file through its link (-L), never the folder.
        assert.ok(
            lines.includes(`for f in tls.crt tls.key ca.crt; do docker cp -L envoy-mesh-service-c-1-envoy:${IDENTITY_DIR}/"$f" "$id/$f"; done`),
            lines.join("\n"),
        );
        assert.ok(!lines.some((l) => l.includes(`${IDENTITY_DIR}/.`)), "the identity folder is not copied whole");
        const run = lines.find((l) => l.includes("docker run ")) ?? "";
        for (const part of [`--user ${CURL_UID}:${CURL_UID}`, "--network envoy-mesh", "--cert /id/tls.crt", "--key /id/tls.key", "--tlsv1.3", "https://service-b:10000/"]) {
            assert.ok(run.includes(part), `docker run ... ${part}: ${run}`);
        }
        assert.ok(lines.includes('test "$status" = 403 || { echo "service-c calling service-b: HTTP $status, expected 403" >&2; exit 1; }'));
        const at = (s: Step) => job.steps.indexOf(s);
        assert.ok(at(step) > at(stepRunning(job, /^npm run up /)) && at(step) < at(stepRunning(job, /^npm run down /)));
        assert.equal(step.if, undefined);
    });

    it("the docker end-to-end test has its own script, outside npm test", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        assert.match(pkg.scripts["test:e2e:docker"], /^mocha --no-config .* tests\/e2e\/docker\.e2e\.ts$/);
        assert.ok(fs.existsSync(path.join(REPO, "tests", "e2e", "docker.e2e.ts")));
        assert.doesNotMatch(pkg.scripts.test, /e2e/);
    });
});
