/** One step into a Kubernetes object: a field name or an array index. */
export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Renders a path the way Kubernetes error messages do: `spec.containers[0].name`. Keys that are
 * not plain names (label keys such as `app.kubernetes.io/name`) are quoted: `labels["a.b/c"]`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
    } else if (PLAIN_KEY.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else {
      out += `[${JSON.stringify(segment)}]`;
    }
  }
  return out;
}

/** The value found by following `segments` from `root`, or undefined when the path leads nowhere. */
export function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") {
      return undefined;
    }
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/**
 * Converts a JSON pointer (`/spec/containers/0/name`) into path segments, using the object
 * itself to tell array indexes from map keys that happen to be digits.
 */
export function pointerToSegments(root: unknown, pointer: string): PathSegment[] {
  if (pointer === "") {
    return [];
  }
  const segments: PathSegment[] = [];
  let current: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const segment: PathSegment = Array.isArray(current) && /^\d+$/.test(key) ? Number(key) : key;
    segments.push(segment);
    current = valueAt(current, [segment]);
  }
  return segments;
}

/** Short, quoted description of a value for error messages: `string "3"`, `array`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "an array";
  }
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value)}`;
    case "number":
    case "boolean":
      return `${typeof value} ${String(value)}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}
