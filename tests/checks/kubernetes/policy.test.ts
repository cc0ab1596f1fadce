import * as assert from "node:assert/strict";
import { checkPodPolicy, policyRules } from "../../../checks/kubernetes/policy";
import {
  disruptionBudget,
  envoyConfigMap,
  hardenedDeployment,
  headlessService,
  meshNamespace,
  type Mutation,
  mutated,
  serviceAccount,
} from "./fixtures";

const POD = "spec.template.spec";
const APP = `${POD}.containers.0`;
const ENVOY = `${POD}.initContainers.0`;

function findingsAfter(...mutations: Mutation[]): ReturnType<typeof checkPodPolicy> {
  return checkPodPolicy(mutations.reduce(mutated, hardenedDeployment()));
}

function rulesAfter(...mutations: Mutation[]): string[] {
  return findingsAfter(...mutations).map((finding) => finding.rule);
}

describe("checkPodPolicy", () => {
  it("finds nothing in the hardened Deployment", () => {
    assert.deepEqual(checkPodPolicy(hardenedDeployment()), []);
  });

  it("finds nothing in objects without a pod template", () => {
    for (const obj of [headlessService(), envoyConfigMap(), meshNamespace(), serviceAccount(), disruptionBudget(), "text", null]) {
      assert.deepEqual(checkPodPolicy(obj), []);
    }
  });

  describe("reports one finding per rule for a single mutation", () => {
    const rows: { rule: string; mutation: Mutation; path: string; message: RegExp }[] = [
      {
        rule: "restricted/host-process",
        mutation: { set: `${POD}.securityContext.windowsOptions`, value: { hostProcess: true } },
        path: "spec.template.spec.securityContext.windowsOptions.hostProcess",
        message: /HostProcess/,
      },
      {
        rule: "restricted/host-namespaces",
        mutation: { set: `${POD}.hostNetwork`, value: true },
        path: "spec.template.spec.hostNetwork",
        message: /shares the node's network namespace/,
      },
      {
        rule: "restricted/privileged",
        mutation: { set: `${APP}.securityContext.privileged`, value: true },
        path: "spec.template.spec.containers[0].securityContext.privileged",
        message: /^container "app" is privileged/,
      },
      {
        rule: "restricted/capabilities-add",
        mutation: { set: `${ENVOY}.securityContext.capabilities.add`, value: ["NET_ADMIN"] },
        path: "spec.template.spec.initContainers[0].securityContext.capabilities.add[0]",
        message: /^container "envoy" adds capability "NET_ADMIN"/,
      },
      {
        rule: "restricted/host-path-volumes",
        mutation: { set: `${POD}.volumes.2`, value: { name: "logs", hostPath: { path: "/var/log" } } },
        path: "spec.template.spec.volumes[2].hostPath",
        message: /^volume "logs" mounts a directory of the node/,
      },
      {
        rule: "restricted/host-ports",
        mutation: { set: `${ENVOY}.ports.0.hostPort`, value: 10000 },
        path: "spec.template.spec.initContainers[0].ports[0].hostPort",
        message: /binds port 10000 on the node/,
      },
      {
        rule: "restricted/apparmor",
        mutation: { set: `${APP}.securityContext.appArmorProfile`, value: { type: "Unconfined" } },
        path: "spec.template.spec.containers[0].securityContext.appArmorProfile.type",
        message: /AppArmor profile "Unconfined"/,
      },
      {
        rule: "restricted/selinux",
        mutation: { set: `${POD}.securityContext.seLinuxOptions`, value: { type: "spc_t" } },
        path: "spec.template.spec.securityContext.seLinuxOptions.type",
        message: /SELinux type "spc_t"/,
      },
      {
        rule: "restricted/proc-mount",
        mutation: { set: `${APP}.securityContext.procMount`, value: "Unmasked" },
        path: "spec.template.spec.containers[0].securityContext.procMount",
        message: /procMount "Unmasked"/,
      },
      {
        rule: "restricted/seccomp",
        mutation: { set: `${APP}.securityContext.seccompProfile`, value: { type: "Unconfined" } },
        path: "spec.template.spec.containers[0].securityContext.seccompProfile.type",
        message: /every syscall is allowed/,
      },
      {
        rule: "restricted/sysctls",
        mutation: { set: `${POD}.securityContext.sysctls`, value: [{ name: "kernel.msgmax", value: "65536" }] },
        path: "spec.template.spec.securityContext.sysctls[0].name",
        message: /"kernel\.msgmax" is not in the safe set/,
      },
      {
        rule: "restricted/probe-host",
        mutation: { set: `${APP}.readinessProbe.httpGet.host`, value: "10.0.0.1" },
        path: "spec.template.spec.containers[0].readinessProbe.httpGet.host",
        message: /host "10\.0\.0\.1"/,
      },
      {
        rule: "restricted/volume-types",
        mutation: { set: `${POD}.volumes.2`, value: { name: "shared", nfs: { server: "nfs.example", path: "/" } } },
        path: "spec.template.spec.volumes[2].nfs",
        message: /^volume "shared" uses type nfs/,
      },
      {
        rule: "restricted/allow-privilege-escalation",
        mutation: { set: `${ENVOY}.securityContext.allowPrivilegeEscalation`, value: true },
        path: "spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation",
        message: /^container "envoy" does not set allowPrivilegeEscalation: false/,
      },
      {
        rule: "restricted/run-as-non-root",
        mutation: { set: `${APP}.securityContext.runAsNonRoot`, value: false },
        path: "spec.template.spec.containers[0].securityContext.runAsNonRoot",
        message: /^container "app" sets runAsNonRoot: false/,
      },
      {
        rule: "restricted/run-as-user",
        mutation: { set: `${APP}.securityContext.runAsUser`, value: 0 },
        path: "spec.template.spec.containers[0].securityContext.runAsUser",
        message: /UID 0 \(root\)/,
      },
      {
        rule: "restricted/capabilities-drop-all",
        mutation: { set: `${APP}.securityContext.capabilities.drop`, value: ["NET_RAW"] },
        path: "spec.template.spec.containers[0].securityContext.capabilities.drop",
        message: /does not include "ALL"/,
      },
      {
        rule: "defaults/read-only-root-fs",
        mutation: { set: `${ENVOY}.securityContext.readOnlyRootFilesystem`, value: false },
        path: "spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem",
        message: /^container "envoy" does not set readOnlyRootFilesystem: true/,
      },
      {
        rule: "defaults/automount-service-account-token",
        mutation: { unset: `${POD}.automountServiceAccountToken` },
        path: "spec.template.spec.automountServiceAccountToken",
        message: /API token/,
      },
      {
        rule: "defaults/service-account",
        mutation: { set: `${POD}.serviceAccountName`, value: "default" },
        path: "spec.template.spec.serviceAccountName",
        message: /default ServiceAccount/,
      },
      {
        rule: "defaults/cpu-request",
        mutation: { unset: `${APP}.resources.requests.cpu` },
        path: "spec.template.spec.containers[0].resources.requests.cpu",
        message: /^container "app" sets no cpu request/,
      },
      {
        rule: "defaults/memory-request",
        mutation: { unset: `${ENVOY}.resources.requests.memory` },
        path: "spec.template.spec.initContainers[0].resources.requests.memory",
        message: /^container "envoy" sets no memory request/,
      },
      {
        rule: "defaults/memory-limit",
        mutation: { unset: `${APP}.resources.limits` },
        path: "spec.template.spec.containers[0].resources.limits.memory",
        message: /^container "app" sets no memory limit/,
      },
      {
        rule: "defaults/readiness-probe",
        mutation: { unset: `${ENVOY}.readinessProbe` },
        path: "spec.template.spec.initContainers[0].readinessProbe",
        message: /^container "envoy" has no readinessProbe/,
      },
      {
        rule: "defaults/liveness-probe",
        mutation: { unset: `${APP}.livenessProbe` },
        path: "spec.template.spec.containers[0].livenessProbe",
        message: /^container "app" has no livenessProbe/,
      },
      {
        rule: "defaults/image-tag",
        mutation: { set: `${APP}.image`, value: "demo-app:latest" },
        path: "spec.template.spec.containers[0].image",
        message: /moving :latest tag/,
      },
      {
        rule: "defaults/pre-stop-hook",
        mutation: { unset: `${ENVOY}.lifecycle` },
        path: "spec.template.spec.initContainers[0].lifecycle.preStop",
        message: /^container "envoy" has no preStop hook/,
      },
      {
        rule: "defaults/grace-period",
        mutation: { set: `${POD}.terminationGracePeriodSeconds`, value: 5 },
        path: "spec.template.spec.terminationGracePeriodSeconds",
        message: /terminationGracePeriodSeconds 5 does not outlast the 5 s preStop sleep of container "app"/,
      },
      {
        rule: "defaults/rolling-update",
        mutation: { set: "spec.strategy.rollingUpdate.maxUnavailable", value: 1 },
        path: "spec.strategy.rollingUpdate.maxUnavailable",
        message: /maxUnavailable is 1/,
      },
      {
        rule: "defaults/config-map-sub-path",
        mutation: { set: `${ENVOY}.volumeMounts.0.subPath`, value: "envoy.yaml" },
        path: "spec.template.spec.initContainers[0].volumeMounts[0].subPath",
        message: /^container "envoy" mounts ConfigMap volume "envoy-config" with subPath: the kubelet never updates such a mount/,
      },
    ];

    it("covers every rule", () => {
      assert.deepEqual(
        rows.map((row) => row.rule).sort(),
        policyRules.map((rule) => rule.id).sort(),
      );
    });

    for (const row of rows) {
      it(row.rule, () => {
        const findings = findingsAfter(row.mutation);
        assert.equal(findings.length, 1, JSON.stringify(findings, null, 2));
        assert.equal(findings[0].object, "Deployment/envoy-mesh/service-a");
        assert.equal(findings[0].rule, row.rule);
        assert.equal(findings[0].path, row.path);
        assert.match(findings[0].message, row.message);
      });
    }
  });

  describe("restricted profile details", () => {
    it("accepts runAsNonRoot set on the pod only, and flags every container when neither sets it", () => {
      const withoutContainerLevel = [{ unset: `${APP}.securityContext.runAsNonRoot` }, { unset: `${ENVOY}.securityContext.runAsNonRoot` }] as const;
      assert.deepEqual(rulesAfter(...withoutContainerLevel), []);
      const findings = findingsAfter(...withoutContainerLevel, { unset: `${POD}.securityContext.runAsNonRoot` });
      assert.deepEqual(
        findings.map((finding) => [finding.rule, finding.path]),
        [
          ["restricted/run-as-non-root", "spec.template.spec.initContainers[0].securityContext.runAsNonRoot"],
          ["restricted/run-as-non-root", "spec.template.spec.containers[0].securityContext.runAsNonRoot"],
        ],
      );
    });

    it("accepts a seccomp profile set on the pod only, and flags containers when neither sets it", () => {
      const withoutContainerLevel = [{ unset: `${APP}.securityContext.seccompProfile` }, { unset: `${ENVOY}.securityContext.seccompProfile` }] as const;
      assert.deepEqual(rulesAfter(...withoutContainerLevel), []);
      assert.deepEqual(rulesAfter(...withoutContainerLevel, { unset: `${POD}.securityContext.seccompProfile` }), [
        "restricted/seccomp",
        "restricted/seccomp",
      ]);
      assert.deepEqual(rulesAfter({ set: `${POD}.securityContext.seccompProfile`, value: { type: "Localhost", localhostProfile: "mesh.json" } }), []);
    });

    it("allows adding NET_BIND_SERVICE only", () => {
      assert.deepEqual(rulesAfter({ set: `${APP}.securityContext.capabilities.add`, value: ["NET_BIND_SERVICE"] }), []);
    });

    it("allows every volume type of the restricted profile", () => {
      const volumes = [
        { name: "a", configMap: { name: "c" } },
        { name: "b", secret: { secretName: "s" } },
        { name: "c", projected: { sources: [] } },
        { name: "d", downwardAPI: { items: [] } },
        { name: "e", emptyDir: {} },
        { name: "f", persistentVolumeClaim: { claimName: "p" } },
        { name: "g", csi: { driver: "d" } },
        { name: "h", ephemeral: { volumeClaimTemplate: { spec: {} } } },
      ];
      assert.deepEqual(rulesAfter({ set: `${POD}.volumes`, value: volumes }), []);
    });

    it("checks ephemeral containers too", () => {
      const debug = { name: "debug", image: "busybox:1.37", securityContext: { privileged: true } };
      const rules = rulesAfter({ set: `${POD}.ephemeralContainers`, value: [debug] });
      assert.ok(rules.includes("restricted/privileged"));
      assert.ok(!rules.includes("defaults/cpu-request"), "ephemeral containers cannot carry resources");
    });

    it("exempts Windows pods from the Linux-only controls, as upstream does", () => {
      const rules = rulesAfter(
        { set: `${POD}.os`, value: { name: "windows" } },
        { unset: `${APP}.securityContext.allowPrivilegeEscalation` },
        { unset: `${APP}.securityContext.capabilities` },
        { set: `${APP}.securityContext.seccompProfile`, value: { type: "Unconfined" } },
      );
      assert.deepEqual(rules, []);
    });
  });

  describe("defaults details", () => {
    it("exempts plain init containers from probes and preStop, but not from resources", () => {
      const migrate = {
        name: "migrate",
        image: "demo-app:1.0.0",
        command: ["node", "migrate.js"],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      };
      const findings = findingsAfter({ set: `${POD}.initContainers.1`, value: migrate });
      assert.deepEqual(
        findings.map((finding) => [finding.rule, finding.path]),
        [
          ["defaults/cpu-request", "spec.template.spec.initContainers[1].resources.requests.cpu"],
          ["defaults/memory-request", "spec.template.spec.initContainers[1].resources.requests.memory"],
          ["defaults/memory-limit", "spec.template.spec.initContainers[1].resources.limits.memory"],
        ],
      );
    });

    it("does not ask for probes or preStop hooks in Jobs, whose containers run to completion", () => {
      const deployment = hardenedDeployment() as { spec: { template: unknown } };
      const job = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "load-test", namespace: "envoy-mesh" },
        spec: { template: structuredClone(deployment.spec.template) },
      };
      const pod = (job.spec.template as { spec: Record<string, unknown> }).spec;
      pod.restartPolicy = "Never";
      const app = (pod.containers as Record<string, unknown>[])[0];
      delete app.readinessProbe;
      delete app.livenessProbe;
      delete app.lifecycle;
      assert.deepEqual(checkPodPolicy(job), []);
    });

    it("finds the pod template of a CronJob and of a bare Pod", () => {
      const template = (hardenedDeployment() as { spec: { template: { spec: Record<string, unknown> } } }).spec.template;
      template.spec.hostPID = true;
      const cronJob = {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "nightly", namespace: "envoy-mesh" },
        spec: { schedule: "@daily", jobTemplate: { spec: { template } } },
      };
      assert.deepEqual(
        checkPodPolicy(cronJob).map((finding) => [finding.object, finding.path]),
        [["CronJob/envoy-mesh/nightly", "spec.jobTemplate.spec.template.spec.hostPID"]],
      );
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "one" }, spec: template.spec };
      assert.deepEqual(checkPodPolicy(pod).map((finding) => [finding.object, finding.path]), [["Pod/one", "spec.hostPID"]]);
    });

    it("accepts images pinned by digest and flags untagged images, even behind a registry port", () => {
      const digest = `demo-app@sha256:${"a".repeat(64)}`;
      assert.deepEqual(rulesAfter({ set: `${APP}.image`, value: digest }), []);
      const findings = findingsAfter({ set: `${APP}.image`, value: "localhost:5001/demo-app" });
      assert.deepEqual(findings.map((finding) => finding.rule), ["defaults/image-tag"]);
      assert.match(findings[0].message, /without a tag, which means :latest/);
    });

    it("accepts automountServiceAccountToken: true set on purpose", () => {
      assert.deepEqual(rulesAfter({ set: `${POD}.automountServiceAccountToken`, value: true }), []);
    });

    it("uses the default grace period of 30 s when none is set", () => {
      const findings = findingsAfter({ unset: `${POD}.terminationGracePeriodSeconds` }, { set: `${APP}.lifecycle.preStop.sleep.seconds`, value: 30 });
      assert.deepEqual(findings.map((finding) => finding.rule), ["defaults/grace-period"]);
      assert.match(findings[0].message, /terminationGracePeriodSeconds 30 \(default\)/);
    });

    it("requires maxUnavailable 0 only when there is more than one replica", () => {
      assert.deepEqual(rulesAfter({ set: "spec.replicas", value: 1 }, { unset: "spec.strategy" }), []);
      assert.deepEqual(rulesAfter({ unset: "spec.strategy.rollingUpdate.maxUnavailable" }), ["defaults/rolling-update"]);
      assert.deepEqual(rulesAfter({ set: "spec.strategy.rollingUpdate.maxUnavailable", value: "0%" }), []);
      const recreate = findingsAfter({ set: "spec.strategy", value: { type: "Recreate" } });
      assert.deepEqual(recreate.map((finding) => [finding.rule, finding.path]), [["defaults/rolling-update", "spec.strategy.type"]]);
    });
  });

  it("lets a ConfigMap mount without subPath and a subPath into other volumes pass, and finds subPathExpr and projected ConfigMaps too", () => {
    assert.deepEqual(rulesAfter({ set: `${APP}.volumeMounts.0.subPath`, value: "scratch" }), []);
    const projected = { name: "envoy-config", projected: { sources: [{ configMap: { name: "service-a-xds" } }] } };
    assert.deepEqual(
      findingsAfter({ set: `${POD}.volumes.0`, value: projected }, { set: `${ENVOY}.volumeMounts.0.subPathExpr`, value: "$(POD_NAME)" }).map((f) => [f.rule, f.path]),
      [["defaults/config-map-sub-path", "spec.template.spec.initContainers[0].volumeMounts[0].subPathExpr"]],
    );
  });

  it("lists each rule once with a summary", () => {
    const ids = policyRules.map((rule) => rule.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const rule of policyRules) {
      assert.match(rule.id, /^(restricted|defaults)\/[a-z-]+$/);
      assert.ok(rule.summary.length > 0);
    }
  });
});
