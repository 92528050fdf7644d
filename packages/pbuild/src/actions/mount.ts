// `pbuild mount` / `pbuild umount`: a working container's root filesystem (its upper dir over its
// image's layers, the overlay its bundle describes) mounted at <container dir>/merged.
//
// Rootless, only a process that is root of a user namespace with the container's id mapping may
// mount it, and the mount lives in that process's mount namespace: `pbuild unshare` makes such a
// session, and the mount dies with it. So no mount record is kept: what is mounted is read from
// this process's own mount table (/proc/self/mountinfo), which is true by construction in any
// namespace, and empty in a new session. As root on the host the mount is in the host's table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import type { Store } from '@pkit/storage/store';
import { readContainerSpec } from '@pkit/runtime/bundle';
import { overlayDirs } from '@pkit/runtime/container-files';
import type { IDMapping, Spec } from '@pkit/runtime/oci-spec';

export const OUTSIDE_SESSION = 'a rootless user can mount a working container only inside a user namespace: run it inside "pbuild unshare"';

/** Where the container's root is mounted: the same path every time. */
export function mountPoint(store: Store, rec: ContainerRecord): string {
  return join(resolve(store.containers.containerDir(rec.id)), 'merged');
}

/** The mount points of this process's mount namespace. */
function mountedPaths(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    // mountinfo escapes space, tab, newline and backslash as \ooo
    if (field) out.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether the container's root is mounted in this process's mount namespace. */
export function isMounted(store: Store, rec: ContainerRecord, mounted = mountedPaths()): boolean {
  return mounted.has(realPath(mountPoint(store, rec)));
}

function idMap(file: string): IDMapping[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [containerID, hostID, size] = l.trim().split(/\s+/).map(Number);
      return { containerID: containerID!, hostID: hostID!, size: size! };
    });
}

const key = (maps: readonly IDMapping[]) => maps.map((m) => `${m.containerID}:${m.hostID}:${m.size}`).sort().join(',');

/** The host's own user namespace maps every id to itself. */
function inInitialUserns(): boolean {
  return key(idMap('/proc/self/uid_map')) === '0:0:4294967295';
}

/**
 * Refuses unless this process may mount: root on the host, or root of a user namespace that maps
 * ids as the container does (`pbuild unshare`, or any session with the same mapping). Checked
 * on the process itself, not on an environment variable, which a process outside could inherit.
 */
export function requireSession(spec?: Spec, name?: string): void {
  if (process.geteuid!() !== 0) throw new StoreError(OUTSIDE_SESSION, 'PKIT_NO_SESSION');
  if (spec === undefined || inInitialUserns()) return;
  const uid = spec.linux?.uidMappings ?? [];
  const gid = spec.linux?.gidMappings ?? [];
  if (key(uid) !== key(idMap('/proc/self/uid_map')) || key(gid) !== key(idMap('/proc/self/gid_map'))) {
    throw new StoreError(`this user namespace maps ids otherwise than container "${name}" does: run it inside "pbuild unshare"`, 'PKIT_NO_SESSION');
  }
}

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) throw new StoreError(`cannot run ${cmd}: ${r.error.message}: install util-linux`, 'PKIT_MOUNT');
  if (r.status !== 0) throw new StoreError(`${what}: ${r.stderr.trim().split('\n').join('; ') || `${cmd} exited with ${r.status}`}`, 'PKIT_MOUNT');
}

/** Mounts the container's root (unless it is mounted here already); returns the mount point. */
export function mountWorking(store: Store, rec: ContainerRecord): string {
  const spec = readContainerSpec(store, rec.id);
  overlayDirs(spec); // refuses a bundle without an overlay root
  requireSession(spec, rec.name);
  const dir = mountPoint(store, rec);
  if (isMounted(store, rec)) return dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const options = (spec.mounts![0]!.options ?? []).join(',');
  run('mount', ['-t', 'overlay', 'overlay', '-o', options, dir], `cannot mount the root filesystem of "${rec.name}"`);
  return dir;
}

/** Unmounts the container's root if it is mounted here; true when it was. */
export function unmountWorking(store: Store, rec: ContainerRecord): boolean {
  if (!isMounted(store, rec)) return false;
  run('umount', [mountPoint(store, rec)], `cannot unmount the root filesystem of "${rec.name}"`);
  return true;
}

/** The working containers mounted in this mount namespace. */
export function mountedWorking(store: Store, recs: ContainerRecord[]): ContainerRecord[] {
  const mounted = mountedPaths();
  return recs.filter((r) => isMounted(store, r, mounted));
}
