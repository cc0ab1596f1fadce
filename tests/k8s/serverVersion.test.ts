import { strict as assert } from "node:assert";
import { buildMeshManifests, type MeshTarget } from "../../k8s";
import {
  MIN_KUBERNETES_VERSION,
  VERSION_REQUIREMENTS,
  compareReleases,
  formatRelease,
  parseServerVersion,
  serverVersionProblem,
  type KubernetesRelease,
} from "../../k8s/serverVersion";
import { parseTopology } from "../../topology";
import { BUILDER_TEST_ENVOY_IMAGE } from "../helpers/images";

const TARGETS: MeshTarget[] = [
  { namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: BUILDER_TEST_ENVOY_IMAGE, front: { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 } },
  { namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: BUILDER_TEST_ENVOY_IMAGE, front: { type: "LoadBalancer" } },
];

/** Every object the builders make, with replicas > 1 so that PodDisruptionBudgets are there too. */
const rendered = TARGETS.flatMap((target) =>
  buildMeshManifests(
    parseTopology({ extends: "seed", front: { replicas: 2 }, services: [{ name: "service-b", replicas: 3 }] }),
    target,
    () => "localhost:5001/envoy-mesh-app@sha256:" + "a".repeat(64),
  ),
);

/** Dotted paths of every key set in the rendered objects, list indexes written as []. */
function fieldPaths(value: unknown, prefix = "", out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => fieldPaths(v, `${prefix}[]`, out));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      fieldPaths(v, p, out);
    }
  }
  return out;
}
const paths = new Set(rendered.flatMap((m) => [...fieldPaths(m)].map((p) => `${m.kind}:${p}`)));
const apis = new Set(rendered.map((m) => `${m.apiVersion} ${m.kind}`));

/**
 * Fields newer than 1.25 that a builder might start to use, with the release that turns them
 * on by default (kubernetes/kubernetes pkg/features/kube_features.go). A rendered object using
 * one must be covered by MIN_KUBERNETES_VERSION.
 */
const GATED_FIELDS: { path: RegExp; since: KubernetesRelease; what: string }[] = [
  { path: /^Deployment:spec\.template\.spec\.initContainers\[\]\.restartPolicy$/, since: { major: 1, minor: 29 }, what: "native sidecars" },
  { path: /\.lifecycle\.(preStop|postStart)\.sleep$/, since: { major: 1, minor: 30 }, what: "lifecycle sleep action" },
  { path: /^Service:spec\.trafficDistribution$/, since: { major: 1, minor: 31 }, what: "Service trafficDistribution" },
  { path: /^PodDisruptionBudget:spec\.unhealthyPodEvictionPolicy$/, since: { major: 1, minor: 27 }, what: "PDB unhealthyPodEvictionPolicy" },
  { path: /\.resizePolicy$/, since: { major: 1, minor: 33 }, what: "in-place pod resize" },
  { path: /^Deployment:spec\.template\.spec\.hostUsers$/, since: { major: 1, minor: 33 }, what: "user namespaces" },
  { path: /^Deployment:spec\.template\.spec\.resources$/, since: { major: 1, minor: 34 }, what: "pod-level resources" },
  { path: /\.lifecycle\.stopSignal$/, since: { major: 1, minor: 99 }, what: "container stop signals (alpha)" },
];

