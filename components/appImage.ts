import { join } from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageBuildPlan, RegistrySettings } from "../stack";
import { APP_IMAGE_TYPE } from "./tokens";

export interface AppImageArgs {
  /** What to build and the repository:tag to push it to. */
  readonly plan: ImageBuildPlan;
  /** Folder the plan's build context is relative to (the project root). */
  readonly projectDir: string;
  readonly registry: RegistrySettings;
  /** Registry password or token, as a Pulumi secret. Default: none (kind's local registry needs none). */
  readonly registryPassword?: pulumi.Input<string>;
}

/** Registry host for `docker login`: the part of `ghcr.io/acme` before the first `/`. */
export function registryHost(server: string): string {
  return server.split("/")[0];
}

/**
 * What `docker build` gets for a plan: its context and Dockerfile under the project, for
 * `platform` (the nodes', not the build machine's: an arm64 laptop's image crash-loops on amd64
 * nodes); undefined builds for the Docker engine's own platform, which runs kind's nodes and the
 * docker target's containers.
 */
export function imageBuild(plan: ImageBuildPlan, projectDir: string, platform: string | undefined): docker.types.input.DockerBuild {
  const context = join(projectDir, plan.build.context);
  return { context, dockerfile: join(context, plan.build.dockerfile), ...(platform === undefined ? {} : { platform }) };
}

export function appImageArgs(args: AppImageArgs): docker.ImageArgs {
  const credentials =
    args.registry.username !== undefined || args.registryPassword !== undefined
      ? { server: registryHost(args.registry.server), username: args.registry.username, password: args.registryPassword }
      : undefined;
  return {
    imageName: args.plan.imageName,
    build: imageBuild(args.plan, args.projectDir, args.registry.platform),
    // Pushed even on kind (to its local registry), because only a push yields a digest pods can pull.
    skipPush: false,
    ...(credentials ? { registry: credentials } : {}),
  };
}

/**
 * Builds and pushes one app image. `ref` is `repository@sha256:...`: pods reference the digest,
 * so changed code rolls them and unchanged code leaves them alone.
 */
export class AppImage extends pulumi.ComponentResource {
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: AppImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(APP_IMAGE_TYPE, name, {}, opts);
    const image = new docker.Image(`${name}-image`, appImageArgs(args), { parent: this });
    this.ref = image.repoDigest;
    this.registerOutputs({ ref: this.ref });
  }
}
