import { isIP } from "node:net";
import { ScalarType, getOption, hasOption, toJson, type DescEnum, type DescField, type DescMessage, type DescOneof } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import { describeJson, indexPath, mapKeyPath } from "./issues";
import type { ReadContext } from "./protoJson";
import { AnyValue, DurationValue, TimestampValue, WrapperValue, fieldPath, type MessageValue, type Value } from "./values";

/**
 * The protoc-gen-validate rules carried in the Envoy protos (`(validate.rules)` on fields,
 * `(validate.required)` on oneofs, `(validate.disabled)` on messages), evaluated the way the
 * generated C++ validators that Envoy runs at load time evaluate them:
 * - rules on a scalar without presence apply to its default value when it is not written;
 * - rules on a field with presence (message, proto3 `optional`, oneof member) apply only when
 *   it is set, except `required`;
 * - embedded messages are checked recursively unless `(validate.rules).message.skip` is set.
 */

/** `(validate.rules)` as JSON with proto field names, e.g. `{ string: { min_len: "1" } }`. */
type Rules = { readonly [kind: string]: RuleSet | undefined };
type RuleSet = { readonly [rule: string]: unknown };

const rulesCache = new WeakMap<DescField, Rules | null>();

export function fieldRules(ctx: ReadContext, field: DescField): Rules | undefined {
  let rules = rulesCache.get(field);
  if (rules === undefined) {
    const ext = ctx.reg.options.rules;
    rules = null;
    if (hasOption(field, ext) && ext.fieldKind === "message") {
      const msg = getOption(field, ext);
      rules = toJson(ext.message, msg as never, { useProtoFieldName: true, registry: ctx.reg.registry }) as Rules;
    }
    rulesCache.set(field, rules);
  }
  return rules ?? undefined;
}

/** True when the field's rules say not to validate the embedded message. */
export function skipsEmbedded(ctx: ReadContext, field: DescField): boolean {
  return fieldRules(ctx, field)?.message?.skip === true;
}

function hasPresence(field: DescField): boolean {
  return field.oneof !== undefined || field.presence === FeatureSet_FieldPresence.EXPLICIT;
}

/** What protoc-gen-validate checks on a message type: the same for every message of that type. */
interface MessageRules {
  /** `(validate.disabled)`: nothing is checked. */
  readonly disabled: boolean;
  /** The fields with `(validate.rules)`, in declaration order. */
  readonly fields: readonly { readonly field: DescField; readonly rules: Rules }[];
  /** The oneofs with `(validate.required)`. */
  readonly requiredOneofs: readonly DescOneof[];
}

/** Options are read once per descriptor: reading them (getOption) decodes the option bytes every time. */
const messageRulesCache = new WeakMap<DescMessage, MessageRules>();

function messageRules(ctx: ReadContext, desc: DescMessage): MessageRules {
  let plan = messageRulesCache.get(desc);
  if (plan === undefined) {
    const { options } = ctx.reg;
    plan = {
      disabled: hasOption(desc, options.messageDisabled) && getOption(desc, options.messageDisabled) === true,
      fields: desc.fields.flatMap((field) => {
        const rules = fieldRules(ctx, field);
        return rules ? [{ field, rules }] : [];
      }),
      requiredOneofs: desc.oneofs.filter((oneof) => hasOption(oneof, options.oneofRequired) && getOption(oneof, options.oneofRequired) === true),
    };
    messageRulesCache.set(desc, plan);
  }
  return plan;
}

/** Applies every field rule and required oneof of one parsed message. */
export function checkMessageRules(ctx: ReadContext, desc: DescMessage, msg: MessageValue, path: string): void {
  const plan = messageRules(ctx, desc);
  if (plan.disabled) return;
  for (const { field, rules } of plan.fields) checkField(ctx, field, rules, msg[field.name], fieldPath(msg, field.name));
  for (const oneof of plan.requiredOneofs) {
    if (oneof.fields.some((f) => msg[f.name] !== undefined)) continue;
    const names = oneof.fields.map((f) => `"${f.name}"`).join(", ");
    ctx.sink.error(path, `one of ${names} must be set (oneof "${oneof.name}" of ${desc.typeName} is required)`);
  }
}

