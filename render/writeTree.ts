import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Marks a folder as written by the render command, so a later render may replace it. */
export const RENDER_MARKER = ".envoy-mesh-render";

export class OutputDirError extends Error {}

/**
 * Writes all files or none: into a sibling temporary folder first, then swapped in. Refuses to
 * replace a non-empty folder that an earlier render did not write. `keep` names files of the
 * old folder (relative paths) that the new one takes over as they are, with their mode and their
 * folders' modes, instead of what `files` has for them: certificates issued into the folder.
 */
export function writeTree(outDir: string, files: ReadonlyMap<string, string>, keep: readonly string[] = []): void {
  const target = resolve(outDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new OutputDirError(`${outDir} exists and is not a folder; choose an empty or new folder`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(RENDER_MARKER)) {
      throw new OutputDirError(`${outDir} exists and was not written by render; choose an empty or new folder`);
    }
  }
  const staging = `${target}.tmp-${process.pid}`;
  try {
    rmSync(staging, { recursive: true, force: true });
    for (const [path, content] of files) {
      const file = join(staging, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    for (const path of keep) carryOver(target, staging, path);
    writeFileSync(join(staging, RENDER_MARKER), "");
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } catch (error) {
    removeQuietly(staging);
    // A filesystem refusal (no such parent, not a folder, no permission) is about the chosen folder.
    if (typeof (error as NodeJS.ErrnoException).code === "string") {
      throw new OutputDirError(`cannot write ${outDir}: ${(error as Error).message}`);
    }
    throw error;
  }
}

/** Copies `path` from the old folder into the new, with the modes of the file and of each folder above it. */
function carryOver(from: string, to: string, path: string): void {
  const parts = path.split("/");
  for (let i = 1; i < parts.length; i++) {
    const folder = join(to, ...parts.slice(0, i));
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, statSync(join(from, ...parts.slice(0, i))).mode & 0o7777);
  }
  copyFileSync(join(from, path), join(to, path));
  chmodSync(join(to, path), statSync(join(from, path)).mode & 0o7777);
}

/** Cleanup after a failure must not hide the failure itself. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // Nothing could be written there either.
  }
}
