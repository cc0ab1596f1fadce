import { CommandRunner, NOT_FOUND, lastLine } from "./command";
import { Version, compareVersions, findVersion, formatVersion, parseVersion } from "./version";

/** The tools `npm run up` drives. */
export type Tool = "docker" | "kind" | "pulumi";

export const ALL_TOOLS: readonly Tool[] = ["docker", "kind", "pulumi"];

/**
 * Oldest Pulumi CLI accepted. The Automation API calls used here (createOrSelectStack with a
 * local program, up/destroy with onOutput, `--config-file`) all predate it.
 */
export const MIN_PULUMI_VERSION: Version = parseVersion("3.100.0");

/** The kind release that built the node image pinned in kind/cluster.yaml. */
export const KIND_RELEASE = "v0.33.0";

/** How long one probe command may take; a hung Docker socket must not hang `npm run up`. */
export const PROBE_TIMEOUT_MS = 20_000;

export interface ToolStatus {
    readonly tool: Tool;
    readonly ok: boolean;
    /** Version found, e.g. the Docker server version or `v3.248.0` for Pulumi. */
    readonly version?: string;
    /** What is wrong, when not ok. */
    readonly problem?: string;
    /** One line telling how to fix it, when not ok. */
    readonly hint?: string;
    /** Something worth saying even though the tool works. */
    readonly note?: string;
}

const INSTALL_HINTS: Record<Tool, string> = {
    docker: "install Docker Engine or Docker Desktop: https://docs.docker.com/get-started/get-docker/",
    kind: `install kind ${KIND_RELEASE}: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or \`go install sigs.k8s.io/kind@${KIND_RELEASE}\`)`,
    pulumi: `install the Pulumi CLI (>= ${formatVersion(MIN_PULUMI_VERSION)}): curl -fsSL https://get.pulumi.com | sh (https://www.pulumi.com/docs/iac/download-install/)`,
};

async function checkDocker(run: CommandRunner): Promise<ToolStatus> {
    // `docker info` talks to the daemon; it fails when the client exists but the daemon does not.
    const r = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: PROBE_TIMEOUT_MS });
    if (r.code === NOT_FOUND) {
        return { tool: "docker", ok: false, problem: "not found on PATH", hint: INSTALL_HINTS.docker };
    }
    if (r.code !== 0) {
        return {
            tool: "docker",
            ok: false,
            problem: `the Docker daemon is not reachable (docker info: ${lastLine(r) || `exit code ${r.code}`})`,
            hint: "start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and check `docker info` works",
        };
    }
    return { tool: "docker", ok: true, version: r.stdout.trim() || "unknown" };
}

async function checkKind(run: CommandRunner): Promise<ToolStatus> {
    const r = await run("kind", ["version"], { timeoutMs: PROBE_TIMEOUT_MS });
    if (r.code === NOT_FOUND) {
        return { tool: "kind", ok: false, problem: "not found on PATH", hint: INSTALL_HINTS.kind };
    }
    if (r.code !== 0) {
        return { tool: "kind", ok: false, problem: `\`kind version\` failed: ${lastLine(r)}`, hint: INSTALL_HINTS.kind };
    }
    const found = findVersion(r.stdout);
    const version = found ? `v${formatVersion(found)}` : r.stdout.trim();
    const note =
        version === KIND_RELEASE
            ? undefined
            : `kind/cluster.yaml pins a node image built for kind ${KIND_RELEASE}; with kind ${version}, if the cluster does not start, install ${KIND_RELEASE}`;
    return { tool: "kind", ok: true, version, ...(note ? { note } : {}) };
}

async function checkPulumi(run: CommandRunner): Promise<ToolStatus> {
    const r = await run("pulumi", ["version"], { timeoutMs: PROBE_TIMEOUT_MS });
    if (r.code === NOT_FOUND) {
        return { tool: "pulumi", ok: false, problem: "not found on PATH", hint: INSTALL_HINTS.pulumi };
    }
    if (r.code !== 0) {
        return { tool: "pulumi", ok: false, problem: `\`pulumi version\` failed: ${lastLine(r)}`, hint: INSTALL_HINTS.pulumi };
    }
    const found = findVersion(r.stdout);
    if (!found) {
        return {
            tool: "pulumi",
            ok: false,
            problem: `cannot read a version from \`pulumi version\` output ${JSON.stringify(r.stdout.trim())}`,
            hint: INSTALL_HINTS.pulumi,
        };
    }
    if (compareVersions(found, MIN_PULUMI_VERSION) < 0) {
        return {
            tool: "pulumi",
            ok: false,
            version: `v${formatVersion(found)}`,
            problem: `version v${formatVersion(found)} is older than the required ${formatVersion(MIN_PULUMI_VERSION)}`,
            hint: `upgrade: ${INSTALL_HINTS.pulumi.replace(/^install /, "")}`,
        };
    }
    return { tool: "pulumi", ok: true, version: `v${formatVersion(found)}` };
}

const CHECKS: Record<Tool, (run: CommandRunner) => Promise<ToolStatus>> = {
    docker: checkDocker,
    kind: checkKind,
    pulumi: checkPulumi,
};

/** Probes each tool (concurrently) and reports them in the order asked. Changes nothing. */
export async function checkPrerequisites(run: CommandRunner, tools: readonly Tool[] = ALL_TOOLS): Promise<ToolStatus[]> {
    return Promise.all(tools.map((t) => CHECKS[t](run)));
}

/** The failing tools as one message: one line per tool with its problem and how to fix it. */
export function formatMissing(statuses: readonly ToolStatus[]): string {
    const bad = statuses.filter((s) => !s.ok);
    const lines = bad.map((s) => `  - ${s.tool}: ${s.problem}\n      fix: ${s.hint}`);
    return `needs ${bad.map((s) => s.tool).join(", ")}, which ${bad.length === 1 ? "is" : "are"} missing or not working:\n${lines.join("\n")}`;
}

/** One line for the tools that work, e.g. `docker 28.2.2, kind v0.33.0, pulumi v3.248.0`. */
export function formatFound(statuses: readonly ToolStatus[]): string {
    return statuses
        .filter((s) => s.ok)
        .map((s) => `${s.tool} ${s.version}`)
        .join(", ");
}
