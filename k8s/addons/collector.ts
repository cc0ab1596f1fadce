import { COLLECTOR_SERVICE, JAEGER_SERVICE, OTLP_GRPC_PORT } from "../../observability/addons";
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
  toYaml,
  type AddonManifestSet,
} from "./shared";

/** The health_check extension's port and path (opentelemetry-collector-contrib extension/healthcheckextension: default 13133, `/`). */
export const COLLECTOR_HEALTH_PORT = 13133;
export const COLLECTOR_HEALTH_PATH = "/";
export const COLLECTOR_CONFIG_FILE = "config.yaml";
const CONFIG_DIR = "/etc/otelcol";

/**
 * Receives OTLP/gRPC spans from every Envoy on 4317, batches them (memory_limiter first, so a
 * burst is refused rather than the pod killed) and forwards them to Jaeger over OTLP/gRPC,
 * plaintext inside the cluster. The exporter is keyed `otlp/jaeger`: `otlp` is the exporter's
 * long-standing type name (newer releases also call it `otlp_grpc` and keep `otlp` as an alias).
 */
export function collectorConfig(clusterDomain: string): Record<string, unknown> {
  return {
    extensions: { health_check: { endpoint: `0.0.0.0:${COLLECTOR_HEALTH_PORT}` } },
    receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` } } } },
    processors: {
      memory_limiter: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 20 },
      batch: { timeout: "1s" },
    },
    exporters: { "otlp/jaeger": { endpoint: `${addonHost(JAEGER_SERVICE, clusterDomain)}:${OTLP_GRPC_PORT}`, tls: { insecure: true } } },
    service: {
      extensions: ["health_check"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp/jaeger"] } },
    },
  };
}

export function buildCollector(clusterDomain: string): AddonManifestSet {
  const name = COLLECTOR_SERVICE;
  const configMap = buildAddonConfigMap(`${name}-config`, { [COLLECTOR_CONFIG_FILE]: toYaml(collectorConfig(clusterDomain)) });
  return {
    name,
    serviceAccount: buildAddonServiceAccount(name),
    configMaps: [configMap],
    deployment: buildAddonDeployment({
      name,
      uid: ADDON_UIDS.collector,
      serviceAccount: name,
      configHash: configHash(configMap.data),
      container: {
        name,
        image: ADDON_IMAGES.collector,
        args: ["--config", `${CONFIG_DIR}/${COLLECTOR_CONFIG_FILE}`],
        ports: [
          { name: "otlp-grpc", containerPort: OTLP_GRPC_PORT, protocol: "TCP" },
          { name: "health", containerPort: COLLECTOR_HEALTH_PORT, protocol: "TCP" },
        ],
        resources: addonResources({ cpuRequest: "50m", memoryRequest: "64Mi", memoryLimit: "256Mi" }),
        ...addonProbes(COLLECTOR_HEALTH_PATH, COLLECTOR_HEALTH_PATH, "health", 60),
        volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
      },
      volumes: [configMapVolume("config", configMap.metadata.name)],
    }),
    service: buildAddonService(name, [{ name: "otlp-grpc", port: OTLP_GRPC_PORT, appProtocol: "grpc" }]),
  };
}
