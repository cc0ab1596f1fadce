import * as fs from "fs";
import * as path from "path";
import { ClusterSpec, checkExistingCluster, checkFrontPort, clusterExists, controlPlaneNode, createCluster } from "./cluster";
import { MIN_KUBERNETES_VERSION, formatRelease } from "../k8s/serverVersion";
import { OpsDeps } from "./deps";
import { OpsError } from "./errors";
import { waitForHttp } from "./http";
import { KIND_CONFIG_FILE, frontPortMapping, frontTlsPortMapping, parseKindConfig } from "./kindConfig";
import { checkPrerequisites, formatFound, formatMissing } from "./prerequisites";
import { LocalBackend, STATE_DIR, localBackend, pulumiFailure, stringOutput } from "./pulumiStack";
import {
    LocalRegistry,
    REGISTRY_CONTAINER,
    checkRegistryPort,
    connectRegistryToKind,
    documentRegistry,
    ensureRegistry,
    registryState,
    wireNodesToRegistry,
} from "./registry";
import { SERVER_WAIT_MS, checkKindServerVersion, checkNodeImages } from "./serverVersion";
import { checkDockerFrontPort } from "./dockerFront";
import { DOCKER_STACK, KIND_STACK, KindStackSettings, localRegistryPort, readDockerSettings, readSettings } from "./stackSettings";
import { readYamlFile } from "./yaml";

