import type { PathSegment } from "./field-path";
import { isPlainObject } from "../../topology/reader";

/** Which list of the pod spec a container comes from. */
export type ContainerGroup = "containers" | "initContainers" | "ephemeralContainers";

export interface ContainerRef {
  readonly container: Readonly<Record<string, unknown>>;
  readonly path: readonly PathSegment[];
  /** `container "app"`, or `initContainers[1]` when the container has no name. */
  readonly label: string;
  readonly group: ContainerGroup;
  /**
   * Runs for the life of the pod: an app container of a pod that restarts its containers
   * (restartPolicy Always, the default), or an init container with restartPolicy Always
   * (a native sidecar). Plain init containers and the containers of Jobs run to completion.
   */
  readonly longRunning: boolean;
}

/** A pod spec found inside a workload, with the paths needed to point at its fields. */
export interface PodContext {
  readonly object: Readonly<Record<string, unknown>>;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly specPath: readonly PathSegment[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly metadataPath: readonly PathSegment[];
  readonly containers: readonly ContainerRef[];
}

/** `value` when it is a JSON object, else an empty object (absent means "nothing set"). */
export function asRecord(value: unknown): Readonly<Record<string, unknown>> {
  return isPlainObject(value) ? value : {};
}

/** `obj[key]` when it is a JSON object, else an empty object. */
export function record(obj: unknown, key: string): Readonly<Record<string, unknown>> {
  return asRecord(isPlainObject(obj) ? obj[key] : undefined);
}

/** `obj[key]` when it is an array, else an empty array. */
export function list(obj: unknown, key: string): readonly unknown[] {
  const value = isPlainObject(obj) ? obj[key] : undefined;
  return Array.isArray(value) ? value : [];
}

/** Where each kind keeps its pod template; other kinds with `spec.template.spec` work too. */
function podSpecPath(obj: Readonly<Record<string, unknown>>): readonly PathSegment[] | undefined {
  switch (obj.kind) {
    case "Pod":
      return ["spec"];
    case "PodTemplate":
      return ["template", "spec"];
    case "CronJob":
      return ["spec", "jobTemplate", "spec", "template", "spec"];
    default:
      return isPlainObject(record(record(obj, "spec"), "template").spec) ? ["spec", "template", "spec"] : undefined;
  }
}

function follow(obj: unknown, path: readonly PathSegment[]): unknown {
  return path.reduce<unknown>((value, key) => (isPlainObject(value) ? value[key as string] : undefined), obj);
}

function containerRefs(spec: Readonly<Record<string, unknown>>, specPath: readonly PathSegment[]): ContainerRef[] {
  const podRestarts = spec.restartPolicy === undefined || spec.restartPolicy === "Always";
  const refs: ContainerRef[] = [];
  for (const group of ["initContainers", "containers", "ephemeralContainers"] as const) {
    list(spec, group).forEach((container, index) => {
      if (!isPlainObject(container)) {
        return;
      }
      const name = typeof container.name === "string" && container.name !== "" ? container.name : undefined;
      refs.push({
        container,
        path: [...specPath, group, index],
        label: name === undefined ? `${group}[${index}]` : `container ${JSON.stringify(name)}`,
        group,
        longRunning:
          (group === "containers" && podRestarts) || (group === "initContainers" && container.restartPolicy === "Always"),
      });
    });
  }
  return refs;
}

/** The pod spec of a Pod or of any workload with a pod template, or undefined for other objects. */
export function podContext(obj: unknown): PodContext | undefined {
  if (!isPlainObject(obj)) {
    return undefined;
  }
  const specPath = podSpecPath(obj);
  const spec = specPath === undefined ? undefined : follow(obj, specPath);
  if (specPath === undefined || !isPlainObject(spec)) {
    return undefined;
  }
  const metadataPath = [...specPath.slice(0, -1), "metadata"];
  const metadata = follow(obj, metadataPath);
  return {
    object: obj,
    spec,
    specPath,
    metadata: isPlainObject(metadata) ? metadata : {},
    metadataPath,
    containers: containerRefs(spec, specPath),
  };
}
