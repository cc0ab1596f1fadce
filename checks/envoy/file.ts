import { readFileSync } from "node:fs";
import { loadAll } from "js-yaml";
import type { ValidateOptions, ValidationResult } from "./issues";
import { validateBootstrap } from "./validate";

/** One YAML document of a file. */
export interface ConfigDocument {
  /** 1-based position in the file. */
  readonly index: number;
  readonly content: unknown;
}

export type ReadDocumentsResult =
  | { readonly ok: true; readonly documents: readonly ConfigDocument[] }
  | { readonly ok: false; readonly error: string };

/**
 * Reads a YAML file into its documents, or a `.json` file as the one JSON document it must be:
 * Envoy parses any config file not named `.yaml`/`.yml` (or `.pb`, `.pb_text`) as strict JSON
 * (MessageUtil::loadFromFile, source/common/protobuf/utility.cc in envoyproxy/envoy), so YAML in
 * a `.json` file, which a YAML reader would take, is refused here as Envoy refuses it. Failures come
 * back as a message naming the file, never as an exception. Empty documents (a bare `---`) are dropped.
 */
export function readConfigDocuments(path: string): ReadDocumentsResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    return { ok: false, error: `cannot read ${path}: ${reason}` };
  }
  let docs: unknown[];
  if (path.toLowerCase().endsWith(".json")) {
    try {
      docs = [JSON.parse(text)];
    } catch (err) {
      return { ok: false, error: `${path} is not valid JSON (Envoy reads a .json file as JSON): ${(err as Error).message}` };
    }
    return docs[0] === null ? { ok: false, error: `${path} has no JSON document` } : { ok: true, documents: [{ index: 1, content: docs[0] }] };
  }
  try {
    docs = loadAll(text, { filename: path });
  } catch (err) {
    const first = String((err as Error).message).split("\n")[0];
    return { ok: false, error: `${path} is not valid YAML: ${first}` };
  }
  const documents = docs.map((content, i) => ({ index: i + 1, content })).filter((d) => d.content !== null && d.content !== undefined);
  if (documents.length === 0) return { ok: false, error: `${path} has no YAML document` };
  return { ok: true, documents };
}

export interface FileValidationReport {
  readonly path: string;
  readonly ok: boolean;
  /** Set when the file could not be read or parsed. */
  readonly error?: string;
  /** One entry per document, in file order. */
  readonly documents: readonly { readonly index: number; readonly result: ValidationResult }[];
}

/** Validates every document of a file as an Envoy bootstrap. */
export function validateBootstrapFile(path: string, options: ValidateOptions = {}): FileValidationReport {
  const read = readConfigDocuments(path);
  if (!read.ok) return { path, ok: false, error: read.error, documents: [] };
  const documents = read.documents.map((d) => ({ index: d.index, result: validateBootstrap(d.content, options) }));
  return { path, ok: documents.every((d) => d.result.ok), documents };
}
