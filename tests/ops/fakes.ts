import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandResult, CommandRunner, NOT_FOUND, showCommand } from "../../ops/command";
import { OpsDeps } from "../../ops/deps";
import { HttpResponse, TlsTrust } from "../../ops/http";
import { MeshStack, RunOptions, StackArgs, StackBackend, StackOutputs, WorkspaceOptions } from "../../ops/pulumiStack";
import { OpsError } from "../../ops/errors";
import { statsPath } from "../../ops/envoyStats";
import { DEV_TCP_GET, httpGetRequest } from "../../ops/status";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A real CA certificate (test-only material) standing in for the stack's edgeCaCertificate output. */
export const EDGE_CA_PEM = fs.readFileSync(path.join(REPO_ROOT, "tests", "k8s", "fixtures", "tls", "ca.crt"), "utf8");

export const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "" });
export const fail = (stderr: string, code = 1): CommandResult => ({ code, stdout: "", stderr });

/** What `kubectl version -o json` prints for a server of this gitVersion (kubectl 1.35's shape). */
export function kubectlVersionJson(gitVersion: string): string {
    const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
    const info = (v: string) => ({ major: m?.[1] ?? "", minor: m?.[2] ?? "", gitVersion: v, gitTreeState: "clean", goVersion: "go1.24.6", platform: "linux/amd64" });
    return `${JSON.stringify({ clientVersion: info("v1.35.8"), kustomizeVersion: "v5.7.1", serverVersion: info(gitVersion) }, null, 2)}\n`;
}

/** The live config every fake Envoy of the default stack must report: stat prefix -> version. */
export const LIVE: Readonly<Record<string, string>> = { "cluster_manager.cds": "c0ffee0000000001", "listener_manager.lds": "1d5000000000000a" };

/** The stack output `envoyConfig` of the default fake stack: the front proxy alone. */
export const ENVOY_CONFIG = { "front-envoy": { bootstrap: "b00750000000000b", live: LIVE } };

/** `/stats?filter=` text as Envoy prints it for these subscriptions (stats_render.cc: counters `n: 1`, text readouts `n: "v"`). */
export function statsText(live: Readonly<Record<string, string>>, counters: { success?: number; rejected?: number; failure?: number } = {}): string {
    return Object.entries(live)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .flatMap(([prefix, version]) => [
            `${prefix}.update_failure: ${counters.failure ?? 0}`,
            `${prefix}.update_rejected: ${counters.rejected ?? 0}`,
            `${prefix}.update_success: ${counters.success ?? 1}`,
            `${prefix}.version_text: ${JSON.stringify(version)}`,
        ])
        .join("\n")
        .concat("\n");
}

/** The commands the live-config wait runs on kind when the default fake Envoy is converged (argument building is tested in status.test.ts). */
export function kindStatusCommands(pod = "front-envoy-5f7d8-abcde", namespace = "envoy-mesh"): string[] {
    const kubectl = `docker exec envoy-mesh-control-plane kubectl --kubeconfig=/etc/kubernetes/admin.conf --namespace ${namespace}`;
    return [
        `${kubectl} get pods -l app.kubernetes.io/part-of=envoy-mesh -o json`,
        `${kubectl} get --raw '/api/v1/namespaces/${namespace}/pods/${pod}:9902/proxy${statsPath(Object.keys(LIVE))}'`,
    ];
}

/** The same on docker: list, inspect, and one stats read per Envoy container. */
export function dockerStatusCommands(container = "front-envoy-5f7d8-abcde", network = "envoy-mesh"): string[] {
    return [
        `docker ps --all --quiet --filter label=envoy-mesh.part-of=${network} --filter label=envoy-mesh.role=envoy`,
        `docker inspect ${container}`,
        showCommand("docker", ["exec", container, "/bin/bash", "-c", DEV_TCP_GET, "bash", "9902", httpGetRequest(statsPath(Object.keys(LIVE)))]),
    ];
}

