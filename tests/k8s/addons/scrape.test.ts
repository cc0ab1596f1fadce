import { strict as assert } from "node:assert";
import { PROXY_LABEL } from "../../../observability/metrics";
import { buildMeshManifests, type DeploymentManifest } from "../../../k8s";
import { prometheusConfig } from "../../../k8s/addons";
import { parseTopology } from "../../../topology";
import { BUILDER_TEST_KIND_TARGET } from "../../helpers/images";

interface Relabel {
  readonly source_labels?: readonly string[];
  readonly action: "keep" | "replace";
  readonly regex?: string;
  readonly replacement?: string;
  readonly target_label?: string;
}

/**
 * Prometheus' relabelling as the scrape job uses it (prometheus/prometheus model/relabel/relabel.go):
 * source values joined with `;`, the regex anchored at both ends, `keep` drops the target when
 * it does not match, `replace` writes the expanded replacement (default `$1`) when it matches.
 */
function relabel(labels: Record<string, string>, rules: readonly Relabel[]): Record<string, string> | undefined {
  const out = { ...labels };
  for (const rule of rules) {
    const value = (rule.source_labels ?? []).map((l) => out[l] ?? "").join(";");
    const match = new RegExp(`^(?:${rule.regex ?? "(.*)"})$`).exec(value);
    if (rule.action === "keep") {
      if (!match) return undefined;
      continue;
    }
    if (!match || rule.target_label === undefined) continue;
    const result = (rule.replacement ?? "$1").replace(/\$(\d)/g, (_, i: string) => match[Number(i)] ?? "");
    if (result === "") delete out[rule.target_label];
    else out[rule.target_label] = result;
  }
  return out;
}

/** The labels pod discovery gives one container port of a pod (prometheus/prometheus discovery/kubernetes/pod.go). */
function discovered(deployment: DeploymentManifest, ip: string, port: number): Record<string, string> {
  const template = deployment.spec.template as { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } };
  const safe = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");
  return {
    __address__: `${ip}:${port}`,
    __metrics_path__: "/metrics",
    __meta_kubernetes_namespace: deployment.metadata.namespace ?? "",
    __meta_kubernetes_pod_name: `${deployment.metadata.name}-abc12`,
    __meta_kubernetes_pod_ip: ip,
    __meta_kubernetes_pod_phase: "Running",
    ...Object.fromEntries(Object.entries(template.metadata.labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${safe(k)}`, v])),
    ...Object.fromEntries(Object.entries(template.metadata.annotations ?? {}).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${safe(k)}`, v])),
  };
}

describe("k8s/addons: Prometheus' scrape job against the mesh's own pods", () => {
  let topology: ReturnType<typeof parseTopology>;
  let deployments: DeploymentManifest[];
  let rules: readonly Relabel[];
  before(() => {
    topology = parseTopology(undefined);
    deployments = buildMeshManifests(topology, BUILDER_TEST_KIND_TARGET, () => "registry.example/app:1.0.0").filter((m): m is DeploymentManifest => m.kind === "Deployment");
    rules = (prometheusConfig(BUILDER_TEST_KIND_TARGET.namespace, false) as { scrape_configs: { relabel_configs: Relabel[] }[] }).scrape_configs[0].relabel_configs;
  });

  it("scrapes every proxy's health listener at /stats/prometheus, labelled with its proxy, whatever container port discovery starts from", () => {
    assert.equal(deployments.length, 4);
    for (const deployment of deployments) {
      const targets = [10000, 8080, topology.ports.health].map((port) => relabel(discovered(deployment, "10.244.0.7", port), rules));
      for (const target of targets) {
        assert.ok(target, `${deployment.metadata.name} is kept`);
        assert.equal(target.__address__, `10.244.0.7:${topology.ports.health}`);
        assert.equal(target.__metrics_path__, "/stats/prometheus");
        assert.equal(target[PROXY_LABEL], deployment.metadata.name);
        assert.equal(target.namespace, BUILDER_TEST_KIND_TARGET.namespace);
      }
      // One target per pod: every port's target ends up with the same address and labels.
      assert.equal(new Set(targets.map((t) => JSON.stringify(t))).size, 1);
    }
  });

  it("drops a pod that does not ask to be scraped", () => {
    const labels = discovered(deployments[0], "10.244.0.7", 10000);
    assert.equal(relabel({ ...labels, __meta_kubernetes_pod_annotation_prometheus_io_scrape: "false" }, rules), undefined);
    const { __meta_kubernetes_pod_annotation_prometheus_io_scrape: _, ...unannotated } = labels;
    void _;
    assert.equal(relabel(unannotated, rules), undefined);
  });
});
