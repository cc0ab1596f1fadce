/** Pulumi type tokens of this package's components: `<package>:<module>:<Type>`. */
export const SERVICE_MESH_TYPE = "envoy-mesh:mesh:ServiceMesh";
export const MESH_SERVICE_TYPE = "envoy-mesh:mesh:MeshService";
export const FRONT_PROXY_TYPE = "envoy-mesh:mesh:FrontProxy";
export const APP_IMAGE_TYPE = "envoy-mesh:mesh:AppImage";
