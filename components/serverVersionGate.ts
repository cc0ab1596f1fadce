import * as pulumi from "@pulumi/pulumi";
import type { KubeconfigSource } from "../k8s/kubeconfig";
import { MIN_KUBERNETES_VERSION, formatRelease, serverVersionProblem } from "../k8s/serverVersion";
import { probeServerVersion, type ProbeResult } from "../k8s/versionProbe";
import { describeTarget, type KubernetesStackSettings } from "../stack";

export type VersionProbe = (source: KubeconfigSource) => Promise<ProbeResult>;

/**
 * Refuses a server known to be older than MIN_KUBERNETES_VERSION with a RunError (printed
 * without a stack trace); when the version cannot be learnt, warns and lets the run go on.
 */
export async function checkServerVersion(source: KubeconfigSource, probe: VersionProbe, warn: (message: string) => void): Promise<void> {
  const result = await probe(source);
  if (!result.known) {
    warn(
      `could not check the cluster's Kubernetes version (${result.reason}). ` +
        `This mesh needs Kubernetes ${formatRelease(MIN_KUBERNETES_VERSION)} or newer; check with \`kubectl version\`.`,
    );
    return;
  }
  const problem = serverVersionProblem(result.version, `the cluster of kube context ${result.context} (${result.url})`);
  if (problem) throw new pulumi.RunError(problem);
}

/**
 * For a stack whose target checks the server's version (cloud), a `dependsOn` for the
 * ServiceMesh that settles once the version is checked. Every resource of the mesh is its
 * descendant and waits for its parent to be registered, so nothing is registered, previewed or
 * created before the check passes. Kind stacks are checked by `npm run up` instead (undefined:
 * no wait).
 */
export function serverVersionGate(
  settings: Pick<KubernetesStackSettings, "target" | "provider">,
  probe: VersionProbe = probeServerVersion,
  warn: (message: string) => void = (m) => void pulumi.log.warn(m),
): pulumi.Output<pulumi.Resource[]> | undefined {
  if (!describeTarget(settings.target).checksServerVersion) return undefined;
  // The kubeconfig and context exactly as the provider gets them (~ expanded, unset stays unset).
  const source: KubeconfigSource = { ...settings.provider };
  return pulumi.output(checkServerVersion(source, probe, warn).then((): pulumi.Resource[] => []));
}
