import { JAEGER_SERVICE, JAEGER_UI_PORT, OTLP_GRPC_PORT } from "../../observability/addons";
import { ADDON_IMAGES, ADDON_UIDS } from "./images";
import {
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

/**
 * Jaeger v2's health: the healthcheckv2 extension (opentelemetry-collector-contrib
 * extension/healthcheckv2extension; status path `/status`), on the port its image exposes
 * (jaegertracing/jaeger cmd/jaeger/Dockerfile: EXPOSE 13133).
 */
export const JAEGER_HEALTH_PORT = 13133;
export const JAEGER_HEALTH_PATH = "/status";
/** Query API over gRPC (api_v2/api_v3); the UI and the HTTP query API share JAEGER_UI_PORT. */
export const JAEGER_GRPC_QUERY_PORT = 16685;
/** Traces kept in memory; the oldest are dropped past this (a local add-on, lost on restart). */
export const JAEGER_MAX_TRACES = 10_000;
export const JAEGER_CONFIG_FILE = "config.yaml";
const CONFIG_DIR = "/etc/jaeger";
const STORE = "memstore";

/**
 * Jaeger v2 (an OpenTelemetry Collector build): OTLP/gRPC in, in-memory storage, the UI and
 * query API on 16686. Written out in full, after jaegertracing/jaeger
 * cmd/jaeger/internal/all-in-one.yaml, because that default binds to localhost only.
 */
export function jaegerConfig(): Record<string, unknown> {
  return {
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] } },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: `0.0.0.0:${JAEGER_HEALTH_PORT}` } },
      jaeger_query: {
        storage: { traces: STORE },
        http: { endpoint: `0.0.0.0:${JAEGER_UI_PORT}` },
        grpc: { endpoint: `0.0.0.0:${JAEGER_GRPC_QUERY_PORT}` },
      },
      jaeger_storage: { backends: { [STORE]: { memory: { max_traces: JAEGER_MAX_TRACES } } } },
    },
    receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` } } } },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: STORE } },
  };
}

export function buildJaeger(): AddonManifestSet {
  const name = JAEGER_SERVICE;
  const configMap = buildAddonConfigMap(`${name}-config`, { [JAEGER_CONFIG_FILE]: toYaml(jaegerConfig()) });
  return {
    name,
    serviceAccount: buildAddonServiceAccount(name),
    configMaps: [configMap],
    deployment: buildAddonDeployment({
      name,
      uid: ADDON_UIDS.jaeger,
      serviceAccount: name,
      configHash: configHash(configMap.data),
      container: {
        name,
        image: ADDON_IMAGES.jaeger,
        args: ["--config", `${CONFIG_DIR}/${JAEGER_CONFIG_FILE}`],
        ports: [
          { name: "otlp-grpc", containerPort: OTLP_GRPC_PORT, protocol: "TCP" },
          { name: "query-http", containerPort: JAEGER_UI_PORT, protocol: "TCP" },
          { name: "query-grpc", containerPort: JAEGER_GRPC_QUERY_PORT, protocol: "TCP" },
          { name: "health", containerPort: JAEGER_HEALTH_PORT, protocol: "TCP" },
        ],
        resources: addonResources({ cpuRequest: "50m", memoryRequest: "128Mi", memoryLimit: "512Mi" }),
        ...addonProbes(JAEGER_HEALTH_PATH, JAEGER_HEALTH_PATH, "health", 60),
        // The image declares /tmp a volume (cmd/jaeger/Dockerfile: VOLUME ["/tmp"]).
        volumeMounts: [
          { name: "config", mountPath: CONFIG_DIR, readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
      volumes: [configMapVolume("config", configMap.metadata.name), emptyDirVolume("tmp", "64Mi")],
    }),
    service: buildAddonService(name, [
      { name: "otlp-grpc", port: OTLP_GRPC_PORT, appProtocol: "grpc" },
      { name: "query-http", port: JAEGER_UI_PORT, appProtocol: "http" },
      { name: "query-grpc", port: JAEGER_GRPC_QUERY_PORT, appProtocol: "grpc" },
    ]),
  };
}
