import { toYaml } from "../envoy";
import { envoyConfigProblems } from "../envoy/check";
import { checkPodPolicy } from "../k8s/validation/policy";
import { validateManifests } from "../k8s/validation/schema";
import { ConfigError } from "../topology/reader";
import { buildAllProxyObjects, buildNamespace, proxyManifests, type Manifest } from "../k8s";
import {
  checkBuildContexts,
  imageBuildPlans,
  parseStackSettings,
  readStackValues,
  renderedImage,
  type StackSettings,
} from "../stack";

export interface RenderedMesh {
  readonly settings: StackSettings;
  /** Relative path → file content, in a stable order. */
  readonly files: ReadonlyMap<string, string>;
  readonly envoyConfigCount: number;
  readonly manifestCount: number;
}

/** `00-namespace-envoy-mesh.yaml`: the number keeps `kubectl apply -f` in dependency order. */
function manifestFileName(index: number, manifest: Manifest): string {
  return `${String(index).padStart(2, "0")}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`;
}

/**
 * Everything one stack would deploy, rendered from its stack file with the same builders the
 * Pulumi components use; images that only a build can produce get a marked placeholder.
 */
export function renderMesh(projectDir: string, stack: string): RenderedMesh {
  const settings = parseStackSettings(readStackValues(projectDir, stack));
  checkBuildContexts(settings.topology, projectDir);
  const plans = imageBuildPlans(settings.topology, settings.registry.server, stack);
  const proxies = buildAllProxyObjects(settings.topology, settings.mesh, (service) => renderedImage(service, plans));
  const manifests = [buildNamespace(settings.mesh.namespace), ...proxies.flatMap(proxyManifests)];

  const problems = [
    ...envoyConfigProblems(proxies.map((p) => ({ proxy: p.proxy, yaml: p.envoyYaml }))),
    ...validateManifests(manifests).flatMap(({ object, issues }) => issues.map((i) => ({ path: `${object} ${i.path}`, message: i.message }))),
    ...manifests.flatMap(checkPodPolicy).map((f) => ({ path: `${f.object} ${f.path}`, message: `${f.message} [${f.rule}]` })),
  ];
  // The same builders feed `pulumi up`, so a failure here is a bug to report, not a user mistake.
  if (problems.length > 0) throw new ConfigError(problems, "rendered output failed its checks");

  const files = new Map<string, string>();
  for (const proxy of proxies) files.set(`envoy/${proxy.proxy}.yaml`, proxy.envoyYaml);
  manifests.forEach((manifest, i) => files.set(`k8s/${manifestFileName(i, manifest)}`, toYaml(manifest)));
  return { settings, files, envoyConfigCount: proxies.length, manifestCount: manifests.length };
}
