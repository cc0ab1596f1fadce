import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { toYaml } from "../envoy";
import { envoyConfigProblems } from "../envoy/check";
import { checkPodPolicy } from "../checks/kubernetes/policy";
import { checkSecretMounts, keyMaterialFindings } from "../checks/kubernetes/secret-mounts";
import { validateManifests } from "../checks/kubernetes/schema";
import { ConfigError } from "../topology/reader";
import { faultWarning } from "../topology/edge";
import { renderDocker } from "./renderDocker";
import { observabilityFiles } from "../observability/files";
import { addonConfigMapSizeProblems, addonManifests, buildObservabilityAddons, type AddonManifest } from "../k8s/addons";
import {
  EDGE_PLACEHOLDER_NOTE,
  IDENTITY_PLACEHOLDER_NOTE,
  PLACEHOLDER_ANNOTATION,
  buildAllProxyObjects,
  placeholderEdge,
  placeholderIdentity,
  buildNamespace,
  buildRegistryPullSecret,
  encodeDockerConfigJson,
  proxyManifests,
  type DockerConfigSecretManifest,
  type EdgeSecretSource,
  type Manifest,
  type MeshSecretSources,
  type AnyProxyObjects,
} from "../k8s";
import {
  imageBuildPlans,
  isKubernetesStack,
  parseStackSettings,
  readStackValues,
  renderedImage,
  type EdgeCertificateSource,
  type KubernetesStackSettings,
  type RegistrySettings,
  type StackSettings,
} from "../stack";

export interface RenderedMesh {
  readonly settings: StackSettings;
  /** Relative path → file content, in a stable order. */
  readonly files: ReadonlyMap<string, string>;
  readonly envoyConfigCount: number;
  readonly manifestCount: number;
  /** What a reader of the output must know (placeholders, settings `pulumi up` will refuse), one line each. */
  readonly notes: readonly string[];
  /** Services in the rendered `docker-compose.yaml` (docker stacks only). */
  readonly composeServiceCount?: number;
}

export interface RenderOptions {
  /**
   * The folder the files will be written to: a docker stack's compose file names its build
   * contexts relative to it. Default: `out` in the project folder.
   */
  readonly outDir?: string;
  /**
   * Where the time goes: milliseconds per stage (settings, build, envoy checks, observability,
   * kubernetes checks, serialize) are added here (a Kubernetes stack; a docker stack records its total).
   */
  readonly stageTimes?: Map<RenderStage, number>;
}

export type RenderStage = "settings" | "build" | "envoy checks" | "observability" | "kubernetes checks" | "serialize" | "docker";

/** Where a render goes when no folder is given. */
export const DEFAULT_OUT_DIR = "out";

/** Stand-ins for credentials that only `pulumi up` can read (the password is an encrypted secret). */
export const PLACEHOLDER_USERNAME = "placeholder-username";
export const PLACEHOLDER_PASSWORD = "placeholder-password-set-by-pulumi-up";

/**
 * The pull Secret as `pulumi up` would create it, with a marked placeholder password: a stack
 * file holds the password encrypted, if at all. Undefined when the stack sets no credentials.
 */
export function renderedPullSecret(registry: RegistrySettings, namespace: string): DockerConfigSecretManifest | undefined {
  if (registry.username === undefined && !registry.hasPassword) return undefined;
  const dockerConfigJson = encodeDockerConfigJson({
    server: registry.server,
    username: registry.username ?? PLACEHOLDER_USERNAME,
    password: PLACEHOLDER_PASSWORD,
  });
  return buildRegistryPullSecret(namespace, dockerConfigJson, {
    [PLACEHOLDER_ANNOTATION]: "the password is a placeholder: pulumi up writes the real one from envoy-mesh:registryPassword",
  });
}

