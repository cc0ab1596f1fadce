import { dump } from "js-yaml";

/**
 * Serializes a Kubernetes object (or another YAML file the project writes). Key order is the
 * builders' insertion order, so the same input always gives the same bytes; strings that YAML 1.1
 * readers would take for booleans or numbers are quoted.
 */
export function toYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1 });
}

/**
 * Serializes an Envoy config (a bootstrap or an xDS file) as JSON, which Envoy reads from a file
 * whose name does not end in `.yaml`/`.yml` (envoy/names.ts): several times faster to write and to
 * read back than YAML, and just as deterministic (insertion order, two-space indent, final newline).
 */
export function toEnvoyJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
