import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isPlainObject } from "../../topology/reader";
import { checkDeprecatedEnumFields, checkDeprecatedField } from "./deprecation";
import { childPath, describeJson, indexPath, mapKeyPath, type IssueSink } from "./issues";
import { checkMessageRules, skipsEmbedded } from "./pgv";
import type { EnvoyRegistry } from "./registry";
import { suggest } from "../suggest";
import {
  AnyValue,
  DurationValue,
  OpaqueJson,
  TimestampValue,
  WrapperValue,
  isMessageValue,
  setMeta,
  type MessageValue,
  type Value,
} from "./values";

/**
 * A strict proto3 JSON reader (https://protobuf.dev/programming-guides/json/) driven by the
 * Envoy descriptors. Unlike a plain parser it does not stop at the first problem: it reports
 * every one with its path, and hands each parsed message to the protoc-gen-validate and
 * deprecation checks. Envoy-specific leniency: enum names match case-insensitively.
 */

export interface ReadContext {
  readonly reg: EnvoyRegistry;
  readonly sink: IssueSink;
  /** Enum names written in another letter case than declared, for a strict re-parse. */
  readonly enumFixes?: EnumFix[];
  /** Counts Any values whose type could not be checked (then there is no strict re-parse). */
  readonly unchecked?: { count: number };
  /**
   * Reads the elements of one repeated message field in place of {@link readMessage}: the
   * resources of an xDS file, whose verdicts are kept per resource (resourceVerdicts.ts).
   */
  readonly elementReader?: ElementReader;
}

export interface ElementReader {
  readonly field: DescField;
  read(json: unknown, path: string, pgv: boolean): Value | undefined;
}

/** An element of a repeated message field. */
function readElement(ctx: ReadContext, field: DescField & { message: DescMessage }, json: unknown, path: string, pgv: boolean): Value | undefined {
  const reader = ctx.elementReader;
  return reader !== undefined && reader.field === field ? reader.read(json, path, pgv) : readMessage(ctx, field.message, json, path, pgv);
}

/**
 * A rewrite the conformant re-parse needs for input Envoy accepts: `container[key]` holds an
 * enum name whose declared spelling is `name`, or (`wrap`) a single element where a list belongs.
 */
export type EnumFix =
  | { readonly container: object; readonly key: string | number; readonly name: string }
  | { readonly container: object; readonly key: string; readonly wrap: true };

function readEnumAt(ctx: ReadContext, desc: DescEnum, container: object, key: string | number, raw: unknown, path: string): number | undefined {
  const n = readEnum(ctx, desc, raw, path);
  if (n !== undefined && typeof raw === "string") {
    const declared = desc.values.find((v) => v.number === n)?.name;
    if (declared !== undefined && declared !== raw) ctx.enumFixes?.push({ container, key, name: declared });
  }
  return n;
}

const WRAPPERS: Record<string, ScalarType> = {
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.Int64Value": ScalarType.INT64,
  "google.protobuf.UInt64Value": ScalarType.UINT64,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.StringValue": ScalarType.STRING,
  "google.protobuf.BytesValue": ScalarType.BYTES,
};

/** TypedStruct carries a message of another type as a Struct; Envoy unpacks and checks it. */
const TYPED_STRUCTS = new Set(["xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct"]);

/**
 * Extension names (v2 and v3 spellings) of the filters a v2 config most often carries in its
 * removed `config` field. Reading that content as the v3 type it names shows what else would
 * still be refused once it moves to `typed_config`.
 */
const LEGACY_CONFIG_TYPES: Record<string, string> = {
  "envoy.http_connection_manager": "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  "envoy.filters.network.http_connection_manager":
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  "envoy.tcp_proxy": "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
  "envoy.filters.network.tcp_proxy": "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
  "envoy.router": "envoy.extensions.filters.http.router.v3.Router",
  "envoy.filters.http.router": "envoy.extensions.filters.http.router.v3.Router",
  "envoy.file_access_log": "envoy.extensions.access_loggers.file.v3.FileAccessLog",
  "envoy.access_loggers.file": "envoy.extensions.access_loggers.file.v3.FileAccessLog",
};

/** Key under which a parsed legacy `config` is kept for the later checks (not a proto field). */
export const LEGACY_CONFIG_KEY = "$legacy_config";

