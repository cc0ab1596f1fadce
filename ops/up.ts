import * as fs from "fs";
import * as path from "path";
import { ClusterSpec, checkExistingCluster, checkFrontPort, clusterExists, controlPlaneNode, createCluster } from "./cluster";
import { MIN_KUBERNETES_VERSION, formatRelease } from "../k8s/serverVersion";
import { OpsDeps } from "./deps";
import { OpsError } from "./errors";
import { waitForHttp } from "./http";
import { KIND_CONFIG_FILE, frontPortMapping, parseKindConfig } from "./kindConfig";
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
import { KIND_STACK, KindStackSettings, localRegistryPort, readSettings } from "./stackSettings";
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

    const backend = plan.backend;
    fs.mkdirSync(backend.stateDir, { recursive: true });
    const passphrase = backend.passphraseFrom === "default" ? "default passphrase" : `passphrase from ${backend.passphraseFrom}`;
    log(`[4/5] Pulumi stack ${KIND_STACK} (local state in ${STATE_DIR}/, ${passphrase}): updating...`);
    let outputs;
    try {
        const stack = await deps.backend.createOrSelectStack({ stackName: KIND_STACK, workDir: options.repoRoot }, backend.options);
        outputs = (await stack.up({ onOutput: deps.stream, onError: deps.streamErr, color: deps.color ? "always" : "never" })).outputs;
    } catch (e) {
        throw new OpsError(pulumiFailure("up", KIND_STACK, e));
    }
    const frontUrl = stringOutput(outputs, "frontUrl");
    if (frontUrl === undefined) {
        throw new OpsError(`stack ${KIND_STACK} has no string output frontUrl after the update (outputs: ${Object.keys(outputs).sort().join(", ") || "none"})`);
    }

    const url = frontUrl.replace(/\/?$/, "/");
    const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    log(`[5/5] Waiting for ${url} to answer (up to ${Math.round(timeoutMs / 1000)} s)...`);
    const answer = await waitForHttp(deps.http, deps.sleep, deps.clock, url, { timeoutMs });
    if (!answer.ok) {
        const ctx = `--context kind-${cluster.name} --namespace ${plan.settings.namespace}`;
        throw new OpsError(
            `${url} did not answer with HTTP 200 within ${Math.round(timeoutMs / 1000)} s (last attempt: ${answer.last}).\n` +
                `  The update finished; see what the pods say: kubectl ${ctx} get pods,\n` +
                `  then kubectl ${ctx} describe pods and kubectl ${ctx} logs <pod> --all-containers.`,
        );
    }
    log(`${url} answered:`);
    log(answer.response.body.replace(/\s+$/, ""));
    log("");
    log("The mesh is up. `npm run down` removes it; `npm run down -- --cluster` also deletes the kind cluster and the registry.");
    return { frontUrl, body: answer.response.body, cluster: clusterResult, registry: registryResult };
}
