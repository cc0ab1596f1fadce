import type { PathSegment } from "./field-path";
import type { PodContext } from "./pod-context";

/** One place where a pod gives up a protection, and what it gives up. */
export interface Violation {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

export interface PolicyRule {
  /** Stable identifier, `restricted/...` for the Pod Security Standard, `defaults/...` for ours. */
  readonly id: string;
  /** What the rule requires, in one sentence. */
  readonly summary: string;
  readonly check: (pod: PodContext) => readonly Violation[];
}
