import { MIN_KUBERNETES_VERSION, ServerVersion, formatRelease, parseServerVersion, serverVersionProblem } from "../k8s/serverVersion";
import { controlPlaneNode } from "./cluster";
import { CommandRunner, lastLine, showCommand } from "./command";
import { OpsError } from "./errors";
import { Clock, Sleep } from "./http";
import { KindClusterConfig } from "./kindConfig";

/**
 * kubectl and the admin kubeconfig ship on every kind node; kind itself drives the cluster
 * this way (kubernetes-sigs/kind, pkg/cluster/internal/create/actions/installcni/cni.go). So
 * the version comes from the running API server and needs no kubectl on the host.
 */
export function serverVersionArgs(clusterName: string): string[] {
    return ["exec", controlPlaneNode(clusterName), "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "version", "-o", "json"];
}

/** Reads `serverVersion.gitVersion` from `kubectl version -o json`; throws an Error saying what is wrong. */
export function parseKubectlVersion(stdout: string): ServerVersion {
    let doc: unknown;
    try {
        doc = JSON.parse(stdout);
    } catch {
        throw new Error(`\`kubectl version -o json\` printed no JSON: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
    }
    const server = typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>).serverVersion : undefined;
    const gitVersion = typeof server === "object" && server !== null ? (server as Record<string, unknown>).gitVersion : undefined;
    if (gitVersion === undefined) {
        throw new Error("`kubectl version -o json` has no serverVersion.gitVersion");
    }
    return parseServerVersion(gitVersion);
}

export interface ServerWait {
    readonly sleep: Sleep;
    readonly clock: Clock;
    /** How long the API server may take to answer (a node Docker just started needs a while). */
    readonly timeoutMs: number;
    /** Pause between attempts. Default: 2000 ms. */
    readonly intervalMs?: number;
}

/** How long `up` waits for the API server of a cluster to answer. */
export const SERVER_WAIT_MS = 60_000;

/**
 * Asks the kind cluster's API server for its version, retrying while it does not answer yet.
 * Throws OpsError when it never answers or answers with something that is not a version.
 */
export async function kindServerVersion(run: CommandRunner, clusterName: string, wait: ServerWait): Promise<ServerVersion> {
    const args = serverVersionArgs(clusterName);
    const deadline = wait.clock() + wait.timeoutMs;
    const interval = wait.intervalMs ?? 2000;
    for (;;) {
        const r = await run("docker", args, { timeoutMs: 30_000 });
        if (r.code === 0) {
            try {
                return parseKubectlVersion(r.stdout);
            } catch (e) {
                throw new OpsError(`cannot read the Kubernetes version of kind cluster ${clusterName}: ${(e as Error).message}\n  command: ${showCommand("docker", args)}`);
            }
        }
        if (wait.clock() + interval > deadline) {
            throw new OpsError(
                `the API server of kind cluster ${clusterName} did not tell its version within ${Math.round(wait.timeoutMs / 1000)} s: ` +
                    `${lastLine(r) || `exit code ${r.code}`}\n  command: ${showCommand("docker", args)}`,
            );
        }
        await wait.sleep(interval);
    }
}

/** Refuses a kind cluster older than MIN_KUBERNETES_VERSION; returns its version otherwise. */
export async function checkKindServerVersion(run: CommandRunner, clusterName: string, wait: ServerWait): Promise<ServerVersion> {
    const version = await kindServerVersion(run, clusterName, wait);
    const problem = serverVersionProblem(version, `kind cluster ${clusterName}`);
    if (problem) {
        throw new OpsError(`${problem}\n  For kind: delete it with \`npm run down -- --cluster\`, then \`npm run up\` creates it from kind/cluster.yaml.`);
    }
    return version;
}

/** The Kubernetes version a kind node image names in its tag (`kindest/node:v1.35.8@sha256:...`), if any. */
export function nodeImageVersion(image: string): ServerVersion | undefined {
    const m = /^(?:[^/]+\/)*[^/:@]+:(v[^@]+)(?:@.*)?$/.exec(image);
    if (!m) {
        return undefined;
    }
    try {
        return parseServerVersion(m[1]);
    } catch {
        return undefined;
    }
}

/**
 * Refuses a cluster config whose node images are older than MIN_KUBERNETES_VERSION, before a
 * cluster is created from it. Images whose tag names no version are left to the server check.
 */
export function checkNodeImages(config: KindClusterConfig, label: string): void {
    const problems = config.nodes.flatMap((node, i) => {
        const version = node.image === undefined ? undefined : nodeImageVersion(node.image);
        const problem = version && serverVersionProblem(version, `${label}: nodes[${i}].image ${node.image}`);
        return problem ? [problem] : [];
    });
    if (problems.length > 0) {
        throw new OpsError(
            `${problems.join("\n")}\n  Pin a kindest/node image of ${formatRelease(MIN_KUBERNETES_VERSION)} or newer, built for the kind release you run (see its release notes).`,
        );
    }
}
