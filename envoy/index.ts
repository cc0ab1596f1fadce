export * from "./names";
export { buildFrontProxyConfig, buildMeshConfigs, buildSidecarConfig, type EnvoyTarget, type ProxyConfig } from "./proxies";
export { duration, type EnvoyObject } from "./resources";
export { toYaml } from "./serialize";
