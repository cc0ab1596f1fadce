import type { DescMessage } from "@bufbuild/protobuf";
import { childPath } from "./issues";

/**
 * The checked form of a config: what the proto3 JSON reader produced, keyed by proto field
 * name, with every object remembering its path in the input and the spelling of each key
 * (JSON name or proto name) so later checks can report paths as the user wrote them.
 */

/** A parsed message: proto field name -> value. */
export type MessageValue = { [protoName: string]: Value };

export type Value =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | MessageValue
  | DurationValue
  | TimestampValue
  | AnyValue
  | WrapperValue
  | OpaqueJson
  | Value[]
  | Map<string, Value>;

/** google.protobuf.Duration, kept exact. */
export class DurationValue {
  constructor(
    readonly seconds: bigint,
    readonly nanos: number,
  ) {}

  get totalNanos(): bigint {
    return this.seconds * 1_000_000_000n + BigInt(this.nanos);
  }
}

/** google.protobuf.Timestamp, kept exact. */
export class TimestampValue {
  constructor(
    readonly seconds: bigint,
    readonly nanos: number,
  ) {}

  get totalNanos(): bigint {
    return this.seconds * 1_000_000_000n + BigInt(this.nanos);
  }
}

/** google.protobuf.Any: the type it names and, when that type is known, its parsed content. */
export class AnyValue {
  constructor(
    readonly typeUrl: string,
    readonly typeName: string,
    readonly message: MessageValue | undefined,
    readonly messageType: DescMessage | undefined,
  ) {}
}

/** A wrapper type (UInt32Value, BoolValue, ...): the wrapped scalar. */
export class WrapperValue {
  constructor(readonly value: string | number | bigint | boolean | Uint8Array) {}
}

/** Struct, Value, ListValue: free-form JSON, not checked further. */
export class OpaqueJson {
  constructor(readonly json: unknown) {}
}

interface NodeMeta {
  readonly path: string;
  /** Field spellings other than the proto name, by proto name; none when all are proto names. */
  readonly keys: ReadonlyMap<string, string> | undefined;
  readonly type: DescMessage;
  /** Fields given a value that could not be read (already reported as errors). */
  readonly unreadable: ReadonlySet<string>;
}

/**
 * Where the meta of a parsed message is kept: a symbol-keyed property, which Object.keys,
 * Object.values, Object.entries and JSON.stringify pass over (a WeakMap entry per message cost
 * more to make and to collect).
 */
const META = Symbol("checks/envoy message meta");
type WithMeta = { [META]?: NodeMeta };
const NONE: ReadonlySet<string> = new Set();

const metaOf = (message: MessageValue): NodeMeta | undefined => (message as unknown as WithMeta)[META];

/** Records where a parsed message sits in the input. */
export function setMeta(
  message: MessageValue,
  type: DescMessage,
  path: string,
  keys: ReadonlyMap<string, string> | undefined,
  unreadable: ReadonlySet<string> = NONE,
): void {
  (message as unknown as WithMeta)[META] = { path, keys, type, unreadable };
}

/**
 * Whether a field was given in the input but its value could not be read (an error says why).
 * Later checks use it not to call such a field missing.
 */
export function wasUnreadable(message: MessageValue, protoName: string): boolean {
  return metaOf(message)?.unreadable.has(protoName) ?? false;
}

/** Message type of a parsed message. */
export function typeOf(message: MessageValue): DescMessage | undefined {
  return metaOf(message)?.type;
}

/** Path of a parsed message in the input. */
export function pathOf(message: MessageValue): string {
  return metaOf(message)?.path ?? "";
}

/** Path of a field of a parsed message, spelled as in the input. */
export function fieldPath(message: MessageValue, protoName: string): string {
  const meta = metaOf(message);
  return childPath(meta?.path ?? "", meta?.keys?.get(protoName) ?? protoName);
}

export function isMessageValue(v: Value | undefined): v is MessageValue {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    !(v instanceof Uint8Array) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

/** A message field of a parsed message, when set. */
export function subMessage(m: MessageValue | undefined, name: string): MessageValue | undefined {
  const v = m?.[name];
  return isMessageValue(v) ? v : undefined;
}

/** The messages of a repeated message field (none when unset). */
export function messageList(m: MessageValue | undefined, name: string): MessageValue[] {
  const v = m?.[name];
  return Array.isArray(v) ? v.filter(isMessageValue) : [];
}
