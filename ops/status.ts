/**
 * `npm run status`, and the wait at the end of `npm run up`: reads the stack output `envoyConfig`
 * (the versions every proxy's Envoys must report), asks every running Envoy what it runs, from
 * Envoy itself (`/stats` through its health listener), and reports who runs what.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackSettings, readStackValues } from "../stack";
import { isKubernetesStack } from "../stack/settings";
import { ConfigError } from "../topology/reader";
import { DOCKER_LABELS } from "../docker/mesh";
import { PART_OF } from "../k8s/labels";
import { CommandRunner, lastLine, showCommand } from "./command";
import { OpsDeps } from "./deps";
import {
  ENVOY_CONFIG_OUTPUT,
  EnvoyStatus,
  ExpectedConfig,
  LogsHint,
  MeshEnvoy,
  StatsReading,
  StatusReport,
  assessEnvoy,
  buildReport,
  formatReport,
  parseEnvoyConfigOutput,
  parseHttpResponse,
  statsPath,
  summarize,
} from "./envoyStats";
import { OpsError } from "./errors";
import { LocalBackend, WorkspaceOptions, localBackend } from "./pulumiStack";

/** The label every pod of the mesh carries, and the one that names its proxy (k8s/labels.ts). */
export const POD_SELECTOR = `app.kubernetes.io/part-of=${PART_OF}`;
export const PROXY_LABEL = "app.kubernetes.io/name";
/** The Envoy container of every pod (k8s/pod.ts ENVOY_CONTAINER). */
export const ENVOY_CONTAINER = "envoy";

/**
 * The annotation a nudge sets on a lagging pod. Any annotation change makes the kubelet sync the
 * pod at once (kubernetes/kubernetes pkg/kubelet/config/config.go, podsDifferSemantically compares
 * annotations, so the update reaches the pod worker), and every pod sync asks the volume manager
 * to set up the pod's volumes again (pkg/kubelet/volumemanager/volume_manager.go,
 * WaitForAttachAndMount calls desiredStateOfWorldPopulator.ReprocessPod), which rewrites a
 * ConfigMap volume from the kubelet's ConfigMap cache. The pod keeps its name, containers and
 * restart count; nothing else reads the annotation.
 */
export const NUDGE_ANNOTATION = "envoy-mesh/config-resync";

/**
 * How long a kubelet may take to rewrite a ConfigMap volume after the ConfigMap changed, without a
 * nudge: a pod is synced every syncFrequency (1 min by default) with up to 50 % jitter
 * (pkg/kubelet/pod_workers.go, workerResyncIntervalJitterFactor = 0.5), and with the default
 * Watch change detection the kubelet's ConfigMap cache is current, so 60-90 s.
 */
export const KUBELET_PROPAGATION_S = 90;

/** Default wait: twice the kubelet's worst propagation, so one missed sync still converges. */
export const DEFAULT_CONFIG_WAIT_MS = 2 * KUBELET_PROPAGATION_S * 1000;

/** How often the wait asks every Envoy again. */
export const POLL_INTERVAL_MS = 5_000;

/** How long one stats request may take before the Envoy counts as unreadable this round. */
export const STATS_TIMEOUT_MS = 15_000;

/** Where the Envoys run, and how to ask them. */
export interface StatusTarget {
  /** For messages: which pods or containers were asked. */
  readonly description: string;
  list(): Promise<MeshEnvoy[]>;
  readStats(envoy: MeshEnvoy, path: string): Promise<StatsReading>;
  readonly logsHint: LogsHint;
  /** Makes the Envoy's files current at once, when the target can (Kubernetes); returns an error text, or undefined. */
  nudge?(envoy: MeshEnvoy, at: string): Promise<string | undefined>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The mesh's pods from `kubectl get pods -o json`: name, proxy label, restarts (every container,
 * the native Envoy sidecar among the init containers), ready. Pods being deleted are left out:
 * they are leaving the mesh, and a rollout's old pods would report the old config.
 */
