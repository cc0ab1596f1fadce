/**
 * An Envoy image for tests of the pure builders, which copy it into pod specs without reading
 * it. Deliberately not the image Pulumi.yaml pins: those tests must not depend on the project file.
 */
export const BUILDER_TEST_ENVOY_IMAGE = `registry.example/envoy:v1.39.0@sha256:${"e".repeat(64)}`;
