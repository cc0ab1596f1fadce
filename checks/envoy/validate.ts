import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { checkAcrossResources, checkBootstrap } from "./envoyChecks";
import { IssueSink, describeJson, type ValidateOptions, type ValidationResult } from "./issues";
import { readMessage, withDeclaredEnumNames, type ElementReader, type EnumFix } from "./protoJson";
import { loadEnvoyRegistry, type EnvoyRegistry } from "./registry";
import { ResourceVerdictMemo, parses, resourceVerdict, type ResourceVerdict } from "./resourceVerdicts";
import { isMessageValue, type MessageValue } from "./values";
import type { DescMessage } from "@bufbuild/protobuf";

/** The message a path_config_source file holds (and an xDS server answers with). */
export const DISCOVERY_RESPONSE_TYPE = "envoy.service.discovery.v3.DiscoveryResponse";

/**
 * Checks an Envoy v3 bootstrap config (the object a YAML or JSON file parses to) the way Envoy
 * does when it loads one:
 * 1. the proto3 JSON mapping, strictly (unknown fields, unknown `@type`, wrong value types,
 *    malformed durations), with the leniencies of Envoy's parser: enum names in any letter
 *    case, and a single element where a list belongs;
 * 2. the protoc-gen-validate rules carried in the protos;
 * 3. Envoy's own load-time checks (see envoyChecks.ts);
 * 4. deprecated fields and enum values, as warnings (errors with `strict`).
 *
 * Every problem is reported, each with its path in the input. Synchronous; the proto registry
 * is built on the first call of the process and reused.
 */
export function validateBootstrap(config: unknown, options: ValidateOptions = {}): ValidationResult {
  return validateWithRegistry(loadEnvoyRegistry(), config, options);
}

/** {@link validateBootstrap} against a given registry. */
export function validateWithRegistry(reg: EnvoyRegistry, config: unknown, options: ValidateOptions = {}): ValidationResult {
  return validateMessage(reg, reg.bootstrap, config, options, "a bootstrap config object", checkBootstrap);
}

/**
 * Checks an xDS resource file, the kind a `path_config_source` (or the deprecated `path`) of a
 * ConfigSource points at: Envoy reads it as a DiscoveryResponse
 * (envoyproxy/envoy source/extensions/config_subscription/filesystem/filesystem_subscription_impl.cc),
 * e.g. the listeners of an LDS file or the Secret an SDS config loads. Same checks as a
 * bootstrap's, on each resource, plus those Envoy makes on the resources it receives (see
 * checkResource and checkAcrossResources). What only the file and the bootstrap together show is
 * fileXds.ts's.
 *
 * The verdict on each resource is kept (bounded, see resourceVerdicts.ts), so a resource checked
 * before in this process, in this file or another, is not checked again; the checks across
 * resources run every time.
 */
export function validateResourceFile(config: unknown, options: ValidateOptions = {}): ValidationResult {
  return validateResourceFileWith(loadEnvoyRegistry(), config, options, resourceVerdicts);
}

/** The resource verdicts {@link validateResourceFile} keeps. */
export const resourceVerdicts = new ResourceVerdictMemo();

/**
 * {@link validateResourceFile} against a given registry, keeping resource verdicts in `memo`
 * (without one, every resource is checked afresh).
 */
export function validateResourceFileWith(reg: EnvoyRegistry, config: unknown, options: ValidateOptions = {}, memo?: ResourceVerdictMemo): ValidationResult {
  const type = reg.registry.getMessage(DISCOVERY_RESPONSE_TYPE);
  const resourcesField = type?.fields.find((f) => f.name === "resources");
  if (!type || !resourcesField) throw new Error(`Envoy API descriptors lack ${DISCOVERY_RESPONSE_TYPE}`);
  const sink = new IssueSink();
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    sink.error("", `expected an xDS resource file object (a DiscoveryResponse), got ${describeJson(config)}`);
    return sink.result(options);
  }
  const enumFixes: EnumFix[] = [];
  const unchecked = { count: 0 };
  const resources: ResourceVerdict[] = [];
  const elementReader: ElementReader = {
    field: resourcesField,
    read: (json, path, pgv) => {
      const verdict = resourceVerdict(reg, type, json, path, pgv, memo);
      sink.errors.push(...verdict.readErrors);
      sink.warnings.push(...verdict.warnings);
      unchecked.count += verdict.unchecked;
      resources.push(verdict);
      return verdict.value;
    },
  };
  const parsed = readMessage({ reg, sink, enumFixes, unchecked, elementReader }, type, config, "", true);
  const mappingErrors = sink.errors.length;
  if (isMessageValue(parsed)) {
    for (const r of resources) sink.errors.push(...r.checkErrors);
    checkAcrossResources(parsed, resources.flatMap((r) => (r.summary ? [r.summary] : [])), sink);
  }
  if (mappingErrors === 0 && unchecked.count === 0) {
    // The parser reads each resource on its own, so it takes the file exactly when it takes the
    // file's own fields and each resource (each was asked in a file of its own, at the same depth).
    const envelope = Object.fromEntries(Object.entries(withDeclaredEnumNames(config, enumFixes) as object).filter(([key]) => key !== "resources"));
    if (!resources.every((r) => r.accepted === true) || !parses(reg, type, envelope)) {
      // Refused: the whole file once more, for the parser's own words.
      const fixes: EnumFix[] = [];
      readMessage({ reg, sink: new IssueSink(), enumFixes: fixes }, type, config, "", true);
      crossCheck(reg, type, withDeclaredEnumNames(config, fixes), sink);
    }
  }
  return sink.result(options);
}

function validateMessage(
  reg: EnvoyRegistry,
  type: DescMessage,
  config: unknown,
  options: ValidateOptions,
  expected: string,
  check: (parsed: MessageValue, sink: IssueSink) => void,
): ValidationResult {
  const sink = new IssueSink();
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    sink.error("", `expected ${expected}, got ${describeJson(config)}`);
    return sink.result(options);
  }
  const enumFixes: EnumFix[] = [];
  const unchecked = { count: 0 };
  const parsed = readMessage({ reg, sink, enumFixes, unchecked }, type, config, "", true);
  const mappingErrors = sink.errors.length;
  if (isMessageValue(parsed)) check(parsed, sink);
  // A type the registry lacks would fail the re-parse for that reason alone; it is already reported.
  if (mappingErrors === 0 && unchecked.count === 0) crossCheck(reg, type, withDeclaredEnumNames(config, enumFixes), sink);
  return sink.result(options);
}

/**
 * Second opinion from @bufbuild/protobuf's conformant proto3 JSON parser, after enum names
 * are put in their declared case and single elements in lists (Envoy accepts both; the JSON
 * spec does not). The reader
 * above found no mapping error, so a refusal here is reported rather than hidden.
 */
function crossCheck(reg: EnvoyRegistry, type: DescMessage, config: unknown, sink: IssueSink): void {
  try {
    fromJson(type, config as JsonValue, { registry: reg.registry });
  } catch (err) {
    sink.error("", `proto3 JSON parser refused the config: ${(err as Error).message}`);
  }
}
