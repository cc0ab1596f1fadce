/**
 * Every Envoy listener, cluster and stat prefix name is derived here, so that configs,
 * Kubernetes probes and tests agree on them.
 */

export const INGRESS_LISTENER = "ingress";
export const HEALTH_LISTENER = "health";
export const FRONT_LISTENER = "front";
export const LOCAL_APP_CLUSTER = "local_app";
export const ADMIN_CLUSTER = "admin";

/** Admin paths the health listener exposes; nothing else of the admin API leaves the pod. */
export const READY_PATH = "/ready";
export const PROMETHEUS_PATH = "/stats/prometheus";

/** Stat names use `_`; Kubernetes names use `-`. */
function statSafe(service: string): string {
  return service.replace(/-/g, "_");
}

export function egressListenerName(upstream: string): string {
  return `egress_${statSafe(upstream)}`;
}

export function upstreamClusterName(upstream: string): string {
  return `upstream_${statSafe(upstream)}`;
}

export function egressStatPrefix(upstream: string): string {
  return egressListenerName(upstream);
}

/** In-cluster DNS name of a service's headless Service. */
export function serviceFqdn(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}
