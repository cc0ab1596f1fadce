import { createHash } from "node:crypto";
import { posix } from "node:path";
import { compare, type ImageBuild, type MeshService, type Topology } from "../topology";

/** One image to build; services that share a build context and Dockerfile share the image. */
export interface ImageBuildPlan {
  /** Stable identity of the build, also the Pulumi resource name suffix. */
  readonly key: string;
  readonly build: ImageBuild;
  /** Repository and tag pushed to (pods use the digest the push returns), or the local name. */
  readonly imageName: string;
}

/**
 * Stands in for a digest that only a real build can produce, in output rendered without Docker.
 * A valid tag, so the rendered manifests still pass schema checks, and impossible to mistake.
 */
export const PLACEHOLDER_TAG = "placeholder-digest-set-by-pulumi-up";

/** `./app/` and `app` are the same folder. */
function contextPath(build: ImageBuild): string {
  return posix.normalize(build.context).replace(/\/+$/, "") || ".";
}

function sameBuild(a: ImageBuild, b: ImageBuild): boolean {
  return contextPath(a) === contextPath(b) && a.dockerfile === b.dockerfile;
}

/** The whole context path, so that `web/app` and `legacy/app` differ; lowercase, as image names must be. */
function readableKey(build: ImageBuild): string {
  const context = contextPath(build) === "." ? "root" : contextPath(build);
  const suffix = build.dockerfile === "Dockerfile" ? "" : `-${build.dockerfile}`;
  return `${context}${suffix}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "") || "image";
}

/** Builds whose readable keys coincide (`a-b` and `a/b`) get a hash of the build as well. */
function buildKey(build: ImageBuild, all: readonly ImageBuild[]): string {
  const readable = readableKey(build);
  if (!all.some((other) => !sameBuild(other, build) && readableKey(other) === readable)) return readable;
  const hash = createHash("sha256").update(`${contextPath(build)}\n${build.dockerfile}`).digest("hex").slice(0, 8);
  return `${readable}-${hash}`;
}

/**
 * `registry`: where images are pushed; undefined for images that stay in the local engine (the
 * docker target), named `envoy-mesh-<key>:<tag>` there.
 */
export function imageBuildPlans(topology: Topology, registry: string | undefined, tag: string): readonly ImageBuildPlan[] {
  const builds: ImageBuild[] = [];
  // A service with versions runs its versions' images (each defaults to the service's).
  for (const image of topology.services.flatMap((s) => s.versions?.map((v) => v.image) ?? [s.image])) {
    if (image.kind !== "build") continue;
    const { build } = image;
    if (!builds.some((known) => sameBuild(known, build))) builds.push(build);
  }
  return builds
    .map((build) => {
      const key = buildKey(build, builds);
      const repository = `envoy-mesh-${key}`;
      return { key, build, imageName: `${registry === undefined ? "" : `${registry}/`}${repository}:${tag}` };
    })
    .sort((a, b) => compare(a.key, b.key));
}

/** The build plan a service's image comes from, if it is built here. */
export function planFor(service: MeshService, plans: readonly ImageBuildPlan[]): ImageBuildPlan | undefined {
  if (service.image.kind !== "build") return undefined;
  const { build } = service.image;
  return plans.find((plan) => sameBuild(plan.build, build));
}

/** Image reference for rendering without a build: the prebuilt ref, or a marked placeholder. */
export function renderedImage(service: MeshService, plans: readonly ImageBuildPlan[]): string {
  if (service.image.kind === "ref") return service.image.ref;
  const plan = planFor(service, plans) as ImageBuildPlan;
  return plan.imageName.replace(/:[^:/]+$/, `:${PLACEHOLDER_TAG}`);
}