function checkField(ctx: ReadContext, field: DescField, rules: Rules, value: Value | undefined, path: string): void {
  // Rules on a oneof member apply only when that member is the one set.
  if (field.oneof !== undefined && value === undefined) return;
  switch (field.fieldKind) {
    case "list": {
      const list = (value as Value[] | undefined) ?? [];
      const r = rules.repeated;
      if (!r || (r.ignore_empty === true && list.length === 0)) return;
      const min = r.min_items === undefined ? undefined : Number(r.min_items);
      const max = r.max_items === undefined ? undefined : Number(r.max_items);
      if (min !== undefined && list.length < min) {
        ctx.sink.error(path, `must have at least ${min} item${min === 1 ? "" : "s"}, got ${list.length}`);
      }
      if (max !== undefined && list.length > max) {
        ctx.sink.error(path, `must have at most ${max} item${max === 1 ? "" : "s"}, got ${list.length}`);
      }
      if (r.unique === true) {
        const seen = new Set<string>();
        list.forEach((v, i) => {
          const key = uniqueKey(v);
          if (seen.has(key)) ctx.sink.error(indexPath(path, i), "repeats an earlier item; items must be unique");
          seen.add(key);
        });
      }
      const items = r.items as Rules | undefined;
      if (items) list.forEach((v, i) => checkSingular(ctx, items, v, indexPath(path, i), enumOf(field)));
      return;
    }
    case "map": {
      const map = (value as Map<string, Value> | undefined) ?? new Map<string, Value>();
      const r = rules.map;
      if (!r || (r.ignore_empty === true && map.size === 0)) return;
      if (r.min_pairs !== undefined && map.size < Number(r.min_pairs)) {
        ctx.sink.error(path, `must have at least ${Number(r.min_pairs)} entries, got ${map.size}`);
      }
      if (r.max_pairs !== undefined && map.size > Number(r.max_pairs)) {
        ctx.sink.error(path, `must have at most ${Number(r.max_pairs)} entries, got ${map.size}`);
      }
      const keys = r.keys as Rules | undefined;
      const values = r.values as Rules | undefined;
      for (const [k, v] of map) {
        if (keys) checkSingular(ctx, keys, k, mapKeyPath(path, k), undefined);
        if (values) checkSingular(ctx, values, v, mapKeyPath(path, k), enumOf(field));
      }
      return;
    }
    case "message": {
      if (value === undefined) {
        const required =
          rules.message?.required === true ||
          rules.duration?.required === true ||
          rules.timestamp?.required === true ||
          rules.any?.required === true;
        if (required) ctx.sink.error(path, `required field "${field.name}" (${field.message.typeName}) is missing`);
        return;
      }
      checkSingular(ctx, rules, value, path, undefined);
      return;
    }
    default: {
      if (value === undefined) {
        if (hasPresence(field)) return;
        value = defaultValue(field);
      }
      checkSingular(ctx, rules, value, path, enumOf(field));
    }
  }
}

function enumOf(field: DescField): DescEnum | undefined {
  if (field.fieldKind === "enum") return field.enum;
  if (field.fieldKind === "list" && field.listKind === "enum") return field.enum;
  if (field.fieldKind === "map" && field.mapKind === "enum") return field.enum;
  return undefined;
}

function defaultValue(field: DescField): Value {
  if (field.fieldKind === "enum") return field.enum.values[0]?.number ?? 0;
  if (field.fieldKind !== "scalar") return 0;
  const d = field.getDefaultValue();
  if (d !== undefined) return d as Value;
  switch (field.scalar) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array();
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return 0n;
    default:
      return 0;
  }
}

function uniqueKey(v: Value): string {
  if (typeof v === "bigint") return `n:${v}`;
  if (typeof v === "number") return `n:${v}`;
  if (typeof v === "string") return `s:${v}`;
  if (v instanceof Uint8Array) return `b:${Buffer.from(v).toString("base64")}`;
  return `o:${JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x))}`;
}

const NUMERIC_KINDS = [
  "float",
  "double",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
] as const;