/** What the render notes about the pull Secret: its placeholder, and credentials `pulumi up` would refuse. */
function pullSecretNotes(registry: RegistrySettings, file: string): string[] {
  const notes = [`${file} holds a placeholder password; pulumi up creates it with the stack's secret envoy-mesh:registryPassword`];
  const missing = [
    ...(registry.username === undefined ? ["envoy-mesh:registryUsername"] : []),
    ...(registry.hasPassword ? [] : ["envoy-mesh:registryPassword"]),
  ];
  if (missing.length > 0) {
    notes.push(`${missing.join(" and ")} not set: pulumi up refuses until both registry credentials are set (pods pull with the ones that push)`);
  }
  return notes;
}

/**
 * The certificates as render shows them: marked placeholders for everything Pulumi holds (keys
 * never leave its state), and an existing edge Secret by its name.
 */
export function renderedSecretSources(edge: EdgeCertificateSource): MeshSecretSources {
  const edgeSource: EdgeSecretSource | undefined =
    edge.kind === "secret" ? { kind: "existing", name: edge.name } : edge.kind === "none" ? undefined : { kind: "data", ...placeholderEdge() };
  return { identity: placeholderIdentity, ...(edgeSource === undefined ? {} : { edge: edgeSource }) };
}

/** Said at render when `security.mtls` is off (pulumi up says it too). */
export const MTLS_OFF_NOTE =
  "warning: topology.security.mtls is off: the proxies talk plain HTTP and every service accepts any caller; use it for debugging only";

/**
 * `00-namespace-envoy-mesh.yaml`: `kubectl apply -f <folder>` takes files in name order, so the
 * number keeps dependency order. Every number has the width of the largest (at least two
 * digits): with more than 100 objects, `100-...` would otherwise sort before `11-...`.
 */
export function manifestFileNames(manifests: readonly { readonly kind: string; readonly metadata: { readonly name: string } }[]): string[] {
  const width = Math.max(2, String(manifests.length - 1).length);
  return manifests.map((m, i) => `${String(i).padStart(width, "0")}-${m.kind.toLowerCase()}-${m.metadata.name}.yaml`);
}

/**
 * Everything one stack would deploy, rendered from its stack file with the same builders the
 * Pulumi components use; images that only a build can produce get a marked placeholder.
 */
export function renderMesh(projectDir: string, stack: string, options: RenderOptions = {}): RenderedMesh {
  const timed = <T>(stage: RenderStage, run: () => T): T => {
    const start = performance.now();
    try {
      return run();
    } finally {
      options.stageTimes?.set(stage, (options.stageTimes.get(stage) ?? 0) + performance.now() - start);
    }
  };
  const settings = timed("settings", () => parseStackSettings(readStackValues(projectDir, stack), { projectDir }));
  const notes: string[] = settings.topology.security.mtls === "off" ? [MTLS_OFF_NOTE] : [];
  const faults = faultWarning(settings.topology);
  if (faults !== undefined) notes.push(faults);
  if (!isKubernetesStack(settings)) {
    const docker = timed("docker", () => renderDocker(projectDir, settings, options.outDir ?? resolve(projectDir, DEFAULT_OUT_DIR), stack));
    notes.push(...docker.notes);
    return { settings, files: docker.files, envoyConfigCount: docker.mesh.proxies.length, manifestCount: 0, composeServiceCount: Object.keys(docker.compose.services as object).length, notes };
  }
  const pullSecret = renderedPullSecret(settings.registry, settings.mesh.namespace);
  const { proxies, addonSet, manifests } = timed("build", () => {
    const plans = imageBuildPlans(settings.topology, settings.registry.server, stack);
    const built = buildAllProxyObjects(
      settings.topology,
      settings.mesh,
      (service) => renderedImage(service, plans),
      pullSecret?.metadata.name,
      renderedSecretSources(settings.certificates.edge),
    );
    // The observability add-ons (kind, `observability.addons`) after the mesh: their Role lives in its namespace.
    const addonsBuilt = settings.observability.addons ? buildObservabilityAddons(settings.topology, settings.mesh) : undefined;
    const addons = addonsBuilt === undefined ? [] : addonManifests(addonsBuilt);
    const all: (Manifest | AddonManifest)[] = [buildNamespace(settings.mesh.namespace), ...(pullSecret ? [pullSecret] : []), ...built.flatMap(proxyManifests), ...addons];
    return { proxies: built, addonSet: addonsBuilt, manifests: all };
  });
  const certificateSecrets = new Set<Manifest>(proxies.flatMap((p) => [p.identitySecret, p.edgeSecret].filter((m) => m !== undefined)));

  const envoyConfigs = proxies.map((p) => ({ proxy: p.proxy, bootstrap: p.envoyBootstrap, xdsFiles: p.xdsFiles }));
  const envoyProblems = timed("envoy checks", () => envoyConfigProblems(envoyConfigs));
  const observability = timed("observability", () => observabilityFiles(settings.topology, envoyConfigs));
  const kubernetesProblems = timed("kubernetes checks", () => [
    // The API server refuses a ConfigMap over 1 MiB: say so here, as for the Envoy ConfigMaps at `up`.
    ...(addonSet === undefined ? [] : addonConfigMapSizeProblems(addonSet)),
    ...validateManifests(manifests).flatMap(({ object, issues }) => issues.map((i) => ({ path: `${object} ${i.path}`, message: i.message }))),
    ...[...manifests.flatMap(checkPodPolicy), ...checkSecretMounts(manifests), ...manifests.flatMap(keyMaterialFindings)].map((f) => ({
      path: `${f.object} ${f.path}`,
      message: `${f.message} [${f.rule}]`,
    })),
  ]);
  const problems = [...envoyProblems, ...observability.problems, ...kubernetesProblems];
  // The same builders feed `pulumi up`, so a failure here is a bug to report, not a user mistake.
  if (problems.length > 0) throw new ConfigError(problems, "rendered output failed its checks");

  const files = timed("serialize", () => meshFiles(proxies, manifests, certificateSecrets, pullSecret, observability.files, settings, notes));
  return { settings, files, envoyConfigCount: proxies.length, manifestCount: manifests.length, notes };
}

