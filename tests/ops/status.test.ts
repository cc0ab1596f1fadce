import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { STATUS_USAGE, parseStatusArgs, runCli } from "../../ops/cli";
import { UsageError } from "../../ops/errors";
import { automationErrorLine, parseDockerInspect, parsePods, planStatus, kubectlCommand, podStatsPath, runStatus } from "../../ops/status";
import { FakeBackend, FakeHttp, FakeMachine, FakeTime, LIVE, fail, fakeDeps, inspectJson, makeRepo, opsError, podsJson, statsText } from "./fakes";

const OLD = { ...LIVE, "listener_manager.lds": "0ld0000000000000" };

describe("ops/status: npm run status", () => {
  let machine: FakeMachine;
  let backend: FakeBackend;
  let time: FakeTime;
  let repo: string;
  const deps = () => fakeDeps(machine, backend, new FakeHttp([new Error("no HTTP here")]), time);

  beforeEach(() => {
    machine = new FakeMachine();
    machine.clusters.set("envoy-mesh", { running: true, publishes: true });
    backend = new FakeBackend();
    backend.stacks.add("kind");
    backend.stacks.add("docker");
    time = new FakeTime();
    repo = makeRepo();
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  describe("parsing what kubectl and docker print", () => {
    it("pods: proxy label, every container's restarts (the native Envoy sidecar is an init container), ready; deleted pods left out", () => {
      const json = podsJson([
        { proxy: "service-b", name: "b-1", restarts: 2, stats: [] },
        { proxy: "service-b", name: "b-old", deleting: true, stats: [] },
        { proxy: "service-c", name: "c-1", phase: "Pending", stats: [] },
      ]);
      assert.deepEqual(parsePods(json), [
        { proxy: "service-b", name: "b-1", restarts: 2, ready: true },
        { proxy: "service-c", name: "c-1", restarts: 0, ready: false, notRunning: "the pod is Pending" },
      ]);
      assert.throws(() => parsePods("error: the server doesn't have a resource type"), /kubectl get pods printed no JSON/);
    });
    it("docker containers: proxy label, RestartCount, running", () => {
      assert.deepEqual(parseDockerInspect(inspectJson([{ proxy: "front-envoy", name: "envoy-mesh-front-envoy-1", restarts: 1, stats: [] }])), [
        { proxy: "front-envoy", name: "envoy-mesh-front-envoy-1", restarts: 1, ready: true },
      ]);
      assert.deepEqual(parseDockerInspect(inspectJson([{ proxy: "service-a", name: "a", phase: "exited", stats: [] }]))[0].notRunning, "the container is exited");
    });
  });

  describe("argument building", () => {
    it("kind: the kubectl inside the control-plane node; a cloud stack: the host's kubectl with the stack's kubeconfig and context", () => {
      assert.deepEqual(kubectlCommand({ via: "kind-node", node: "dev-control-plane", context: "kind-dev" }, "mesh", ["get", "pods"]), [
        "docker",
        ["exec", "dev-control-plane", "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "--namespace", "mesh", "get", "pods"],
      ]);
      assert.deepEqual(kubectlCommand({ via: "kubectl", kubeconfig: "/home/u/.kube/config", context: "prod" }, "mesh", ["get", "pods"]), [
        "kubectl",
        ["--kubeconfig", "/home/u/.kube/config", "--context", "prod", "--namespace", "mesh", "get", "pods"],
      ]);
    });
    it("a pod's stats through the API server's pod proxy, to its health port", () => {
      assert.equal(podStatsPath("mesh", "a-1", 9902, "/stats?filter=x"), "/api/v1/namespaces/mesh/pods/a-1:9902/proxy/stats?filter=x");
    });
    it("a cloud stack: read from the Pulumi backend the user is logged in to, not the local state", () => {
      fs.writeFileSync(
        path.join(repo, "Pulumi.prod.yaml"),
        'config:\n  envoy-mesh:target: cloud\n  envoy-mesh:kubeconfig: /tmp/kc\n  envoy-mesh:kubeContext: prod-ctx\n  envoy-mesh:namespace: shop\n  envoy-mesh:registry: ghcr.io/acme\n',
      );
      const plan = planStatus(repo, "prod", {});
      assert.deepEqual(plan.access, { via: "kubectl", kubeconfig: "/tmp/kc", context: "prod-ctx" });
      assert.equal(plan.namespace, "shop");
      assert.equal(plan.backend, "ambient");
      assert.equal(plan.workspace.envVars.PULUMI_BACKEND_URL, undefined);
    });
    it("a stack the state does not have, or no Pulumi CLI: the CLI's own reason, in one line", async () => {
      backend.stacks.delete("kind");
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "kind" }));
      assert.equal(err.message, "cannot read the outputs of stack kind: error: no stack named 'kind' found (deploy it with npm run up first)");
      const enoent = new Error("code: -2\n stdout: \n stderr: Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT\n err?: Error: Command failed\n");
      assert.equal(automationErrorLine(enoent), "the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)");
    });

    it("a stack without a file: says so before asking anything", async () => {
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "nope" }));
      assert.match(err.message, /^Pulumi\.nope\.yaml: not found/);
      assert.deepEqual(machine.commands(), []);
    });
  });

  describe("the report", () => {
    it("every Envoy converged: one line each, read from the state without an update", async () => {
      machine.envoys.push({ proxy: "front-envoy", name: "front-envoy-5f7d8-fghij", restarts: 1, stats: [statsText(LIVE)] });
      const d = deps();
      const report = await runStatus(d, { repoRoot: repo, stack: "kind" });
      assert.equal(report.converged, true);
      assert.deepEqual(backend.ops(), ["selectStack", "outputs"], "no update, no preview");
      assert.deepEqual(d.lines.slice(1), [
        "  ok        front-envoy front-envoy-5f7d8-abcde: 2 subscriptions at the expected version, 0 restarts",
        "  ok        front-envoy front-envoy-5f7d8-fghij: 2 subscriptions at the expected version, 1 restart",
        "every Envoy runs the expected config (2 asked)",
      ]);
      assert.match(d.lines[0], /^Stack kind: asking the mesh's pods \(kubectl --context kind-envoy-mesh -n envoy-mesh get pods -l app\.kubernetes\.io\/part-of=envoy-mesh\)$/);
    });

    it("a lagging pod: named, with the version it runs and the one expected; exit code 1", async () => {
      machine.envoys[0].stats = [statsText(OLD)];
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "kind" }));
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /^not every Envoy runs the expected config: 1 lagging \(front-envoy-5f7d8-abcde\)/);
      assert.match(err.message, /\n {12}listener_manager\.lds: runs 0ld0000000000000, expected 1d5000000000000a\n/);
      assert.match(err.message, /A kubelet rewrites a pod's ConfigMap files on its next sync of the pod \(every 60-90 s by default\)/);
    });

    it("a rejected file: Envoy kept its last good config, the counter, and the command that shows its log", async () => {
      machine.envoys[0].stats = [statsText(OLD, { rejected: 1 })];
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "kind" }));
      assert.match(err.message, /rejected an update and kept its last good config \(0 restarts\); see kubectl --context kind-envoy-mesh -n envoy-mesh logs front-envoy-5f7d8-abcde -c envoy \(Envoy logs "Filesystem config update rejected"\)/);
      assert.match(err.message, /listener_manager\.lds: runs 0ld0000000000000, expected 1d5000000000000a \(update_rejected 1, update_failure 0\)/);
    });

    it("a pod whose stats cannot be read: says why", async () => {
      machine.envoys[0].stats = [fail("Error from server (ServiceUnavailable): the server is currently unable to handle the request")];
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "kind" }));
      assert.match(err.message, /its stats cannot be read: the API server's pod proxy to port 9902 answered: Error from server \(ServiceUnavailable\)/);
    });

    it("no output envoyConfig (an older deployment): says to deploy, asks no Envoy", async () => {
      backend.outputs = Object.fromEntries(Object.entries(backend.outputs).filter(([k]) => k !== "envoyConfig"));
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "kind" }));
      assert.match(err.message, /no output envoyConfig/);
      assert.deepEqual(machine.commands(), []);
    });

    it("docker: the Envoy containers, read with docker exec and bash's /dev/tcp", async () => {
      const d = deps();
      const report = await runStatus(d, { repoRoot: repo, stack: "docker" });
      assert.equal(report.converged, true);
      const exec = machine.calls.find((c) => c.args[0] === "exec")!;
      assert.deepEqual(exec.args.slice(0, 4), ["exec", "front-envoy-5f7d8-abcde", "/bin/bash", "-c"]);
      assert.deepEqual(exec.args.slice(5, 7), ["bash", "9902"]);
      assert.match(exec.args[7], /^GET \/stats\?filter=\S+ HTTP\/1\.1\r\nHost: localhost\r\nConnection: close\r\n\r\n$/);
    });
  });

  describe("--wait", () => {
    it("nudges a lagging pod once with an annotation, then reports it converged; the pod keeps its name", async () => {
      machine.envoys[0].stats = [statsText(OLD)];
      machine.envoys[0].afterNudge = statsText(LIVE);
      const d = deps();
      const report = await runStatus(d, { repoRoot: repo, stack: "kind", waitMs: 180_000 });
      assert.equal(report.converged, true);
      assert.deepEqual(machine.nudged, ["front-envoy-5f7d8-abcde envoy-mesh/config-resync=2026-12-02T07:00:00.000Z --overwrite"]);
      assert.deepEqual(time.sleeps, [5000]);
      assert.ok(d.lines.includes("      front-envoy-5f7d8-abcde lags: asked its kubelet to refresh its config files now"), d.lines.join("\n"));
    });

    it("--no-nudge: never annotates; times out at the deadline naming the lagging pod", async () => {
      machine.envoys[0].stats = [statsText(OLD)];
      const err = await opsError(runStatus(deps(), { repoRoot: repo, stack: "kind", waitMs: 12_000, nudge: false }));
      assert.deepEqual(machine.nudged, []);
      assert.deepEqual(time.sleeps, [5000, 5000, 2000], "never sleeps past the deadline");
      assert.match(err.message, /^after 12 s, not every Envoy runs the expected config: 1 lagging \(front-envoy-5f7d8-abcde\)/);
    });

    it("waits for a pod that catches up on its own", async () => {
      machine.envoys[0].stats = [statsText(OLD), statsText(OLD), statsText(LIVE)];
      const report = await runStatus(deps(), { repoRoot: repo, stack: "kind", waitMs: 60_000, nudge: false });
      assert.equal(report.converged, true);
      assert.deepEqual(time.sleeps, [5000, 5000]);
    });
  });

  describe("the command line", () => {
    it("parses --stack, --wait and --no-nudge, each also as --flag=value", () => {
      assert.deepEqual(parseStatusArgs([]), { help: false, stack: "kind", nudge: true });
      assert.deepEqual(parseStatusArgs(["--stack", "prod", "--wait=90", "--no-nudge"]), { help: false, stack: "prod", nudge: false, waitMs: 90_000 });
    });
    it("refuses a bad value, naming it", () => {
      assert.throws(() => parseStatusArgs(["--wait", "0"]), (e: unknown) => e instanceof UsageError && /--wait must be a whole number of seconds from 1 to 3600 \(got "0"\)/.test(e.message));
      assert.throws(() => parseStatusArgs(["--stack", "../x"]), UsageError);
      assert.throws(() => parseStatusArgs(["--wat"]), /unknown argument "--wat"/);
    });
    it("exit codes: 0 converged, 1 not converged, 2 usage", async () => {
      const io = { out: () => undefined, err: () => undefined };
      const run = (argv: string[]) => runCli("npm run status", STATUS_USAGE, argv, parseStatusArgs, (a) => runStatus(deps(), { repoRoot: repo, stack: a.stack }), io);
      assert.equal(await run([]), 0);
      machine.envoys[0].stats = [statsText(OLD)];
      assert.equal(await run([]), 1);
      assert.equal(await run(["--bogus"]), 2);
    });
  });
});

