import * as assert from "node:assert/strict";
import {
  formatManifestIssues,
  kubernetesSchemaVersion,
  validateKubernetesObject,
  validateManifests,
} from "../../../checks/kubernetes/schema";
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

describe("validateKubernetesObject", () => {
  describe("accepts the mesh's objects", () => {
    const fixtures = {
      "hardened Deployment (app + Envoy native sidecar)": hardenedDeployment,
      "headless Service with a named targetPort": headlessService,
      "immutable ConfigMap": envoyConfigMap,
      "Namespace with pod-security labels": meshNamespace,
      ServiceAccount: serviceAccount,
      PodDisruptionBudget: disruptionBudget,
    };
    for (const [name, fixture] of Object.entries(fixtures)) {
      it(name, () => {
        assert.deepEqual(validateKubernetesObject(fixture()), []);
      });
    }
  });

  describe("reports a single mutation of the Deployment", () => {
    const c0 = "spec.template.spec.containers.0";
    const rows: { name: string; mutation: Mutation; path: string; message: RegExp }[] = [
      {
        name: "unknown field deep inside a container, with a suggestion",
        mutation: { set: `${c0}.securityContext.runAsNonroot`, value: true },
        path: "spec.template.spec.containers[0].securityContext.runAsNonroot",
        message: /^unknown field "runAsNonroot" \(did you mean "runAsNonRoot"\?\)$/,
      },
      {
        name: "unknown field inside the sidecar's preStop sleep",
        mutation: { set: "spec.template.spec.initContainers.0.lifecycle.preStop.sleep", value: { seconds: 5, jitter: 1 } },
        path: "spec.template.spec.initContainers[0].lifecycle.preStop.sleep.jitter",
        message: /^unknown field "jitter"$/,
      },
      {
        name: "unknown field at the top of the spec",
        mutation: { set: "spec.replica", value: 2 },
        path: "spec.replica",
        message: /^unknown field "replica" \(did you mean "replicas"\?\)$/,
      },
      {
        name: "unknown field in metadata",
        mutation: { set: "metadata.lables", value: { a: "b" } },
        path: "metadata.lables",
        message: /^unknown field "lables" \(did you mean "labels"\?\)$/,
      },
      {
        name: "wrong type: replicas as a string",
        mutation: { set: "spec.replicas", value: "2" },
        path: "spec.replicas",
        message: /^must be an integer, got string "2"$/,
      },
      {
        name: "wrong type: boolean given as a string",
        mutation: { set: `${c0}.securityContext.readOnlyRootFilesystem`, value: "true" },
        path: "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
        message: /^must be a boolean, got string "true"$/,
      },
      {
        name: "wrong type: object where a list belongs",
        mutation: { set: `${c0}.env`, value: { SERVICE_NAME: "service-a" } },
        path: "spec.template.spec.containers[0].env",
        message: /^must be an array, got an object$/,
      },
      {
        name: "missing required containers",
        mutation: { unset: "spec.template.spec.containers" },
        path: "spec.template.spec.containers",
        message: /^missing required field "containers"$/,
      },
      {
        name: "missing required selector",
        mutation: { unset: "spec.selector" },
        path: "spec.selector",
        message: /^missing required field "selector"$/,
      },
      {
        name: "missing required container name",
        mutation: { unset: `${c0}.name` },
        path: "spec.template.spec.containers[0].name",
        message: /^missing required field "name"$/,
      },
      {
        name: "bad enum value",
        mutation: { set: `${c0}.imagePullPolicy`, value: "Sometimes" },
        path: "spec.template.spec.containers[0].imagePullPolicy",
        message: /^unsupported value "Sometimes"; must be one of "Always", "IfNotPresent", "Never"$/,
      },
      {
        name: "bad enum value in the rollout strategy",
        mutation: { set: "spec.strategy.type", value: "Rolling" },
        path: "spec.strategy.type",
        message: /^unsupported value "Rolling"; must be one of "Recreate", "RollingUpdate"$/,
      },
      {
        name: "int-or-string given a boolean",
        mutation: { set: `${c0}.readinessProbe.httpGet.port`, value: true },
        path: "spec.template.spec.containers[0].readinessProbe.httpGet.port",
        message: /^must be an integer or a string \(int-or-string\), got boolean true$/,
      },
      {
        name: "quantity that Kubernetes cannot parse",
        mutation: { set: `${c0}.resources.limits.memory`, value: "128MB" },
        path: "spec.template.spec.containers[0].resources.limits.memory",
        message: /^must be a quantity such as "250m" or "128Mi", or a number, got string "128MB"$/,
      },
      {
        name: "bad apiVersion",
        mutation: { set: "apiVersion", value: "apps/v2" },
        path: "apiVersion",
        message: /^unknown apiVersion "apps\/v2" \(Kubernetes 1\.33\.0\); Deployment is served by apps\/v1$/,
      },
      {
        name: "removed apiVersion",
        mutation: { set: "apiVersion", value: "extensions/v1beta1" },
        path: "apiVersion",
        message: /^apiVersion extensions\/v1beta1 of Deployment was removed before Kubernetes 1\.33\.0; Deployment is served by apps\/v1$/,
      },
      {
        name: "kind in the wrong apiVersion",
        mutation: { set: "apiVersion", value: "v1" },
        path: "kind",
        message: /^unknown kind "Deployment" in apiVersion v1 \(Kubernetes 1\.33\.0\); Deployment is served by apps\/v1$/,
      },
      {
        name: "misspelt kind",
        mutation: { set: "kind", value: "Deploymnet" },
        path: "kind",
        message: /did you mean "Deployment"\?$/,
      },
      {
        name: "missing apiVersion",
        mutation: { unset: "apiVersion" },
        path: "apiVersion",
        message: /^missing required field "apiVersion"$/,
      },
    ];
    for (const row of rows) {
      it(row.name, () => {
        const issues = validateKubernetesObject(mutated(hardenedDeployment(), row.mutation));
        assert.equal(issues.length, 1, JSON.stringify(issues, null, 2));
        assert.equal(issues[0].path, row.path);
        assert.match(issues[0].message, row.message);
      });
    }
  });

  it("reports every issue of an object at once, sorted by path", () => {
    let deployment = mutated(hardenedDeployment(), { set: "spec.replicas", value: "2" });
    deployment = mutated(deployment, { set: "spec.template.spec.containers.0.foo", value: 1 });
    deployment = mutated(deployment, { unset: "spec.selector" });
    assert.deepEqual(
      validateKubernetesObject(deployment).map((issue) => issue.path),
      ["spec.replicas", "spec.selector", "spec.template.spec.containers[0].foo"],
    );
  });

  it("accepts any keys in maps: labels, annotations, ConfigMap data, resource names", () => {
    let deployment = mutated(hardenedDeployment(), { set: "spec.template.metadata.annotations", value: { "example.com/anything": "x" } });
    deployment = mutated(deployment, { set: "spec.template.spec.containers.0.resources.limits", value: { memory: "1Gi", "example.com/gpu": 1 } });
    assert.deepEqual(validateKubernetesObject(deployment), []);
  });

  it("accepts quantities given as numbers and int-or-string given as either form", () => {
    let deployment = mutated(hardenedDeployment(), { set: "spec.template.spec.containers.0.resources.limits.memory", value: 134217728 });
    deployment = mutated(deployment, { set: "spec.strategy.rollingUpdate.maxSurge", value: "25%" });
    deployment = mutated(deployment, { set: "spec.template.spec.containers.0.livenessProbe.httpGet.port", value: 8080 });
    assert.deepEqual(validateKubernetesObject(deployment), []);
  });

  it("accepts any content where the schema preserves unknown fields (RawExtension)", () => {
    const revision = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "service-a-1", namespace: "envoy-mesh" },
      revision: 1,
      data: { spec: { anything: { nested: [1, 2] } } },
    };
    assert.deepEqual(validateKubernetesObject(revision), []);
  });

  it(`uses the Kubernetes ${kubernetesSchemaVersion} schema: 1.33 fields are known, 1.34 fields are not`, () => {
    assert.equal(kubernetesSchemaVersion, "1.33.0");
    const with133Field = mutated(hardenedDeployment(), { set: "spec.template.spec.containers.0.lifecycle.stopSignal", value: "SIGTERM" });
    assert.deepEqual(validateKubernetesObject(with133Field), []);
    const with134Field = mutated(hardenedDeployment(), { set: "spec.template.spec.hostnameOverride", value: "a" });
    assert.deepEqual(
      validateKubernetesObject(with134Field).map((issue) => issue.message),
      ['unknown field "hostnameOverride"'],
    );
  });

  it("checks any built-in kind by apiVersion and kind", () => {
    const networkPolicy = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "deny-all", namespace: "envoy-mesh" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], egres: [] },
    };
    assert.deepEqual(validateKubernetesObject(networkPolicy), [
      { path: "spec.egres", message: 'unknown field "egres" (did you mean "egress"?)' },
    ]);
  });

  it("quotes map keys that are not plain names in paths", () => {
    const service = mutated(headlessService(), { set: "metadata.labels", value: { "app.kubernetes.io/name": 7 } });
    assert.deepEqual(validateKubernetesObject(service), [
      { path: 'metadata.labels["app.kubernetes.io/name"]', message: "must be a string, got number 7" },
    ]);
  });

  it("rejects input that is not an object", () => {
    assert.deepEqual(validateKubernetesObject([]), [{ path: "", message: "a Kubernetes object must be a JSON object, got an array" }]);
    assert.deepEqual(validateKubernetesObject(null), [{ path: "", message: "a Kubernetes object must be a JSON object, got null" }]);
  });

  it("does not modify its input and is deterministic", () => {
    const deployment = mutated(hardenedDeployment(), { set: "spec.template.spec.containers.0.foo", value: { bar: 1 } });
    const before = structuredClone(deployment);
    const first = validateKubernetesObject(deployment);
    assert.deepEqual(deployment, before);
    assert.deepEqual(validateKubernetesObject(deployment), first);
  });
});