export function parsePods(json: string): MeshEnvoy[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new Error(`kubectl get pods printed no JSON: ${JSON.stringify(json.trim().slice(0, 200))}`);
  }
  const envoys: MeshEnvoy[] = [];
  for (const pod of asArray(isRecord(list) ? list.items : undefined)) {
    if (!isRecord(pod) || !isRecord(pod.metadata)) continue;
    const meta = pod.metadata;
    if (meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null) continue;
    const labels = isRecord(meta.labels) ? meta.labels : {};
    const proxy = labels[PROXY_LABEL];
    if (typeof meta.name !== "string" || typeof proxy !== "string") continue;
    const status = isRecord(pod.status) ? pod.status : {};
    const containers = [...asArray(status.initContainerStatuses), ...asArray(status.containerStatuses)].filter(isRecord);
    const restarts = containers.reduce((n, c) => n + (typeof c.restartCount === "number" ? c.restartCount : 0), 0);
    const ready = asArray(status.conditions).some((c) => isRecord(c) && c.type === "Ready" && c.status === "True");
    const phase = typeof status.phase === "string" ? status.phase : "Unknown";
    const envoy = containers.find((c) => c.name === ENVOY_CONTAINER);
    const notRunning =
      phase !== "Running" ? `the pod is ${phase}` : envoy !== undefined && !isRecord(isRecord(envoy.state) ? envoy.state.running : undefined) ? "its envoy container is not running" : undefined;
    envoys.push({ proxy, name: meta.name, restarts, ready, ...(notRunning !== undefined ? { notRunning } : {}) });
  }
  return envoys;
}

/** How kubectl reaches the cluster. */
export type KubeAccess =
  /** kind: the kubectl inside the control-plane node, so no kubectl is needed on this machine; `context` is the user's. */
  | { readonly via: "kind-node"; readonly node: string; readonly context: string }
  | { readonly via: "kubectl"; readonly kubeconfig?: string; readonly context?: string };

