import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

/** Marks a folder as written by the render command, so a later render may replace it. */
export const RENDER_MARKER = ".envoy-mesh-render";

/**
 * Folders under this one (`xds/<proxy>`) are published live: a running container that
 * bind-mounts one keeps seeing it across renders, and sees each new content appear at once.
 */
export const LIVE_ROOT = "xds";

/** The kubelet's names (AtomicWriter, pkg/volume/util/atomic_writer.go in kubernetes/kubernetes). */
export const DATA_LINK = "..data";
const DATA_LINK_TMP = "..data_tmp";

/** Live folders hold no secret: readable by the container's user (Envoy's uid 101), whatever the umask. */
const LIVE_MODES = { folder: 0o755, file: 0o644 } as const;

export class OutputDirError extends Error {}

/** What a render did to one live folder. */
export interface LivePublish {
  /** Relative to the output folder, e.g. `xds/service-a`. */
  readonly folder: string;
  /** `created`: new; `updated`: a new generation swapped in; `unchanged`: same content, left as it was. */
  readonly outcome: "created" | "updated" | "unchanged";
}

/** The live folders among the files to write (`xds/<name>`), sorted, each with its files by name. */
export function liveFolders(files: ReadonlyMap<string, string>): Map<string, Map<string, string>> {
  const folders = new Map<string, Map<string, string>>();
  for (const [path, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const parts = path.split("/");
    if (parts[0] !== LIVE_ROOT) continue;
    if (parts.length !== 3) throw new Error(`${path}: a live folder holds files only (${LIVE_ROOT}/<name>/<file>)`);
    const folder = `${parts[0]}/${parts[1]}`;
    folders.set(folder, (folders.get(folder) ?? new Map<string, string>()).set(parts[2], content));
  }
  return folders;
}

/** A generation's folder name: `..` and a digest of its files, so the same content is the same generation. */
export function generationName(files: ReadonlyMap<string, string>): string {
  return `..${createHash("sha256").update(JSON.stringify([...files])).digest("hex").slice(0, 16)}`;
}

function writeGeneration(folder: string, files: ReadonlyMap<string, string>): void {
  mkdirSync(folder, { mode: LIVE_MODES.folder });
  chmodSync(folder, LIVE_MODES.folder);
  for (const [name, content] of files) {
    writeFileSync(join(folder, name), content, { mode: LIVE_MODES.file });
    chmodSync(join(folder, name), LIVE_MODES.file);
  }
}

/** A fresh live folder: the generation, `..data` linking to it, and each file's stable name linking through `..data`. */
function createLiveFolder(folder: string, files: ReadonlyMap<string, string>): void {
  mkdirSync(folder, { recursive: true, mode: LIVE_MODES.folder });
  chmodSync(folder, LIVE_MODES.folder);
  const generation = generationName(files);
  writeGeneration(join(folder, generation), files);
  symlinkSync(generation, join(folder, DATA_LINK));
  for (const name of files.keys()) symlinkSync(`${DATA_LINK}/${name}`, join(folder, name));
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The generation `..data` names in an existing live folder, or undefined when the folder is not one. */
function currentGeneration(folder: string): string | undefined {
  try {
    if (!lstatSync(folder).isDirectory() || !isLink(join(folder, DATA_LINK))) return undefined;
    return readlinkSync(join(folder, DATA_LINK));
  } catch {
    return undefined;
  }
}

/** Whether the live folder already shows exactly these files, through stable names linking through `..data`. */
function showsExactly(folder: string, generation: string, files: ReadonlyMap<string, string>): boolean {
  const names = readdirSync(folder).filter((n) => !n.startsWith(".."));
  if (names.length !== files.size || names.some((n) => !files.has(n))) return false;
  for (const [name, content] of files) {
    if (!isLink(join(folder, name)) || readlinkSync(join(folder, name)) !== `${DATA_LINK}/${name}`) return false;
    const file = join(folder, generation, name);
    if (!existsSync(file) || readFileSync(file, "utf8") !== content) return false;
  }
  return true;
}

/** A live folder of the old tree that receives a new generation: prepared before anything visible changes. */
interface PendingSwap {
  readonly folder: string;
  readonly path: string;
  readonly generation: string;
  readonly files: ReadonlyMap<string, string>;
}

/**
 * Writes the new generation into an existing live folder, where no stable name links to it yet:
 * nothing the container reads changes. Writing inside the generation's own folder never reaches
 * the watch on the live folder (inotify watches one folder, not its subfolders).
 */
function prepareSwap(folder: string, path: string, files: ReadonlyMap<string, string>): PendingSwap | "unchanged" {
  const current = currentGeneration(path) as string;
  let generation = generationName(files);
  if (generation === current && showsExactly(path, current, files)) return "unchanged";
  // The same name as the current generation, whose files someone changed: publish beside it.
  for (let n = 1; generation === current; n++) generation = `${generationName(files)}_${n}`;
  rmSync(join(path, generation), { recursive: true, force: true });
  writeGeneration(join(path, generation), files);
  return { folder, path, generation, files };
}

/**
 * The kubelet's swap: the stable names of new files first (they link through `..data`, so
 * they show the new content from the instant of the swap, and an Envoy reloading its listeners
 * finds every file they name), then `..data` replaced by rename, the one event Envoy's
 * `watched_directory` reacts to; then names no longer rendered, and old generations, removed.
 */
function swap({ path, generation, files }: PendingSwap): void {
  for (const name of files.keys()) {
    const link = join(path, name);
    if (isLink(link) && readlinkSync(link) === `${DATA_LINK}/${name}`) continue;
    rmSync(link, { recursive: true, force: true });
    symlinkSync(`${DATA_LINK}/${name}`, link);
  }
  rmSync(join(path, DATA_LINK_TMP), { force: true });
  symlinkSync(generation, join(path, DATA_LINK_TMP));
  renameSync(join(path, DATA_LINK_TMP), join(path, DATA_LINK));
  for (const entry of readdirSync(path)) {
    const stale = entry.startsWith("..") ? entry !== DATA_LINK && entry !== generation : !files.has(entry);
    if (stale) rmSync(join(path, entry), { recursive: true, force: true });
  }
}

/**
 * Writes all files or none: into a sibling temporary folder first, then swapped in. Refuses to
 * replace a non-empty folder that an earlier render did not write. `keep` names files of the
 * old folder (relative paths) that the new one takes over as they are, with their mode and their
 * folders' modes, instead of what `files` has for them: certificates issued into the folder.
 *
 * New files are written several at a time: creating a file mostly waits on the file system, and
 * a few creations in flight took a third to a quarter of the time of one after the other here.
 *
 * Over an earlier render, only what changed is written: a file whose content (and mode) is the
 * same in the old tree is hard-linked into the new one, so it keeps its inode and mtime (tools
 * watching the folder see no change) and costs no data write; a folder whose files are all the
 * same, holding nothing else, is moved over whole once the new tree is complete, with the live
 * folders. Until then the old tree is not modified, so a failure or a crash leaves it as it was.
 *
 * Files under LIVE_ROOT (`xds/<name>/<file>`) are published as the kubelet publishes a volume: a
 * generation folder, `..data` linking to it, each file's name linking through `..data`. A live
 * folder the old tree already had keeps its inode (it is moved, never recreated), so a container
 * bind-mounting it keeps it; its new content is swapped in by one rename of `..data`. Every
 * generation is written before anything visible changes; a failure there leaves the old tree.
 */
export async function writeTree(outDir: string, files: ReadonlyMap<string, string>, keep: readonly string[] = []): Promise<LivePublish[]> {
  const target = resolve(outDir);
  let earlier = false;
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new OutputDirError(`${outDir} exists and is not a folder; choose an empty or new folder`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(RENDER_MARKER)) {
      throw new OutputDirError(`${outDir} exists and was not written by render; choose an empty or new folder`);
    }
    earlier = entries.length > 0;
  }
  const staging = `${target}.tmp-${process.pid}`;
  const live = liveFolders(files);
  const prepared: PendingSwap[] = [];
  const published: LivePublish[] = [];
  let committing = false;
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    // First, so that its mode is the one every new file gets (the umask's): a file of the old tree takes part only with that mode.
    writeFileSync(join(staging, RENDER_MARKER), "");
    const kept = new Set(keep);
    // Kept files are taken over from the old folder below, live folders after them.
    const plain = [...files].filter(([path]) => !kept.has(path) && !path.startsWith(`${LIVE_ROOT}/`));
    const reuse = earlier ? new OldTree(target, statSync(join(staging, RENDER_MARKER)), statSync(staging)) : undefined;
    const same = new Set(reuse === undefined ? [] : plain.filter(([path, content]) => reuse.isSame(path, content)).map(([path]) => path));
    const moved = reuse === undefined ? [] : reuse.unchangedFolders(plain.map(([path]) => path), same);
    const inMoved = new Map<string, boolean>(moved.map((f) => [f, true]));
    const folders = new Set<string>([""]);
    const toWrite: (readonly [string, string])[] = [];
    for (const [path, content] of plain) {
      const slash = path.lastIndexOf("/");
      const folder = slash < 0 ? "" : path.slice(0, slash);
      if (folder !== "" && within(folder, inMoved)) continue;
      // One mkdir per folder, not per file.
      if (!folders.has(folder)) {
        mkdirSync(join(staging, folder), { recursive: true });
        folders.add(folder);
      }
      const file = join(staging, path);
      if (!same.has(path) || !(reuse as OldTree).link(path, file)) toWrite.push([file, content]);
    }
    await writeAll(toWrite);
    for (const path of keep) carryOver(target, staging, path);
    const keptLive: string[] = [];
    for (const [folder, folderFiles] of live) {
      const old = join(target, folder);
      if (currentGeneration(old) === undefined) {
        createLiveFolder(join(staging, folder), folderFiles);
        published.push({ folder, outcome: "created" });
        continue;
      }
      const pending = prepareSwap(folder, old, folderFiles);
      if (pending === "unchanged") published.push({ folder, outcome: "unchanged" });
      else {
        prepared.push(pending);
        published.push({ folder, outcome: "updated" });
      }
      keptLive.push(folder);
    }
    // From here on only links and renames: the new tree is complete.
    committing = true;
    for (const pending of prepared) swap(pending);
    for (const folder of [...keptLive, ...moved]) {
      mkdirSync(dirname(join(staging, folder)), { recursive: true });
      renameSync(join(target, folder), join(staging, folder));
    }
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    return published;
  } catch (error) {
    if (committing) {
      // Live folders may already be in the staging folder: removing it would remove what running containers mount.
      throw new OutputDirError(`cannot write ${outDir}: ${(error as Error).message}; the new tree is in ${staging}: move it to ${outDir} by hand`);
    }
    for (const pending of prepared) removeQuietly(join(pending.path, pending.generation));
    removeQuietly(staging);
    // A filesystem refusal (no such parent, not a folder, no permission) is about the chosen folder.
    if (typeof (error as NodeJS.ErrnoException).code === "string") {
      throw new OutputDirError(`cannot write ${outDir}: ${(error as Error).message}`);
    }
    throw error;
  }
}

