import { toYaml } from "../envoy";
import { buildAllProxyObjects, buildNamespace, proxyManifests, type Manifest } from "../k8s";
import {
  checkBuildContexts,
  imageBuildPlans,
  parseStackSettings,
  readStackConfigFile,
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
  const settings = parseStackSettings(readStackConfigFile(projectDir, stack));
  checkBuildContexts(settings.topology, projectDir);
  const plans = imageBuildPlans(settings.topology, settings.registry.server, stack);
  const proxies = buildAllProxyObjects(settings.topology, settings.mesh, (service) => renderedImage(service, plans));
  const manifests = [buildNamespace(settings.mesh.namespace), ...proxies.flatMap(proxyManifests)];

  const files = new Map<string, string>();
  for (const proxy of proxies) files.set(`envoy/${proxy.proxy}.yaml`, proxy.envoyYaml);
  manifests.forEach((manifest, i) => files.set(`k8s/${manifestFileName(i, manifest)}`, toYaml(manifest)));
  return { settings, files, envoyConfigCount: proxies.length, manifestCount: manifests.length };
}