/** Hints for keys that the v2 API had and v3 removed. */
const V2_HINTS: Record<string, string> = {
  config: 'the v2 "config" field was removed: put the configuration in "typed_config" with an "@type"',
  hosts: 'the v2 "hosts" field was removed: list endpoints in "load_assignment"',
  tls_context: 'the v2 "tls_context" field was removed: use "transport_socket"',
};

const fieldMaps = new WeakMap<DescMessage, Map<string, DescField>>();

function fieldsByKey(desc: DescMessage): Map<string, DescField> {
  let map = fieldMaps.get(desc);
  if (!map) {
    map = new Map();
    for (const f of desc.fields) {
      map.set(f.name, f);
      map.set(f.jsonName, f);
    }
    fieldMaps.set(desc, map);
  }
  return map;
}

/** Reads a message (or a well-known type with its special JSON form). */
export function readMessage(ctx: ReadContext, desc: DescMessage, json: unknown, path: string, pgv: boolean): Value | undefined {
  switch (desc.typeName) {
    case "google.protobuf.Any":
      return readAny(ctx, json, path, pgv);
    case "google.protobuf.Duration":
      return readDuration(ctx, json, path);
    case "google.protobuf.Timestamp":
      return readTimestamp(ctx, json, path);
    case "google.protobuf.Struct":
      if (!isPlainObject(json)) return typeError(ctx, path, "an object (Struct)", json);
      return new OpaqueJson(json);
    case "google.protobuf.ListValue":
      if (!Array.isArray(json)) return typeError(ctx, path, "a list (ListValue)", json);
      return new OpaqueJson(json);
    case "google.protobuf.Value":
      return new OpaqueJson(json);
    case "google.protobuf.FieldMask":
      if (typeof json !== "string") return typeError(ctx, path, "a string (FieldMask)", json);
      return new OpaqueJson(json);
  }
  const wrapped = WRAPPERS[desc.typeName];
  if (wrapped !== undefined) {
    const v = readScalar(ctx, wrapped, json, path);
    return v === undefined ? undefined : new WrapperValue(v);
  }
  if (!isPlainObject(json)) return typeError(ctx, path, `an object (${desc.typeName})`, json);
  return readFields(ctx, desc, json, path, pgv, NO_KEYS);
}

function typeError(ctx: ReadContext, path: string, expected: string, got: unknown): undefined {
  ctx.sink.error(path, `expected ${expected}, got ${describeJson(got)}`);
  return undefined;
}

/** Whether `a` comes before `b` among `keys` (both written). */
function writtenBefore(keys: readonly string[], a: string, b: string): boolean {
  const at = keys.indexOf(a);
  return at !== -1 && at < keys.indexOf(b);
}

/** Keys readFields passes over: none, or an Any's "@type". */
const NO_KEYS: ReadonlySet<string> = new Set();
const TYPE_KEY: ReadonlySet<string> = new Set(["@type"]);

function readFields(
  ctx: ReadContext,
  desc: DescMessage,
  json: Record<string, unknown>,
  path: string,
  pgv: boolean,
  skipKeys: ReadonlySet<string>,
): MessageValue {
  const out: MessageValue = {};
  // Spellings other than the proto name, for paths as written (most configs use proto names).
  let spelled: Map<string, string> | undefined;
  // Most messages have neither: made when needed (every message read is one more allocation).
  let unreadable: Set<string> | undefined;
  let oneofSet: Map<string, string> | undefined;
  const byKey = fieldsByKey(desc);
  const jsonKeys = Object.keys(json);
  for (const key of jsonKeys) {
    if (skipKeys.has(key)) continue;
    const fpath = childPath(path, key);
    const field = byKey.get(key);
    if (!field) {
      ctx.sink.error(fpath, unknownFieldMessage(desc, key));
      const legacy = key === "config" ? readLegacyConfig(ctx, desc, json, fpath, pgv) : undefined;
      if (legacy) out[LEGACY_CONFIG_KEY] = legacy;
      continue;
    }
    // A field has two spellings (proto and JSON name); the second one written is the one refused.
    const other = key === field.name ? field.jsonName : field.name;
    if (other !== key && Object.prototype.hasOwnProperty.call(json, other) && !skipKeys.has(other) && writtenBefore(jsonKeys, other, key)) {
      ctx.sink.error(fpath, `field "${field.name}" is given twice (as "${other}" and "${key}")`);
      continue;
    }
    if (key !== field.name) (spelled ??= new Map()).set(field.name, key);
    const raw = json[key];
    // proto3 JSON: null means "not set", except for google.protobuf.Value and NullValue.
    if (raw === null && !acceptsNull(field)) continue;
    if (field.oneof) {
      oneofSet ??= new Map();
      const other = oneofSet.get(field.oneof.name);
      if (other !== undefined) {
        ctx.sink.error(
          fpath,
          `"${key}" and "${other}" are both set, but they belong to oneof "${field.oneof.name}": set only one`,
        );
        continue;
      }
      oneofSet.set(field.oneof.name, key);
    }
    const embeddedPgv = pgv && !skipsEmbedded(ctx, field);
    const value = readFieldValue(ctx, field, json, key, fpath, embeddedPgv);
    if (value === undefined) {
      (unreadable ??= new Set()).add(field.name);
      continue;
    }
    out[field.name] = value;
    checkDeprecatedField(ctx, field, value, fpath);
  }
  setMeta(out, desc, path, spelled, unreadable);
  checkDeprecatedEnumFields(ctx, desc, out);
  if (pgv) checkMessageRules(ctx, desc, out, path);
  return out;
}

