/** Stack config defaults. Pulumi.yaml declares the same values; a test keeps the two equal. */

export const PROJECT = "envoy-mesh";
export const TARGETS = ["kind", "cloud"] as const;
export type Target = (typeof TARGETS)[number];

export const DEFAULT_TARGET: Target = "kind";
export const DEFAULT_NAMESPACE = "envoy-mesh";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
/** Pinned to an exact release at or above the Envoy API the validator checks against. */
export const DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.39.5";
export const DEFAULT_KIND_CLUSTER_NAME = "envoy-mesh";
/** kind's documented local registry, wired into the nodes' containerd. */
export const DEFAULT_KIND_REGISTRY = "localhost:5001";
/** NodePort of the Front Envoy on kind; the kind cluster config maps it to KIND_HOST_PORT. */
export const DEFAULT_FRONT_NODE_PORT = 30080;
export const KIND_HOST_PORT = 8080;
