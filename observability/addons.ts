/**
 * Names shared by the observability add-ons (kind only, `observability.addons`), the stack
 * settings that point the mesh at them, and `npm run up`, which prints how to open them.
 */

/** The namespace the add-ons run in, apart from the mesh's. */
export const ADDONS_NAMESPACE = "observability";
/** The OpenTelemetry Collector's Service: every proxy sends its spans there when the add-ons are on. */
export const COLLECTOR_SERVICE = "otel-collector";
/** OTLP over gRPC. */
export const OTLP_GRPC_PORT = 4317;
/** Jaeger (traces: UI and query API), Prometheus (metrics) and Grafana (dashboards). */
export const JAEGER_SERVICE = "jaeger";
export const JAEGER_UI_PORT = 16686;
export const PROMETHEUS_SERVICE = "prometheus";
export const PROMETHEUS_PORT = 9090;
export const GRAFANA_SERVICE = "grafana";
export const GRAFANA_PORT = 3000;