/** The command that runs `kubectl <args>` in the namespace. */
export function kubectlCommand(access: KubeAccess, namespace: string, args: readonly string[]): [string, string[]] {
  if (access.via === "kind-node") {
    return ["docker", ["exec", access.node, "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "--namespace", namespace, ...args]];
  }
  return [
    "kubectl",
    [...(access.kubeconfig !== undefined ? ["--kubeconfig", access.kubeconfig] : []), ...(access.context !== undefined ? ["--context", access.context] : []), "--namespace", namespace, ...args],
  ];
}

/** The kubectl a user types on this machine for the same cluster and namespace. */
export function userKubectl(access: KubeAccess, namespace: string): string {
  const context = access.context !== undefined ? ` --context ${access.context}` : "";
  const kubeconfig = access.via === "kubectl" && access.kubeconfig !== undefined ? ` --kubeconfig ${access.kubeconfig}` : "";
  return `kubectl${kubeconfig}${context} -n ${namespace}`;
}

/**
 * A pod's `/stats` through the API server's pod proxy, to the pod's health listener (admin itself
 * listens on 127.0.0.1 only; the health listener routes the exact path /stats to it, query included).
 */
export function podStatsPath(namespace: string, pod: string, healthPort: number, statsQueryPath: string): string {
  return `/api/v1/namespaces/${namespace}/pods/${pod}:${healthPort}/proxy${statsQueryPath}`;
}

export function kubernetesTarget(run: CommandRunner, access: KubeAccess, namespace: string, healthPort: number): StatusTarget {
  const kubectl = (args: readonly string[], timeoutMs?: number) => {
    const [cmd, full] = kubectlCommand(access, namespace, args);
    return run(cmd, full, timeoutMs !== undefined ? { timeoutMs } : {});
  };
  const user = userKubectl(access, namespace);
  return {
    description: `the mesh's pods (${user} get pods -l ${POD_SELECTOR})`,
    async list() {
      const args = ["get", "pods", "-l", POD_SELECTOR, "-o", "json"];
      const result = await kubectl(args);
      if (result.code !== 0) {
        throw new OpsError(`cannot list the mesh's pods: ${showCommand(...kubectlCommand(access, namespace, args))} failed: ${lastLine(result)}`);
      }
      return parsePods(result.stdout);
    },
    async readStats(envoy, statsQueryPath) {
      const result = await kubectl(["get", "--raw", podStatsPath(namespace, envoy.name, healthPort, statsQueryPath)], STATS_TIMEOUT_MS);
      return result.code === 0 ? { text: result.stdout } : { error: `the API server's pod proxy to port ${healthPort} answered: ${lastLine(result) || `exit code ${result.code}`}` };
    },
    logsHint: (envoy) => `${user} logs ${envoy.name} -c ${ENVOY_CONTAINER}`,
    async nudge(envoy, at) {
      const result = await kubectl(["annotate", "pod", envoy.name, `${NUDGE_ANNOTATION}=${at}`, "--overwrite"]);
      return result.code === 0 ? undefined : lastLine(result);
    },
  };
}

/** The Envoy containers of a docker target from `docker inspect` (a JSON array). */
export function parseDockerInspect(json: string): MeshEnvoy[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new Error(`docker inspect printed no JSON: ${JSON.stringify(json.trim().slice(0, 200))}`);
  }
  const envoys: MeshEnvoy[] = [];
  for (const c of asArray(list)) {
    if (!isRecord(c) || typeof c.Name !== "string") continue;
    const labels = isRecord(c.Config) && isRecord(c.Config.Labels) ? c.Config.Labels : {};
    const proxy = labels[DOCKER_LABELS.proxy];
    if (typeof proxy !== "string") continue;
    const state = isRecord(c.State) ? c.State : {};
    const health = isRecord(state.Health) ? state.Health.Status : undefined;
    const running = state.Running === true;
    envoys.push({
      proxy,
      name: c.Name.replace(/^\//, ""),
      restarts: typeof c.RestartCount === "number" ? c.RestartCount : 0,
      ready: running && (health === undefined || health === "healthy"),
      ...(running ? {} : { notRunning: `the container is ${typeof state.Status === "string" ? state.Status : "not running"}` }),
    });
  }
  return envoys;
}

/**
 * Reads a URL path from 127.0.0.1:<port> inside a container with bash's /dev/tcp (the Envoy image
 * has bash but no curl), printing the raw response; the port and request come as arguments, so
 * nothing in them is shell syntax.
 */
export const DEV_TCP_GET = 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "%s" "$2" >&3; while IFS= read -r -t 5 line || [[ -n "$line" ]]; do printf "%s\\n" "$line"; line=; done <&3';

export function httpGetRequest(pathAndQuery: string): string {
  return `GET ${pathAndQuery} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;
}

export function dockerTarget(run: CommandRunner, network: string, healthPort: number): StatusTarget {
  const filters = ["--filter", `label=${DOCKER_LABELS.partOf}=${network}`, "--filter", `label=${DOCKER_LABELS.role}=envoy`];
  return {
    description: `the mesh's Envoy containers (docker ps --all ${filters.join(" ")})`,
    async list() {
      const ps = await run("docker", ["ps", "--all", "--quiet", ...filters]);
      if (ps.code !== 0) {
        throw new OpsError(`cannot list the mesh's Envoy containers: docker ps failed: ${lastLine(ps)}`);
      }
      const ids = ps.stdout.split(/\s+/).filter((id) => id.length > 0);
      if (ids.length === 0) return [];
      const inspect = await run("docker", ["inspect", ...ids]);
      if (inspect.code !== 0) {
        throw new OpsError(`cannot inspect the mesh's Envoy containers: docker inspect failed: ${lastLine(inspect)}`);
      }
      return parseDockerInspect(inspect.stdout);
    },
    async readStats(envoy, statsQueryPath) {
      const result = await run("docker", ["exec", envoy.name, "/bin/bash", "-c", DEV_TCP_GET, "bash", String(healthPort), httpGetRequest(statsQueryPath)], { timeoutMs: STATS_TIMEOUT_MS });
      if (result.code !== 0) {
        return { error: `docker exec ${envoy.name} (a GET of 127.0.0.1:${healthPort}${statsQueryPath.split("?")[0]}) failed: ${lastLine(result) || `exit code ${result.code}`}` };
      }
      try {
        const response = parseHttpResponse(result.stdout);
        return response.status === 200 ? { text: response.body } : { error: `its health listener answered HTTP ${response.status}` };
      } catch (e) {
        return { error: (e as Error).message };
      }
    },
    logsHint: (envoy) => `docker logs ${envoy.name}`,
  };
}

/** Asks every Envoy once. */
export async function observe(target: StatusTarget, expected: ExpectedConfig): Promise<StatusReport> {
  const envoys = await target.list();
  const statuses: EnvoyStatus[] = [];
  for (const envoy of envoys) {
    const live = expected[envoy.proxy]?.live;
    const reading = live !== undefined && envoy.notRunning === undefined ? await target.readStats(envoy, statsPath(Object.keys(live))) : undefined;
    statuses.push(assessEnvoy(envoy, expected, reading));
  }
  return buildReport(expected, statuses);
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Annotate lagging pods so their kubelet rewrites the files at once (Kubernetes only). Default: true. */
  readonly nudge?: boolean;
  readonly intervalMs?: number;
}

/**
 * Asks every Envoy until all report the expected versions or `timeoutMs` passes; returns the last
 * report. Each lagging pod is nudged once (see NUDGE_ANNOTATION).
 */
export async function waitForLiveConfig(deps: Pick<OpsDeps, "sleep" | "clock" | "now" | "log">, target: StatusTarget, expected: ExpectedConfig, options: WaitOptions): Promise<StatusReport> {
  const started = deps.clock();
  const nudged = new Set<string>();
  for (;;) {
    const report = await observe(target, expected);
    if (report.converged) return report;
    if (options.nudge !== false && target.nudge) {
      for (const envoy of report.envoys.filter((e) => e.state === "lagging" && !nudged.has(e.name))) {
        nudged.add(envoy.name);
        const failed = await target.nudge(envoy, new Date(deps.now()).toISOString());
        deps.log(failed === undefined ? `      ${envoy.name} lags: asked its kubelet to refresh its config files now` : `      ${envoy.name} lags; could not nudge its kubelet: ${failed}`);
      }
    }
    const remaining = options.timeoutMs - (deps.clock() - started);
    if (remaining <= 0) return report;
    await deps.sleep(Math.min(options.intervalMs ?? POLL_INTERVAL_MS, remaining));
  }
}

/** What to tell the user when the mesh did not converge: the report, and what to do. */
export function notConvergedMessage(report: StatusReport, target: StatusTarget, waitedS: number | undefined): string {
  const lines = [
    waitedS === undefined ? summarize(report) : `after ${waitedS} s, ${summarize(report)}`,
    ...formatReport(report, target.logsHint),
  ];
  if (report.envoys.some((e) => e.state === "lagging")) {
    lines.push(
      `A kubelet rewrites a pod's ConfigMap files on its next sync of the pod (every 60-90 s by default); Envoy reloads them at once. ` +
        `Run npm run status -- --wait ${KUBELET_PROPAGATION_S * 2} to wait longer.`,
    );
  }
  return lines.join("\n");
}

/**
 * The line that says why an Automation API call failed: its error message is `code: N\n stdout:
 * ...\n stderr: ...`; nothing was streamed, so the CLI's own last stderr line is the reason.
 */
export function automationErrorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const stderr = /\n stderr: ([\s\S]*?)\n err\?:/.exec(text)?.[1] ?? text;
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  const line = lines.pop() ?? text.split("\n")[0];
  return /ENOENT/.test(line) && /pulumi/.test(line) ? "the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)" : line;
}

