// A named volume's first mount, as podman does it (libpod mountNamedVolume, fixVolumePermissions):
// - copy-up: an empty volume mounted over a non-empty directory of the image gets a copy of
//   that directory's files (owners, modes, times, xattrs kept), unless `nocopy`;
// - chown: a new volume's directory takes the owner, mode and times of the image's directory
//   at the mount point, or, when the image has none, the owner of the container's user.
// Both need root of the container's user namespace (the files belong to subordinate ids), so
// one shell script runs there through `pkit-runtime userns-exec`, with the layers mounted
// read-only as an overlay in that process's private mount namespace. Paths come from
// lookupInLayers, symlinks already resolved inside the image, so nothing outside the layers is
// read.
import { readdir } from 'node:fs/promises';
import { StoreError } from '@pkit/storage/errors';
import { lookupInLayers } from '@pkit/storage/layers/overlay-lookup';
import { type VolumeStore } from '@pkit/storage/volume-store';
import type { ProcessUser } from './spec.ts';
import { execInUserNamespace, type UsernsMappings } from './userns.ts';

export interface VolumeFirstMount {
  /** The volume's name (its record's flags are cleared once done). */
  name: string;
  destination: string;
  /** False for `nocopy`. */
  copyUp: boolean;
}

export interface VolumeInitContext {
  /** The image's layer directories, top layer first (createContainer's prepare gives them). */
  layerDirs: string[];
  /** The container's process user. */
  user: Pick<ProcessUser, 'uid' | 'gid'>;
  /** The container's mappings: ids inside the script are the container's ids. */
  idmap: UsernsMappings;
  /** An empty directory to mount the layers on (the container's rootfs/ before it starts). */
  mountDir: string;
  /** The pkit-runtime binary (default: the one built in this repository). */
  helper?: string;
}

export interface VolumeInitResult {
  name: string;
  copied: boolean;
  chowned: boolean;
}

// $1 mount dir, $2 lowerdir list ("" when the source is a layer dir itself); then groups of
// four: volume dir, source dir to copy ("" for none), reference dir for owner/mode/times ("" for
// none), "uid:gid" ("" for no chown).
const SCRIPT = `set -e
mnt=$1; lower=$2; shift 2
mounted=
while [ $# -gt 0 ]; do
  vol=$1; src=$2; ref=$3; owner=$4; shift 4
  if [ -n "$src" ]; then
    if [ -n "$lower" ] && [ -z "$mounted" ]; then
      mount -t overlay overlay -o "ro,userxattr,lowerdir=$lower" "$mnt"; mounted=1
    fi
    cp -a "$src/." "$vol/"
  fi
  if [ -n "$ref" ]; then
    chown --reference="$ref" "$vol" || echo "warning: cannot give volume $vol the owner of the image's directory" >&2
    chmod --reference="$ref" "$vol"
    touch -r "$ref" "$vol"
  elif [ -n "$owner" ]; then
    chown "$owner" "$vol" || echo "warning: cannot chown volume $vol to $owner" >&2
  fi
done
`;

async function isEmptyDir(path: string): Promise<boolean> {
  return (await readdir(path)).length === 0;
}

/**
 * Runs the first-mount work for the volumes whose records still ask for it (needsCopyUp,
 * needsChown) and clears those flags. Returns what was done, and the warnings to print.
 */
export async function initVolumes(
  volumes: VolumeStore,
  mounts: readonly VolumeFirstMount[],
  ctx: VolumeInitContext,
): Promise<{ results: VolumeInitResult[]; warnings: string[] }> {
  const args: string[] = [];
  const results: VolumeInitResult[] = [];
  const useOverlay = ctx.layerDirs.length > 1;
  for (const m of mounts) {
    const vol = await volumes.inspect(m.name);
    const entry = vol.needsCopyUp || vol.needsChown ? await lookupInLayers(ctx.layerDirs, m.destination) : undefined;
    const dirInImage = entry?.stats.isDirectory() ? entry : undefined;
    let src = '';
    if (m.copyUp && vol.needsCopyUp && dirInImage && (await isEmptyDir(vol.mountpoint))) {
      // Through the overlay when there are several layers (their merge); a lone layer is read as it is.
      src = useOverlay ? `${ctx.mountDir}${dirInImage.path}` : dirInImage.hostPath;
    }
    const chown = vol.needsChown;
    const ref = chown && dirInImage ? dirInImage.hostPath : '';
    const owner = chown && !dirInImage ? `${ctx.user.uid}:${ctx.user.gid}` : '';
    if (src || ref || owner) args.push(vol.mountpoint, src, ref, owner);
    results.push({ name: m.name, copied: src !== '', chowned: chown });
  }
  let warnings: string[] = [];
  if (args.length) {
    const lower = useOverlay ? ctx.layerDirs.join(':') : '';
    let cmd = ['sh', '-c', SCRIPT, 'sh', ctx.mountDir, lower, ...args];
    // As root there is no user namespace and so no private mount namespace: make one.
    if (!ctx.idmap.userns) cmd = ['unshare', '--mount', '--propagation', 'private', ...cmd];
    const r = await execInUserNamespace(cmd, { mappings: ctx.idmap, ...(ctx.helper !== undefined ? { helper: ctx.helper } : {}) });
    warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    if (r.exitCode !== 0) {
      const msg = r.stderr.split('\n').filter((l) => l && !l.startsWith('warning: ')).slice(0, 3).join('; ');
      throw new StoreError(`preparing volumes ${mounts.map((m) => m.name).join(', ')} failed (exit ${r.exitCode})${msg ? `: ${msg}` : ''}`, 'PKIT_VOLUME_INIT');
    }
  }
  for (const r of results) {
    const change = { ...(r.copied ? { needsCopyUp: false } : {}), ...(r.chowned ? { needsChown: false } : {}) };
    if (Object.keys(change).length) await volumes.update(r.name, change);
  }
  return { results, warnings };
}
