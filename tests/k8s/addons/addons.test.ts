import { strict as assert } from "node:assert";
import { PROXY_LABEL } from "../../../observability/metrics";
import { checkPodPolicy } from "../../../checks/kubernetes/policy";
import { validateManifests } from "../../../checks/kubernetes/schema";
import { load } from "js-yaml";
import {
  ADDON_IMAGES,
  CONFIG_HASH_ANNOTATION,
  addonConfigMapSizeProblems,
  addonManifests,
  buildObservabilityAddons,
  collectorConfig,
  type AddonManifest,
  type ObservabilityAddons,
} from "../../../k8s/addons";
import { parseTopology } from "../../../topology";
import type { DeploymentManifest } from "../../../k8s";
import { CONFIG_MAP_MAX_BYTES, configMapDataBytes } from "../../../k8s/objects";
import { syntheticTopology } from "../../../scripts/bench-render";

const TARGET = { namespace: "envoy-mesh", clusterDomain: "cluster.local" };
const DASHBOARD = { title: "Envoy mesh", uid: "envoy-mesh", panels: [] };
const RULES = { groups: [{ name: "envoy-mesh", rules: [{ alert: "MeshErrorRatio", expr: "vector(1) > 2" }] }] };

const build = (inputs = {}) => buildObservabilityAddons(parseTopology(undefined), TARGET, inputs);
const find = (manifests: readonly AddonManifest[], kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `${kind}/${name} is built`);
  return found as any;
};
const podSpec = (manifests: readonly AddonManifest[], name: string) => ((find(manifests, "Deployment", name) as DeploymentManifest).spec.template as any).spec;

