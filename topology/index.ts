export * from "./types";
export * from "./defaults";
export { parseTopology, quantityValue, TOPOLOGY_PATH, compare, type ParseOptions } from "./parse";
export { ConfigError, type ConfigIssue, formatIssues } from "./reader";
export { SEED_TOPOLOGY } from "./seed";
export { isPinnedImageRef } from "./imageRef";
export { DEFAULT_EDGE_POLICY, DELIVERED_RETRY_CONDITIONS, PER_TRY_TIMEOUT_RETRY_CONDITIONS } from "./policy";
export { VERSION_TOTAL_WEIGHT, serviceWorkloads, versionWorkload, versionWorkloadName } from "./versions";