/** Files written at once: enough to keep libuv's threads (4 by default) busy. */
const WRITES_IN_FLIGHT = 16;

/** Writes every file, WRITES_IN_FLIGHT at a time; on a failure, waits for the writes in flight (so none lands after the cleanup) and throws the first error. */
async function writeAll(files: readonly (readonly [string, string])[]): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < files.length) {
      const [file, content] = files[next++];
      try {
        await writeFile(file, content);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, files.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Whether `folder` (relative) is one of `known`'s folders or inside one; remembers each answer. */
function within(folder: string, known: Map<string, boolean>): boolean {
  const answer = known.get(folder);
  if (answer !== undefined) return answer;
  const slash = folder.lastIndexOf("/");
  const inside = slash >= 0 && within(folder.slice(0, slash), known);
  known.set(folder, inside);
  return inside;
}

/**
 * The files of an earlier render that the new one may take over. A file qualifies only when it
 * is a plain file of this tree (not a link, not reached through a linked folder), with the exact
 * content to write, the mode and owner a new file would get, and no other name (a second link
 * would share the file with something outside the tree). A folder whose every entry qualifies,
 * with nothing else in it, is moved into the new tree whole when it is complete; a qualifying
 * file elsewhere is hard-linked. Reading and comparing a file costs about a tenth of writing it
 * on the disk this was measured on, a link about half of creating a file, one rename per folder
 * less still; and the old tree's removal then frees no data.
 */
class OldTree {
  /** Folders of the old tree (relative) known to be real folders, not links. */
  private readonly realFolders = new Map<string, boolean>([["", true]]);
  private readonly uid = process.getuid?.();

  constructor(
    private readonly root: string,
    /** A file and a folder written now: their mode and owner are what a taken-over file or folder must have. */
    private readonly newFile: { readonly mode: number },
    private readonly newFolder: { readonly mode: number },
  ) {}

  /** Whether the old file at `path` may stand for `content`. */
  isSame(path: string, content: string): boolean {
    if (!this.isRealFolder(parentOf(path))) return false;
    let fd: number;
    try {
      // O_NOFOLLOW: a link put in the file's place is not followed.
      fd = openSync(join(this.root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return false;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.nlink !== 1 || stat.mode !== this.newFile.mode || !this.owns(stat.uid)) return false;
      // Bytes, not decoded text: a broken UTF-8 sequence decodes to U+FFFD, which `content` may hold.
      if (stat.size !== Buffer.byteLength(content)) return false;
      return readFileSync(fd).equals(Buffer.from(content));
    } finally {
      closeSync(fd);
    }
  }

  /** Hard-links the old file at `path` to `to`; false on a file system without hard links (then the file is written). */
  link(path: string, to: string): boolean {
    try {
      linkSync(join(this.root, path), to);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The outermost folders (never the root) whose files are all in `same` and that hold exactly
   * the entries the new tree has there: each can be moved into the new tree as it is.
   */
  unchangedFolders(paths: readonly string[], same: ReadonlySet<string>): string[] {
    const entries = new Map<string, Set<string>>();
    const changed = new Set<string>();
    for (const path of paths) {
      for (let child = path, folder = parentOf(path); ; child = folder, folder = parentOf(folder)) {
        const names = entries.get(folder);
        const name = child.slice(child.lastIndexOf("/") + 1);
        if (names?.has(name)) break;
        entries.set(folder, (names ?? new Set<string>()).add(name));
        if (folder === "") break;
      }
      if (!same.has(path)) for (let folder = parentOf(path); !changed.has(folder); folder = parentOf(folder)) {
        changed.add(folder);
        if (folder === "") break;
      }
    }
    const unchanged = new Map<string, boolean>();
    // Deepest first, so that a folder's subfolders are judged before it.
    const folders = [...entries.keys()].filter((f) => f !== "").sort((a, b) => b.split("/").length - a.split("/").length);
    for (const folder of folders) {
      const names = entries.get(folder) as Set<string>;
      const subfoldersUnchanged = [...names].every((name) => unchanged.get(`${folder}/${name}`) ?? true);
      unchanged.set(folder, !changed.has(folder) && subfoldersUnchanged && this.holdsExactly(folder, names));
    }
    return folders.filter((f) => unchanged.get(f) === true && unchanged.get(parentOf(f)) !== true).sort();
  }

  /** Whether the old folder is a real folder with the mode and owner of a new one, holding exactly `names`. */
  private holdsExactly(folder: string, names: ReadonlySet<string>): boolean {
    if (!this.isRealFolder(folder)) return false;
    try {
      const stat = lstatSync(join(this.root, folder));
      if (stat.mode !== this.newFolder.mode || !this.owns(stat.uid)) return false;
      const old = readdirSync(join(this.root, folder));
      return old.length === names.size && old.every((name) => names.has(name));
    } catch {
      return false;
    }
  }

  private owns(uid: number): boolean {
    return this.uid === undefined || uid === this.uid;
  }

  private isRealFolder(folder: string): boolean {
    const known = this.realFolders.get(folder);
    if (known !== undefined) return known;
    let real = this.isRealFolder(parentOf(folder));
    if (real) {
      try {
        real = lstatSync(join(this.root, folder)).isDirectory();
      } catch {
        real = false;
      }
    }
    this.realFolders.set(folder, real);
    return real;
  }
}

/** `a/b` for `a/b/c`, "" for a top-level name. */
function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
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