describe("k8s/addons: the observability add-ons", () => {
  const cases: Record<string, () => ObservabilityAddons> = {
    "without a dashboard or rules": () => build({ dashboard: undefined, alertRules: undefined }),
    "with the dashboard and alert rules": () => build({ dashboard: DASHBOARD, alertRules: RULES }),
  };
  for (const [label, make] of Object.entries(cases)) {
    describe(label, () => {
      let manifests: AddonManifest[];
      before(() => (manifests = addonManifests(make())));

      it("every object passes the strict Kubernetes schema check", () => {
        assert.deepEqual(validateManifests(manifests), []);
      });

      it("every pod passes the restricted profile and the mesh's own defaults, with no finding", () => {
        assert.deepEqual(manifests.flatMap(checkPodPolicy), []);
      });
    });
  }

  it("puts everything in the observability namespace, which enforces the restricted Pod Security Standard", () => {
    const manifests = addonManifests(build());
    const ns = find(manifests, "Namespace", "observability");
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    for (const m of manifests) {
      if (m.kind === "Namespace" || m.kind === "Role" || m.kind === "RoleBinding") continue;
      assert.equal(m.metadata.namespace, "observability", `${m.kind}/${m.metadata.name}`);
    }
  });

  it("builds the Services the mesh and the user reach: otel-collector:4317, jaeger:16686, prometheus:9090, grafana:3000", () => {
    const manifests = addonManifests(build());
    const ports = (name: string) => find(manifests, "Service", name).spec.ports.map((p: { port: number }) => p.port);
    assert.deepEqual(ports("otel-collector"), [4317]);
    assert.ok(ports("jaeger").includes(16686) && ports("jaeger").includes(4317));
    assert.deepEqual(ports("prometheus"), [9090]);
    assert.deepEqual(ports("grafana"), [3000]);
    for (const m of manifests.filter((m) => m.kind === "Service")) assert.equal((m as any).spec.type, "ClusterIP");
  });

  it("pins every image to an exact version tag", () => {
    const manifests = addonManifests(build());
    const images = manifests.filter((m) => m.kind === "Deployment").map((m) => (m as any).spec.template.spec.containers[0].image);
    assert.deepEqual(images.sort(), Object.values(ADDON_IMAGES).sort());
    for (const image of images) assert.match(String(image), /:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/);
  });

  it("hardens every container: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp, and writes only to emptyDirs", () => {
    const manifests = addonManifests(build());
    for (const name of ["otel-collector", "jaeger", "prometheus", "grafana"]) {
      const spec = podSpec(manifests, name);
      const c = spec.containers[0];
      assert.equal(c.securityContext.runAsNonRoot, true, name);
      assert.ok(c.securityContext.runAsUser > 0, name);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, name);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, name);
      assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] }, name);
      assert.equal(c.securityContext.seccompProfile.type, "RuntimeDefault", name);
      const volumes = new Map(spec.volumes.map((v: any) => [v.name, v]));
      for (const mount of c.volumeMounts) {
        const volume: any = volumes.get(mount.name);
        assert.ok(volume.emptyDir !== undefined || mount.readOnly === true, `${name} writes only to emptyDir volumes (${mount.name})`);
      }
    }
  });

  it("probes each tool's own health endpoint", () => {
    const manifests = addonManifests(build());
    const probe = (name: string) => {
      const c = podSpec(manifests, name).containers[0];
      return [c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path];
    };
    assert.deepEqual(probe("otel-collector"), ["/", "/"]);
    assert.deepEqual(probe("jaeger"), ["/status", "/status"]);
    assert.deepEqual(probe("prometheus"), ["/-/ready", "/-/healthy"]);
    assert.deepEqual(probe("grafana"), ["/api/health", "/api/health"]);
  });

  it("gives an API token to Prometheus only, allowed to read pods in the mesh's namespace and nothing else", () => {
    const manifests = addonManifests(build());
    for (const name of ["otel-collector", "jaeger", "grafana"]) assert.equal(podSpec(manifests, name).automountServiceAccountToken, false, name);
    assert.equal(podSpec(manifests, "prometheus").automountServiceAccountToken, true);
    const role = find(manifests, "Role", "prometheus-pod-reader");
    assert.equal(role.metadata.namespace, "envoy-mesh");
    assert.deepEqual(role.rules, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
    const binding = find(manifests, "RoleBinding", "prometheus-pod-reader");
    assert.equal(binding.metadata.namespace, "envoy-mesh");
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "prometheus", namespace: "observability" }]);
    assert.equal(manifests.filter((m) => m.kind.startsWith("Cluster")).length, 0, "no cluster-wide grant");
  });

  it("the collector receives OTLP/gRPC on 4317 and exports to Jaeger's OTLP port through a batch processor", () => {
    const config: any = collectorConfig("cluster.local");
    assert.equal(config.receivers.otlp.protocols.grpc.endpoint, "0.0.0.0:4317");
    assert.deepEqual(config.service.pipelines.traces, { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp/jaeger"] });
    assert.equal(config.exporters["otlp/jaeger"].endpoint, "jaeger.observability.svc.cluster.local:4317");
    const manifests = addonManifests(build());
    const cm = find(manifests, "ConfigMap", "otel-collector-config");
    assert.deepEqual(load(cm.data["config.yaml"]), config);
  });

  it("Prometheus discovers the mesh's pods by their prometheus.io annotations, in the mesh's namespace", () => {
    const manifests = addonManifests(build());
    const config: any = load(find(manifests, "ConfigMap", "prometheus-config").data["prometheus.yml"]);
    const job = config.scrape_configs[0];
    assert.deepEqual(job.kubernetes_sd_configs, [{ role: "pod", namespaces: { names: ["envoy-mesh"] } }]);
    const keep = job.relabel_configs.find((r: any) => r.action === "keep" && r.source_labels[0].endsWith("prometheus_io_scrape"));
    assert.equal(keep.regex, "true");
    assert.ok(job.relabel_configs.some((r: any) => r.target_label === PROXY_LABEL && r.source_labels[0] === "__meta_kubernetes_pod_label_app_kubernetes_io_name"));
  });

  it("loads the alert rules only when there are some", () => {
    const without = addonManifests(build({ alertRules: undefined }));
    assert.equal((load as (s: string) => any)(find(without, "ConfigMap", "prometheus-config").data["prometheus.yml"]).rule_files, undefined);
    assert.equal(without.some((m) => m.metadata.name === "prometheus-rules"), false);
    const withRules = addonManifests(build({ alertRules: RULES }));
    assert.deepEqual((load as (s: string) => any)(find(withRules, "ConfigMap", "prometheus-config").data["prometheus.yml"]).rule_files, ["/etc/prometheus-rules/*.yaml"]);
    assert.deepEqual(load(find(withRules, "ConfigMap", "prometheus-rules").data["mesh-rules.yaml"]), RULES);
  });

  it("Grafana: anonymous Viewer only, no login, the Prometheus data source and the mesh's dashboard provisioned", () => {
    const manifests = addonManifests(build({ dashboard: DASHBOARD }));
    const env = Object.fromEntries(podSpec(manifests, "grafana").containers[0].env.map((e: any) => [e.name, e.value]));
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, "true");
    assert.equal(env.GF_AUTH_ANONYMOUS_ORG_ROLE, "Viewer");
    assert.equal(env.GF_AUTH_DISABLE_LOGIN_FORM, "true");
    assert.equal(env.GF_AUTH_BASIC_ENABLED, "false");
    const datasources: any = load(find(manifests, "ConfigMap", "grafana-datasources").data["prometheus.yaml"]);
    assert.equal(datasources.datasources[0].url, "http://prometheus.observability.svc.cluster.local:9090");
    assert.deepEqual(JSON.parse(find(manifests, "ConfigMap", "grafana-dashboards").data["envoy-mesh.json"]), DASHBOARD);
  });

  it("a configuration change rolls the pod that reads it, and only that pod", () => {
    const a = addonManifests(build({ dashboard: DASHBOARD }));
    const b = addonManifests(build({ dashboard: { ...DASHBOARD, title: "changed" } }));
    const hash = (m: readonly AddonManifest[], name: string) => (find(m, "Deployment", name) as any).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    assert.notEqual(hash(a, "grafana"), hash(b, "grafana"));
    for (const name of ["otel-collector", "jaeger", "prometheus"]) assert.equal(hash(a, name), hash(b, name), name);
  });

  it("is deterministic: the same input gives byte-identical objects", () => {
    assert.equal(JSON.stringify(addonManifests(build({ dashboard: DASHBOARD, alertRules: RULES }))), JSON.stringify(addonManifests(build({ dashboard: DASHBOARD, alertRules: RULES }))));
  });
});

