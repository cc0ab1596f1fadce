import { getOption, hasOption, type DescEnum, type DescEnumValue, type DescField } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { ReadContext } from "./protoJson";
import type { Value } from "./values";

/**
 * Envoy's deprecation checks: a deprecated field or enum value that is in use is logged as a
 * warning; one also marked `disallowed_by_default` stops Envoy unless a runtime override
 * re-enables it, so that is an error. Like Envoy, a proto3 scalar holding its default value
 * counts as not set (the binary form cannot tell the two apart).
 */

function isSet(value: Value): boolean {
  if (typeof value === "number") return value !== 0;
  if (typeof value === "bigint") return value !== 0n;
  if (typeof value === "string") return value !== "";
  if (typeof value === "boolean") return value;
  if (value instanceof Uint8Array) return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  return true;
}

function sinceText(version: string): string {
  return version ? `, since API v${version}` : "";
}

export function checkDeprecatedField(ctx: ReadContext, field: DescField, value: Value, path: string): void {
  const { options } = ctx.reg;
  const atVersion = hasOption(field, options.deprecatedAtMinorVersion)
    ? String(getOption(field, options.deprecatedAtMinorVersion))
    : "";
  if (!field.deprecated && atVersion === "") return;
  // Members of a oneof and message fields have presence: being written is being set.
  const set = field.oneof !== undefined || field.fieldKind === "message" || field.presence === FeatureSet_FieldPresence.EXPLICIT ? true : isSet(value);
  if (!set) return;
  const where = `${field.parent.typeName}.${field.name}`;
  if (hasOption(field, options.disallowedByDefault) && getOption(field, options.disallowedByDefault) === true) {
    ctx.sink.error(
      path,
      `deprecated field "${field.name}" (${where}) is disallowed by default: Envoy refuses it unless the runtime key envoy.deprecated_features:${where} is true`,
    );
    return;
  }
  ctx.sink.warning(path, `"${field.name}" is deprecated (${where}${sinceText(atVersion)})`);
}

export function checkDeprecatedEnumValue(ctx: ReadContext, desc: DescEnum, value: DescEnumValue, path: string): void {
  if (value.number === 0) return;
  const { options } = ctx.reg;
  const atVersion = hasOption(value, options.deprecatedAtMinorVersionEnum)
    ? String(getOption(value, options.deprecatedAtMinorVersionEnum))
    : "";
  if (!value.deprecated && atVersion === "") return;
  const where = `${desc.typeName}.${value.name}`;
  if (hasOption(value, options.disallowedByDefaultEnum) && getOption(value, options.disallowedByDefaultEnum) === true) {
    ctx.sink.error(
      path,
      `deprecated enum value ${value.name} (${where}) is disallowed by default: Envoy refuses it unless the runtime key envoy.deprecated_features:${where} is true`,
    );
    return;
  }
  ctx.sink.warning(path, `enum value ${value.name} is deprecated (${where}${sinceText(atVersion)})`);
}