/** Every file of a Kubernetes stack's render, by path; notes the placeholders it writes. */
function meshFiles(
  proxies: readonly AnyProxyObjects[],
  manifests: readonly (Manifest | AddonManifest)[],
  certificateSecrets: ReadonlySet<Manifest>,
  pullSecret: DockerConfigSecretManifest | undefined,
  observabilityFileList: readonly (readonly [string, string])[],
  settings: KubernetesStackSettings,
  notes: string[],
): Map<string, string> {
  const files = new Map<string, string>();
  // The bootstrap next to a folder of the proxy's xDS files, as the two ConfigMaps hold them.
  for (const proxy of proxies) {
    files.set(`envoy/${proxy.proxy}.json`, proxy.envoyBootstrap);
    for (const [file, text] of Object.entries(proxy.xdsFiles)) files.set(`envoy/${proxy.proxy}/${file}`, text);
  }
  const names = manifestFileNames(manifests);
  const placeholderFiles = { identity: [] as string[], edge: [] as string[] };
  manifests.forEach((manifest, i) => {
    const path = `k8s/${names[i]}`;
    if (certificateSecrets.has(manifest as Manifest)) {
      placeholderFiles[manifest.metadata.name.endsWith("-identity") ? "identity" : "edge"].push(path);
      files.set(path, `# Placeholder certificate and key: \`pulumi up\` creates this Secret with the real ones (never rendered).\n${toYaml(manifest)}`);
      return;
    }
    if (manifest !== pullSecret) {
      files.set(path, toYaml(manifest));
      return;
    }
    notes.push(...pullSecretNotes(settings.registry, path));
    files.set(path, `# Placeholder credential: \`pulumi up\` creates this Secret with the real registry password.\n${toYaml(manifest)}`);
  });
  for (const [path, content] of observabilityFileList) files.set(path, content);
  if (placeholderFiles.identity.length > 0) notes.push(`${placeholderFiles.identity.length} identity Secrets (${placeholderFiles.identity.join(", ")}): ${IDENTITY_PLACEHOLDER_NOTE}`);
  if (placeholderFiles.edge.length > 0) notes.push(`${placeholderFiles.edge.join(", ")}: ${EDGE_PLACEHOLDER_NOTE}`);
  return files;
}
