import { posix } from "node:path";
import { compare, type ImageBuild, type MeshService, type Topology } from "../topology";

/** One image to build; services that share a build context and Dockerfile share the image. */
export interface ImageBuildPlan {
  /** Stable identity of the build, also the Pulumi resource name suffix. */
  readonly key: string;
  readonly build: ImageBuild;
  /** Repository and tag pushed to; pods use the digest the push returns. */
  readonly imageName: string;
}

/**
 * Stands in for a digest that only a real build can produce, in output rendered without Docker.
 * A valid tag, so the rendered manifests still pass schema checks, and impossible to mistake.
 */
export const PLACEHOLDER_TAG = "placeholder-digest-set-by-pulumi-up";

function buildKey(build: ImageBuild): string {
  const base = posix.basename(posix.normalize(build.context)) || "root";
  const suffix = build.dockerfile === "Dockerfile" ? "" : `-${build.dockerfile.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`;
  return `${base}${suffix}`.replace(/[^a-z0-9-]+/g, "-");
}

export function imageBuildPlans(topology: Topology, registry: string, tag: string): readonly ImageBuildPlan[] {
  const plans = new Map<string, ImageBuildPlan>();
  for (const service of topology.services) {
    if (service.image.kind !== "build") continue;
    const key = buildKey(service.image.build);
    plans.set(key, { key, build: service.image.build, imageName: `${registry}/envoy-mesh-${key}:${tag}` });
  }
  return [...plans.values()].sort((a, b) => compare(a.key, b.key));
}

/** The build plan a service's image comes from, if it is built here. */
export function planFor(service: MeshService, plans: readonly ImageBuildPlan[]): ImageBuildPlan | undefined {
  if (service.image.kind !== "build") return undefined;
  const key = buildKey(service.image.build);
  return plans.find((p) => p.key === key);
}

/** Image reference for rendering without a build: the prebuilt ref, or a marked placeholder. */
export function renderedImage(service: MeshService, plans: readonly ImageBuildPlan[]): string {
  if (service.image.kind === "ref") return service.image.ref;
  const plan = planFor(service, plans) as ImageBuildPlan;
  return plan.imageName.replace(/:[^:/]+$/, `:${PLACEHOLDER_TAG}`);
}
