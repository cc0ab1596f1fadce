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
    /** The Front Envoy's HTTPS NodePort, and its mapping to the host. */
    readonly tlsNodePort: number;
    readonly tlsMapping: PortMapping;
}

/** Both NodePorts the cluster must publish, each with its host port and what it serves. */
function published(spec: ClusterSpec): { nodePort: number; mapping: PortMapping; url: string; what: string }[] {
    return [
        { nodePort: spec.frontNodePort, mapping: spec.mapping, url: `http://localhost:${spec.mapping.hostPort}/`, what: "the Front Envoy NodePort" },
        { nodePort: spec.tlsNodePort, mapping: spec.tlsMapping, url: `https://localhost:${spec.tlsMapping.hostPort}/`, what: "the Front Envoy's HTTPS NodePort" },
    ];
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

/** Checks the host ports of the Front Envoy mappings (HTTP and HTTPS) before creating the cluster. */
export async function checkFrontPort(probe: PortProbe, spec: ClusterSpec): Promise<void> {
    for (const { nodePort, mapping, url, what } of published(spec)) {
        if (!(await probe(mapping.hostPort, mapping.listenAddress))) {
            throw portTakenError(
                mapping.hostPort,
                mapping.listenAddress,
                `the kind cluster maps ${what} ${nodePort} to it (so the mesh answers at ${url})`,
                "then run `npm run up` again",
            );
        }
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
    for (const { nodePort, mapping } of published(spec)) {
        const port = await run("docker", ["port", node, `${nodePort}/tcp`]);
        const ok = port.stdout.split("\n").some((l) => l.trim().endsWith(`:${mapping.hostPort}`));
        if (port.code !== 0 || !ok) {
            throw new OpsError(
                `kind cluster ${spec.name} exists but does not publish NodePort ${nodePort} on host port ${mapping.hostPort} ` +
                    `(it was not created from ${spec.configPath}${nodePort === spec.tlsNodePort ? ", or before that file mapped the front's HTTPS port" : ""}).\n` +
                    "  Delete it with `npm run down -- --cluster`, then run `npm run up` again.",
            );
        }
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
