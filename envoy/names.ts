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

/** Path every app answers; callers' Envoys health-check it through the callee's sidecar ingress. */
export const APP_HEALTH_PATH = "/healthz";

/**
 * Response header a sidecar ingress adds to its own 503 when the request never reached its
 * local app (connection refused: the app is gone). Callers retry such a response on another pod.
 */
export const NOT_DELIVERED_HEADER = "x-mesh-not-delivered";

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

/**
 * The name Envoy resolves for a service: its FQDN with a trailing dot, so the resolver asks for
 * exactly this name instead of first trying it under every search domain of the pod's
 * resolv.conf (ndots:5) on each refresh.
 */
export function serviceDnsQueryName(service: string, namespace: string, clusterDomain: string): string {
  return `${serviceFqdn(service, namespace, clusterDomain)}.`;
}
