export * from "./names";
export { buildFrontProxyConfig, buildMeshConfigs, buildSidecarConfig, type EnvoyTarget, type EnvoyTracing, type ProxyConfig } from "./proxies";
export { duration, type EnvoyObject } from "./resources";
export { toEnvoyJson, toYaml } from "./serialize";
export { toFileXds, expectedVersions, liveConfigSummary, bootstrapVersion, type FileXdsConfig, type ExpectedVersion, type LiveConfigSummary } from "./xds";
