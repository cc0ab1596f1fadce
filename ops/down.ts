import * as fs from "fs";
import { deleteCluster } from "./cluster";
import { OpsDeps } from "./deps";
import { OpsError } from "./errors";
import { Tool, checkPrerequisites, formatMissing } from "./prerequisites";
import { STATE_DIR, localBackend, pulumiFailure } from "./pulumiStack";
import { REGISTRY_CONTAINER, removeRegistry } from "./registry";
import { KIND_STACK, localRegistryPort, readSettings } from "./stackSettings";

export interface DownOptions {
    /** The repository root. */
    readonly repoRoot: string;
    /** Also delete the kind cluster and the local registry container. Default: false. */
    readonly deleteCluster?: boolean;
}

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