describe("k8s/addons: every add-on ConfigMap fits the API server's limit, or is refused before anything is made", () => {
  it("fits with room to spare at 1,000 services: the dashboard and the rules are of constant size", () => {
    const addons = buildObservabilityAddons(parseTopology(syntheticTopology(1000)), TARGET);
    assert.deepEqual(addonConfigMapSizeProblems(addons), []);
    const sizes = Object.fromEntries(addons.addons.flatMap((set) => set.configMaps.map((cm) => [cm.metadata.name, configMapDataBytes(cm.data)])));
    // At 1,000 services the per-edge dashboard was 35 MB and the rules 6.5 MB (over the limit from ~31 and ~160 services).
    assert.ok(sizes["grafana-dashboards"] < 40_000, JSON.stringify(sizes));
    assert.ok(sizes["prometheus-rules"] < 10_000, JSON.stringify(sizes));
    assert.ok(Object.values(sizes).every((bytes) => bytes < CONFIG_MAP_MAX_BYTES / 20), JSON.stringify(sizes));
  });

  it("names each ConfigMap over 1 MiB with its size and largest file, all at once", () => {
    const big = "x".repeat(CONFIG_MAP_MAX_BYTES);
    const problems = addonConfigMapSizeProblems(build({ dashboard: { ...DASHBOARD, description: big }, alertRules: { groups: [{ name: big, rules: [] }] } }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ["ConfigMap observability/prometheus-rules", "ConfigMap observability/grafana-dashboards"],
    );
    assert.match(problems[1].message, /^would hold 10\d{5} bytes, more than the 1048576 bytes the API server accepts \(largest file: envoy-mesh\.json, 10\d{5} bytes\)$/);
    // Exactly at the limit is accepted, as the API server does.
    const set = build({ dashboard: undefined, alertRules: undefined });
    const atLimit = { ...set, addons: set.addons.map((a) => ({ ...a, configMaps: a.configMaps.map((cm) => ({ ...cm, data: { f: "x".repeat(CONFIG_MAP_MAX_BYTES) } })) })) };
    assert.deepEqual(addonConfigMapSizeProblems(atLimit), []);
  });
});
