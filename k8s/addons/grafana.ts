import { GRAFANA_PORT, GRAFANA_SERVICE, PROMETHEUS_PORT, PROMETHEUS_SERVICE } from "../../observability/addons";
import { ADDON_IMAGES, ADDON_UIDS } from "./images";
import {
  addonHost,
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
} from "./shared";

/** grafana/grafana pkg/api/health.go: `/api/health` answers 200 when the database is reachable. */
export const GRAFANA_HEALTH_PATH = "/api/health";
/** The provisioned Prometheus data source's uid: dashboards name it to find their data. */
export const PROMETHEUS_DATASOURCE_UID = "prometheus";
export const GRAFANA_DASHBOARD_FILE = "envoy-mesh.json";
export const GRAFANA_DASHBOARD_FOLDER = "Envoy mesh";
const PROVISIONING_DIR = "/etc/grafana/provisioning";
const DASHBOARDS_DIR = "/etc/grafana/dashboards";
const DATA_DIR = "/var/lib/grafana";

/** Grafana's file provisioning: one Prometheus data source, read-only. */
export function grafanaDatasources(clusterDomain: string): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: PROMETHEUS_DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: `http://${addonHost(PROMETHEUS_SERVICE, clusterDomain)}:${PROMETHEUS_PORT}`,
        isDefault: true,
        editable: false,
      },
    ],
  };
}

/** One file provider: the dashboards ConfigMap's folder, which the UI cannot change or delete. */
export function grafanaDashboardProviders(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "envoy-mesh",
        folder: GRAFANA_DASHBOARD_FOLDER,
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: DASHBOARDS_DIR, foldersFromFilesStructure: false },
      },
    ],
  };
}

/**
 * Anonymous, read-only access (the Viewer role) with no login form and no basic auth: nobody can
 * sign in, so nobody can change anything, and there is no password to hand out. Grafana calls
 * no one: no update checks, no usage reports, no plugin downloads at start. Logs go to stdout
 * only (the root filesystem is read-only).
 */
export const GRAFANA_ENV: readonly { readonly name: string; readonly value: string }[] = [
  { name: "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", value: "false" },
  { name: "GF_ANALYTICS_CHECK_FOR_UPDATES", value: "false" },
  { name: "GF_ANALYTICS_REPORTING_ENABLED", value: "false" },
  { name: "GF_AUTH_ANONYMOUS_ENABLED", value: "true" },
  { name: "GF_AUTH_ANONYMOUS_ORG_ROLE", value: "Viewer" },
  { name: "GF_AUTH_BASIC_ENABLED", value: "false" },
  { name: "GF_AUTH_DISABLE_LOGIN_FORM", value: "true" },
  { name: "GF_LOG_MODE", value: "console" },
  { name: "GF_PATHS_DATA", value: DATA_DIR },
  { name: "GF_PATHS_PROVISIONING", value: PROVISIONING_DIR },
  { name: "GF_PLUGINS_PREINSTALL_DISABLED", value: "true" },
  { name: "GF_USERS_ALLOW_SIGN_UP", value: "false" },
];

/** `dashboard`: the mesh's dashboard JSON model, provisioned when given. */
export function buildGrafana(clusterDomain: string, dashboard?: object): AddonManifestSet {
  const name = GRAFANA_SERVICE;
  const datasources = buildAddonConfigMap(`${name}-datasources`, { "prometheus.yaml": toYaml(grafanaDatasources(clusterDomain)) });
  const providers = buildAddonConfigMap(`${name}-dashboard-providers`, { "envoy-mesh.yaml": toYaml(grafanaDashboardProviders()) });
  const dashboards = buildAddonConfigMap(`${name}-dashboards`, dashboard === undefined ? {} : { [GRAFANA_DASHBOARD_FILE]: `${JSON.stringify(dashboard, null, 2)}\n` });
  return {
    name,
    serviceAccount: buildAddonServiceAccount(name),
    configMaps: [datasources, providers, dashboards],
    deployment: buildAddonDeployment({
      name,
      uid: ADDON_UIDS.grafana,
      serviceAccount: name,
      configHash: configHash(datasources.data, providers.data, dashboards.data),
      container: {
        name,
        image: ADDON_IMAGES.grafana,
        env: GRAFANA_ENV.map((e) => ({ ...e })),
        ports: [{ name: "http", containerPort: GRAFANA_PORT, protocol: "TCP" }],
        resources: addonResources({ cpuRequest: "50m", memoryRequest: "128Mi", memoryLimit: "512Mi" }),
        ...addonProbes(GRAFANA_HEALTH_PATH, GRAFANA_HEALTH_PATH, "http", 120),
        volumeMounts: [
          { name: "datasources", mountPath: `${PROVISIONING_DIR}/datasources`, readOnly: true },
          { name: "dashboard-providers", mountPath: `${PROVISIONING_DIR}/dashboards`, readOnly: true },
          { name: "dashboards", mountPath: DASHBOARDS_DIR, readOnly: true },
          // Its SQLite database, sessions and plugins.
          { name: "data", mountPath: DATA_DIR },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
      volumes: [
        configMapVolume("datasources", datasources.metadata.name),
        configMapVolume("dashboard-providers", providers.metadata.name),
        configMapVolume("dashboards", dashboards.metadata.name),
        emptyDirVolume("data", "256Mi"),
        emptyDirVolume("tmp", "64Mi"),
      ],
    }),
    service: buildAddonService(name, [{ name: "http", port: GRAFANA_PORT, appProtocol: "http" }]),
  };
}
