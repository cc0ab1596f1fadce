import { ADDONS_NAMESPACE, PROMETHEUS_PORT, PROMETHEUS_SERVICE } from "../../observability/addons";
import { PROXY_RELABEL_CONFIGS } from "../../observability/metrics";
import { ADDON_IMAGES, ADDON_UIDS } from "./images";
import {
  addonMetadata,
  addonProbes,
  addonResources,
  buildAddonConfigMap,
  buildAddonDeployment,
  buildAddonService,
  buildAddonServiceAccount,
  configHash,
  configMapVolume,
  emptyDirVolume,
  toYaml,
  type AddonManifestSet,
  type RoleBindingManifest,
  type RoleManifest,
} from "./shared";

/** prometheus/prometheus web/web.go: `/-/ready` answers 200 once the TSDB is open, `/-/healthy` while the process runs. */
export const PROMETHEUS_READY_PATH = "/-/ready";
export const PROMETHEUS_HEALTHY_PATH = "/-/healthy";
export const PROMETHEUS_CONFIG_FILE = "prometheus.yml";
export const PROMETHEUS_RULES_FILE = "mesh-rules.yaml";
/** The scrape job of the mesh's pods: `up{job="envoy-mesh"}`. */
export const MESH_SCRAPE_JOB = "envoy-mesh";
/** Local add-on: a few hours of history are enough, and bound the emptyDir. */
export const PROMETHEUS_RETENTION = "6h";
export const SCRAPE_INTERVAL = "15s";
const CONFIG_DIR = "/etc/prometheus";
// Not under CONFIG_DIR: a mount point inside a read-only ConfigMap volume cannot be created.
const RULES_DIR = "/etc/prometheus-rules";
const DATA_DIR = "/prometheus";

/**
 * Scrapes the mesh's pods by their `prometheus.io/*` annotations (k8s/pod.ts scrapeAnnotations),
 * discovered with kubernetes_sd_configs role pod in the mesh's namespace only. Pod discovery
 * yields one target per declared container port; every one is rewritten to the annotated port
 * and carries the same labels, so Prometheus keeps one target per pod. The labels kept are
 * `namespace`, `pod`, `service` (app.kubernetes.io/name: the proxy) and `version` (a version's pods).
 */
export function prometheusConfig(meshNamespace: string, withRules: boolean): Record<string, unknown> {
  const meta = "__meta_kubernetes_pod_";
  return {
    global: { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL },
    ...(withRules ? { rule_files: [`${RULES_DIR}/*.yaml`] } : {}),
    scrape_configs: [
      {
        job_name: MESH_SCRAPE_JOB,
        kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [meshNamespace] } }],
        relabel_configs: [
          { source_labels: [`${meta}annotation_prometheus_io_scrape`], action: "keep", regex: "true" },
          { source_labels: [`${meta}phase`], action: "keep", regex: "Running" },
          { source_labels: [`${meta}annotation_prometheus_io_path`], action: "replace", regex: "(.+)", target_label: "__metrics_path__" },
          {
            source_labels: [`${meta}ip`, `${meta}annotation_prometheus_io_port`],
            action: "replace",
            regex: "(.+);([0-9]+)",
            replacement: "$1:$2",
            target_label: "__address__",
          },
          { source_labels: ["__meta_kubernetes_namespace"], action: "replace", target_label: "namespace" },
          { source_labels: [`${meta}name`], action: "replace", target_label: "pod" },
          // The proxy (the dashboard's and alert rules' `mesh_proxy`): it tells one caller's cluster from another's of the same name.
          ...PROXY_RELABEL_CONFIGS,
          { source_labels: [`${meta}label_app_kubernetes_io_version`], action: "replace", target_label: "version" },
        ],
      },
    ],
  };
}

/** The Role lives in the mesh's namespace: Prometheus may list and watch pods there and nowhere else. */
function buildPodReaderRole(meshNamespace: string): RoleManifest {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: addonMetadata(`${PROMETHEUS_SERVICE}-pod-reader`, meshNamespace),
    rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
  };
}

function buildPodReaderBinding(meshNamespace: string): RoleBindingManifest {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: addonMetadata(`${PROMETHEUS_SERVICE}-pod-reader`, meshNamespace),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${PROMETHEUS_SERVICE}-pod-reader` },
    subjects: [{ kind: "ServiceAccount", name: PROMETHEUS_SERVICE, namespace: ADDONS_NAMESPACE }],
  };
}

/**
 * `alertRules`: a Prometheus rule file (`{ groups: [...] }`), loaded when given. Prometheus is
 * the only add-on with an API token: its pod discovery reads the API server.
 */
export function buildPrometheus(meshNamespace: string, alertRules?: object): AddonManifestSet {
  const name = PROMETHEUS_SERVICE;
  const configMap = buildAddonConfigMap(`${name}-config`, { [PROMETHEUS_CONFIG_FILE]: toYaml(prometheusConfig(meshNamespace, alertRules !== undefined)) });
  const rules = alertRules === undefined ? undefined : buildAddonConfigMap(`${name}-rules`, { [PROMETHEUS_RULES_FILE]: toYaml(alertRules) });
  return {
    name,
    serviceAccount: buildAddonServiceAccount(name, true),
    role: buildPodReaderRole(meshNamespace),
    roleBinding: buildPodReaderBinding(meshNamespace),
    configMaps: rules === undefined ? [configMap] : [configMap, rules],
    deployment: buildAddonDeployment({
      name,
      uid: ADDON_UIDS.prometheus,
      serviceAccount: name,
      automountToken: true,
      configHash: rules === undefined ? configHash(configMap.data) : configHash(configMap.data, rules.data),
      container: {
        name,
        image: ADDON_IMAGES.prometheus,
        args: [
          `--config.file=${CONFIG_DIR}/${PROMETHEUS_CONFIG_FILE}`,
          `--storage.tsdb.path=${DATA_DIR}`,
          `--storage.tsdb.retention.time=${PROMETHEUS_RETENTION}`,
        ],
        ports: [{ name: "http", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
        resources: addonResources({ cpuRequest: "100m", memoryRequest: "256Mi", memoryLimit: "1Gi" }),
        ...addonProbes(PROMETHEUS_READY_PATH, PROMETHEUS_HEALTHY_PATH, "http", 120),
        volumeMounts: [
          { name: "config", mountPath: CONFIG_DIR, readOnly: true },
          ...(rules === undefined ? [] : [{ name: "rules", mountPath: RULES_DIR, readOnly: true }]),
          { name: "data", mountPath: DATA_DIR },
        ],
      },
      volumes: [
        configMapVolume("config", configMap.metadata.name),
        ...(rules === undefined ? [] : [configMapVolume("rules", rules.metadata.name)]),
        emptyDirVolume("data", "2Gi"),
      ],
    }),
    service: buildAddonService(name, [{ name: "http", port: PROMETHEUS_PORT, appProtocol: "http" }]),
  };
}
