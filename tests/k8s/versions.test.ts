import { strict as assert } from "node:assert";
import { join } from "node:path";
import { toYaml } from "../../envoy";
import { checkPodPolicy } from "../../checks/kubernetes/policy";
import { validateManifests } from "../../checks/kubernetes/schema";
import { buildAllProxyObjects, buildMeshManifests, isVersioned, type AnyProxyObjects, type VersionObjects, type VersionedProxyObjects } from "../../k8s";
import { parseTopology, type MeshService } from "../../topology";
import { BUILDER_TEST_KIND_TARGET } from "../helpers/images";
import { matchSnapshot } from "../helpers/snapshot";

const KIND = BUILDER_TEST_KIND_TARGET;
/** Each workload's image names its service and version, so the test sees which one a Deployment got. */
const imageOf = (workload: MeshService) => (workload.image.kind === "ref" ? workload.image.ref : `localhost:5001/${workload.name}@sha256:${"a".repeat(64)}`);
const CANARY = {
  extends: "seed",
  services: [{ name: "service-b", replicas: 3, versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10, replicas: 1, image: { ref: "example.com/b:2.0" } }] }],
};

const build = (raw: unknown): readonly AnyProxyObjects[] => buildAllProxyObjects(parseTopology(raw), KIND, imageOf);
const byName = (all: readonly AnyProxyObjects[], proxy: string) => all.find((p) => p.proxy === proxy) as AnyProxyObjects;
const appOf = (deployment: any) => deployment.spec.template.spec.containers[0];

describe("Kubernetes objects of service versions", () => {
  it("renders the manifests of a mesh without versions byte for byte as before versions existed", () => {
    // The snapshot was written by the builders before versions were added.
    const manifests = buildMeshManifests(parseTopology(undefined), KIND, () => `localhost:5001/app@sha256:${"a".repeat(64)}`);
    matchSnapshot(manifests.map((m) => toYaml(m)).join("---\n"), join(__dirname, "__snapshots__", "seed-manifests.yaml"));
  });

  describe("a service with versions", () => {
    let all: readonly AnyProxyObjects[];
    let b: VersionedProxyObjects;
    let v1: VersionObjects;
    let v2: VersionObjects;
    before(() => {
      all = build(CANARY);
      b = byName(all, "service-b") as VersionedProxyObjects;
      [v1, v2] = b.versions;
    });

    it("has one Deployment and one headless Service per version, named <service>-<version>", () => {
      assert.ok(isVersioned(b));
      assert.deepEqual(b.versions.map((v) => [v.version, v.deployment.metadata.name, v.service.metadata.name, v.service.spec.clusterIP]), [
        ["v1", "service-b-v1", "service-b-v1", "None"],
        ["v2", "service-b-v2", "service-b-v2", "None"],
      ]);
      assert.equal("deployment" in b, false);
    });

    it("labels a version's objects and pods with app.kubernetes.io/version, which its selectors include", () => {
      const selector = { "app.kubernetes.io/name": "service-b", "app.kubernetes.io/part-of": "envoy-mesh", "app.kubernetes.io/version": "v2" };
      assert.deepEqual((v2.deployment.spec.selector as any).matchLabels, selector);
      assert.deepEqual(v2.service.spec.selector, selector);
      assert.equal((v2.deployment.spec.template as any).metadata.labels["app.kubernetes.io/version"], "v2");
      assert.equal((v2.deployment.metadata.labels as any)["app.kubernetes.io/version"], "v2");
    });

    it("runs each version's replicas and image, and tells the app its version", () => {
      assert.deepEqual([v1.deployment.spec.replicas, v2.deployment.spec.replicas], [3, 1]);
      assert.equal(appOf(v1.deployment).image, `localhost:5001/service-b@sha256:${"a".repeat(64)}`);
      assert.equal(appOf(v2.deployment).image, "example.com/b:2.0");
      assert.deepEqual(appOf(v2.deployment).env.filter((e: any) => e.name === "SERVICE_VERSION"), [{ name: "SERVICE_VERSION", value: "v2" }]);
      const a = byName(all, "service-a") as any;
      assert.equal(appOf(a.deployment).env.some((e: any) => e.name === "SERVICE_VERSION"), false);
    });

    it("shares the service's identity, ServiceAccount and sidecar config across versions", () => {
      for (const version of b.versions) {
        const pod = version.deployment.spec.template as any;
        assert.equal(pod.spec.serviceAccountName, "service-b");
        assert.deepEqual(pod.spec.volumes.map((v: any) => v.configMap?.name ?? v.secret?.secretName), [b.configMap.metadata.name, b.xdsConfigMap.metadata.name, "service-b-identity"]);
      }
      assert.equal(b.serviceAccount.metadata.name, "service-b");
      assert.equal(b.identitySecret?.metadata.name, "service-b-identity");
    });

    it("gives a version of more than one replica its own PodDisruptionBudget", () => {
      assert.equal(v1.podDisruptionBudget?.metadata.name, "service-b-v1");
      assert.deepEqual((v1.podDisruptionBudget?.spec as any).selector.matchLabels, (v1.deployment.spec.selector as any).matchLabels);
      assert.equal(v2.podDisruptionBudget, undefined);
    });

    it("keeps the pods as hardened as an unversioned service's: only names, labels and the version differ", () => {
      const plain = byName(build({ extends: "seed", services: [{ name: "service-b", replicas: 3 }] }), "service-b") as any;
      const normalize = (d: any) =>
        JSON.parse(JSON.stringify(d).replace(/service-b-v1/g, "service-b").replace(/,"app.kubernetes.io\/version":"v1"/g, "").replace(/\{"name":"SERVICE_VERSION","value":"v1"\},/g, ""));
      assert.deepEqual(normalize(v1.deployment), plain.deployment);
    });

    it("passes the schema and pod policy checks", () => {
      const manifests = buildMeshManifests(parseTopology(CANARY), KIND, imageOf);
      assert.deepEqual(validateManifests(manifests), []);
      assert.deepEqual(manifests.flatMap(checkPodPolicy), []);
    });
  });
});
