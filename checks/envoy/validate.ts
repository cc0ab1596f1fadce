import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { checkBootstrap, checkResourceFile } from "./envoyChecks";
import { IssueSink, describeJson, type ValidateOptions, type ValidationResult } from "./issues";
import { readMessage, type EnumFix } from "./protoJson";
import { loadEnvoyRegistry, type EnvoyRegistry } from "./registry";
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
 * checkResourceFile). What only the file and the bootstrap together show is fileXds.ts's.
 */
export function validateResourceFile(config: unknown, options: ValidateOptions = {}): ValidationResult {
  const reg = loadEnvoyRegistry();
  const type = reg.registry.getMessage(DISCOVERY_RESPONSE_TYPE);
  if (!type) throw new Error(`Envoy API descriptors lack ${DISCOVERY_RESPONSE_TYPE}`);
  return validateMessage(reg, type, config, options, "an xDS resource file object (a DiscoveryResponse)", checkResourceFile);
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

/**
 * Copy of the input with the recorded enum names replaced by their declared spelling and
 * single elements given for lists wrapped in a list.
 */
function withDeclaredEnumNames(json: unknown, fixes: readonly EnumFix[]): unknown {
  // Nothing to rewrite: the input itself is what the parser reads (it does not modify it).
  if (fixes.length === 0) return json;
  const copies = new Map<object, unknown>();
  const copy = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const c: unknown = Array.isArray(v) ? v.map(copy) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
    copies.set(v, c);
    return c;
  };
  const root = copy(json);
  for (const fix of fixes) {
    const target = copies.get(fix.container) as Record<string | number, unknown> | undefined;
    if (target && "name" in fix) target[fix.key] = fix.name;
  }
  // After the enum names, which may sit in the element being wrapped.
  for (const fix of fixes) {
    const target = copies.get(fix.container) as Record<string | number, unknown> | undefined;
    if (target && "wrap" in fix) target[fix.key] = [target[fix.key]];
  }
  return root;
}