/** One Envoy as the status commands see it: a pod on Kubernetes, a container on docker. */
export interface FakeEnvoy {
    proxy: string;
    name: string;
    restarts?: number;
    /** The pod's phase (default Running); a docker container runs unless Pending/Failed here. */
    phase?: string;
    /** Being deleted (a rollout's old pod). */
    deleting?: boolean;
    /** What its /stats answers, in turn (the last repeats); a CommandResult for a failed read. */
    stats: (string | CommandResult)[];
    /** What its /stats answers once its pod was annotated (the kubelet rewrote its files). */
    afterNudge?: string;
}

/** The Kubernetes pod list `kubectl get pods -o json` prints for these Envoys. */
export function podsJson(envoys: readonly FakeEnvoy[]): string {
    const items = envoys.map((e) => ({
        metadata: { name: e.name, labels: { "app.kubernetes.io/name": e.proxy, "app.kubernetes.io/part-of": "envoy-mesh" }, ...(e.deleting ? { deletionTimestamp: "2026-12-02T07:00:00Z" } : {}) },
        status: {
            phase: e.phase ?? "Running",
            conditions: [{ type: "Ready", status: (e.phase ?? "Running") === "Running" ? "True" : "False" }],
            initContainerStatuses: [{ name: "envoy", restartCount: e.restarts ?? 0, state: (e.phase ?? "Running") === "Running" ? { running: { startedAt: "2026-12-02T06:00:00Z" } } : { waiting: { reason: "PodInitializing" } } }],
            containerStatuses: [{ name: "app", restartCount: 0, state: { running: { startedAt: "2026-12-02T06:00:00Z" } } }],
        },
    }));
    return JSON.stringify({ apiVersion: "v1", kind: "List", items });
}

/** What `docker inspect` prints for these Envoys' containers. */
export function inspectJson(envoys: readonly FakeEnvoy[]): string {
    return JSON.stringify(
        envoys.map((e) => ({
            Name: `/${e.name}`,
            RestartCount: e.restarts ?? 0,
            State: { Status: e.phase === undefined ? "running" : "exited", Running: e.phase === undefined, Health: { Status: "healthy" } },
            Config: { Labels: { "envoy-mesh.proxy": e.proxy, "envoy-mesh.role": "envoy", "envoy-mesh.part-of": "envoy-mesh" } },
        })),
    );
}

/**
 * A machine as far as docker and kind can tell: tests set the state, the runner answers the
 * commands `up` and `down` use from it (and updates it, as the real tools would), and any
 * other command fails the test.
 */
export class FakeMachine {
    dockerInstalled = true;
    dockerDaemon = true;
    kindInstalled = true;
    pulumiVersion: string | undefined = "v3.248.0";
    registry: "running" | "stopped" | "missing" = "missing";
    registryOnKindNetwork = false;
    /**
     * Clusters by name, with whether their node runs and publishes the front port (30080 on
     * 8080), and the front's HTTPS port (30443 on 8443; same as `publishes` unless set).
     */
    clusters = new Map<string, { running: boolean; publishes: boolean; publishesTls?: boolean }>();
    /**
     * What `kubectl version -o json` on a node answers, in turn (the last one repeats): the
     * output of a 1.35.8 API server unless a test sets otherwise.
     */
    serverAnswers: CommandResult[] = [ok(kubectlVersionJson("v1.35.8"))];
    /**
     * Running containers that publish a host port, as `docker ps --filter publish=<port>` lists
     * them: networks joined (comma-separated, as Docker prints them) and compose project ("" if none).
     */
    publishers = new Map<number, { name: string; networks: string; composeProject: string }[]>();
    /** The mesh's Envoys (pods on kind, containers on docker): one front Envoy at the default stack's config. */
    envoys: FakeEnvoy[] = [{ proxy: "front-envoy", name: "front-envoy-5f7d8-abcde", stats: [statsText(LIVE)] }];
    /** Pods annotated to make their kubelet rewrite their files. */
    readonly nudged: string[] = [];
    /** Files written on nodes: `node:path` -> content. */
    nodeFiles = new Map<string, string>();
    readonly calls: { cmd: string; args: string[]; input?: string }[] = [];

