import { createHash } from "node:crypto";
import { fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { checkResource, type ResourceSummary } from "./envoyChecks";
import { IssueSink, type ValidationIssue } from "./issues";
import { readMessage, withDeclaredEnumNames, type EnumFix } from "./protoJson";
import type { EnvoyRegistry } from "./registry";
import { AnyValue } from "./values";

/**
 * Verdicts of the checks on one resource of an xDS file, kept per resource. The same cluster or
 * route table is delivered to many proxies (in a mesh of 1,000 services, 3,999 clusters are
 * 1,005 distinct ones), and everything checkResource and the reader check of a resource depends
 * on that resource alone. A verdict is found again only by a sha256 digest of the resource's exact
 * JSON text (key order included: it decides which of two spellings of a field is reported as
 * given twice), and only for plain JSON data (see canonicalJson). What needs several resources
 * (duplicate names, the number of secrets) and the file's own fields are checked every time.
 */

/**
 * Stands for the resource's path in a kept verdict; replaced by the path the resource has in the
 * file at hand (paths appear in messages too: "first at ..."). A resource whose text holds a NUL
 * is never kept, so every NUL in a kept verdict is this placeholder's.
 */
const AT = "\u0000resource\u0000";

/** A resource's checks, with its paths relative to the resource (AT) when kept. */
export interface ResourceVerdict {
  /** What the reader gives for the resource, content left out (it is checked here); undefined when unreadable. */
  readonly value: AnyValue | undefined;
  /** Problems of the mapping, protoc-gen-validate rules and deprecations (they decide whether the strict re-parse runs). */
  readonly readErrors: readonly ValidationIssue[];
  /** Problems Envoy's load-time checks find in the resource. */
  readonly checkErrors: readonly ValidationIssue[];
  readonly warnings: readonly ValidationIssue[];
  /** Any values of types the registry lacks. */
  readonly unchecked: number;
  /** For the checks across resources; undefined when the resource could not be read. */
  readonly summary: ResourceSummary | undefined;
  /** Whether @bufbuild/protobuf's parser takes the resource; undefined when it was not asked (reading errors, unchecked types). */
  readonly accepted: boolean | undefined;
}

interface KeptVerdict extends ResourceVerdict {
  readonly reg: EnvoyRegistry;
}

/** Default bound: the distinct resources of a mesh of about 4,000 services, a few megabytes. */
export const RESOURCE_VERDICT_LIMIT = 16_384;

/** A bounded memo of resource verdicts; the least recently used goes first. */
export class ResourceVerdictMemo {
  private readonly verdicts = new Map<string, KeptVerdict>();
  /** Resources found here, and those checked and kept. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(readonly limit: number = RESOURCE_VERDICT_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`ResourceVerdictMemo: limit must be a whole number of at least 1, got ${limit}`);
  }

  get size(): number {
    return this.verdicts.size;
  }

  clear(): void {
    this.verdicts.clear();
    this.stats.hits = 0;
    this.stats.misses = 0;
  }

  get(key: string, reg: EnvoyRegistry): ResourceVerdict | undefined {
    const known = this.verdicts.get(key);
    if (known === undefined || known.reg !== reg) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.verdicts.delete(key);
    this.verdicts.set(key, known);
    return known;
  }

  set(key: string, reg: EnvoyRegistry, verdict: ResourceVerdict): void {
    this.verdicts.delete(key);
    if (this.verdicts.size >= this.limit) this.verdicts.delete(this.verdicts.keys().next().value as string);
    this.verdicts.set(key, { ...verdict, reg });
  }
}

/**
 * The exact JSON text of plain JSON data, or undefined for anything else (undefined values,
 * holes, functions, non-finite numbers, -0, bigints, objects of a class, cycles), which
 * JSON.stringify would write the same as some other value or not at all.
 */
export function canonicalJson(value: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return undefined; // a cycle, or a bigint
  }
  return text !== undefined && isPlainJson(value) ? text : undefined;
}

function isPlainJson(v: unknown): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v) && !Object.is(v, -0);
    case "object": {
      if (v === null) return true;
      const proto: unknown = Object.getPrototypeOf(v);
      if (Array.isArray(v)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlainJson(v[i])) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      const o = v as Record<string, unknown>;
      for (const key of Object.keys(o)) if (!isPlainJson(o[key])) return false;
      return true;
    }
    default:
      return false;
  }
}