function checkSingular(ctx: ReadContext, rules: Rules, raw: Value, path: string, enumDesc: DescEnum | undefined): void {
  const value = raw instanceof WrapperValue ? raw.value : raw;
  if (rules.string && typeof value === "string") return checkString(ctx, rules.string, value, path);
  if (rules.bytes && value instanceof Uint8Array) return checkBytes(ctx, rules.bytes, value, path);
  if (rules.bool && typeof value === "boolean") {
    if (rules.bool.const !== undefined && value !== rules.bool.const) ctx.sink.error(path, `must be ${String(rules.bool.const)}`);
    return;
  }
  for (const kind of NUMERIC_KINDS) {
    const r = rules[kind];
    if (r && (typeof value === "number" || typeof value === "bigint")) {
      return checkOrdered(ctx, r, toOrdered(value), path, (x) => String(x), parseNumberRule);
    }
  }
  if (rules.enum && typeof value === "number") return checkEnum(ctx, rules.enum, value, path, enumDesc);
  if (rules.duration && value instanceof DurationValue) {
    return checkOrdered(ctx, rules.duration, value.totalNanos, path, formatNanos, (x) => parseDurationRule(x));
  }
  if (rules.timestamp && value instanceof TimestampValue) {
    return checkOrdered(ctx, rules.timestamp, value.totalNanos, path, (n) => new Date(Number(BigInt(n) / 1_000_000n)).toISOString(), parseTimestampRule);
  }
  if (rules.any && value instanceof AnyValue) {
    const inList = rules.any.in as string[] | undefined;
    const notIn = rules.any.not_in as string[] | undefined;
    if (inList && !inList.includes(value.typeUrl)) ctx.sink.error(path, `type ${value.typeUrl} is not allowed here; expected one of ${inList.join(", ")}`);
    if (notIn && notIn.includes(value.typeUrl)) ctx.sink.error(path, `type ${value.typeUrl} is not allowed here`);
  }
}

type Ordered = number | bigint;

function toOrdered(v: number | bigint): Ordered {
  return v;
}

function parseNumberRule(x: unknown): Ordered {
  if (typeof x === "string" && /^-?\d+$/.test(x)) return BigInt(x);
  return Number(x);
}

function compare(a: Ordered, b: Ordered): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "bigint" && Number.isInteger(b)) return compare(a, BigInt(b));
  if (typeof b === "bigint" && Number.isInteger(a)) return compare(BigInt(a), b);
  const na = Number(a);
  const nb = Number(b);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** const / lt / lte / gt / gte / in / not_in, with protoc-gen-validate's exclusive ranges. */
function checkOrdered(
  ctx: ReadContext,
  r: RuleSet,
  value: Ordered,
  path: string,
  show: (v: Ordered) => string,
  parse: (x: unknown) => Ordered,
): void {
  const got = show(value);
  if (r.const !== undefined && compare(value, parse(r.const)) !== 0) {
    ctx.sink.error(path, `must equal ${show(parse(r.const))}, got ${got}`);
  }
  const lt = r.lt !== undefined ? parse(r.lt) : undefined;
  const lte = r.lte !== undefined ? parse(r.lte) : undefined;
  const gt = r.gt !== undefined ? parse(r.gt) : undefined;
  const gte = r.gte !== undefined ? parse(r.gte) : undefined;
  const upper = lt ?? lte;
  const lower = gt ?? gte;
  const belowUpper = upper === undefined || (lt !== undefined ? compare(value, lt) < 0 : compare(value, upper) <= 0);
  const aboveLower = lower === undefined || (gt !== undefined ? compare(value, gt) > 0 : compare(value, lower) >= 0);
  const upperText = lt !== undefined ? `less than ${show(lt)}` : lte !== undefined ? `at most ${show(lte)}` : "";
  const lowerText = gt !== undefined ? `greater than ${show(gt)}` : gte !== undefined ? `at least ${show(gte)}` : "";
  if (upper !== undefined && lower !== undefined) {
    if (compare(upper, lower) > 0 || (compare(upper, lower) === 0 && lte !== undefined && gte !== undefined)) {
      if (!(belowUpper && aboveLower)) ctx.sink.error(path, `must be ${lowerText} and ${upperText}, got ${got}`);
    } else if (!(belowUpper || aboveLower)) {
      ctx.sink.error(path, `must be ${lowerText} or ${upperText}, got ${got}`);
    }
  } else if (!belowUpper) {
    ctx.sink.error(path, `must be ${upperText}, got ${got}`);
  } else if (!aboveLower) {
    ctx.sink.error(path, `must be ${lowerText}, got ${got}`);
  }
  const inList = r.in as unknown[] | undefined;
  if (inList && inList.length > 0 && !inList.some((x) => compare(value, parse(x)) === 0)) {
    ctx.sink.error(path, `must be one of ${inList.map((x) => show(parse(x))).join(", ")}, got ${got}`);
  }
  const notIn = r.not_in as unknown[] | undefined;
  if (notIn && notIn.some((x) => compare(value, parse(x)) === 0)) {
    ctx.sink.error(path, `must not be ${got}`);
  }
}

