import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { IssueCollector } from "./reader";
import { show } from "./reader";
import type { ImageBuild } from "./types";

/** True if `path` is `dir` or inside it; both must be absolute and free of symbolic links. */
function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function realDirectory(path: string): string | undefined {
  return existsSync(path) && statSync(path).isDirectory() ? realpathSync(path) : undefined;
}

/**
 * A build context must be a folder of the project (the repository): `..` and symbolic links are
 * resolved before deciding, so nothing outside version control ends up in an image. Returns the
 * build with its context relative to the project in `/` form (an absolute path inside the project
 * becomes relative), or reports the problem at `path` (the image's config path).
 */
export function checkBuild(
  c: IssueCollector,
  projectDir: string,
  build: ImageBuild,
  path: string,
  defaulted: boolean,
): ImageBuild | undefined {
  const given = resolve(projectDir);
  const project = realpathSync(given);
  // Where the folder really is decides; a path that does not exist is judged as written.
  const inside = (target: string) =>
    existsSync(target) ? isWithin(project, realpathSync(target)) : isWithin(given, target) || isWithin(project, target);
  const { context, dockerfile } = build;
  const at = `${path}${defaulted ? "" : ".build.context"}`;
  const full = resolve(given, context);
  if (!inside(full)) {
    return c.report(at, `${show(context)} is outside the project folder: build contexts must be folders of this repository`);
  }
  const real = realDirectory(full);
  if (real === undefined) {
    return c.report(
      at,
      defaulted
        ? `the default build context ${show(context)} is not a folder of the project (set image.build or image.ref)`
        : `${show(context)} is not a folder of the project`,
    );
  }
  const file = join(real, dockerfile);
  const fileAt = defaulted ? path : `${path}.build.dockerfile`;
  if (!inside(file)) {
    return c.report(fileAt, `${show(dockerfile)} is outside the project folder: the Dockerfile must be a file of this repository`);
  }
  if (!existsSync(file) || !statSync(file).isFile()) return c.report(fileAt, `${show(dockerfile)} not found in ${show(context)}`);
  return { context: relative(project, real).split(sep).join("/") || ".", dockerfile };
}