describe("k8s/serverVersion", () => {
  describe("the minimum", () => {
    it("is 1.30, the newest release any requirement needs", () => {
      assert.equal(formatRelease(MIN_KUBERNETES_VERSION), "1.30");
      const newest = VERSION_REQUIREMENTS.map((r) => r.since).reduce((a, b) => (compareReleases(a, b) >= 0 ? a : b));
      assert.deepEqual(MIN_KUBERNETES_VERSION, newest);
    });

    it("covers every version-gated field the builders render", () => {
      const used = GATED_FIELDS.filter((g) => [...paths].some((p) => g.path.test(p)));
      assert.deepEqual(
        used.map((g) => g.what),
        ["native sidecars", "lifecycle sleep action"],
        "a builder started to use a gated field: add it to VERSION_REQUIREMENTS and this list",
      );
      for (const g of used) {
        assert.ok(compareReleases(g.since, MIN_KUBERNETES_VERSION) <= 0, `${g.what} needs ${formatRelease(g.since)}`);
        assert.ok(
          VERSION_REQUIREMENTS.some((r) => compareReleases(r.since, g.since) === 0),
          `no requirement row for ${g.what}`,
        );
      }
    });

    it("uses only GA API versions that 1.25 already serves", () => {
      assert.deepEqual([...apis].sort(), [
        "apps/v1 Deployment",
        "policy/v1 PodDisruptionBudget",
        "v1 ConfigMap",
        "v1 Namespace",
        "v1 Secret",
        "v1 Service",
        "v1 ServiceAccount",
      ]);
    });
  });

  describe("parseServerVersion", () => {
    const cases: [string, [number, number, number]][] = [
      ["v1.29.4", [1, 29, 4]],
      ["v1.30.0+k3s1", [1, 30, 0]],
      ["v1.31.2-eks-7f9249a", [1, 31, 2]],
      ["v1.33.1-gke.1584000", [1, 33, 1]],
      ["v1.35.8", [1, 35, 8]],
      ["1.32.0", [1, 32, 0]],
      ["v1.34.0-rc.1", [1, 34, 0]],
    ];
    for (const [text, [major, minor, patch]] of cases) {
      it(`reads ${text} as ${major}.${minor}.${patch}`, () => {
        assert.deepEqual(parseServerVersion(text), { major, minor, patch, gitVersion: text });
      });
    }

    for (const bad of ["", "garbage", "v1.30", "v1.30.x", "1.30.0 extra", "v01.30.0", undefined, 130, null]) {
      it(`refuses ${JSON.stringify(bad)}, naming the value`, () => {
        assert.throws(
          () => parseServerVersion(bad),
          (e: Error) => e.message === `not a Kubernetes version (expected vMAJOR.MINOR.PATCH, e.g. v1.31.2): ${JSON.stringify(bad)}`,
        );
      });
    }
  });

  describe("serverVersionProblem", () => {
    it("accepts 1.30.0 and every newer release, whatever the distribution suffix", () => {
      for (const v of ["v1.30.0", "v1.30.0+k3s1", "v1.31.2-eks-7f9249a", "v1.33.1-gke.1584000", "v1.35.8", "v2.0.0"]) {
        assert.equal(serverVersionProblem(parseServerVersion(v), "the cluster"), undefined, v);
      }
    });

    it("refuses 1.29, naming the server, its version, the minimum and the sleep action", () => {
      const message = serverVersionProblem(parseServerVersion("v1.29.4"), "kind cluster envoy-mesh");
      assert.ok(message);
      assert.match(message, /^kind cluster envoy-mesh: Kubernetes v1\.29\.4 is older than 1\.30, the oldest release this mesh runs on:\n/);
      assert.match(message, /lifecycle\.preStop\.sleep .* needs 1\.30\+ \(PodLifecycleSleepAction: alpha 1\.29, beta and on by default 1\.30/);
      assert.doesNotMatch(message, /native sidecar/, "1.29 has native sidecars on by default");
      assert.match(message, /Upgrade the cluster to Kubernetes 1\.30 or newer\.$/);
    });

    it("on 1.28 names native sidecars too, and a pre-release of 1.29 counts as 1.29", () => {
      const old = serverVersionProblem(parseServerVersion("v1.28.15-eks-abcdef0"), "the cluster") ?? "";
      assert.match(old, /v1\.28\.15-eks-abcdef0/);
      assert.match(old, /native sidecar containers .* needs 1\.29\+ \(SidecarContainers: alpha 1\.28, beta and on by default 1\.29/);
      assert.match(old, /lifecycle\.preStop\.sleep/);
      assert.ok(serverVersionProblem(parseServerVersion("v1.29.0-alpha.1"), "the cluster"));
    });
  });
});
