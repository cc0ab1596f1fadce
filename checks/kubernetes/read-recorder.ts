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

interface MutableVisit {
  readonly path: readonly PathSegment[];
  readonly value: Readonly<Record<string, unknown>>;
  readonly fieldsRead: Set<string>;
  keysEnumerated: boolean;
}

function wrap(value: unknown, path: readonly PathSegment[], visits: MutableVisit[]): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => wrap(item, [...path, index], visits));
  }
  if (!isPlainObject(value)) {
    return value;
  }
  const visit: MutableVisit = { path, value, fieldsRead: new Set(), keysEnumerated: false };
  visits.push(visit);
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    // defineProperty keeps keys such as "__proto__" as plain data.
    Object.defineProperty(copy, key, {
      value: wrap(child, [...path, key], visits),
      enumerable: true,
      writable: true,
      configurable: true,
    });
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
  const copy = wrap(value, [], visits);
  const result = inspect(copy);
  return { result, visits };
}
