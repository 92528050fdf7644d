// Named volumes: `volumes/<name>/volume.json` (the record) and `volumes/<name>/_data` (what
// containers see), as podman's local driver lays them out. A volume appears whole: it is built
// in scratch and renamed into place, and that rename is also what claims the name, so two
// processes creating the same name cannot both succeed. `volumes.lock` orders users against
// removal: whoever is about to make a container reference volumes holds it shared (reserve),
// removal and prune hold it exclusive, so a volume is never removed between its lookup and the
// container record that names it.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord } from './container-store.ts';
import { NotFoundError, StoreError, isErrno } from './errors.ts';
import { atomicWriteFile, fsyncDir, readJsonIfExists, readdirOrEmpty, removeTree } from './fsutil.ts';
import type { TreeRemover } from './layer-store.ts';
import { withLock } from './lock.ts';
import type { ScratchArea } from './tmp.ts';

/** podman's volume name rule. */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Options the local driver knows (podman 4.3); anything else is refused at create. */
const LOCAL_DRIVER_OPTIONS = new Set(['device', 'type', 'o', 'size', 'inodes', 'uid', 'gid', 'copy', 'nocopy', 'noquota']);

export interface VolumeRecord {
  name: string;
  driver: 'local';
  /** ISO 8601. */
  created: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** Made by `-v /path` for one container (podman removes these with a --rm container). */
  anonymous?: boolean;
  /** Until a container first mounts it: the image's files at the mount point are to be copied in (podman's NeedsCopyUp). */
  needsCopyUp: boolean;
  /** Until a container first mounts it: to be chowned to the container's user (podman's NeedsChown). */
  needsChown: boolean;
}

/** A record with where its data is. */
export interface Volume extends VolumeRecord {
  /** The directory containers see (`volumes/<name>/_data`). */
  mountpoint: string;
}

export interface NewVolume {
  /** Default: 64 random hex digits, as podman. */
  name?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  anonymous?: boolean;
}

/** Whether `name` can name a volume; anything else after `-v` is a path (mount-flags). */
export function isVolumeName(name: string): boolean {
  return VOLUME_NAME_RE.test(name);
}

/** Throws podman's error for a bad name. */
export function checkVolumeName(name: string): void {
  if (!isVolumeName(name)) {
    throw new StoreError(`invalid volume name "${name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`, 'PKIT_BAD_NAME');
  }
}

/** The container records that use volume `name` (their `config.volumes`). */
export function volumeUsers(name: string, containers: readonly ContainerRecord[]): ContainerRecord[] {
  return containers.filter((c) => {
    const vols = c.config?.['volumes'];
    return Array.isArray(vols) && vols.includes(name);
  });
}

export class VolumeStore {
  readonly dir: string;
  private readonly lockPath: string;
  private readonly scratch: ScratchArea;
  private readonly listContainers: () => Promise<ContainerRecord[]>;
  private readonly treeRemover: TreeRemover | undefined;

  /**
   * `listContainers` gives the container records whose `config.volumes` decide what is in use;
   * `treeRemover` removes data the user cannot (files of subordinate owners), as the layer
   * store's hook (Store.open({ treeRemover })).
   */
  constructor(dir: string, lockPath: string, scratch: ScratchArea, listContainers: () => Promise<ContainerRecord[]>, treeRemover?: TreeRemover) {
    this.dir = dir;
    this.lockPath = lockPath;
    this.scratch = scratch;
    this.listContainers = listContainers;
    this.treeRemover = treeRemover;
  }

  volumeDir(name: string): string {
    return join(this.dir, name);
  }

  /** The directory bind-mounted into containers. */
  dataDir(name: string): string {
    return join(this.dir, name, '_data');
  }

  private recordPath(name: string): string {
    return join(this.dir, name, 'volume.json');
  }

  private withMountpoint(rec: VolumeRecord): Volume {
    return { ...rec, mountpoint: this.dataDir(rec.name) };
  }

  /** A volume by exact name, or undefined. */
  async get(name: string): Promise<Volume | undefined> {
    if (!isVolumeName(name)) return undefined;
    const rec = await readJsonIfExists<VolumeRecord>(this.recordPath(name));
    return rec && this.withMountpoint(rec);
  }

