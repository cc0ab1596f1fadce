import * as fs from "fs";
import * as path from "path";
import { ClusterSpec, checkExistingCluster, checkFrontPort, clusterExists, controlPlaneNode, createCluster } from "./cluster";
import { MIN_KUBERNETES_VERSION, formatRelease } from "../k8s/serverVersion";
import { OpsDeps } from "./deps";
import { MTLS_OFF_WARNING, certificatesDue, dueWarning, edgeCaRelativePath, waysIn, writeEdgeCa } from "./edge";
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
import { FrontPortState, checkDockerFrontPort } from "./dockerFront";
import { DOCKER_STACK, KIND_STACK, KindStackSettings, MeshSecurity, localRegistryPort, readDockerSettings, readSettings } from "./stackSettings";
import { readYamlFile } from "./yaml";
import { addonsHowToOpen } from "./addons";
import { ENVOY_CONFIG_OUTPUT, formatReport, parseEnvoyConfigOutput, summarize } from "./envoyStats";
import { StatusTarget, dockerTarget, kubernetesTarget, notConvergedMessage, waitForLiveConfig } from "./status";

export interface UpOptions {
    /** The repository root: Pulumi.yaml, Pulumi.kind.yaml and kind/cluster.yaml live there. */
    readonly repoRoot: string;
    /**
     * How long to wait for the Front Envoy to answer after the update, and then again for every
     * Envoy to run the delivered config. Default: DEFAULT_WAIT_TIMEOUT_MS.
     */
    readonly waitTimeoutMs?: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 180_000;

export interface UpResult {
    readonly frontUrl: string;
    /** The body of the Front Envoy's answer to `GET /`. */
    readonly body: string;
    /** Where the edge CA's certificate was written: `.mesh/<stack>/edge-ca.crt`, absolute. */
    readonly edgeCaFile: string;
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
    const { frontUrl, body, edgeCaFile } = await updateAndAnswer(
        deps,
        options.repoRoot,
        plan.backend,
        KIND_STACK,
        ["[4/5]", "[5/5]"],
        timeoutMs,
        [`The update finished; see what the pods say: kubectl ${ctx} get pods,`, `then kubectl ${ctx} describe pods and kubectl ${ctx} logs <pod> --all-containers.`],
        {
            tlsUrl: `https://localhost:${cluster.tlsMapping.hostPort}/`,
            security: plan.settings.security,
            live: kubernetesTarget(run, { via: "kind-node", node: controlPlaneNode(cluster.name), context: `kind-${cluster.name}` }, plan.settings.namespace, plan.settings.healthPort),
        },
    );
    if (plan.settings.addons) {
        log("");
        for (const line of addonsHowToOpen(cluster.name)) log(line);
    }
    log("");
    log("The mesh is up. `npm run down` removes it; `npm run down -- --cluster` also deletes the kind cluster and the registry.");
    return { frontUrl, body, edgeCaFile, cluster: clusterResult, registry: registryResult };
}

export interface DockerUpResult {
    readonly frontUrl: string;
    /** The body of the Front Envoy's answer to `GET /`. */
    readonly body: string;
    /** Where the edge CA's certificate was written: `.mesh/<stack>/edge-ca.crt`, absolute. */
    readonly edgeCaFile: string;
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
    let port: FrontPortState = { state: "free" };
    const ports: string[] = [];
    for (const p of [settings.frontHostPort, settings.frontTlsHostPort]) {
        const state = await checkDockerFrontPort(run, deps.probePort, settings, p);
        ports.push(`${settings.frontHost}:${p} ${state.state === "free" ? "free" : `held by this stack's ${state.containers.join(", ")}`}`);
        if (p === settings.frontHostPort) port = state;
    }
    log(`[2/4] Front ports: ${ports.join(", ")}`);

    const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const filter = `--filter network=${settings.network}`;
    const { frontUrl, body, edgeCaFile } = await updateAndAnswer(
        deps,
        options.repoRoot,
        backend,
        DOCKER_STACK,
        ["[3/4]", "[4/4]"],
        timeoutMs,
        [`The update finished; see what the containers say: docker ps --all ${filter},`, "then docker logs <container> (an app container's log, and its Envoy's)."],
        { tlsUrl: `https://localhost:${settings.frontTlsHostPort}/`, security: settings.security, live: dockerTarget(run, settings.network, settings.healthPort) },
    );
    log("");
    log("The mesh is up. `npm run down -- --stack docker` removes it.");
    return { frontUrl, body, edgeCaFile, frontPort: port.state };
}

/** What the update is checked against: the front's HTTPS URL, and the topology's security settings. */
interface EdgeExpectations {
    /** `https://localhost:8443/`: the host port the target publishes the front's HTTPS on. */
    readonly tlsUrl: string;
    readonly security: MeshSecurity;
    /** Where the stack's Envoys run: after the answer, each must report the versions the update delivered. */
    readonly live: StatusTarget;
}

/**
 * Runs `pulumi up` on the local backend (step `steps[0]`), writes the edge CA the stack exports to
 * `.mesh/<stack>/edge-ca.crt`, then waits for the stack's frontUrl (when the front serves plain
 * HTTP) and for its HTTPS URL, trusting only that CA, to answer 200 with the same answer (step
 * `steps[1]`), and prints the answer and both ways in. `lookHere` is where to look when it does
 * not answer in time, one line each.
 */
async function updateAndAnswer(
    deps: OpsDeps,
    repoRoot: string,
    backend: LocalBackend,
    stackName: string,
    steps: readonly [string, string],
    timeoutMs: number,
    lookHere: readonly string[],
    edge: EdgeExpectations,
): Promise<{ frontUrl: string; body: string; edgeCaFile: string }> {
    const { log } = deps;
    const { security, tlsUrl } = edge;
    fs.mkdirSync(backend.stateDir, { recursive: true });
    const passphrase = backend.passphraseFrom === "default" ? "default passphrase" : `passphrase from ${backend.passphraseFrom}`;
    log(`${steps[0]} Pulumi stack ${stackName} (local state in ${STATE_DIR}/, ${passphrase}): updating...`);
    if (security.mtls === "off") {
        log(MTLS_OFF_WARNING);
    }
    if (security.faultWarning !== undefined) {
        log(security.faultWarning);
    }
    let outputs;
    try {
        const stack = await deps.backend.createOrSelectStack({ stackName, workDir: repoRoot }, backend.options);
        // No --refresh: a plain update renews a certificate inside its early-renewal window. The TLS
        // provider's plan marks it for replacement from the current time (hashicorp/terraform-provider-tls,
        // internal/provider/common_cert.go, modifyPlanIfCertificateReadyForRenewal), and @pulumi/tls 5.x
        // runs that plan in Diff (pulumi/pulumi-tls provider/resources.go: pf.ShimProvider;
        // pulumi/pulumi-terraform-bridge pf/tfbridge/provider_diff.go: RequiresReplace -> ReplaceKeys).
        // certificatesDue below reports it if that ever stops holding.
        outputs = (await stack.up({ onOutput: deps.stream, onError: deps.streamErr, color: deps.color ? "always" : "never" })).outputs;
    } catch (e) {
        throw new OpsError(pulumiFailure("up", stackName, e));
    }
    const frontUrl = stringOutput(outputs, "frontUrl");
    if (frontUrl === undefined) {
        throw new OpsError(`stack ${stackName} has no string output frontUrl after the update (outputs: ${Object.keys(outputs).sort().join(", ") || "none"})`);
    }
    const edgeCaFile = writeEdgeCa(repoRoot, stackName, outputs);
    log(`      the edge CA's certificate is in ${edgeCaRelativePath(stackName)}`);
    const due = certificatesDue(outputs, deps.now(), security.renewBeforeHours);
    if (due.length > 0) {
        log(dueWarning(due, security.renewBeforeHours, stackName));
    }

    const url = frontUrl.replace(/\/?$/, "/");
    const plain = security.plainHttp === "serve";
    const seconds = Math.round(timeoutMs / 1000);
    log(`${steps[1]} Waiting for ${plain ? `${url} and ` : ""}${tlsUrl} to answer (up to ${seconds} s)...`);
    const failed = (where: string, last: string) =>
        new OpsError(`${where} did not answer with HTTP 200 within ${seconds} s (last attempt: ${last}).\n` + lookHere.map((l) => `  ${l}`).join("\n"));
    const started = deps.clock();
    let body: string | undefined;
    if (plain) {
        const answer = await waitForHttp(deps.http, deps.sleep, deps.clock, url, { timeoutMs });
        if (!answer.ok) {
            throw failed(url, answer.last);
        }
        body = answer.response.body;
        log(`${url} answered:`);
        log(body.replace(/\s+$/, ""));
    }
    const ca = fs.readFileSync(edgeCaFile, "utf8");
    const remaining = Math.max(1, timeoutMs - (deps.clock() - started));
    const secure = await waitForHttp(deps.http, deps.sleep, deps.clock, tlsUrl, { timeoutMs: remaining, trust: { ca } });
    if (!secure.ok) {
        throw failed(`${tlsUrl} (trusting ${edgeCaRelativePath(stackName)})`, secure.last);
    }
    if (body === undefined) {
        body = secure.response.body;
        log(`${tlsUrl} answered:`);
        log(body.replace(/\s+$/, ""));
    } else if (secure.response.body !== body) {
        throw new OpsError(`${tlsUrl} answered differently from ${url}:\n${secure.response.body.replace(/\s+$/, "")}`);
    } else {
        log(`${tlsUrl} answered the same, with a certificate the edge CA signed.`);
    }
    // The answer can come from Envoys still on the old routes: a ConfigMap change reaches a running
    // pod only when its kubelet rewrites the files, so wait until every Envoy says it runs them.
    const expected = parseEnvoyConfigOutput(stackName, outputs[ENVOY_CONFIG_OUTPUT]?.value);
    log(`Waiting for every Envoy to run the delivered config (listeners, clusters, routes; up to ${seconds} s)...`);
    const report = await waitForLiveConfig(deps, edge.live, expected, { timeoutMs });
    if (!report.converged) {
        throw new OpsError(notConvergedMessage(report, edge.live, seconds));
    }
    for (const line of formatReport(report, edge.live.logsHint)) {
        log(line);
    }
    log(summarize(report));
    log("");
    for (const line of waysIn(url, tlsUrl, stackName, security)) {
        log(line);
    }
    if (security.mtls === "off") {
        log(MTLS_OFF_WARNING);
    }
    if (security.faultWarning !== undefined) {
        log(security.faultWarning);
    }
    return { frontUrl, body, edgeCaFile };
}