const EMPTY: readonly ValidationIssue[] = [];

/**
 * Reads and checks one resource of a DiscoveryResponse (`type`) at `path`: from `memo` when the
 * same resource was checked before, else afresh (and kept in `memo`).
 */
export function resourceVerdict(reg: EnvoyRegistry, type: DescMessage, json: unknown, path: string, pgv: boolean, memo: ResourceVerdictMemo | undefined): ResourceVerdict {
  const text = memo === undefined ? undefined : canonicalJson(json);
  if (memo === undefined || text === undefined || text.includes("\\u0000")) return checkOne(reg, type, json, path, pgv);
  const key = createHash("sha256").update(pgv ? "pgv\n" : "no pgv\n").update(text).digest("base64");
  let verdict = memo.get(key, reg);
  if (verdict === undefined) {
    verdict = checkOne(reg, type, json, AT, pgv);
    memo.set(key, reg, verdict);
  }
  return placed(verdict, path);
}

function checkOne(reg: EnvoyRegistry, type: DescMessage, json: unknown, path: string, pgv: boolean): ResourceVerdict {
  const sink = new IssueSink();
  const enumFixes: EnumFix[] = [];
  const unchecked = { count: 0 };
  const anyType = reg.registry.getMessage("google.protobuf.Any");
  if (!anyType) throw new Error("Envoy API descriptors lack google.protobuf.Any");
  const value = readMessage({ reg, sink, enumFixes, unchecked }, anyType, json, path, pgv);
  const readErrors = sink.errors.length;
  const any = value instanceof AnyValue ? value : undefined;
  const summary = any === undefined ? undefined : checkResource(any, sink);
  const accepted = readErrors === 0 && unchecked.count === 0 ? parses(reg, type, { resources: [withDeclaredEnumNames(json, enumFixes)] }) : undefined;
  const issues = (list: readonly ValidationIssue[]) => (list.length === 0 ? EMPTY : list);
  return {
    value: any === undefined ? undefined : new AnyValue(any.typeUrl, any.typeName, undefined, any.messageType),
    readErrors: issues(sink.errors.slice(0, readErrors)),
    checkErrors: issues(sink.errors.slice(readErrors)),
    warnings: issues(sink.warnings),
    unchecked: unchecked.count,
    summary,
    accepted,
  };
}

/** Whether @bufbuild/protobuf's conformant proto3 JSON parser takes `json` as a `type`. */
export function parses(reg: EnvoyRegistry, type: DescMessage, json: unknown): boolean {
  try {
    fromJson(type, json as JsonValue, { registry: reg.registry });
    return true;
  } catch {
    return false;
  }
}

/** A kept verdict with its paths those of the resource at `path`. */
function placed(verdict: ResourceVerdict, path: string): ResourceVerdict {
  const at = (s: string) => (s.includes(AT) ? s.replaceAll(AT, path) : s);
  const issues = (list: readonly ValidationIssue[]) => (list.length === 0 ? EMPTY : list.map((i) => ({ path: at(i.path), message: at(i.message) })));
  const summary = verdict.summary;
  const cluster = summary?.cluster;
  const listener = summary?.listener;
  return {
    ...verdict,
    readErrors: issues(verdict.readErrors),
    checkErrors: issues(verdict.checkErrors),
    warnings: issues(verdict.warnings),
    summary: summary && {
      typeName: summary.typeName,
      cluster: cluster && { name: cluster.name, namePath: at(cluster.namePath), path: at(cluster.path) },
      listener: listener && { ...listener, namePath: at(listener.namePath), path: at(listener.path), addressPath: at(listener.addressPath) },
    },
  };
}
