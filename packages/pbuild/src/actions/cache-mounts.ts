// `RUN --mount=type=cache`: a directory that outlives the build, one per cache id (default: the
// target), for this user's store. It is bound into the RUN and never committed (its mount point
// is removed again: mount-stubs.ts). Layout under the cache root (<store root>/run-cache):
//   <sha256(id)>/id          the id, for people looking
//   <sha256(id)>/data        the cache; data-1, data-2, ... for `sharing=private` users
//   <sha256(id)>/lock, lock-N   flock files for the sharing modes
// Sharing (buildkit's modes): shared (default) lets RUNs use it together (a shared lock, so that
// a locked user waits for them); locked takes it for one RUN at a time; private takes a free
// instance, making a new one when every instance is in use.
// A new cache directory gets mode (default 0755) and uid:gid (default 0:0, the container's
// root), as buildkit and buildah do; an existing one is left as it is.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '@pkit/storage/errors';
import { FileLock, withLock } from '@pkit/storage/lock';
import type { MountSharing } from '../containerfile/mounts.ts';
import { execInUserNamespace, type UsernsMappings } from '@pkit/runtime/userns';

export interface CacheMountOptions {
  sharing?: MountSharing;
  mode?: number;
  uid?: number;
  gid?: number;
  mappings: UsernsMappings;
  helper: string;
}

export interface CacheDir {
  /** The directory to bind. */
  path: string;
  /** Gives the cache back (drops its lock). */
  release(): void;
}

/** The directory holding a cache id's instances. */
export function cacheKeyDir(cacheRoot: string, id: string): string {
  return join(cacheRoot, createHash('sha256').update(id).digest('hex'));
}

async function ensureInstance(keyDir: string, name: string, opts: CacheMountOptions): Promise<string> {
  const dir = join(keyDir, name);
  if (existsSync(dir)) return dir;
  await withLock(join(keyDir, 'create.lock'), 'exclusive', async () => {
    if (existsSync(dir)) return;
    // made aside and renamed in, so a RUN never sees it without its mode and owner
    const fresh = join(keyDir, `.new-${randomBytes(6).toString('hex')}`);
    mkdirSync(fresh, { mode: 0o700 });
    try {
      chmodSync(fresh, opts.mode ?? 0o755);
      const uid = opts.uid ?? 0;
      const gid = opts.gid ?? 0;
      if (uid !== 0 || gid !== 0) {
        if (!opts.mappings.userns) {
          chownSync(fresh, uid, gid);
        } else {
          const r = await execInUserNamespace(['chown', `${uid}:${gid}`, fresh], { mappings: opts.mappings, helper: opts.helper });
          if (r.exitCode !== 0) throw new StoreError(`cache mount: cannot give the cache directory to ${uid}:${gid}: ${r.stderr.trim() || `exit ${r.exitCode}`}`, 'PKIT_BAD_INPUT');
        }
      }
      renameSync(fresh, dir);
    } catch (err) {
      try {
        rmdirSync(fresh);
      } catch {
        // given away already: the next start of this cache tidies nothing, it is just a name
      }
      throw err;
    }
  });
  return dir;
}

/** Opens the cache `id` under `cacheRoot` for one RUN, as its sharing mode says. */
export async function openCache(cacheRoot: string, id: string, opts: CacheMountOptions): Promise<CacheDir> {
  const keyDir = cacheKeyDir(cacheRoot, id);
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(keyDir, 'id'))) writeFileSync(join(keyDir, 'id'), `${id}\n`);
  const sharing = opts.sharing ?? 'shared';
  if (sharing !== 'private') {
    const lock = await FileLock.acquire(join(keyDir, 'lock'), sharing === 'locked' ? 'exclusive' : 'shared');
    try {
      return { path: await ensureInstance(keyDir, 'data', opts), release: () => lock.release() };
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  for (let i = 0; ; i++) {
    const lock = FileLock.tryAcquire(join(keyDir, i === 0 ? 'lock' : `lock-${i}`), 'exclusive');
    if (!lock) continue;
    try {
      return { path: await ensureInstance(keyDir, i === 0 ? 'data' : `data-${i}`, opts), release: () => lock.release() };
    } catch (err) {
      lock.release();
      throw err;
    }
  }
}
