export * from "./tokens";
export { AppImage, appImageArgs, registryHost, type AppImageArgs } from "./appImage";
export { FrontProxy, type FrontProxyArgs } from "./frontProxy";
export { MeshService, type MeshServiceArgs } from "./meshService";
export { ServiceMesh, type ServiceEndpoint, type ServiceMeshArgs } from "./serviceMesh";
export { MeshCertificates, type MeshCertificatesArgs } from "./meshCertificates";
export { DockerFrontProxy, DockerMeshService, LocalImage, containerArgs, localImageArgs } from "./dockerContainers";
export { deployDockerMesh, type DeployedMesh } from "./dockerMesh";
export { ObservabilityAddons, type ObservabilityAddonsArgs } from "./observabilityAddons";
