export * from "./names";
export { buildFrontProxyConfig, buildMeshConfigs, buildSidecarConfig, type MeshContext, type ProxyConfig } from "./proxies";
export { duration, type EnvoyObject } from "./resources";
export { toYaml } from "./serialize";