/** Reads a v2 `config` as the v3 type its filter name stands for, for diagnostics only. */
function readLegacyConfig(
  ctx: ReadContext,
  desc: DescMessage,
  json: Record<string, unknown>,
  path: string,
  pgv: boolean,
): AnyValue | undefined {
  if (!desc.fields.some((f) => f.name === "typed_config") || typeof json.name !== "string") return undefined;
  const typeName = LEGACY_CONFIG_TYPES[json.name];
  const type = typeName ? ctx.reg.registry.getMessage(typeName) : undefined;
  if (!type || !isPlainObject(json.config)) return undefined;
  const message = readFields(ctx, type, json.config, path, pgv, NO_KEYS);
  return new AnyValue(`type.googleapis.com/${type.typeName}`, type.typeName, message, type);
}

function acceptsNull(field: DescField): boolean {
  if (field.fieldKind === "message") return field.message.typeName === "google.protobuf.Value";
  if (field.fieldKind === "enum") return field.enum.typeName === "google.protobuf.NullValue";
  return false;
}

function unknownFieldMessage(desc: DescMessage, key: string): string {
  const base = `unknown field "${key}" in ${desc.typeName}`;
  const hint = V2_HINTS[key];
  if (hint) return `${base}; ${hint}`;
  const names = desc.fields.map((f) => f.name);
  const close = suggest(key, names);
  return close ? `${base}; did you mean "${close}"?` : base;
}

function readFieldValue(
  ctx: ReadContext,
  field: DescField,
  container: Record<string, unknown>,
  key: string,
  path: string,
  pgv: boolean,
): Value | undefined {
  const raw = container[key];
  switch (field.fieldKind) {
    case "scalar":
      return readScalar(ctx, field.scalar, raw, path);
    case "enum":
      return readEnumAt(ctx, field.enum, container, key, raw, path);
    case "message":
      return readMessage(ctx, field.message, raw, path, pgv);
    case "list": {
      if (!Array.isArray(raw)) {
        // Envoy parses JSON (and YAML, converted to JSON) with protobuf's JsonStringToMessage,
        // which sets allow_legacy_syntax: a single element in place of a list is read as a list
        // of one (protocolbuffers/protobuf src/google/protobuf/json/json.cc and
        // json/internal/parser.cc, "permits a single element in place of an array thereof").
        ctx.enumFixes?.push({ container, key, wrap: true });
        let v: Value | undefined;
        if (field.listKind === "scalar") v = readScalar(ctx, field.scalar, raw, path);
        else if (field.listKind === "enum") v = readEnumAt(ctx, field.enum, container, key, raw, path);
        else v = readElement(ctx, field, raw, path, pgv);
        return v === undefined ? undefined : [v];
      }
      const out: Value[] = [];
      raw.forEach((item, i) => {
        const ipath = indexPath(path, i);
        let v: Value | undefined;
        if (item === null && !(field.listKind === "message" && field.message.typeName === "google.protobuf.Value")) {
          ctx.sink.error(ipath, "list elements cannot be null");
          return;
        }
        if (field.listKind === "scalar") v = readScalar(ctx, field.scalar, item, ipath);
        else if (field.listKind === "enum") v = readEnumAt(ctx, field.enum, raw, i, item, ipath);
        else v = readElement(ctx, field, item, ipath, pgv);
        if (v !== undefined) out.push(v);
      });
      return out;
    }
    case "map": {
      if (!isPlainObject(raw)) return typeError(ctx, path, "an object (map)", raw);
      const out = new Map<string, Value>();
      for (const [k, item] of Object.entries(raw)) {
        const kpath = mapKeyPath(path, k);
        if (!checkMapKey(ctx, field.mapKey, k, kpath)) continue;
        if (item === null) {
          ctx.sink.error(kpath, "map values cannot be null");
          continue;
        }
        let v: Value | undefined;
        if (field.mapKind === "scalar") v = readScalar(ctx, field.scalar, item, kpath);
        else if (field.mapKind === "enum") v = readEnumAt(ctx, field.enum, raw, k, item, kpath);
        else v = readMessage(ctx, field.message, item, kpath, pgv);
        if (v !== undefined) out.set(k, v);
      }
      return out;
    }
  }
}

