import * as fs from "fs";
import { deleteCluster } from "./cluster";
import { LOCAL_DIR, removeLocalStackDir } from "./edge";
import { OpsDeps } from "./deps";
import { OpsError } from "./errors";
import { Tool, checkPrerequisites, formatMissing } from "./prerequisites";
import { STATE_DIR, localBackend, pulumiFailure } from "./pulumiStack";
import { REGISTRY_CONTAINER, removeRegistry } from "./registry";
import { DOCKER_STACK, KIND_STACK, UpStack, localRegistryPort, readDockerSettings, readSettings } from "./stackSettings";

export interface DownOptions {
    /** The repository root. */
    readonly repoRoot: string;
    /** Also delete the kind cluster and the local registry container (kind stack only). Default: false. */
    readonly deleteCluster?: boolean;
    /** The stack to destroy. Default: kind. */
    readonly stack?: UpStack;
}

/** Why `--cluster` is refused with the docker stack. */
export const DOCKER_NO_CLUSTER =
    "--cluster deletes the kind cluster and its registry, and the docker stack has neither: `npm run down -- --stack docker` alone removes everything it created";

export interface DownResult {
    readonly stack: "destroyed" | "absent";
    /** Present when deleteCluster was asked for. */
    readonly cluster?: "deleted" | "absent";
    /** Present when deleteCluster was asked for and the registry is local. */
    readonly registry?: "removed" | "absent";
}

/**
 * `npm run down`: destroys the kind stack's resources (the stack and its config stay, empty),
 * and with deleteCluster the kind cluster and registry too. Running it again finds nothing to
 * do and succeeds. When the cluster is already gone, the Kubernetes resources are dropped from
 * the state instead of failing on an unreachable cluster.
 */
export async function runDown(deps: OpsDeps, options: DownOptions): Promise<DownResult> {
    if ((options.stack ?? KIND_STACK) === DOCKER_STACK) {
        if (options.deleteCluster) {
            throw new OpsError(DOCKER_NO_CLUSTER);
        }
        const result = await runDockerDown(deps, options.repoRoot);
        forgetLocalFiles(deps, options.repoRoot, DOCKER_STACK);
        return result;
    }
    const { run, log } = deps;
    const settings = readSettings(options.repoRoot);
    const stateDir = localBackend(options.repoRoot, deps.env).stateDir;
    const hasState = fs.existsSync(stateDir);

    const needed: Tool[] = [...(hasState ? (["pulumi"] as const) : []), ...(options.deleteCluster ? (["docker", "kind"] as const) : [])];
    if (needed.length > 0) {
        const tools = await checkPrerequisites(run, needed);
        if (tools.some((t) => !t.ok)) {
            throw new OpsError(formatMissing(tools));
        }
    }

    let stack: DownResult["stack"] = "absent";
    if (!hasState) {
        log(`Pulumi stack ${KIND_STACK}: no local state (${STATE_DIR}/), nothing to destroy`);
    } else {
        // Whether the cluster is gone decides how to treat its resources; without kind we cannot tell.
        const clusters = await run("kind", ["get", "clusters"]);
        const clusterGone =
            clusters.code === 0 &&
            !clusters.stdout
                .split("\n")
                .map((l) => l.trim())
                .includes(settings.kindClusterName);
        const backend = localBackend(options.repoRoot, deps.env, clusterGone ? { PULUMI_K8S_DELETE_UNREACHABLE: "true" } : {});
        try {
            const names = await deps.backend.listStacks(options.repoRoot, backend.options);
            if (!names.includes(KIND_STACK)) {
                log(`Pulumi stack ${KIND_STACK}: not found in ${STATE_DIR}/, nothing to destroy`);
            } else {
                log(
                    `Pulumi stack ${KIND_STACK}: destroying` +
                        (clusterGone ? ` (kind cluster ${settings.kindClusterName} is gone, so its resources are dropped from the state)` : "") +
                        "...",
                );
                const selected = await deps.backend.selectStack({ stackName: KIND_STACK, workDir: options.repoRoot }, backend.options);
                await selected.destroy({ onOutput: deps.stream, onError: deps.streamErr, color: deps.color ? "always" : "never" });
                stack = "destroyed";
                log(`Pulumi stack ${KIND_STACK}: destroyed`);
            }
        } catch (e) {
            throw new OpsError(pulumiFailure("destroy", KIND_STACK, e));
        }
    }

    forgetLocalFiles(deps, options.repoRoot, KIND_STACK);

    if (!options.deleteCluster) {
        return { stack };
    }
    const cluster: DownResult["cluster"] = (await deleteCluster(run, settings.kindClusterName)) ? "deleted" : "absent";
    log(`kind cluster ${settings.kindClusterName}: ${cluster === "deleted" ? "deleted" : "not found, nothing to delete"}`);
    if (localRegistryPort(settings.registry) === undefined) {
        return { stack, cluster };
    }
    const registry: DownResult["registry"] = (await removeRegistry(run, REGISTRY_CONTAINER)) ? "removed" : "absent";
    log(`registry container ${REGISTRY_CONTAINER}: ${registry === "removed" ? "removed" : "not found, nothing to remove"}`);
    return { stack, cluster, registry };
}

/** Removes what `up` wrote for the user in `.mesh/<stack>/` (the edge CA's certificate), once the stack is gone. */
function forgetLocalFiles(deps: OpsDeps, repoRoot: string, stack: UpStack): void {
    if (removeLocalStackDir(repoRoot, stack)) {
        deps.log(`removed ${LOCAL_DIR}/${stack}/ (the edge CA's certificate)`);
    }
}

/**
 * `npm run down -- --stack docker`: destroys the docker stack's containers and network (images stay in the local image store)
 * (the stack and its config stay, empty). Running it again finds nothing to do and succeeds.
 * Docker is needed as well as Pulumi: the provider removes the containers through the engine.
 */
async function runDockerDown(deps: OpsDeps, repoRoot: string): Promise<DownResult> {
    const { run, log } = deps;
    // A bad stack file is refused before anything is touched, as `up` does.
    readDockerSettings(repoRoot);
    const backend = localBackend(repoRoot, deps.env);
    if (!fs.existsSync(backend.stateDir)) {
        log(`Pulumi stack ${DOCKER_STACK}: no local state (${STATE_DIR}/), nothing to destroy`);
        return { stack: "absent" };
    }
    const tools = await checkPrerequisites(run, ["docker", "pulumi"]);
    if (tools.some((t) => !t.ok)) {
        throw new OpsError(formatMissing(tools));
    }
    try {
        const names = await deps.backend.listStacks(repoRoot, backend.options);
        if (!names.includes(DOCKER_STACK)) {
            log(`Pulumi stack ${DOCKER_STACK}: not found in ${STATE_DIR}/, nothing to destroy`);
            return { stack: "absent" };
        }
        log(`Pulumi stack ${DOCKER_STACK}: destroying...`);
        const selected = await deps.backend.selectStack({ stackName: DOCKER_STACK, workDir: repoRoot }, backend.options);
        await selected.destroy({ onOutput: deps.stream, onError: deps.streamErr, color: deps.color ? "always" : "never" });
    } catch (e) {
        throw new OpsError(pulumiFailure("destroy", DOCKER_STACK, e));
    }
    log(`Pulumi stack ${DOCKER_STACK}: destroyed`);
    return { stack: "destroyed" };
}