    readonly run: CommandRunner = async (cmd, args, options) => {
        this.calls.push({ cmd, args: [...args], ...(options?.input !== undefined ? { input: options.input } : {}) });
        const result = this.answer(cmd, [...args], options?.input);
        if (!result) {
            throw new Error(`FakeMachine: unexpected command ${showCommand(cmd, args)}`);
        }
        return result;
    };

    /** The commands run so far, as shell-like strings. */
    commands(): string[] {
        return this.calls.map((c) => showCommand(c.cmd, c.args));
    }

    private node(name: string): { running: boolean; publishes: boolean; publishesTls?: boolean } | undefined {
        const m = /^(.*)-control-plane$/.exec(name);
        return m ? this.clusters.get(m[1]) : undefined;
    }

    private answer(cmd: string, args: string[], input: string | undefined): CommandResult | undefined {
        const line = args.join(" ");
        if (cmd === "docker") {
            if (!this.dockerInstalled) {
                return fail("docker: not found on PATH", NOT_FOUND);
            }
            if (!this.dockerDaemon) {
                return fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
            }
            return this.docker(args, line, input);
        }
        if (cmd === "kind") {
            return this.kindInstalled ? this.kind(args, line) : fail("kind: not found on PATH", NOT_FOUND);
        }
        if (cmd === "pulumi" && line === "version") {
            return this.pulumiVersion ? ok(`${this.pulumiVersion}\n`) : fail("pulumi: not found on PATH", NOT_FOUND);
        }
        return undefined;
    }

    private nextStats(envoy: FakeEnvoy): string | CommandResult {
        return envoy.stats.length > 1 ? envoy.stats.shift()! : envoy.stats[0];
    }