function parseDurationRule(x: unknown): bigint {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(String(x));
  if (!m) return 0n;
  const n = BigInt(m[2]) * 1_000_000_000n + BigInt((m[3] ?? "").padEnd(9, "0"));
  return m[1] ? -n : n;
}

function parseTimestampRule(x: unknown): bigint {
  return BigInt(Date.parse(String(x))) * 1_000_000n;
}

function formatNanos(v: Ordered): string {
  const n = BigInt(v);
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  const secs = abs / 1_000_000_000n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `"${sign}${secs}${frac ? `.${frac}` : ""}s"`;
}

function checkEnum(ctx: ReadContext, r: RuleSet, value: number, path: string, desc: DescEnum | undefined): void {
  if (r.defined_only === true && desc && !desc.values.some((v) => v.number === value)) {
    ctx.sink.error(path, `${value} is not a defined value of enum ${desc.typeName}`);
  }
  if (r.const !== undefined && value !== Number(r.const)) ctx.sink.error(path, `must equal ${String(r.const)}, got ${value}`);
  const inList = r.in as number[] | undefined;
  if (inList && inList.length > 0 && !inList.includes(value)) ctx.sink.error(path, `must be one of ${inList.join(", ")}, got ${value}`);
  const notIn = r.not_in as number[] | undefined;
  if (notIn && notIn.includes(value)) ctx.sink.error(path, `must not be ${value}`);
}

const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

const patternCache = new Map<string, RegExp | null>();

function compilePattern(source: string): RegExp | null {
  let re = patternCache.get(source);
  if (re === undefined) {
    try {
      re = new RegExp(source, "u");
    } catch {
      re = null;
    }
    patternCache.set(source, re);
  }
  return re;
}

function isHostname(host: string): boolean {
  if (host.length > 253) return false;
  const s = host.toLowerCase().replace(/\.$/, "");
  return s.split(".").every((part) => part.length > 0 && part.length <= 63 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(part));
}

