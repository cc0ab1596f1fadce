import { defaultRules } from "./default-rules";
import { formatPath } from "./field-path";
import { describeObject } from "./object-ref";
import { podContext } from "./pod-context";
import type { PolicyRule } from "./policy-rule";
import { restrictedRules } from "./restricted-rules";

/** One protection a pod gives up: which object, which field, which rule, and what is lost. */
export interface PolicyFinding {
  /** `Deployment/envoy-mesh/service-a` */
  readonly object: string;
  /** `spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem` */
  readonly path: string;
  /** Stable rule id, such as `restricted/run-as-non-root` or `defaults/read-only-root-fs`. */
  readonly rule: string;
  readonly message: string;
}

/** Every rule in the order findings are reported: restricted profile first, then our defaults. */
export const policyRules: readonly Pick<PolicyRule, "id" | "summary">[] = [...restrictedRules, ...defaultRules].map(({ id, summary }) => ({ id, summary }));

/**
 * Checks a Pod, or any workload with a pod template (Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, Job, CronJob, PodTemplate, ...), against the Pod Security Standard "restricted"
 * profile and the mesh's defaults. Objects without a pod template have no findings.
 * Reads the object as given: fields Kubernetes would default are treated as their defaults.
 */
export function checkPodPolicy(obj: unknown): PolicyFinding[] {
  const pod = podContext(obj);
  if (pod === undefined) {
    return [];
  }
  const object = describeObject(obj);
  return [...restrictedRules, ...defaultRules].flatMap((rule) =>
    rule.check(pod).map((violation) => ({ object, path: formatPath(violation.path), rule: rule.id, message: violation.message })),
  );
}
