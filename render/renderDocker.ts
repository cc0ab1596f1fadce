import { envoyConfigProblems } from "../envoy/check";
import { composeFileIssues } from "../checks/compose";
import { buildDockerMesh, type DockerMesh } from "../docker";
import { imageBuildPlans, planFor, type DockerStackSettings } from "../stack";
import type { MeshService } from "../topology";
import { ConfigError } from "../topology/reader";
import { COMPOSE_FILE, COMPOSE_IMAGE_TAG, buildComposeDocument, composeFileText, type ComposeAppImage } from "./composeFile";

export interface RenderedDocker {
  readonly mesh: DockerMesh;
  /** The compose document, as written to `docker-compose.yaml`. */
  readonly compose: Record<string, unknown>;
  /** Relative path → content: `envoy/<proxy>.yaml` and `docker-compose.yaml`. */
  readonly files: ReadonlyMap<string, string>;
}

/** The image compose builds for a service (shared by every replica, so it is built once per build), or its prebuilt reference. */
function composeAppImages(settings: DockerStackSettings): (service: MeshService) => ComposeAppImage {
  // Local images, as the docker target builds them: no registry.
  const plans = imageBuildPlans(settings.topology, undefined, COMPOSE_IMAGE_TAG);
  return (service) => {
    if (service.image.kind === "ref") return { image: service.image.ref };
    const plan = planFor(service, plans);
    if (plan === undefined) throw new Error(`no image build for service ${service.name}`);
    return { image: plan.imageName, build: plan.build };
  };
}

/**
 * The checks a docker render must pass before anything is written: every Envoy config under
 * Envoy's strict rules, and the compose file under the Compose Specification's schema, compose's
 * own reference checks and the mesh's rules.
 */
export function dockerRenderProblems(envoyConfigs: readonly { proxy: string; yaml: string }[], compose: unknown): { path: string; message: string }[] {
  return [
    ...envoyConfigProblems(envoyConfigs),
    ...composeFileIssues(compose).map((i) => ({ path: `${COMPOSE_FILE} ${i.path}`, message: i.message })),
  ];
}

/**
 * A docker stack rendered for `docker compose`: the Envoy configs and the compose file, both
 * from the pure description the docker target deploys. `outDir` is where the files will be
 * written; build contexts in the compose file are relative to it.
 */
export function renderDocker(projectDir: string, settings: DockerStackSettings, outDir: string): RenderedDocker {
  const appImage = composeAppImages(settings);
  const mesh = buildDockerMesh(settings.topology, settings.docker, { envoy: settings.docker.envoyImage, app: (service) => appImage(service).image });
  const compose = buildComposeDocument(mesh, settings.docker, settings.topology, { projectDir, outDir, appImage });
  const problems = dockerRenderProblems(mesh.proxies.map((p) => ({ proxy: p.proxy, yaml: p.envoyYaml })), compose);
  // The same description feeds `pulumi up`, so a failure here is a bug to report, not a user mistake.
  if (problems.length > 0) throw new ConfigError(problems, "rendered output failed its checks");
  const files = new Map<string, string>();
  for (const proxy of mesh.proxies) files.set(`envoy/${proxy.proxy}.yaml`, proxy.envoyYaml);
  files.set(COMPOSE_FILE, composeFileText(compose));
  return { mesh, compose, files };
}