function checkMapKey(ctx: ReadContext, type: ScalarType, key: string, path: string): boolean {
  if (type === ScalarType.STRING) return true;
  if (type === ScalarType.BOOL) {
    if (key === "true" || key === "false") return true;
    ctx.sink.error(path, `map key must be "true" or "false", got ${JSON.stringify(key)}`);
    return false;
  }
  return readScalar(ctx, type, key, path) !== undefined;
}

const INT_RANGES: Partial<Record<ScalarType, readonly [bigint, bigint]>> = {
  [ScalarType.INT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.SINT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.SFIXED32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.UINT32]: [0n, 2n ** 32n - 1n],
  [ScalarType.FIXED32]: [0n, 2n ** 32n - 1n],
  [ScalarType.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.SINT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.SFIXED64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.UINT64]: [0n, 2n ** 64n - 1n],
  [ScalarType.FIXED64]: [0n, 2n ** 64n - 1n],
};

const SCALAR_NAMES: Record<ScalarType, string> = {
  [ScalarType.DOUBLE]: "double",
  [ScalarType.FLOAT]: "float",
  [ScalarType.INT64]: "int64",
  [ScalarType.UINT64]: "uint64",
  [ScalarType.INT32]: "int32",
  [ScalarType.FIXED64]: "fixed64",
  [ScalarType.FIXED32]: "fixed32",
  [ScalarType.BOOL]: "bool",
  [ScalarType.STRING]: "string",
  [ScalarType.BYTES]: "bytes",
  [ScalarType.UINT32]: "uint32",
  [ScalarType.SFIXED32]: "sfixed32",
  [ScalarType.SFIXED64]: "sfixed64",
  [ScalarType.SINT32]: "sint32",
  [ScalarType.SINT64]: "sint64",
};

const FLOAT_MAX = 3.4028234663852886e38;

/** Reads one scalar in its proto3 JSON form; 64-bit integers come back as bigint. */
export function readScalar(
  ctx: ReadContext,
  type: ScalarType,
  json: unknown,
  path: string,
): string | number | bigint | boolean | Uint8Array | undefined {
  const name = SCALAR_NAMES[type];
  switch (type) {
    case ScalarType.STRING:
      return typeof json === "string" ? json : typeError(ctx, path, "a string", json);
    case ScalarType.BOOL:
      return typeof json === "boolean" ? json : typeError(ctx, path, "true or false", json);
    case ScalarType.BYTES:
      if (typeof json !== "string") return typeError(ctx, path, "a base64 string (bytes)", json);
      if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(json) || json.replace(/=+$/, "").length % 4 === 1) {
        ctx.sink.error(path, `invalid base64 for bytes: ${describeJson(json)}`);
        return undefined;
      }
      return new Uint8Array(Buffer.from(json, "base64"));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      let n: number;
      if (typeof json === "number") n = json;
      else if (typeof json === "string" && (json === "NaN" || json === "Infinity" || json === "-Infinity")) {
        return Number(json);
      } else if (typeof json === "string" && json.trim() !== "" && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(json)) {
        n = Number(json);
      } else return typeError(ctx, path, `a number (${name})`, json);
      if (!Number.isFinite(n) || (type === ScalarType.FLOAT && Math.abs(n) > FLOAT_MAX)) {
        ctx.sink.error(path, `${n} is out of range for ${name}`);
        return undefined;
      }
      return n;
    }
    default: {
      let big: bigint;
      if (typeof json === "number" && Number.isInteger(json)) big = BigInt(json);
      else if (typeof json === "string" && /^-?\d+$/.test(json)) big = BigInt(json);
      else if (typeof json === "string" && /^-?\d+(\.\d*)?([eE][-+]?\d+)?$/.test(json) && Number.isInteger(Number(json))) {
        big = BigInt(Number(json));
      } else return typeError(ctx, path, `an integer (${name})`, json);
      const [min, max] = INT_RANGES[type] as readonly [bigint, bigint];
      if (big < min || big > max) {
        ctx.sink.error(path, `${big} is out of range for ${name} (${min}..${max})`);
        return undefined;
      }
      const is64 = max > 2n ** 32n;
      return is64 ? big : Number(big);
    }
  }
}

