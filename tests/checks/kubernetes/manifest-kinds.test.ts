import * as assert from "node:assert/strict";
import { customResourceNotice, listItems, validateKubernetesObject } from "../../../checks/kubernetes/schema";

type Json = Record<string, any>;

/** A Job with a pod failure policy, as in the Kubernetes documentation's examples. */
function jobWithPodFailurePolicy(): Json {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "job-pod-failure-policy-ignore" },
    spec: {
      completions: 4,
      parallelism: 2,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: "docker.io/library/bash:5", command: ["bash"], args: ["-c", "exit 0"] }],
        },
      },
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] },
    },
  };
}

describe("validateKubernetesObject: fields the API server defaults", () => {
  it("accepts onPodConditions[].status left out: the API server defaults it to True", () => {
    assert.deepEqual(validateKubernetesObject(jobWithPodFailurePolicy()), []);
  });

  it("accepts the same in a CronJob's job template", () => {
    const job = jobWithPodFailurePolicy();
    const cronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly" },
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: job.spec } },
    };
    assert.deepEqual(validateKubernetesObject(cronJob), []);
  });

  it("still checks a status that is given, and the other required fields of the pattern", () => {
    const job = jobWithPodFailurePolicy();
    job.spec.podFailurePolicy.rules[0].onPodConditions = [{ type: "DisruptionTarget", status: true }, { status: "False" }];
    assert.deepEqual(
      validateKubernetesObject(job).map((i) => `${i.path}: ${i.message}`),
      [
        "spec.podFailurePolicy.rules[0].onPodConditions[0].status: must be a string, got boolean true",
        'spec.podFailurePolicy.rules[0].onPodConditions[1].type: missing required field "type"',
      ],
    );
  });

  it("accepts a RoleBinding or ClusterRoleBinding whose roleRef leaves out apiGroup", () => {
    for (const kind of ["RoleBinding", "ClusterRoleBinding"]) {
      const binding = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind,
        metadata: { name: "read-pods", ...(kind === "RoleBinding" ? { namespace: "default" } : {}) },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "default" }],
        roleRef: { kind: "ClusterRole", name: "view" },
      };
      assert.deepEqual(validateKubernetesObject(binding), [], kind);
      assert.deepEqual(
        validateKubernetesObject({ ...binding, roleRef: { apiGroup: "rbac.authorization.k8s.io" } }).map((i) => i.path),
        ["roleRef.kind", "roleRef.name"],
      );
    }
  });

  it("does not change the object it checks", () => {
    const job = jobWithPodFailurePolicy();
    validateKubernetesObject(job);
    assert.deepEqual(job, jobWithPodFailurePolicy());
  });
});

describe("custom resources", () => {
  const gateway = { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name: "mesh" }, spec: { anything: 1 } };

  it("are not errors, and get a notice that they were not checked", () => {
    assert.deepEqual(validateKubernetesObject(gateway), []);
    const notice = customResourceNotice(gateway);
    assert.equal(notice?.path, "apiVersion");
    assert.match(notice?.message ?? "", /^custom resource, not checked: API group gateway\.networking\.k8s\.io is not built into Kubernetes/);
  });

  it("are told from a misspelt built-in apiVersion, which stays an error", () => {
    for (const apiVersion of ["app/v1", "apps/v2", "networking.k8s.io/v2"]) {
      const obj = { apiVersion, kind: "Deployment", metadata: { name: "x" } };
      assert.equal(customResourceNotice(obj), undefined, apiVersion);
      assert.equal(validateKubernetesObject(obj)[0]?.path, "apiVersion", apiVersion);
    }
  });
});

describe("listItems", () => {
  it("takes any object with items as a list, as kubectl does", () => {
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "a" } };
    assert.deepEqual(listItems({ apiVersion: "v1", kind: "List", items: [service] }), { items: [service] });
    assert.deepEqual(listItems({ apiVersion: "v1", kind: "ServiceList", items: [] }), { items: [] });
    assert.equal(listItems(service), undefined);
  });

  it("refuses items that are not a list", () => {
    assert.deepEqual(listItems({ apiVersion: "v1", kind: "List", items: { a: 1 } }), {
      issue: { path: "items", message: 'must be an array of objects (a document with "items" is a List), got an object' },
    });
  });
});
