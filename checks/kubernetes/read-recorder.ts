import type { PathSegment } from "./field-path";
import { isPlainObject } from "../../topology/reader";

/**
 * What a schema validator did with one JSON object of the input: which fields it looked up,
 * and whether it enumerated the keys (it does that for maps such as `labels`).
 */
export interface ObjectVisit {
  readonly path: readonly PathSegment[];
  readonly value: Readonly<Record<string, unknown>>;
  readonly fieldsRead: ReadonlySet<string>;
  readonly keysEnumerated: boolean;
}

/** Where a value sits, as a chain from the value up to the root: built per object, spelled out only when asked. */
type PathLink = { readonly up: PathLink; readonly segment: PathSegment } | undefined;

class MutableVisit implements ObjectVisit {
  readonly fieldsRead = new Set<string>();
  keysEnumerated = false;
  constructor(
    readonly value: Readonly<Record<string, unknown>>,
    private readonly at: PathLink,
  ) {}

  /** Only unknown fields need it, so it is spelled out here rather than copied at every level. */
  get path(): readonly PathSegment[] {
    const segments: PathSegment[] = [];
    for (let link = this.at; link !== undefined; link = link.up) segments.push(link.segment);
    return segments.reverse();
  }
}

function wrapChild(child: unknown, up: PathLink, segment: PathSegment, visits: MutableVisit[]): unknown {
  return typeof child === "object" && child !== null ? wrap(child, { up, segment }, visits) : child;
}

function wrap(value: unknown, at: PathLink, visits: MutableVisit[]): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => wrapChild(item, at, index, visits));
  }
  if (!isPlainObject(value)) {
    return value;
  }
  const visit = new MutableVisit(value, at);
  visits.push(visit);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const child = wrapChild(value[key], at, key, visits);
    // defineProperty keeps "__proto__" as plain data; every other key is set directly (much faster).
    if (key === "__proto__") Object.defineProperty(copy, key, { value: child, enumerable: true, writable: true, configurable: true });
    else copy[key] = child;
  }
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") {
        visit.fieldsRead.add(key);
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
    has(target, key) {
      if (typeof key === "string") {
        visit.fieldsRead.add(key);
      }
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      visit.keysEnumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

/**
 * Runs `inspect` on a copy of `value` that records, for every nested object, which fields were
 * read. A compiled JSON-schema validator reads each property its schema declares (present or
 * not) and enumerates the keys of maps, so the fields it never read are the undeclared ones.
 */
export function recordReads<T>(value: unknown, inspect: (copy: unknown) => T): { result: T; visits: readonly ObjectVisit[] } {
  const visits: MutableVisit[] = [];
  const copy = wrap(value, undefined, visits);
  const result = inspect(copy);
  return { result, visits };
}
