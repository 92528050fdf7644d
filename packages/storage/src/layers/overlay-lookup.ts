// Finding a file in a stack of overlay layer directories without mounting them: what the
// container will see at a path, read from the layers as stored (docs/storage.md "Layers on disk":
// whiteouts are 0:0 character devices, opaque directories carry `user.overlay.opaque=y`). Used
// to read the image's /etc/passwd and /etc/group before the container runs.
import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, isErrno } from '../errors.ts';
import { native } from '../native.ts';

/** Symlink hops allowed while resolving one path (the kernel's limit). */
const MAX_SYMLINKS = 40;

export interface LayerEntry {
  /** Host path of the entry in the topmost layer that has it. */
  hostPath: string;
  /** The entry's path in the container with every symlink resolved ("/usr/lib/passwd"). */
  path: string;
  stats: Stats;
}

/** A whiteout in the overlay form: a character device 0:0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Whether a layer directory hides the same directory of the layers below it. */
export function isOpaqueDir(path: string): boolean {
  try {
    return native().lgetxattr(path, 'user.overlay.opaque')?.toString() === 'y';
  } catch (err) {
    // A filesystem without user xattrs cannot carry the marker.
    if (isErrno(err, 'ENOTSUP', 'EOPNOTSUPP')) return false;
    throw err;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw new StoreError(`cannot read ${path} in the image's layers: ${(err as Error).message}`, 'PKIT_LAYER_READ');
  }
}

/**
 * The entry at `parts` (components whose parents are directories in the merged view) as the
 * overlay shows it: searched top layer first; a whiteout, a non-directory parent or an opaque
 * parent in a layer hides everything below that layer.
 */
async function mergedEntry(layersTopFirst: readonly string[], parts: string[]): Promise<Omit<LayerEntry, 'path'> | undefined> {
  for (const layer of layersTopFirst) {
    let present = true;
    let opaqueParent = false;
    for (let i = 1; i < parts.length; i++) {
      const dir = join(layer, ...parts.slice(0, i));
      const st = await lstatOrUndefined(dir);
      if (!st) {
        present = false;
        break;
      }
      if (!st.isDirectory()) return undefined;
      if (isOpaqueDir(dir)) opaqueParent = true;
    }
    if (present) {
      const hostPath = join(layer, ...parts);
      const stats = await lstatOrUndefined(hostPath);
      if (stats) return isWhiteout(stats) ? undefined : { hostPath, stats };
    }
    if (opaqueParent) return undefined;
  }
  return undefined;
}

const components = (p: string) => p.split('/').filter((c) => c !== '' && c !== '.');

/**
 * Resolves `path` (a path inside the container) in the merged view of `layersTopFirst` (overlay
 * lower dirs, top layer first; a container's upper dir may come first), following symlinks the
 * way the container would: an absolute target restarts at the container's root, `..` never
 * climbs above it, so nothing outside the layers is ever reached. Undefined when the path does
 * not exist there (absent, whited out, or a parent is not a directory).
 */
export async function lookupInLayers(layersTopFirst: readonly string[], path: string): Promise<LayerEntry | undefined> {
  let pending = components(path);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const entry = await mergedEntry(layersTopFirst, [...resolved, name]);
    if (!entry) return undefined;
    if (entry.stats.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) {
        throw new StoreError(`too many levels of symbolic links resolving ${path} in the image`, 'PKIT_LAYER_READ');
      }
      const target = await readlink(entry.hostPath);
      if (target.startsWith('/')) resolved.length = 0;
      pending = [...components(target), ...pending];
      continue;
    }
    resolved.push(name);
    if (pending.length === 0) return { ...entry, path: `/${resolved.join('/')}` };
    if (!entry.stats.isDirectory()) return undefined;
  }
  return undefined;
}