export interface UpOptions {
    /** The repository root: Pulumi.yaml, Pulumi.kind.yaml and kind/cluster.yaml live there. */
    readonly repoRoot: string;
    /** How long to wait for the Front Envoy to answer after the update. Default: DEFAULT_WAIT_TIMEOUT_MS. */
    readonly waitTimeoutMs?: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 180_000;

export interface UpResult {
    readonly frontUrl: string;
    /** The body of the Front Envoy's answer to `GET /`. */
    readonly body: string;
    readonly cluster: "created" | "reused" | "started";
    /** What happened to the local registry; `remote` when envoy-mesh:registry is not on this machine. */
    readonly registry: "created" | "started" | "running" | "remote";
}

/** Everything `up` works from, read from the repository before anything is touched. */
export interface UpPlan {
    readonly settings: KindStackSettings;
    readonly cluster: ClusterSpec;
    readonly registry?: LocalRegistry;
    readonly backend: LocalBackend;
}

/** Reads and checks the kind stack's config and the kind cluster config. Changes nothing. */
export function planUp(repoRoot: string, env: OpsDeps["env"]): UpPlan {
    const settings = readSettings(repoRoot);
    const configPath = path.join(repoRoot, KIND_CONFIG_FILE);
    const kindConfig = parseKindConfig(readYamlFile(configPath, KIND_CONFIG_FILE));
    checkNodeImages(kindConfig, KIND_CONFIG_FILE);
    const cluster: ClusterSpec = {
        name: settings.kindClusterName,
        configPath,
        frontNodePort: settings.frontNodePort,
        mapping: frontPortMapping(kindConfig, settings.frontNodePort),
        tlsNodePort: settings.frontTlsNodePort,
        tlsMapping: frontTlsPortMapping(kindConfig, settings.frontTlsNodePort),
    };
    const port = localRegistryPort(settings.registry);
    const registry = port === undefined ? undefined : { container: REGISTRY_CONTAINER, hostPort: port, host: settings.registry.split("/")[0] };
    return { settings, cluster, ...(registry ? { registry } : {}), backend: localBackend(repoRoot, env) };
}

/**
 * `npm run up`: prerequisites, local registry, kind cluster, Pulumi update on the local
 * backend, then waits for the Front Envoy to answer. Idempotent: what exists is reused.
 * Throws OpsError with a message for the user on any failure.
 */
export async function runUp(deps: OpsDeps, options: UpOptions): Promise<UpResult> {
    const { run, log } = deps;

    const tools = await checkPrerequisites(run);
    if (tools.some((t) => !t.ok)) {
        throw new OpsError(formatMissing(tools));
    }
    log(`[1/5] Prerequisites: ${formatFound(tools)}`);
    for (const t of tools) {
        if (t.note) {
            log(`      note: ${t.note}`);
        }
    }

    const plan = planUp(options.repoRoot, deps.env);
    const { cluster, registry } = plan;

    // Look first, and check the host ports that will be needed, before changing anything.
    const regState = registry ? await registryState(run, registry.container) : undefined;
    const exists = await clusterExists(run, cluster.name);
    if (registry && regState === "missing") {
        await checkRegistryPort(deps.probePort, registry);
    }
    if (!exists) {
        await checkFrontPort(deps.probePort, cluster);
    }

    let registryResult: UpResult["registry"] = "remote";
    if (registry && regState) {
        registryResult = await ensureRegistry(run, registry, regState);
        log(`[2/5] Local registry ${registry.container} at ${registry.host}: ${registryResult}`);
    } else {
        log(`[2/5] Local registry: skipped (envoy-mesh:registry is ${plan.settings.registry}, not on this machine)`);
    }

    let clusterResult: UpResult["cluster"];
    if (exists) {
        clusterResult = (await checkExistingCluster(run, cluster)) === "started" ? "started" : "reused";
        log(`[3/5] kind cluster ${cluster.name}: exists, ${clusterResult === "started" ? "node started" : "reused"}`);
    } else {
        log(`[3/5] kind cluster ${cluster.name}: creating from ${KIND_CONFIG_FILE} (a minute or two)...`);
        await createCluster(run, cluster);
        clusterResult = "created";
        log(`      created; kube context kind-${cluster.name}`);
    }
    // Before anything is deployed: an older API server would accept the objects and break them.
    const server = await checkKindServerVersion(run, cluster.name, { sleep: deps.sleep, clock: deps.clock, timeoutMs: SERVER_WAIT_MS });
    log(`      Kubernetes ${server.gitVersion} (${formatRelease(MIN_KUBERNETES_VERSION)} or newer needed)`);

    if (registry) {
        if (await connectRegistryToKind(run, registry)) {
            log(`      connected ${registry.container} to the kind network`);
        }
        const nodes = await wireNodesToRegistry(run, cluster.name, registry);
        await documentRegistry(run, controlPlaneNode(cluster.name), registry);
        log(`      nodes pull ${registry.host}/... from ${registry.container}: ${nodes.join(", ")}`);
    }

    const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const ctx = `--context kind-${cluster.name} --namespace ${plan.settings.namespace}`;
    const { frontUrl, body } = await updateAndAnswer(deps, options.repoRoot, plan.backend, KIND_STACK, ["[4/5]", "[5/5]"], timeoutMs, [
        `The update finished; see what the pods say: kubectl ${ctx} get pods,`,
        `then kubectl ${ctx} describe pods and kubectl ${ctx} logs <pod> --all-containers.`,
    ]);
    log("");
    log("The mesh is up. `npm run down` removes it; `npm run down -- --cluster` also deletes the kind cluster and the registry.");
    return { frontUrl, body, cluster: clusterResult, registry: registryResult };
}

export interface DockerUpResult {
    readonly frontUrl: string;
    /** The body of the Front Envoy's answer to `GET /`. */
    readonly body: string;
    /** Whether port 8080 was free, or already held by this stack's own Front Envoy (a second run). */
    readonly frontPort: "free" | "ours";
}

/** The tools the docker stack needs: no kind, no cluster, no registry. */
export const DOCKER_TOOLS = ["docker", "pulumi"] as const;

/**
 * `npm run up -- --stack docker`: prerequisites (Docker and Pulumi only), the stack file and the
 * front's host port checked before anything changes, Pulumi update on the local backend, then
 * waits for the Front Envoy to answer. Idempotent: a second run updates the same containers.
 * Throws OpsError with a message for the user on any failure.
 */
export async function runDockerUp(deps: OpsDeps, options: UpOptions): Promise<DockerUpResult> {
    const { run, log } = deps;

    const tools = await checkPrerequisites(run, DOCKER_TOOLS);
    if (tools.some((t) => !t.ok)) {
        throw new OpsError(formatMissing(tools));
    }
    log(`[1/4] Prerequisites: ${formatFound(tools)}`);

    const settings = readDockerSettings(options.repoRoot);
    const backend = localBackend(options.repoRoot, deps.env);
    const port = await checkDockerFrontPort(run, deps.probePort, settings);
    const where = `${settings.frontHost}:${settings.frontHostPort}`;
    log(`[2/4] Front port ${where}: ${port.state === "free" ? "free" : `held by this stack's ${port.containers.join(", ")}`}`);

    const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const filter = `--filter network=${settings.network}`;
    const { frontUrl, body } = await updateAndAnswer(deps, options.repoRoot, backend, DOCKER_STACK, ["[3/4]", "[4/4]"], timeoutMs, [
        `The update finished; see what the containers say: docker ps --all ${filter},`,
        "then docker logs <container> (an app container's log, and its Envoy's).",
    ]);
    log("");
    log("The mesh is up. `npm run down -- --stack docker` removes it.");
    return { frontUrl, body, frontPort: port.state };
}

/**
 * Runs `pulumi up` on the local backend (step `steps[0]`), then waits for the stack's frontUrl
 * to answer 200 (step `steps[1]`) and prints the answer. `lookHere` is where to look when it
 * does not answer in time, one line each.
 */
async function updateAndAnswer(
    deps: OpsDeps,
    repoRoot: string,
    backend: LocalBackend,
    stackName: string,
    steps: readonly [string, string],
    timeoutMs: number,
    lookHere: readonly string[],
): Promise<{ frontUrl: string; body: string }> {
    const { log } = deps;
    fs.mkdirSync(backend.stateDir, { recursive: true });
    const passphrase = backend.passphraseFrom === "default" ? "default passphrase" : `passphrase from ${backend.passphraseFrom}`;
    log(`${steps[0]} Pulumi stack ${stackName} (local state in ${STATE_DIR}/, ${passphrase}): updating...`);
    let outputs;
    try {
        const stack = await deps.backend.createOrSelectStack({ stackName, workDir: repoRoot }, backend.options);
        outputs = (await stack.up({ onOutput: deps.stream, onError: deps.streamErr, color: deps.color ? "always" : "never" })).outputs;
    } catch (e) {
        throw new OpsError(pulumiFailure("up", stackName, e));
    }
    const frontUrl = stringOutput(outputs, "frontUrl");
    if (frontUrl === undefined) {
        throw new OpsError(`stack ${stackName} has no string output frontUrl after the update (outputs: ${Object.keys(outputs).sort().join(", ") || "none"})`);
    }

    const url = frontUrl.replace(/\/?$/, "/");
    log(`${steps[1]} Waiting for ${url} to answer (up to ${Math.round(timeoutMs / 1000)} s)...`);
    const answer = await waitForHttp(deps.http, deps.sleep, deps.clock, url, { timeoutMs });
    if (!answer.ok) {
        throw new OpsError(
            `${url} did not answer with HTTP 200 within ${Math.round(timeoutMs / 1000)} s (last attempt: ${answer.last}).\n` + lookHere.map((l) => `  ${l}`).join("\n"),
        );
    }
    log(`${url} answered:`);
    log(answer.response.body.replace(/\s+$/, ""));
    return { frontUrl, body: answer.response.body };
}