/** Reads an enum value: a name (any letter case, as Envoy accepts) or a number. */
export function readEnum(ctx: ReadContext, desc: DescEnum, json: unknown, path: string): number | undefined {
  if (desc.typeName === "google.protobuf.NullValue" && json === null) return 0;
  if (typeof json === "number") {
    if (!Number.isInteger(json) || json < -(2 ** 31) || json > 2 ** 31 - 1) {
      ctx.sink.error(path, `${json} is not a valid enum number for ${desc.typeName}`);
      return undefined;
    }
    return json;
  }
  if (typeof json !== "string") return typeError(ctx, path, `an enum name of ${desc.typeName}`, json);
  const value =
    desc.values.find((v) => v.name === json) ?? desc.values.find((v) => v.name.toLowerCase() === json.toLowerCase());
  if (!value) {
    const names = desc.values.map((v) => v.name);
    ctx.sink.error(path, `unknown value ${JSON.stringify(json)} for enum ${desc.typeName}; expected one of ${names.join(", ")}`);
    return undefined;
  }
  return value.number;
}

const MAX_DURATION_SECONDS = 315_576_000_000n;
const DURATION_RE = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

function readDuration(ctx: ReadContext, json: unknown, path: string): DurationValue | undefined {
  if (typeof json !== "string") {
    return typeError(ctx, path, 'a duration string in seconds with an "s" suffix, e.g. "0.25s"', json);
  }
  const m = DURATION_RE.exec(json);
  if (!m) {
    ctx.sink.error(
      path,
      `malformed duration ${JSON.stringify(json)}: proto3 JSON durations are seconds with an "s" suffix, e.g. "0.25s"`,
    );
    return undefined;
  }
  const seconds = BigInt(m[2]);
  if (seconds > MAX_DURATION_SECONDS) {
    ctx.sink.error(path, `duration ${JSON.stringify(json)} is out of range (at most ${MAX_DURATION_SECONDS}s)`);
    return undefined;
  }
  const nanos = m[3] ? Number(m[3].padEnd(9, "0")) : 0;
  const sign = m[1] ? -1 : 1;
  return new DurationValue(BigInt(sign) * seconds, sign * nanos);
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function readTimestamp(ctx: ReadContext, json: unknown, path: string): TimestampValue | undefined {
  const m = typeof json === "string" ? TIMESTAMP_RE.exec(json) : null;
  const ms = m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]}`) : NaN;
  if (!m || Number.isNaN(ms)) {
    return typeError(ctx, path, 'an RFC 3339 timestamp such as "2024-01-31T12:00:00Z"', json);
  }
  return new TimestampValue(BigInt(Math.floor(ms / 1000)), m[7] ? Number(m[7].padEnd(9, "0")) : 0);
}

/** `type.googleapis.com/pkg.Type` -> `pkg.Type`; undefined when malformed. */
export function typeNameFromUrl(url: string): string | undefined {
  const slash = url.lastIndexOf("/");
  const name = url.slice(slash + 1);
  return /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(name) ? name : undefined;
}

function readAny(ctx: ReadContext, json: unknown, path: string, pgv: boolean): AnyValue | undefined {
  if (!isPlainObject(json)) return typeError(ctx, path, 'an object with an "@type" (Any)', json);
  const typeUrl = json["@type"];
  const tpath = childPath(path, "@type");
  if (typeUrl === undefined) {
    ctx.sink.error(path, 'missing "@type": an Any must name the type of its content, e.g. "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"');
    return undefined;
  }
  if (typeof typeUrl !== "string") return typeError(ctx, tpath, "a type URL string", typeUrl);
  const typeName = typeNameFromUrl(typeUrl);
  if (!typeName || !typeUrl.includes("/")) {
    ctx.sink.error(tpath, `malformed type URL ${JSON.stringify(typeUrl)}; expected "type.googleapis.com/<full message name>"`);
    return undefined;
  }
  const desc = ctx.reg.registry.getMessage(typeName);
  if (!desc) {
    const unchecked = ctx.reg.uncheckedTypes.get(typeName);
    if (unchecked) {
      if (ctx.unchecked) ctx.unchecked.count++;
      ctx.sink.warning(
        tpath,
        `${typeName} is an Envoy type whose proto (${unchecked}) imports files the installed API package does not ship; its content was not checked`,
      );
      return new AnyValue(typeUrl, typeName, undefined, undefined);
    }
    const close = suggest(typeName, allMessageNames(ctx));
    ctx.sink.error(tpath, `unknown type ${JSON.stringify(typeUrl)}${close ? `; did you mean "type.googleapis.com/${close}"?` : ""}`);
    return undefined;
  }
  if (isSpecialJsonType(desc)) {
    const extra = Object.keys(json).filter((k) => k !== "@type" && k !== "value");
    for (const k of extra) ctx.sink.error(childPath(path, k), `unknown field "${k}": an Any holding ${typeName} has only "@type" and "value"`);
    const inner = readMessage(ctx, desc, json.value, childPath(path, "value"), pgv);
    return new AnyValue(typeUrl, typeName, undefined, inner === undefined ? undefined : desc);
  }
  const message = readFields(ctx, desc, json, path, pgv, TYPE_KEY);
  if (TYPED_STRUCTS.has(typeName)) return readTypedStruct(ctx, json, path, pgv) ?? new AnyValue(typeUrl, typeName, message, desc);
  return new AnyValue(typeUrl, typeName, message, desc);
}

/**
 * Checks the content of a TypedStruct against the type its `type_url` names, and stands for
 * that content afterwards (a TypedStruct holding a Router is a router to Envoy).
 */
function readTypedStruct(ctx: ReadContext, json: Record<string, unknown>, path: string, pgv: boolean): AnyValue | undefined {
  const url = json.type_url ?? json.typeUrl;
  if (typeof url !== "string") return undefined;
  const name = typeNameFromUrl(url);
  const desc = name ? ctx.reg.registry.getMessage(name) : undefined;
  const upath = childPath(path, "type_url" in json ? "type_url" : "typeUrl");
  if (!desc || !name) {
    if (name && ctx.reg.uncheckedTypes.has(name)) return undefined;
    ctx.sink.error(upath, `unknown type ${JSON.stringify(url)} in TypedStruct`);
    return undefined;
  }
  const inner = readMessage(ctx, desc, json.value ?? {}, childPath(path, "value"), pgv);
  return new AnyValue(url, name, isMessageValue(inner) ? inner : undefined, desc);
}

function isSpecialJsonType(desc: DescMessage): boolean {
  return (
    desc.typeName in WRAPPERS ||
    [
      "google.protobuf.Any",
      "google.protobuf.Duration",
      "google.protobuf.Timestamp",
      "google.protobuf.Struct",
      "google.protobuf.Value",
      "google.protobuf.ListValue",
      "google.protobuf.FieldMask",
    ].includes(desc.typeName)
  );
}

const messageNameCache = new WeakMap<object, string[]>();

function allMessageNames(ctx: ReadContext): string[] {
  let names = messageNameCache.get(ctx.reg);
  if (!names) {
    names = [];
    for (const file of ctx.reg.registry.files) {
      const walk = (msgs: readonly DescMessage[]): void => {
        for (const m of msgs) {
          names?.push(m.typeName);
          walk(m.nestedMessages);
        }
      };
      walk(file.messages);
    }
    names.sort();
    messageNameCache.set(ctx.reg, names);
  }
  return names;
}

/**
 * Copy of the input with the recorded enum names replaced by their declared spelling and
 * single elements given for lists wrapped in a list.
 */
export function withDeclaredEnumNames(json: unknown, fixes: readonly EnumFix[]): unknown {
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
