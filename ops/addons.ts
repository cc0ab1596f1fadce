import { ADDONS_NAMESPACE, GRAFANA_PORT, GRAFANA_SERVICE, JAEGER_SERVICE, JAEGER_UI_PORT, PROMETHEUS_PORT, PROMETHEUS_SERVICE } from "../observability/addons";

/**
 * How to open the observability add-ons after `npm run up`: each is a ClusterIP Service, reached
 * with `kubectl port-forward` on this machine only. Grafana needs no login: anonymous viewers
 * only (read-only), and no one can sign in.
 */
export function addonsHowToOpen(clusterName: string): string[] {
    const forward = (service: string, port: number) => `kubectl --context kind-${clusterName} -n ${ADDONS_NAMESPACE} port-forward svc/${service} ${port}`;
    return [
        "Observability add-ons (envoy-mesh:observability.addons), in namespace observability:",
        `  Jaeger (traces):       ${forward(JAEGER_SERVICE, JAEGER_UI_PORT)}, then open http://localhost:${JAEGER_UI_PORT}/`,
        `  Grafana (dashboards):  ${forward(GRAFANA_SERVICE, GRAFANA_PORT)}, then open http://localhost:${GRAFANA_PORT}/ (no login: anonymous, read-only)`,
        `  Prometheus (metrics):  ${forward(PROMETHEUS_SERVICE, PROMETHEUS_PORT)}, then open http://localhost:${PROMETHEUS_PORT}/`,
    ];
}
