/**
 * The add-ons' images, each pinned to an exact release tag. The versions are the ones the
 * OpenTelemetry demo 3.1.0 runs together (open-telemetry/opentelemetry-demo, 2026-09): the
 * collector's core distribution of the same release as the demo's contrib build, Jaeger v2,
 * Prometheus 3 and Grafana 13. The collector's and Prometheus' image index digests are the ones
 * many independent projects pin for these tags; Jaeger's and Grafana's are left to be read from
 * the registry (`docker buildx imagetools inspect <image>`) before they are pinned.
 */
export const ADDON_IMAGES = {
  /** Core distribution: OTLP receiver, batch and memory_limiter processors, OTLP exporter, health_check extension. */
  collector: "otel/opentelemetry-collector:0.159.0@sha256:7725a7a10c87d8853208bdd4bb3439ad3c0d7b32b4292b9300ac07c8daba14a2",
  /** Jaeger v2: an OpenTelemetry Collector build with Jaeger's storage and query extensions. */
  jaeger: "jaegertracing/jaeger:2.19.0",
  prometheus: "prom/prometheus:v3.13.1@sha256:3c42b892cf723fa54d2f262c37a0e1f80aa8c8ddb1da7b9b0df9455a35a7f893",
  grafana: "grafana/grafana:13.1.0",
} as const;

/** The user each image's Dockerfile declares (USER), so the pod's runAsUser matches what the image expects. */
export const ADDON_UIDS = {
  /** open-telemetry/opentelemetry-collector-releases distributions/otelcol/Dockerfile: USER 10001. */
  collector: 10001,
  /** jaegertracing/jaeger cmd/jaeger/Dockerfile: USER 10001. */
  jaeger: 10001,
  /** prometheus/prometheus Dockerfile: USER nobody (65534). */
  prometheus: 65534,
  /** grafana/grafana Dockerfile: GF_UID 472. */
  grafana: 472,
} as const;
