import { getOption, hasOption, type DescEnumValue, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { ReadContext } from "./protoJson";
import { fieldPath, pathOf, type MessageValue, type Value } from "./values";

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

/** Protobuf's full name of an enum value: a sibling of its enum, not a child. */
function enumValueFullName(enumTypeName: string, valueName: string): string {
  const dot = enumTypeName.lastIndexOf(".");
  return dot < 0 ? valueName : `${enumTypeName.slice(0, dot)}.${valueName}`;
}

function sinceText(version: string): string {
  return version ? `, since API v${version}` : "";
}

/** A field's deprecation annotations; null when the field is not deprecated. */
interface FieldDeprecation {
  readonly atVersion: string;
  readonly disallowed: boolean;
}

/** Annotations are read once per descriptor: reading them (getOption) decodes the option bytes every time. */
const fieldDeprecations = new WeakMap<DescField, FieldDeprecation | null>();

function fieldDeprecation(ctx: ReadContext, field: DescField): FieldDeprecation | null {
  let known = fieldDeprecations.get(field);
  if (known === undefined) {
    const { options } = ctx.reg;
    const atVersion = hasOption(field, options.deprecatedAtMinorVersion) ? String(getOption(field, options.deprecatedAtMinorVersion)) : "";
    known =
      !field.deprecated && atVersion === ""
        ? null
        : { atVersion, disallowed: hasOption(field, options.disallowedByDefault) && getOption(field, options.disallowedByDefault) === true };
    fieldDeprecations.set(field, known);
  }
  return known;
}

export function checkDeprecatedField(ctx: ReadContext, field: DescField, value: Value, path: string): void {
  const deprecation = fieldDeprecation(ctx, field);
  if (deprecation === null) return;
  // Members of a oneof and message fields have presence: being written is being set.
  const set = field.oneof !== undefined || field.fieldKind === "message" || field.presence === FeatureSet_FieldPresence.EXPLICIT ? true : isSet(value);
  if (!set) return;
  const where = `${field.parent.typeName}.${field.name}`;
  if (deprecation.disallowed) {
    ctx.sink.error(
      path,
      `deprecated field "${field.name}" (${where}) is disallowed by default: Envoy refuses it unless the runtime key envoy.deprecated_features:${where} is true`,
    );
    return;
  }
  ctx.sink.warning(path, `"${field.name}" is deprecated (${where}${sinceText(deprecation.atVersion)})`);
}

/** A deprecated enum value's annotations. */
interface EnumValueDeprecation {
  readonly atVersion: string;
  readonly disallowed: boolean;
}

const enumValueDeprecations = new WeakMap<DescEnumValue, EnumValueDeprecation>();

function enumValueDeprecation(ctx: ReadContext, value: DescEnumValue): EnumValueDeprecation {
  let known = enumValueDeprecations.get(value);
  if (known === undefined) {
    const { options } = ctx.reg;
    known = {
      atVersion: hasOption(value, options.deprecatedAtMinorVersionEnum) ? String(getOption(value, options.deprecatedAtMinorVersionEnum)) : "",
      disallowed: hasOption(value, options.disallowedByDefaultEnum) && getOption(value, options.disallowedByDefaultEnum) === true,
    };
    enumValueDeprecations.set(value, known);
  }
  return known;
}

/** The singular enum fields of a message type whose enum has a deprecated value: the only ones the check below can report. */
const enumFieldsWithDeprecations = new WeakMap<DescMessage, readonly DescField[]>();

function deprecatableEnumFields(desc: DescMessage): readonly DescField[] {
  let fields = enumFieldsWithDeprecations.get(desc);
  if (fields === undefined) {
    fields = desc.fields.filter((f) => f.fieldKind === "enum" && f.enum.values.some((v) => v.deprecated));
    enumFieldsWithDeprecations.set(desc, fields);
  }
  return fields;
}

/**
 * Envoy looks at the current value of every singular enum field of a message in the config,
 * written or not: a deprecated value is reported even when it is only the default, because
 * then a non-default value must now be set explicitly.
 */
export function checkDeprecatedEnumFields(ctx: ReadContext, desc: DescMessage, message: MessageValue): void {
  for (const field of deprecatableEnumFields(desc)) {
    if (field.fieldKind !== "enum") continue;
    const raw = message[field.name];
    if (field.oneof !== undefined && raw === undefined) continue;
    const number = typeof raw === "number" ? raw : (field.enum.values[0]?.number ?? 0);
    const value = field.enum.values.find((v) => v.number === number);
    if (!value?.deprecated) continue;
    const isDefault = raw === undefined || number === 0;
    const path = raw === undefined ? pathOf(message) : fieldPath(message, field.name);
    const where = `${field.parent.typeName}.${field.name}`;
    const deprecation = enumValueDeprecation(ctx, value);
    const text = isDefault
      ? `"${field.name}" is unset and its default ${value.name} is deprecated (${where}${sinceText(deprecation.atVersion)}): set a non-default value explicitly`
      : `enum value ${value.name} is deprecated (${where}${sinceText(deprecation.atVersion)})`;
    if (deprecation.disallowed) {
      ctx.sink.error(
        path,
        `${text}; disallowed by default: Envoy refuses it unless the runtime key envoy.deprecated_features:${enumValueFullName(field.enum.typeName, value.name)} is true`,
      );
    } else ctx.sink.warning(path, text);
  }
}
