/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function stringField(value: unknown, key: string): string | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  const field = value[key];
  return typeof field === "string" && field !== "" ? field : undefined;
}

/**
 * Names an object the way people search for it: `Kind/namespace/name`, or `Kind/name` when it
 * has no namespace (cluster-scoped objects, or namespaced ones that rely on the default).
 */
export function describeObject(obj: unknown): string {
  if (!isRecord(obj)) {
    return "(not an object)";
  }
  const kind = stringField(obj, "kind") ?? "(no kind)";
  const name = stringField(obj.metadata, "name") ?? "(no name)";
  const namespace = stringField(obj.metadata, "namespace");
  return namespace === undefined ? `${kind}/${name}` : `${kind}/${namespace}/${name}`;
}
