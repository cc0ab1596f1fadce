/**
 * How `pulumi up` puts an Envoy's files (the xDS files: LDS, CDS, RDS, SDS; its identity; the
 * edge certificate) where the Envoy reads them, with a read-only root filesystem, and a new
 * route, weight or cluster, or a renewed certificate, that needs no restart.
 *
 * - The Docker provider's `uploads` cannot write into the Envoy container itself: it extracts
 *   one archive at `/` (resource_docker_container_funcs.go in kreuzwerker/terraform-provider-docker),
 *   and the daemon refuses to extract into a read-only rootfs unless the extraction point itself
 *   lies in a writable volume (checkWritablePath, daemon/archive_linux.go in moby/moby); `/` never does.
 * - So each of a proxy's file folders is a named volume, which every replica's Envoy mounts
 *   read-only at the folder's path. A one-shot "files" container (the Envoy image, which has
 *   bash and coreutils) gets the files by `uploads` into its own writable staging folder, then
 *   publishes each folder into its volume as the kubelet publishes a Secret: a new timestamped
 *   folder, the `..data` link swapped by rename, stable names linking through `..data`. The
 *   rename is what Envoy's `watched_directory` reacts to, so a running Envoy reloads renewed
 *   certificates without a restart, as on Kubernetes.
 * - A renewed certificate, or a changed xDS file (a route, a weight, a retry policy), changes the
 *   files container's uploads, which replaces that container only (uploads force a new
 *   container); the Envoy containers, their apps and their network namespaces stay. An Envoy's
 *   own definition holds only its bootstrap (docker/mesh.ts), and each xDS file is read through
 *   XDS_DIR, which the bootstrap watches, so the new files are live once published.
 *
 * Why this works on a real engine (sources):
 * - A fresh named volume's data directory is created 0755, owned by the daemon's (possibly
 *   remapped) root (Root.Create, daemon/volume/local/local.go in moby/moby). The files container
 *   runs as uid 0 with every capability dropped: without CAP_DAC_OVERRIDE the owner's bits still
 *   apply, and uid 0 is the owner, so it creates entries there. It needs no CAP_CHOWN either: a new
 *   file takes the process's group (101, from `user: 0:101`), so nothing is chowned or chgrp'd.
 *   Envoy (uid 101, gid 101) lists the volume root by its "other" bits, and reads the generation
 *   folder (0750) and files (0440) through group 101.
 * - The engine copies an image's content into an empty volume only when the container is created
 *   and the mount point exists in the image (populateVolume, daemon/create_unix.go;
 *   copyExistingContents, daemon/container/container_unix.go): the files container's mount points
 *   do not exist in the Envoy image, and the Envoy mounts set `noCopy` so the image's own
 *   /etc/envoy never lands in a volume, even one a failed publish left empty.
 * - Removing a replaced files container keeps the volumes: named volumes are never removed with
 *   their container (removeMountPoints, daemon/mounts.go).
 * - Envoy watches a folder with inotify_add_watch(folder, IN_MODIFY | IN_MOVED_TO), and a
 *   `watched_directory` fires on any IN_MOVED_TO inside it (source/common/filesystem/inotify/
 *   watcher_impl.cc, source/common/config/watched_directory.cc in envoyproxy/envoy). An inotify
 *   watch is a mark on the inode (inotify_add_watch, fs/notify/inotify/inotify_user.c in
 *   torvalds/linux), not on a mount: every container mounting the volume sees the same folder
 *   inode, so the rename made through the files container's writable mount reaches the Envoy
 *   watching its read-only mount of it (same host kernel; the watch needs read permission only).
 */
import { posix } from "node:path";
import type { DockerFile } from "./containers";
import type { DockerTarget } from "./target";

/** Envoy's group: keys are readable by it and by no one else. */
export const ENVOY_FILES_GROUP = 101;
/** Where the files container receives its uploads, before publishing them. */
export const FILES_STAGING_DIR = "/staging";
/** Where the files container mounts the volumes it publishes into. */
export const FILES_VOLUME_DIR = "/volumes";

/** The folders a proxy's files live in, sorted: one volume each. */
export function fileFolders(files: readonly DockerFile[]): string[] {
  return [...new Set(files.map((f) => posix.dirname(f.path)))].sort();
}

/** The named volume holding one folder of a proxy's files, e.g. `envoy-mesh-service-a-etc-mesh-identity`. */
export function filesVolumeName(target: Pick<DockerTarget, "name">, proxy: string, folder: string): string {
  return `${target.name}-${proxy}${folder.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/** The files container of a proxy; it runs once per change and stays exited. */
export function filesContainerName(target: Pick<DockerTarget, "name">, proxy: string): string {
  return `${target.name}-${proxy}-files`;
}

export function stagedPath(file: DockerFile): string {
  return `${FILES_STAGING_DIR}${file.path}`;
}

/**
 * The files container's script: for each folder, publish the staged files into the mounted
 * volume atomically (the kubelet's AtomicWriter layout), files 0440 and folders 0750 with
 * group ENVOY_FILES_GROUP (the container runs as root with that group and no capabilities, so
 * what it creates has that group), then remove the previous generation. A new file's stable
 * name is linked before the swap (current kubelets link it just after: AtomicWriter.Write, steps 9
 * then 10, pkg/volume/util/atomic_writer.go in kubernetes/kubernetes): an Envoy reloading its
 * listeners at the swap then finds a new RDS file at once. Names no longer published dangle after
 * the swap and are removed.
 */
export function filesPublishScript(folders: readonly string[], roots: { readonly staging: string; readonly volumes: string } = { staging: FILES_STAGING_DIR, volumes: FILES_VOLUME_DIR }): string {
  return [
    "set -euo pipefail",
    "publish() {",
    '  local staged="$1" volume="$2" generation',
    '  generation="..$(date +%Y_%m_%d_%H_%M_%S.%N)"',
    '  mkdir -m 0750 "$volume/$generation"',
    '  cp "$staged"/* "$volume/$generation/"',
    '  chmod 0440 "$volume/$generation"/*',
    '  for file in "$staged"/*; do',
    '    local name="${file##*/}"',
    '    [[ -L "$volume/$name" ]] || ln -s "..data/$name" "$volume/$name"',
    "  done",
    '  ln -sfn "$generation" "$volume/..data_tmp"',
    '  mv -T "$volume/..data_tmp" "$volume/..data"',
    '  for link in "$volume"/*; do',
    '    [[ -L "$link" && ! -e "$link" ]] && rm -f "$link"',
    "  done",
    '  for old in "$volume"/..[0-9]*; do',
    '    [[ "$old" == "$volume/$generation" ]] || rm -rf "$old"',
    "  done",
    "}",
    ...folders.map((folder) => `publish '${roots.staging}${folder}' '${roots.volumes}${folder}'`),
  ].join("\n");
}
