import { CommandRunner, lastLine, showCommand } from "./command";
import { OpsError } from "./errors";
import { PortProbe } from "./ports";

/** kind's local-registry guide names the container `kind-registry`; the nodes reach it by that name. */
export const REGISTRY_CONTAINER = "kind-registry";

/** The registry image, pinned (the guide uses `registry:3`). */
export const REGISTRY_IMAGE = "registry:3.0.0";

/** The port the registry listens on inside its container. */
export const REGISTRY_CONTAINER_PORT = 5000;

/** The Docker network kind attaches its nodes to. */
export const KIND_NETWORK = "kind";

/** Where containerd on a node looks for per-registry `hosts.toml` files. */
export const CERTS_D = "/etc/containerd/certs.d";

export type RegistryState = "running" | "stopped" | "missing";

export interface LocalRegistry {
    /** Container name. Default: REGISTRY_CONTAINER. */
    readonly container: string;
    /** Host port, bound on 127.0.0.1 (`localhost:<port>` is how images are named). */
    readonly hostPort: number;
    /** Registry host as images name it, e.g. `localhost:5001`. */
    readonly host: string;
}

async function docker(run: CommandRunner, args: readonly string[], what: string, input?: string): Promise<string> {
    const r = await run("docker", args, input === undefined ? undefined : { input });
    if (r.code !== 0) {
        throw new OpsError(`${what} failed: ${lastLine(r) || `exit code ${r.code}`}\n  command: ${showCommand("docker", args)}`);
    }
    return r.stdout;
}

/** Whether the registry container exists and runs. Read-only. */
export async function registryState(run: CommandRunner, container: string): Promise<RegistryState> {
    const r = await run("docker", ["inspect", "--format", "{{.State.Running}}", container]);
    if (r.code !== 0) {
        if (/no such (object|container)/i.test(r.stderr)) {
            return "missing";
        }
        throw new OpsError(`inspecting container ${container} failed: ${lastLine(r) || `exit code ${r.code}`}`);
    }
    return r.stdout.trim() === "true" ? "running" : "stopped";
}

/**
 * Makes the registry container run: start it when stopped, create it when missing (after
 * checking that its host port is free, so a taken port gets a clear message).
 */
export async function ensureRegistry(run: CommandRunner, registry: LocalRegistry, state: RegistryState): Promise<"created" | "started" | "running"> {
    switch (state) {
        case "running":
            return "running";
        case "stopped":
            await docker(run, ["start", registry.container], `starting registry container ${registry.container}`);
            return "started";
        case "missing":
            await docker(
                run,
                [
                    "run",
                    "--detach",
                    "--restart=always",
                    "--publish",
                    `127.0.0.1:${registry.hostPort}:${REGISTRY_CONTAINER_PORT}`,
                    "--network",
                    "bridge",
                    "--name",
                    registry.container,
                    REGISTRY_IMAGE,
                ],
                `creating registry container ${registry.container}`,
            );
            return "created";
    }
}

/** The error for a host port that something else holds. */
export function portTakenError(port: number, host: string, usedFor: string, fix: string): OpsError {
    return new OpsError(
        `port ${port} on ${host} is already in use; ${usedFor}.\n` +
            `  Find the process with \`lsof -iTCP:${port} -sTCP:LISTEN\` (or \`ss -ltnp | grep :${port}\`) and stop it, ${fix}.`,
    );
}

/** Checks the registry's host port before creating the container. */
export async function checkRegistryPort(probe: PortProbe, registry: LocalRegistry): Promise<void> {
    if (!(await probe(registry.hostPort, "127.0.0.1"))) {
        throw portTakenError(
            registry.hostPort,
            "127.0.0.1",
            `the local image registry (${registry.container}) needs it`,
            `or set envoy-mesh:registry to another localhost port in Pulumi.kind.yaml`,
        );
    }
}

/** Joins the registry to kind's network so nodes resolve it by container name. Returns whether it had to. */
export async function connectRegistryToKind(run: CommandRunner, registry: LocalRegistry): Promise<boolean> {
    const out = await docker(
        run,
        ["inspect", "--format", `{{json .NetworkSettings.Networks.${KIND_NETWORK}}}`, registry.container],
        `inspecting registry container ${registry.container}`,
    );
    if (out.trim() !== "null") {
        return false;
    }
    await docker(run, ["network", "connect", KIND_NETWORK, registry.container], `connecting ${registry.container} to the ${KIND_NETWORK} network`);
    return true;
}

/** The hosts.toml that sends pulls of `localhost:<port>/...` to the registry container. */
export function hostsToml(registry: LocalRegistry): string {
    return `[host."http://${registry.container}:${REGISTRY_CONTAINER_PORT}"]\n`;
}

/**
 * Writes hosts.toml on every node of the cluster ("localhost" inside a node is the node itself,
 * so containerd must be told where `localhost:<port>` really is). Idempotent. Returns the nodes.
 */
export async function wireNodesToRegistry(run: CommandRunner, clusterName: string, registry: LocalRegistry): Promise<string[]> {
    const r = await run("kind", ["get", "nodes", "--name", clusterName]);
    if (r.code !== 0) {
        throw new OpsError(`listing the nodes of kind cluster ${clusterName} failed: ${lastLine(r)}`);
    }
    const nodes = r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
        .sort();
    const dir = `${CERTS_D}/${registry.host}`;
    for (const node of nodes) {
        await docker(run, ["exec", node, "mkdir", "-p", dir], `creating ${dir} on node ${node}`);
        await docker(run, ["exec", "-i", node, "cp", "/dev/stdin", `${dir}/hosts.toml`], `writing ${dir}/hosts.toml on node ${node}`, hostsToml(registry));
    }
    return nodes;
}

/** The ConfigMap by which tools discover the registry (KEP-1755), as kind's guide applies it. */
export function localRegistryHostingConfigMap(registry: LocalRegistry): string {
    return [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: local-registry-hosting",
        "  namespace: kube-public",
        "data:",
        "  localRegistryHosting.v1: |",
        `    host: "${registry.host}"`,
        '    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"',
        "",
    ].join("\n");
}

/** Applies that ConfigMap with the kubectl inside the control-plane node, so no host kubectl is needed. */
export async function documentRegistry(run: CommandRunner, controlPlaneNode: string, registry: LocalRegistry): Promise<void> {
    await docker(
        run,
        ["exec", "-i", controlPlaneNode, "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "apply", "-f", "-"],
        "applying the local-registry-hosting ConfigMap",
        localRegistryHostingConfigMap(registry),
    );
}

/** Removes the registry container if it exists. Returns whether it existed. */
export async function removeRegistry(run: CommandRunner, container: string): Promise<boolean> {
    if ((await registryState(run, container)) === "missing") {
        return false;
    }
    await docker(run, ["rm", "--force", container], `removing registry container ${container}`);
    return true;
}
