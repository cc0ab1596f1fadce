import { dump } from "js-yaml";

/**
 * Serializes a config for Envoy or Kubernetes. Key order is the builders' insertion order,
 * so the same input always gives the same bytes; strings that YAML 1.1 readers would take
 * for booleans or numbers are quoted.
 */
export function toYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1 });
}
