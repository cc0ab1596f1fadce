import { CommandRunner, lastLine, showCommand } from "./command";
import { OpsError } from "./errors";
import { PortProbe } from "./ports";
import { portTakenError } from "./registry";
import { DockerStackSettings } from "./stackSettings";

/** Label Docker Compose puts on every container it runs, naming the compose project. */
export const COMPOSE_PROJECT_LABEL = "com.docker.compose.project";

/** What holds the Front Envoy's host port before the update. */
export type FrontPortState = { readonly state: "free" } | { readonly state: "ours"; readonly containers: readonly string[] };

/** `docker ps` of the running containers publishing `port`, each as `name<TAB>networks<TAB>compose project`. */
export function publishersArgs(port: number): string[] {
    // `publish` is a documented `docker container ls` filter; `.Names`, `.Networks` and `.Label` documented format keys.
    return ["ps", "--filter", `publish=${port}`, "--format", `{{.Names}}\t{{.Networks}}\t{{.Label "${COMPOSE_PROJECT_LABEL}"}}`];
}

/**
 * Checks, before anything changes, that the Front Envoy can publish on 127.0.0.1:<port>: the port
 * is free, or this stack's own front container already holds it (a second `up`): a container on
 * the stack's network that Docker Compose did not start (a rendered compose file may use the same
 * network name). Anything else is refused, naming the containers that publish the port.
 */
export async function checkDockerFrontPort(
    run: CommandRunner,
    probe: PortProbe,
    settings: DockerStackSettings,
    port: number = settings.frontHostPort,
): Promise<FrontPortState> {
    const host = settings.frontHost;
    const scheme = port === settings.frontTlsHostPort ? "https" : "http";
    if (await probe(port, host)) {
        return { state: "free" };
    }
    const args = publishersArgs(port);
    const r = await run("docker", args);
    if (r.code !== 0) {
        throw new OpsError(`port ${port} on ${host} is in use, and \`${showCommand("docker", args)}\` failed: ${lastLine(r) || `exit code ${r.code}`}`);
    }
    const publishers = r.stdout
        .split("\n")
        .filter((l) => l.trim().length > 0)
        .map((l) => {
            const [name, networks = "", project = ""] = l.split("\t");
            const ours = networks.split(",").map((n) => n.trim()).includes(settings.network) && project.trim() === "";
            return { name: name.trim(), ours };
        });
    const others = publishers.filter((p) => !p.ours);
    if (publishers.length > 0 && others.length === 0) {
        return { state: "ours", containers: publishers.map((p) => p.name).sort() };
    }
    const usedFor = `the docker stack publishes the Front Envoy${scheme === "https" ? "'s HTTPS" : ""} on it (so the mesh answers at ${scheme}://localhost:${port}/)`;
    const again = "then run `npm run up -- --stack docker` again";
    if (others.length === 0) {
        throw portTakenError(port, host, usedFor, again);
    }
    const names = others.map((p) => p.name);
    throw new OpsError(
        `port ${port} on ${host} is already in use by container ${names.join(", ")}; ${usedFor}.\n` +
            `  Stop it (\`docker stop ${names.join(" ")}\`, or \`docker compose down\` where a rendered compose file runs it), ${again}.`,
    );
}