    /** The status commands: kubectl in the kind node, docker ps/inspect/exec of the Envoy containers. */
    private status(args: string[]): CommandResult | undefined {
        const kubectl = ["kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "--namespace"];
        if (args[0] === "exec" && this.node(args[1]) && kubectl.every((a, i) => args[2 + i] === a)) {
            const rest = args.slice(6);
            if (rest.join(" ") === "get pods -l app.kubernetes.io/part-of=envoy-mesh -o json") {
                return ok(podsJson(this.envoys));
            }
            const raw = rest[0] === "get" && rest[1] === "--raw" ? /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/:]+):\d+\/proxy\/stats\?filter=/.exec(rest[2]) : null;
            if (raw) {
                const envoy = this.envoys.find((e) => e.name === raw[1]);
                if (!envoy) return fail(`Error from server (NotFound): pods "${raw[1]}" not found`);
                const answer = this.nextStats(envoy);
                return typeof answer === "string" ? ok(answer) : answer;
            }
            if (rest[0] === "annotate" && rest[1] === "pod") {
                const envoy = this.envoys.find((e) => e.name === rest[2]);
                this.nudged.push(`${rest[2]} ${rest.slice(3).join(" ")}`);
                if (envoy?.afterNudge !== undefined) envoy.stats = [envoy.afterNudge];
                return envoy ? ok(`pod/${rest[2]} annotated\n`) : fail(`Error from server (NotFound): pods "${rest[2]}" not found`);
            }
            return undefined;
        }
        if (/^ps --all --quiet --filter label=envoy-mesh\.part-of=\S+ --filter label=envoy-mesh\.role=envoy$/.test(args.join(" "))) {
            return ok(this.envoys.map((e) => `${e.name}\n`).join(""));
        }
        if (args[0] === "inspect" && !args[1].startsWith("--")) {
            return ok(inspectJson(this.envoys.filter((e) => args.includes(e.name))));
        }
        const envoy = args[0] === "exec" && args[2] === "/bin/bash" ? this.envoys.find((e) => e.name === args[1]) : undefined;
        if (envoy) {
            const answer = this.nextStats(envoy);
            if (typeof answer !== "string") return answer;
            const body = answer;
            return ok(`HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=UTF-8\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
        }
        return undefined;
    }

    private docker(args: string[], line: string, input: string | undefined): CommandResult | undefined {
        if (line === "info --format {{.ServerVersion}}") {
            return ok("28.2.2\n");
        }
        const status = this.status(args);
        if (status) {
            return status;
        }
        if (line === "inspect --format {{.State.Running}} kind-registry") {
            return this.registry === "missing" ? fail("Error: No such object: kind-registry") : ok(`${this.registry === "running"}\n`);
        }
        if (line === "inspect --format {{json .NetworkSettings.Networks.kind}} kind-registry") {
            return ok(this.registryOnKindNetwork ? '{"NetworkID":"abc"}\n' : "null\n");
        }
        const published = /^ps --filter publish=(\d+) --format \{\{\.Names\}\}\t\{\{\.Networks\}\}\t\{\{\.Label "com\.docker\.compose\.project"\}\}$/.exec(line);
        if (published) {
            return ok((this.publishers.get(Number(published[1])) ?? []).map((p) => `${p.name}\t${p.networks}\t${p.composeProject}\n`).join(""));
        }
        if (args[0] === "run" && args.includes("kind-registry")) {
            this.registry = "running";
            return ok("0123abcd\n");
        }
        if (line === "start kind-registry") {
            this.registry = "running";
            return ok("kind-registry\n");
        }
        if (line === "network connect kind kind-registry") {
            this.registryOnKindNetwork = true;
            return ok();
        }
        if (line === "rm --force kind-registry") {
            this.registry = "missing";
            this.registryOnKindNetwork = false;
            return ok("kind-registry\n");
        }
        const node = args.length >= 4 ? this.node(args[args.length - 1]) : undefined;
        if (args[0] === "inspect" && args[2] === "{{.State.Running}}") {
            return node ? ok(`${node.running}\n`) : fail(`Error: No such object: ${args[3]}`);
        }
        if (args[0] === "start" && this.node(args[1])) {
            this.node(args[1])!.running = true;
            return ok(`${args[1]}\n`);
        }
        if (args[0] === "port") {
            const n = this.node(args[1]);
            const tls = args[2] === "30443/tcp";
            const publishes = tls ? (n?.publishesTls ?? n?.publishes) : n?.publishes;
            return publishes ? ok(tls ? "127.0.0.1:8443\n" : "127.0.0.1:8080\n") : fail(`Error: No public port '${args[2]}' published for ${args[1]}`);
        }
        if (args[0] === "exec" && args.slice(2).join(" ") === "kubectl --kubeconfig=/etc/kubernetes/admin.conf version -o json") {
            if (!this.node(args[1])) {
                return fail(`Error response from daemon: No such container: ${args[1]}`);
            }
            return this.serverAnswers.length > 1 ? this.serverAnswers.shift() : this.serverAnswers[0];
        }
        if (args[0] === "exec") {
            const target = args[1] === "-i" ? args[2] : args[1];
            if (!this.node(target)) {
                return fail(`Error response from daemon: No such container: ${target}`);
            }
            if (args.includes("cp")) {
                this.nodeFiles.set(`${target}:${args[args.length - 1]}`, input ?? "");
            }
            return ok();
        }
        return undefined;
    }

    private kind(args: string[], line: string): CommandResult | undefined {
        if (line === "version") {
            return ok("kind v0.33.0 go1.24.6 linux/amd64\n");
        }
        if (line === "get clusters") {
            const names = [...this.clusters.keys()].sort();
            return names.length > 0 ? ok(`${names.join("\n")}\n`) : { code: 0, stdout: "", stderr: "No kind clusters found.\n" };
        }
        const name = args[args.indexOf("--name") + 1];
        if (args[0] === "get" && args[1] === "nodes") {
            return this.clusters.has(name) ? ok(`${name}-control-plane\n`) : fail(`No kind nodes found for cluster "${name}".`);
        }
        if (args[0] === "create" && args[1] === "cluster") {
            this.clusters.set(name, { running: true, publishes: true });
            return ok();
        }
        if (args[0] === "delete" && args[1] === "cluster") {
            this.clusters.delete(name);
            return ok();
        }
        return undefined;
    }
}

export type BackendCall =
    | { op: "createOrSelectStack"; args: StackArgs; options: WorkspaceOptions }
    | { op: "selectStack"; args: StackArgs; options: WorkspaceOptions }
    | { op: "listStacks"; workDir: string; options: WorkspaceOptions }
    | { op: "up" | "destroy"; stack: string; color: RunOptions["color"]; configFile?: string }
    | { op: "outputs"; stack: string };

/** A Pulumi backend in memory: records every call; `up` returns `outputs`. */
export class FakeBackend implements StackBackend {
    readonly calls: BackendCall[] = [];
    readonly stacks = new Set<string>();
    outputs: StackOutputs = {
        frontUrl: { value: "http://localhost:8080", secret: false },
        edgeCaCertificate: { value: EDGE_CA_PEM, secret: false },
        certificateExpiries: { value: { "front-envoy": "2027-03-02T07:00:00Z", "service-a": "2027-03-02T07:00:00Z", edge: "2027-03-02T07:00:00Z" }, secret: false },
        envoyConfig: { value: ENVOY_CONFIG, secret: false },
    };
    /** When set, `up`/`destroy` reject with this (as the Automation API's CommandError would). */
    failWith: Error | undefined;
    /** Printed through onOutput during up/destroy, as the CLI's progress. */
    progress = "Updating (kind):\n";

    async createOrSelectStack(args: StackArgs, options: WorkspaceOptions): Promise<MeshStack> {
        this.calls.push({ op: "createOrSelectStack", args, options });
        this.stacks.add(args.stackName);
        return this.stack(args.stackName);
    }

    async selectStack(args: StackArgs, options: WorkspaceOptions): Promise<MeshStack> {
        this.calls.push({ op: "selectStack", args, options });
        if (!this.stacks.has(args.stackName)) {
            throw new Error(`code: 255\n stdout: \n stderr: error: no stack named '${args.stackName}' found\n err?: \n`);
        }
        return this.stack(args.stackName);
    }

    async listStacks(workDir: string, options: WorkspaceOptions): Promise<string[]> {
        this.calls.push({ op: "listStacks", workDir, options });
        return [...this.stacks].sort();
    }

    ops(): string[] {
        return this.calls.map((c) => c.op);
    }

    private stack(name: string): MeshStack {
        return {
            name,
            up: async (o) => {
                this.calls.push({ op: "up", stack: name, color: o.color, ...(o.configFile ? { configFile: o.configFile } : {}) });
                o.onOutput(this.progress);
                if (this.failWith) {
                    throw this.failWith;
                }
                return { outputs: this.outputs };
            },
            outputs: async () => {
                this.calls.push({ op: "outputs", stack: name });
                return this.outputs;
            },
            destroy: async (o) => {
                this.calls.push({ op: "destroy", stack: name, color: o.color });
                o.onOutput(this.progress);
                if (this.failWith) {
                    throw this.failWith;
                }
            },
        };
    }
}

/** A clock that only moves when the code sleeps. */
export class FakeTime {
    now = 0;
    readonly sleeps: number[] = [];
    readonly clock = (): number => this.now;
    readonly sleep = async (ms: number): Promise<void> => {
        this.sleeps.push(ms);
        this.now += ms;
    };
}

/** Answers GETs from a list (the last answer repeats); records the URLs, and the CA trusted for each. */
export class FakeHttp {
    readonly urls: string[] = [];
    readonly trusted: (string | undefined)[] = [];
    constructor(private readonly answers: (HttpResponse | Error)[]) {}
    readonly get = async (url: string, _timeoutMs?: number, trust?: TlsTrust): Promise<HttpResponse> => {
        this.urls.push(url);
        this.trusted.push(trust?.ca);
        const a = this.answers.length > 1 ? this.answers.shift()! : this.answers[0];
        if (a instanceof Error) {
            throw a;
        }
        return a;
    };
}

export const MESH_BODY = "Calling Service B\nHello from service B\nHello from service A\nHello from service C\n";

export const meshAnswer = (): HttpResponse => ({ status: 200, headers: { "x-served-by": "service-a-7d9c-abcde" }, body: MESH_BODY });

/** The wall-clock time the fakes live at, unless a test says otherwise. */
export const NOW = "2026-12-02T07:00:00Z";

export interface TestDeps extends OpsDeps {
    readonly lines: string[];
    readonly streamed: string[];
    readonly probed: string[];
}

/** Deps wired to the fakes. `takenPorts` lists `host:port` the probe reports as in use. */
export function fakeDeps(
    machine: FakeMachine,
    backend: FakeBackend,
    http: FakeHttp,
    time: FakeTime,
    options: { takenPorts?: string[]; env?: Record<string, string>; now?: string } = {},
): TestDeps {
    const lines: string[] = [];
    const streamed: string[] = [];
    const probed: string[] = [];
    return {
        run: machine.run,
        probePort: async (port, host) => {
            probed.push(`${host}:${port}`);
            return !(options.takenPorts ?? []).includes(`${host}:${port}`);
        },
        http: http.get,
        sleep: time.sleep,
        clock: time.clock,
        now: () => Date.parse(options.now ?? NOW),
        backend,
        env: options.env ?? {},
        log: (line) => lines.push(line),
        stream: (chunk) => streamed.push(chunk),
        streamErr: (chunk) => streamed.push(chunk),
        color: false,
        lines,
        streamed,
        probed,
    };
}

function stackFile(config: Record<string, unknown>): string {
    const lines = Object.entries(config)
        .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
        .join("\n");
    return lines ? `config:\n${lines}\n` : "config: {}\n";
}

/**
 * A throwaway repository root with Pulumi.yaml, Pulumi.kind.yaml (given config lines),
 * Pulumi.docker.yaml (given config lines; target docker unless told) and the real
 * kind/cluster.yaml, so `up` and `down` can read files and create .pulumi-state there.
 */
export function makeRepo(
    stackConfig: Record<string, unknown> = { "envoy-mesh:target": "kind" },
    dockerConfig: Record<string, string | number> = { "envoy-mesh:target": "docker" },
): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-mesh-ops-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: envoy-mesh\nruntime: nodejs\ndescription: test\n");
    fs.writeFileSync(path.join(dir, "Pulumi.kind.yaml"), stackFile(stackConfig));
    fs.writeFileSync(path.join(dir, "Pulumi.docker.yaml"), stackFile(dockerConfig));
    fs.mkdirSync(path.join(dir, "kind"));
    fs.copyFileSync(path.join(REPO_ROOT, "kind", "cluster.yaml"), path.join(dir, "kind", "cluster.yaml"));
    return dir;
}

/** The OpsError a workflow step fails with; fails the test when it succeeds or throws anything else. */
export async function opsError(p: Promise<unknown>): Promise<OpsError> {
    try {
        await p;
    } catch (e) {
        assert.ok(e instanceof OpsError, `expected an OpsError, got ${String(e)}`);
        return e;
    }
    assert.fail("expected the step to fail");
}
