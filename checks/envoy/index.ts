/**
 * Envoy v3 bootstrap validation without the Envoy binary, against Envoy's own API protos.
 * See validate.ts for what is checked.
 */
export { validateBootstrap } from "./validate";
export { validateBootstrapFile, readConfigDocuments } from "./file";
export type { ConfigDocument, FileValidationReport, ReadDocumentsResult } from "./file";
export { loadEnvoyRegistry, BOOTSTRAP_TYPE } from "./registry";
export type { EnvoyRegistry } from "./registry";
export type { ValidationIssue, ValidationResult, ValidateOptions } from "./issues";
export { ENVOY_API_VERSION } from "./apiVersion";
export { validateResourceFile, validateResourceFileWith, resourceVerdicts, DISCOVERY_RESPONSE_TYPE } from "./validate";
export { ResourceVerdictMemo, RESOURCE_VERDICT_LIMIT } from "./resourceVerdicts";
export { fromFileXds, XDS_RESOURCE_TYPES } from "./fileXds";
export type { FileXdsLoad, FileXdsOptions, XdsProblem } from "./fileXds";