  /** A volume by exact name; podman's "no such volume" error otherwise. */
  async inspect(name: string): Promise<Volume> {
    const vol = await this.get(name);
    if (!vol) throw new NotFoundError(`no volume with name "${name}" found: no such volume`);
    return vol;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  /** Every volume, by name (as `podman volume ls`). */
  async list(): Promise<Volume[]> {
    const out: Volume[] = [];
    for (const name of await readdirOrEmpty(this.dir)) {
      const vol = await this.get(name);
      if (vol) out.push(vol);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Creates a volume; an existing name is an error (podman's wording). */
  async create(spec: NewVolume = {}): Promise<Volume> {
    const made = await this.make(spec);
    if (!made.created) {
      throw new StoreError(`volume with name ${made.volume.name} already exists: volume already exists`, 'PKIT_NAME_IN_USE');
    }
    return made.volume;
  }

  /** The named volume, created with defaults when absent (a container's first use, `-v NAME:/path`). */
  async ensure(name: string): Promise<{ volume: Volume; created: boolean }> {
    return this.make({ name });
  }

  /**
   * Runs `fn` with the volumes present (each created when absent: a name, or a NewVolume with
   * its name, e.g. `{ name, anonymous: true }` for `-v /path`), holding removal off until it
   * returns: the place to create the container record that lists them in `config.volumes`.
   * The volumes come to `fn` in the order given.
   */
  async reserve<T>(wanted: readonly (string | (NewVolume & { name: string }))[], fn: (volumes: Volume[]) => Promise<T>): Promise<T> {
    const specs = wanted.map((w) => (typeof w === 'string' ? { name: w } : w));
    for (const s of specs) checkVolumeName(s.name);
    mkdirSync(this.dir, { recursive: true });
    return withLock(this.lockPath, 'shared', async () => {
      const vols: Volume[] = [];
      for (const s of specs) vols.push((await this.make(s)).volume);
      return fn(vols);
    });
  }

  /** Replaces the copy-up/chown flags once a container mounted the volume. */
  async update(name: string, change: Partial<Pick<VolumeRecord, 'needsCopyUp' | 'needsChown'>>): Promise<Volume> {
    const vol = await this.inspect(name);
    const { mountpoint: _mountpoint, ...rec } = vol;
    const next: VolumeRecord = { ...rec, ...change };
    await atomicWriteFile(this.recordPath(name), JSON.stringify(next), this.scratch.path('volume-json'));
    return this.withMountpoint(next);
  }

  /**
   * Removes a volume and its data. A volume named in a container record's `config.volumes` is
   * refused (PKIT_VOLUME_IN_USE) unless `force` (the caller removes those containers itself).
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await withLock(this.lockPath, 'exclusive', async () => {
      await this.inspect(name);
      if (!opts.force) {
        const users = volumeUsers(name, await this.listContainers());
        if (users.length) throw inUseError(name, users);
      }
      await this.discard(name);
    });
  }

  /** Removes every volume no container uses; returns their names. */
  async prune(): Promise<string[]> {
    mkdirSync(this.dir, { recursive: true });
    return withLock(this.lockPath, 'exclusive', async () => {
      const containers = await this.listContainers();
      const removed: string[] = [];
      for (const vol of await this.list()) {
        if (volumeUsers(vol.name, containers).length) continue;
        await this.discard(vol.name);
        removed.push(vol.name);
      }
      return removed;
    });
  }

  /** The volume disappears at once (renamed into scratch), then its tree is deleted. */
  private async discard(name: string): Promise<void> {
    const doomed = this.scratch.path('deleted-volume');
    await rename(this.volumeDir(name), doomed);
    fsyncDir(this.dir);
    if (this.treeRemover) await this.treeRemover(doomed);
    else removeTree(doomed);
  }

  private async make(spec: NewVolume): Promise<{ volume: Volume; created: boolean }> {
    const name = spec.name ?? randomBytes(32).toString('hex');
    checkVolumeName(name);
    const options = spec.options ?? {};
    for (const key of Object.keys(options)) {
      if (!LOCAL_DRIVER_OPTIONS.has(key.toLowerCase())) {
        throw new StoreError(`invalid mount option ${key} for driver 'local': invalid argument`, 'PKIT_BAD_INPUT');
      }
    }
    const existing = await this.get(name);
    if (existing) return { volume: existing, created: false };
    mkdirSync(this.dir, { recursive: true });
    const rec: VolumeRecord = {
      name,
      driver: 'local',
      created: new Date().toISOString(),
      labels: spec.labels ?? {},
      options,
      ...(spec.anonymous ? { anonymous: true } : {}),
      needsCopyUp: true,
      needsChown: true,
    };
    const work = this.scratch.path('volume');
    await mkdir(work, { mode: 0o700 });
    await mkdir(join(work, '_data'));
    // open to the container's users whatever our umask (as podman's)
    await chmod(join(work, '_data'), 0o755);
    await atomicWriteFile(join(work, 'volume.json'), JSON.stringify(rec), this.scratch.path('volume-json'));
    try {
      await rename(work, this.volumeDir(name));
    } catch (err) {
      removeTree(work);
      // Another process made it meanwhile: theirs stands.
      if (isErrno(err, 'EEXIST', 'ENOTEMPTY')) {
        const theirs = await this.get(name);
        if (theirs) return { volume: theirs, created: false };
        throw new StoreError(`${this.volumeDir(name)} exists but holds no volume record: remove that directory`, 'PKIT_CORRUPT');
      }
      throw err;
    }
    fsyncDir(this.dir);
    return { volume: this.withMountpoint(rec), created: true };
  }
}

function inUseError(name: string, users: ContainerRecord[]): StoreError {
  const ids = users.map((c) => c.id).join(', ');
  return new StoreError(`volume ${name} is being used by the following container(s): ${ids}: volume is being used`, 'PKIT_VOLUME_IN_USE');
}