/** What `npm run status` works from: the stack's settings, and how its state is reached. */
export interface StatusPlan {
  readonly stackName: string;
  readonly target: "kubernetes" | "docker";
  readonly namespace: string;
  readonly healthPort: number;
  readonly access?: KubeAccess;
  readonly workspace: WorkspaceOptions;
  /** `local` for kind and docker stacks (state in .pulumi-state/), else the Pulumi backend the user is logged in to. */
  readonly backend: "local" | "ambient";
}

/** Reads Pulumi.<stack>.yaml with the program's own parser. Changes nothing. */
export function planStatus(repoRoot: string, stackName: string, env: OpsDeps["env"]): StatusPlan {
  const file = `Pulumi.${stackName}.yaml`;
  if (!fs.existsSync(path.join(repoRoot, file))) {
    throw new OpsError(`${file}: not found in ${repoRoot}; npm run status reads the stack's file to know where its Envoys run`);
  }
  let settings;
  try {
    settings = parseStackSettings(readStackValues(repoRoot, stackName));
  } catch (e) {
    if (e instanceof ConfigError) throw new OpsError(`${file}: ${e.message}`);
    throw e;
  }
  const healthPort = settings.topology.ports.health;
  const local: LocalBackend = localBackend(repoRoot, env);
  if (!isKubernetesStack(settings)) {
    return { stackName, target: "docker", namespace: settings.docker.name, healthPort, workspace: local.options, backend: "local" };
  }
  const namespace = settings.mesh.namespace;
  if (settings.cluster.target === "kind") {
    const access: KubeAccess = { via: "kind-node", node: `${settings.cluster.clusterName}-control-plane`, context: settings.cluster.context };
    return { stackName, target: "kubernetes", namespace, healthPort, access, workspace: local.options, backend: "local" };
  }
  const access: KubeAccess = { via: "kubectl", ...settings.provider };
  const envVars: Record<string, string> = { PULUMI_SKIP_UPDATE_CHECK: "true" };
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) envVars.PULUMI_CONFIG_PASSPHRASE = env.PULUMI_CONFIG_PASSPHRASE;
  return { stackName, target: "kubernetes", namespace, healthPort, access, workspace: { envVars, secretsProvider: "passphrase" }, backend: "ambient" };
}

