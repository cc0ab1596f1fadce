import { CommandRunner, lastLine, showCommand } from "./command";
import { OpsError } from "./errors";
import { PortMapping } from "./kindConfig";
import { PortProbe } from "./ports";
import { portTakenError } from "./registry";

/** How long `kind create cluster` waits for the control plane to be ready. */
export const CREATE_WAIT = "120s";

export interface ClusterSpec {
    /** Cluster name; kind names its kube context `kind-<name>`. */
    readonly name: string;
    /** Absolute path of the kind cluster config file. */
    readonly configPath: string;
    /** The Front Envoy NodePort (container side of the mapping). */
    readonly frontNodePort: number;
    /** The mapping of that NodePort to the host, from the config file. */
    readonly mapping: PortMapping;
}

/** kind names the first control-plane node's container `<cluster>-control-plane`. */
export function controlPlaneNode(clusterName: string): string {
    return `${clusterName}-control-plane`;
}

/** Lists kind clusters; read-only. */
export async function listClusters(run: CommandRunner): Promise<string[]> {
    const r = await run("kind", ["get", "clusters"]);
    if (r.code !== 0) {
        throw new OpsError(`\`kind get clusters\` failed: ${lastLine(r) || `exit code ${r.code}`}`);
    }
    // With no clusters kind prints "No kind clusters found." on stderr and nothing on stdout.
    return r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 0);
}

export async function clusterExists(run: CommandRunner, name: string): Promise<boolean> {
    return (await listClusters(run)).includes(name);
}

/** Checks the host port of the Front Envoy mapping before creating the cluster. */
export async function checkFrontPort(probe: PortProbe, spec: ClusterSpec): Promise<void> {
    const { hostPort, listenAddress } = spec.mapping;
    if (!(await probe(hostPort, listenAddress))) {
        throw portTakenError(
            hostPort,
            listenAddress,
            `the kind cluster maps the Front Envoy NodePort ${spec.frontNodePort} to it (so the mesh answers at http://localhost:${hostPort}/)`,
            "then run `npm run up` again",
        );
    }
}

/** The command that creates the cluster. */
export function createClusterArgs(spec: ClusterSpec): string[] {
    return ["create", "cluster", "--name", spec.name, "--config", spec.configPath, "--wait", CREATE_WAIT];
}

export async function createCluster(run: CommandRunner, spec: ClusterSpec): Promise<void> {
    const args = createClusterArgs(spec);
    const r = await run("kind", args);
    if (r.code !== 0) {
        throw new OpsError(`creating kind cluster ${spec.name} failed: ${lastLine(r) || `exit code ${r.code}`}\n  command: ${showCommand("kind", args)}`);
    }
}

/**
 * For an existing cluster: starts its node if Docker stopped it (e.g. after a restart), and
 * checks it publishes the Front Envoy port. A cluster of the same name created some other way
 * would otherwise deploy fine and never answer.
 */
export async function checkExistingCluster(run: CommandRunner, spec: ClusterSpec): Promise<"running" | "started"> {
    const node = controlPlaneNode(spec.name);
    const state = await run("docker", ["inspect", "--format", "{{.State.Running}}", node]);
    if (state.code !== 0) {
        throw new OpsError(`kind lists cluster ${spec.name} but its node container ${node} cannot be inspected: ${lastLine(state)}`);
    }
    let result: "running" | "started" = "running";
    if (state.stdout.trim() !== "true") {
        const start = await run("docker", ["start", node]);
        if (start.code !== 0) {
            throw new OpsError(`starting the stopped node ${node} of kind cluster ${spec.name} failed: ${lastLine(start)}`);
        }
        result = "started";
    }
    const port = await run("docker", ["port", node, `${spec.frontNodePort}/tcp`]);
    const published = port.stdout.split("\n").some((l) => l.trim().endsWith(`:${spec.mapping.hostPort}`));
    if (port.code !== 0 || !published) {
        throw new OpsError(
            `kind cluster ${spec.name} exists but does not publish NodePort ${spec.frontNodePort} on host port ${spec.mapping.hostPort} ` +
                `(it was not created from ${spec.configPath}).\n` +
                "  Delete it with `npm run down -- --cluster`, then run `npm run up` again.",
        );
    }
    return result;
}

/** Deletes the cluster if it exists. Returns whether it existed. */
export async function deleteCluster(run: CommandRunner, name: string): Promise<boolean> {
    if (!(await clusterExists(run, name))) {
        return false;
    }
    const r = await run("kind", ["delete", "cluster", "--name", name]);
    if (r.code !== 0) {
        throw new OpsError(`deleting kind cluster ${name} failed: ${lastLine(r) || `exit code ${r.code}`}`);
    }
    return true;
}
