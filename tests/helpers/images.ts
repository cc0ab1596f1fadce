/**
 * An Envoy image for tests of the pure builders, which copy it into pod specs without reading
 * it. Deliberately not the image Pulumi.yaml pins: those tests must not depend on the project file.
 */
export const BUILDER_TEST_ENVOY_IMAGE = `registry.example/envoy:v1.39.0@sha256:${"e".repeat(64)}`;

/** A kind-like target for the pure Kubernetes builders: NodePorts 30080 and 30443, HTTPS at the edge on 8443. */
export const BUILDER_TEST_KIND_TARGET = {
  namespace: "envoy-mesh",
  clusterDomain: "cluster.local",
  envoyImage: BUILDER_TEST_ENVOY_IMAGE,
  front: { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 },
  edgeHttpsPort: 8443,
} as const;