export function statusTarget(run: CommandRunner, plan: Pick<StatusPlan, "target" | "namespace" | "healthPort" | "access">): StatusTarget {
  return plan.target === "docker" || plan.access === undefined ? dockerTarget(run, plan.namespace, plan.healthPort) : kubernetesTarget(run, plan.access, plan.namespace, plan.healthPort);
}

export interface StatusOptions {
  readonly repoRoot: string;
  readonly stack: string;
  /** `--wait <seconds>`, in milliseconds: wait for convergence up to this long; undefined asks once. */
  readonly waitMs?: number;
  readonly nudge?: boolean;
}

/**
 * `npm run status`: the versions every Envoy must run (stack output `envoyConfig`, read from the
 * state without an update), then each Envoy's own report. Resolves with the report when every
 * Envoy converged; throws an OpsError (exit code 1) with the report otherwise.
 */
export async function runStatus(deps: OpsDeps, options: StatusOptions): Promise<StatusReport> {
  const plan = planStatus(options.repoRoot, options.stack, deps.env);
  let outputs;
  try {
    const stack = await deps.backend.selectStack({ stackName: plan.stackName, workDir: options.repoRoot }, plan.workspace);
    outputs = await stack.outputs();
  } catch (e) {
    const why = automationErrorLine(e);
    const hint = /no stack named/.test(why) ? (plan.backend === "local" ? " (deploy it with npm run up first)" : " (is this the Pulumi backend it was deployed with? pulumi whoami)") : "";
    throw new OpsError(`cannot read the outputs of stack ${plan.stackName}: ${why}${hint}`);
  }
  const expected = parseEnvoyConfigOutput(plan.stackName, outputs[ENVOY_CONFIG_OUTPUT]?.value);
  const target = statusTarget(deps.run, plan);
  deps.log(`Stack ${plan.stackName}: asking ${target.description}${options.waitMs !== undefined ? `, waiting up to ${Math.round(options.waitMs / 1000)} s` : ""}`);
  const report =
    options.waitMs === undefined ? await observe(target, expected) : await waitForLiveConfig(deps, target, expected, { timeoutMs: options.waitMs, nudge: options.nudge !== false });
  if (!report.converged) {
    throw new OpsError(notConvergedMessage(report, target, options.waitMs === undefined ? undefined : Math.round(options.waitMs / 1000)));
  }
  for (const line of formatReport(report, target.logsHint)) deps.log(line);
  deps.log(summarize(report));
  return report;
}
