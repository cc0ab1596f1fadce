import { isAbsolute, relative } from "node:path";
import { envoyConfigProblems, type RenderedEnvoyConfig } from "../envoy/check";
import { composeFileIssues } from "../checks/compose";
import { buildDockerMesh, xdsFilesOf, type DockerCertificateFiles, type DockerMesh } from "../docker";
import { FRONT_PROXY_NAME } from "../topology";
import { imageBuildPlans, planFor, type DockerStackSettings } from "../stack";
import type { MeshService } from "../topology";
import { ConfigError } from "../topology/reader";
import { observabilityFiles } from "../observability/files";
import { COMPOSE_FILE, COMPOSE_IMAGE_TAG, buildComposeDocument, composeFileText, renderedFile, type ComposeAppImage } from "./composeFile";

export interface RenderedDocker {
  readonly mesh: DockerMesh;
  /** The compose document, as written to `docker-compose.yaml`. */
  readonly compose: Record<string, unknown>;
  /**
   * Relative path → content: `envoy/<proxy>.json` (the bootstrap, as in the compose file), the xDS
   * files in `xds/<proxy>/` (published live by writeTree), the certificate placeholders and `docker-compose.yaml`.
   */
  readonly files: ReadonlyMap<string, string>;
  readonly notes: readonly string[];
}

/**
 * What a render into the folder of a running compose mesh does: each Envoy bind-mounts its
 * `xds/<proxy>/` folder, which render publishes in place, so a new route, weight, retry or
 * cluster is live at once; the bootstrap is in the compose file, and only compose replaces it.
 */
export const LIVE_RELOAD_NOTE =
  "a compose mesh already running from this folder reloads listeners, routes and clusters (xds/<proxy>/) as soon as this render is written, with no restart, " +
  "when the engine shares this folder's kernel (Linux; an engine in a VM may not pass file events on: then docker compose up -d --force-recreate); " +
  "a changed Envoy bootstrap (envoy/<proxy>.json, in the compose file) takes effect with docker compose up -d --wait, which recreates only the Envoys whose bootstrap changed";

/** Starts every placeholder the render writes where a certificate or key belongs. */
export const PLACEHOLDER_MARK = "# PLACEHOLDER";

function placeholder(what: string): string {
  return [
    `${PLACEHOLDER_MARK}: not a certificate or key. This file stands for ${what}.`,
    "# npm run render never writes key material. `npm run certs -- --stack <stack> --out <this folder>`",
    "# issues real ones for this compose file (`npm run up` issues its own, in Pulumi's state).",
    "",
  ].join("\n");
}

/**
 * Placeholders for every certificate and key the mesh needs, so the compose file names real
 * files and the render still writes no key material.
 */
export function placeholderCertificates(settings: DockerStackSettings): DockerCertificateFiles {
  const proxies = [FRONT_PROXY_NAME, ...settings.topology.services.map((s) => s.name)];
  return {
    identities: new Map(
      proxies.map((proxy) => [
        proxy,
        {
          certificatePem: placeholder(`the PEM certificate of ${proxy}'s mesh identity (signed by the mesh CA)`),
          privateKeyPem: placeholder(`the PEM private key of ${proxy}'s mesh identity`),
          caPem: placeholder("the PEM certificate of the mesh CA"),
        },
      ]),
    ),
    edge: {
      certificatePem: placeholder("the PEM certificate the front proxy serves on HTTPS"),
      privateKeyPem: placeholder("the PEM private key of the front proxy's HTTPS certificate"),
    },
  };
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
export function dockerRenderProblems(envoyConfigs: readonly RenderedEnvoyConfig[], compose: unknown): { path: string; message: string }[] {
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
export function renderDocker(projectDir: string, settings: DockerStackSettings, outDir: string, stack = "docker"): RenderedDocker {
  const appImage = composeAppImages(settings);
  const mesh = buildDockerMesh(
    settings.topology,
    settings.docker,
    { envoy: settings.docker.envoyImage, app: (service) => appImage(service).image },
    placeholderCertificates(settings),
  );
  const compose = buildComposeDocument(mesh, settings.docker, settings.topology, { projectDir, outDir, appImage });
  const envoyConfigs = mesh.proxies.map((p) => ({ proxy: p.proxy, bootstrap: p.envoyBootstrap, xdsFiles: xdsFilesOf(p) }));
  const observability = observabilityFiles(settings.topology, envoyConfigs);
  const problems = [...dockerRenderProblems(envoyConfigs, compose), ...observability.problems];
  // The same description feeds `pulumi up`, so a failure here is a bug to report, not a user mistake.
  if (problems.length > 0) throw new ConfigError(problems, "rendered output failed its checks");
  const files = new Map<string, string>();
  for (const proxy of mesh.proxies) {
    files.set(`envoy/${proxy.proxy}.json`, proxy.envoyBootstrap);
    for (const file of proxy.files) {
      if (typeof file.content !== "string") throw new Error(`${file.path} of ${proxy.proxy}: a rendered file must be a plain string`);
      files.set(renderedFile(proxy.proxy, file).path, file.content);
    }
  }
  files.set(COMPOSE_FILE, composeFileText(compose));
  for (const [path, content] of observability.files) files.set(path, content);
  const hasCertificates = [...files.keys()].some((path) => path.startsWith("tls/"));
  // npm runs scripts in the project folder, so a folder inside it is named as the user would type it.
  const shown = relative(projectDir, outDir);
  const folder = shown === "" ? "." : shown.startsWith("..") || isAbsolute(shown) ? outDir : shown;
  const notes = [
    ...(hasCertificates
      ? [
          `tls/ holds placeholders, not certificates or keys: before docker compose up, run \`npm run certs -- --stack ${stack} --out ${folder}\` to issue them ` +
            "(a mesh CA, each proxy's identity, a local edge CA and the front's HTTPS certificate for localhost)",
        ]
      : []),
    LIVE_RELOAD_NOTE,
  ];
  return { mesh, compose, files, notes };
}
