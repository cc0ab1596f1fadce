import { isPlainObject } from "../../topology/reader";

function stringField(value: unknown, key: string): string | undefined {
  if (!isPlainObject(value)) {
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
  if (!isPlainObject(obj)) {
    return "(not an object)";
  }
  const kind = stringField(obj, "kind") ?? "(no kind)";
  const name = stringField(obj.metadata, "name") ?? "(no name)";
  const namespace = stringField(obj.metadata, "namespace");
  return namespace === undefined ? `${kind}/${name}` : `${kind}/${namespace}/${name}`;
}
