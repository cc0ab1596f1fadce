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
/**
 * Envoy's own counters and text readouts in its plain `name: value` form: `npm run status` reads
 * each xDS subscription's `version_text` and `update_rejected` there (read-only, as is Prometheus).
 */
export const STATS_PATH = "/stats";

/** Path every app answers; callers' Envoys health-check it through the callee's sidecar ingress. */
export const APP_HEALTH_PATH = "/healthz";

/**
 * Response header a sidecar ingress adds to its own 503 when the request never reached its
 * local app (connection refused: the app is gone). Callers retry such a response on another pod.
 */
export const NOT_DELIVERED_HEADER = "x-mesh-not-delivered";

/** Request header that pins a version of the called service (shared with the demo app, which forwards it). */
export { VERSION_HEADER } from "../app/names";

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

/**
 * Cluster of one version of a service: the cluster of its `<service>-<version>` workload, unique
 * because no such name may be a service's or another version's (topology/versions.ts).
 */
export function versionClusterName(service: string, version: string): string {
  return upstreamClusterName(`${service}-${version}`);
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

/*
 * Where every target puts an Envoy's files, so the bootstrap can name them: the bootstrap's
 * folder (a content-named ConfigMap on Kubernetes: a change rolls the pods), the xDS folder (a
 * ConfigMap with a stable name, updated in place: Envoy reloads it live), and one folder per certificate (a `kubernetes.io/tls` Secret on
 * Kubernetes, files in the container on Docker) holding `tls.crt`, `tls.key` and `ca.crt`.
 *
 * Every Envoy file is JSON (envoy/serialize.ts, toEnvoyJson), and its name ends in `.json`: Envoy
 * picks the parser by the file's extension, YAML for `.yaml`/`.yml` and JSON (protobuf's
 * JsonStringToMessage) for anything else but `.pb`/`.pb_text` (MessageUtil::loadFromFile in
 * envoyproxy/envoy source/common/protobuf/utility.cc), for the bootstrap (`-c`, InstanceUtil::loadBootstrapConfig
 * in source/server/server.cc) and for every path_config_source file alike (FilesystemSubscriptionImpl::refreshInternal
 * in source/extensions/config_subscription/filesystem/filesystem_subscription_impl.cc).
 */
export const ENVOY_CONFIG_DIR = "/etc/envoy";
export const ENVOY_CONFIG_FILE = "envoy.json";
/**
 * The xDS resource files (LDS, CDS, one RDS file per route configuration, SDS), each a
 * DiscoveryResponse; Envoy watches the folder and reloads a file when the folder's content is
 * swapped atomically (the kubelet's `..data` link), so listeners, routes and clusters change
 * without a restart. Outside ENVOY_CONFIG_DIR: a volume is never mounted inside another.
 */
export const XDS_DIR = "/etc/mesh/xds";
export const LDS_FILE = "lds.json";
export const CDS_FILE = "cds.json";
/** The RDS file of one route configuration (route configuration names are listener names: `[a-z0-9_]`). */
export function rdsFileName(routeConfig: string): string {
  return `rds-${routeConfig}.json`;
}
/** This proxy's mesh identity: its certificate and key, and the mesh CA it trusts. */
export const IDENTITY_DIR = "/etc/mesh/identity";
/** The front proxy's certificate for clients outside the mesh. */
export const EDGE_DIR = "/etc/mesh/edge";
/** Key names of a `kubernetes.io/tls` Secret (and cert-manager's `ca.crt`), used as file names on every target. */
export const CERTIFICATE_FILE = "tls.crt";
export const PRIVATE_KEY_FILE = "tls.key";
export const CA_FILE = "ca.crt";

/** SDS secret names, each served from its own file in XDS_DIR. */
export const IDENTITY_SECRET = "identity";
export const MESH_CA_SECRET = "mesh_ca";
export const EDGE_SECRET = "edge";
export const SDS_FILES = {
  [IDENTITY_SECRET]: "sds-identity.json",
  [MESH_CA_SECRET]: "sds-mesh-ca.json",
  [EDGE_SECRET]: "sds-edge.json",
} as const;

/** The front proxy's HTTPS listener. */
export const FRONT_TLS_LISTENER = "front_tls";

/** The cluster every proxy sends its trace spans to (OTLP/gRPC), when tracing is on. */
export const OTEL_COLLECTOR_CLUSTER = "otel_collector";