function checkString(ctx: ReadContext, r: RuleSet, value: string, path: string): void {
  if (r.ignore_empty === true && value === "") return;
  const got = describeJson(value);
  const runes = [...value].length;
  const bytes = Buffer.byteLength(value, "utf8");
  const num = (x: unknown): number => Number(x);
  if (r.const !== undefined && value !== r.const) ctx.sink.error(path, `must equal ${JSON.stringify(r.const)}, got ${got}`);
  if (r.len !== undefined && runes !== num(r.len)) ctx.sink.error(path, `must be exactly ${num(r.len)} characters long, got ${got}`);
  if (r.min_len !== undefined && runes < num(r.min_len)) {
    ctx.sink.error(path, `must be at least ${num(r.min_len)} character${num(r.min_len) === 1 ? "" : "s"} long, got ${got}`);
  }
  if (r.max_len !== undefined && runes > num(r.max_len)) ctx.sink.error(path, `must be at most ${num(r.max_len)} characters long, got ${got}`);
  if (r.len_bytes !== undefined && bytes !== num(r.len_bytes)) ctx.sink.error(path, `must be exactly ${num(r.len_bytes)} bytes long, got ${got}`);
  if (r.min_bytes !== undefined && bytes < num(r.min_bytes)) ctx.sink.error(path, `must be at least ${num(r.min_bytes)} bytes long, got ${got}`);
  if (r.max_bytes !== undefined && bytes > num(r.max_bytes)) ctx.sink.error(path, `must be at most ${num(r.max_bytes)} bytes long, got ${got}`);
  if (typeof r.pattern === "string") {
    const re = compilePattern(r.pattern);
    if (re && !re.test(value)) ctx.sink.error(path, `must match the pattern ${r.pattern}, got ${got}`);
  }
  if (typeof r.prefix === "string" && !value.startsWith(r.prefix)) ctx.sink.error(path, `must start with ${JSON.stringify(r.prefix)}, got ${got}`);
  if (typeof r.suffix === "string" && !value.endsWith(r.suffix)) ctx.sink.error(path, `must end with ${JSON.stringify(r.suffix)}, got ${got}`);
  if (typeof r.contains === "string" && !value.includes(r.contains)) ctx.sink.error(path, `must contain ${JSON.stringify(r.contains)}, got ${got}`);
  if (typeof r.not_contains === "string" && value.includes(r.not_contains)) {
    ctx.sink.error(path, `must not contain ${JSON.stringify(r.not_contains)}, got ${got}`);
  }
  const inList = r.in as string[] | undefined;
  if (inList && inList.length > 0 && !inList.includes(value)) {
    ctx.sink.error(path, `must be one of ${inList.map((s) => JSON.stringify(s)).join(", ")}, got ${got}`);
  }
  const notIn = r.not_in as string[] | undefined;
  if (notIn && notIn.includes(value)) ctx.sink.error(path, `must not be ${got}`);

  const strict = r.strict !== false;
  if (r.well_known_regex === "HTTP_HEADER_NAME") {
    const ok = strict ? HEADER_NAME_STRICT.test(value) : HEADER_LOOSE.test(value);
    if (!ok) ctx.sink.error(path, `must be a valid HTTP header name, got ${got}`);
  } else if (r.well_known_regex === "HTTP_HEADER_VALUE") {
    const ok = strict ? HEADER_VALUE_STRICT.test(value) : HEADER_LOOSE.test(value);
    if (!ok) ctx.sink.error(path, `must be a valid HTTP header value, got ${got}`);
  }
  if (r.hostname === true && !isHostname(value)) ctx.sink.error(path, `must be a valid hostname, got ${got}`);
  if (r.ip === true && isIP(value) === 0) ctx.sink.error(path, `must be an IP address, got ${got}`);
  if (r.ipv4 === true && isIP(value) !== 4) ctx.sink.error(path, `must be an IPv4 address, got ${got}`);
  if (r.ipv6 === true && isIP(value) !== 6) ctx.sink.error(path, `must be an IPv6 address, got ${got}`);
  if (r.address === true && isIP(value) === 0 && !isHostname(value)) ctx.sink.error(path, `must be a hostname or IP address, got ${got}`);
  if (r.uuid === true && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value)) {
    ctx.sink.error(path, `must be a UUID, got ${got}`);
  }
  if (r.email === true && !/^[^@\s]+@[^@\s]+$/.test(value)) ctx.sink.error(path, `must be an email address, got ${got}`);
  if (r.uri === true && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) ctx.sink.error(path, `must be an absolute URI, got ${got}`);
  if (r.uri_ref === true && /\s/.test(value)) ctx.sink.error(path, `must be a URI reference, got ${got}`);
}

function checkBytes(ctx: ReadContext, r: RuleSet, value: Uint8Array, path: string): void {
  const n = value.length;
  const got = `${n} bytes`;
  if (r.len !== undefined && n !== Number(r.len)) ctx.sink.error(path, `must be exactly ${Number(r.len)} bytes long, got ${got}`);
  if (r.min_len !== undefined && n < Number(r.min_len)) ctx.sink.error(path, `must be at least ${Number(r.min_len)} bytes long, got ${got}`);
  if (r.max_len !== undefined && n > Number(r.max_len)) ctx.sink.error(path, `must be at most ${Number(r.max_len)} bytes long, got ${got}`);
  if (r.ip === true && n !== 4 && n !== 16) ctx.sink.error(path, `must be an IP address in bytes (4 or 16), got ${got}`);
  if (r.ipv4 === true && n !== 4) ctx.sink.error(path, `must be an IPv4 address in bytes (4), got ${got}`);
  if (r.ipv6 === true && n !== 16) ctx.sink.error(path, `must be an IPv6 address in bytes (16), got ${got}`);
}