describe("validateManifests", () => {
  it("names each object with issues as Kind/namespace/name, in input order, and skips valid ones", () => {
    const badService = mutated(headlessService(), { set: "spec.ports.0.port", value: "80" });
    const badNamespace = mutated(meshNamespace(), { set: "spec.finalizer", value: [] });
    const results = validateManifests([meshNamespace(), badService, hardenedDeployment(), badNamespace, 42]);
    assert.deepEqual(results, [
      { object: "Service/envoy-mesh/service-a", issues: [{ path: "spec.ports[0].port", message: 'must be an integer, got string "80"' }] },
      { object: "Namespace/envoy-mesh", issues: [{ path: "spec.finalizer", message: 'unknown field "finalizer" (did you mean "finalizers"?)' }] },
      { object: "manifest #5", issues: [{ path: "", message: "a Kubernetes object must be a JSON object, got number 42" }] },
    ]);
    assert.deepEqual(formatManifestIssues(results), [
      'Service/envoy-mesh/service-a: spec.ports[0].port: must be an integer, got string "80"',
      'Namespace/envoy-mesh: spec.finalizer: unknown field "finalizer" (did you mean "finalizers"?)',
      "manifest #5: a Kubernetes object must be a JSON object, got number 42",
    ]);
  });

  it("returns nothing for a valid set of manifests", () => {
    const all = [meshNamespace(), serviceAccount(), envoyConfigMap(), hardenedDeployment(), headlessService(), disruptionBudget()];
    assert.deepEqual(validateManifests(all), []);
  });
});
