/** Pulumi type tokens of this package's components: `<package>:<module>:<Type>`. */
export const SERVICE_MESH_TYPE = "envoy-mesh:mesh:ServiceMesh";
export const MESH_SERVICE_TYPE = "envoy-mesh:mesh:MeshService";
export const FRONT_PROXY_TYPE = "envoy-mesh:mesh:FrontProxy";
export const APP_IMAGE_TYPE = "envoy-mesh:mesh:AppImage";
export const DOCKER_MESH_SERVICE_TYPE = "envoy-mesh:docker:MeshService";
export const DOCKER_FRONT_PROXY_TYPE = "envoy-mesh:docker:FrontProxy";
export const LOCAL_IMAGE_TYPE = "envoy-mesh:docker:LocalImage";
export const MESH_CERTIFICATES_TYPE = "envoy-mesh:mesh:MeshCertificates";
export const OBSERVABILITY_ADDONS_TYPE = "envoy-mesh:observability:ObservabilityAddons";
