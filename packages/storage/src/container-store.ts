// Container records: `containers/<id>/container.json`, and `container-names/<name>.json` for
// uniqueness. Creating, renaming and removing take the short exclusive `containers.lock`, so two
// processes can never both claim a name; readers take no lock and see whole records only.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from './digest.ts';
import { NotFoundError, StoreError } from './errors.ts';
import { atomicWriteFile, fsyncDir, readJsonIfExists, readdirOrEmpty, removeTree } from './fsutil.ts';
import { withLock } from './lock.ts';
import type { ScratchArea } from './tmp.ts';

export type ContainerState = 'created' | 'running' | 'paused' | 'stopped' | 'exited';

export interface ContainerRecord {
  id: string;
  name: string;
  /** Image id (config digest) the container was made from. */
  image: Digest;
  /** The name the user gave for the image, for display. */
  imageName: string;
  state: ContainerState;
  created: string;
  /** Free-form settings later issues add (command, mounts, ...). */
  config?: Record<string, unknown>;
}

export interface NewContainer {
  name?: string;
  image: Digest;
  imageName: string;
  config?: Record<string, unknown>;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class ContainerStore {
  readonly dir: string;
  private readonly namesDir: string;
  private readonly lockPath: string;
  private readonly scratch: ScratchArea;

  constructor(dir: string, root: string, scratch: ScratchArea) {
    this.dir = dir;
    this.scratch = scratch;
    this.namesDir = join(root, 'container-names');
    this.lockPath = join(root, 'containers.lock');
  }

  private recordPath(id: string): string {
    return join(this.dir, id, 'container.json');
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  async create(spec: NewContainer): Promise<ContainerRecord> {
    if (spec.name !== undefined && !NAME_RE.test(spec.name)) {
      throw new StoreError(`invalid container name "${spec.name}": use letters, digits, "_", "." and "-", starting with a letter or digit`, 'PKIT_BAD_NAME');
    }
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.namesDir, { recursive: true });
    return withLock(this.lockPath, 'exclusive', async () => {
      const name = spec.name ?? (await this.freeGeneratedName());
      const holder = await this.nameOwner(name);
      if (holder) {
        throw new StoreError(`the container name "${name}" is already in use by ${holder.slice(0, 12)}: remove that container or choose another name`, 'PKIT_NAME_IN_USE');
      }
      const record: ContainerRecord = {
        id: randomBytes(32).toString('hex'),
        name,
        image: spec.image,
        imageName: spec.imageName,
        state: 'created',
        created: new Date().toISOString(),
        ...(spec.config ? { config: spec.config } : {}),
      };
      // The name is claimed first, then the whole directory appears at once. A crash between
      // the two leaves a name whose record is missing, which counts as free (nameOwner).
      await this.writeName(name, record.id);
      const work = this.scratch.path('container');
      await mkdir(work);
      await atomicWriteFile(join(work, 'container.json'), JSON.stringify(record), this.scratch.path('container-json'));
      await rename(work, this.containerDir(record.id));
      fsyncDir(this.dir);
      return record;
    });
  }

  async get(id: string): Promise<ContainerRecord | undefined> {
    return readJsonIfExists<ContainerRecord>(this.recordPath(id));
  }

  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const id of await readdirOrEmpty(this.dir)) {
      const rec = await this.get(id);
      if (rec) out.push(rec);
    }
    return out.sort((a, b) => a.created.localeCompare(b.created));
  }

  /** By exact name, full id, or unique id prefix. */
  async resolve(query: string): Promise<ContainerRecord> {
    const byName = await this.nameOwner(query);
    if (byName) {
      const rec = await this.get(byName);
      if (rec) return rec;
    }
    if (/^[a-f0-9]{3,64}$/.test(query)) {
      const matches = (await readdirOrEmpty(this.dir)).filter((id) => id.startsWith(query));
      if (matches.length > 1) {
        throw new StoreError(`container id prefix "${query}" is ambiguous: it matches ${matches.length} containers`, 'PKIT_AMBIGUOUS');
      }
      const rec = matches[0] && (await this.get(matches[0]));
      if (rec) return rec;
    }
    throw new NotFoundError(`no container with name or ID "${query}" found`);
  }

  /** Replaces a record's mutable fields (state, config); id and name stay. */
  async update(id: string, change: Partial<Pick<ContainerRecord, 'state' | 'config'>>): Promise<ContainerRecord> {
    const rec = await this.get(id);
    if (!rec) throw new NotFoundError(`no container with ID "${id}" found`);
    const next = { ...rec, ...change };
    await atomicWriteFile(this.recordPath(id), JSON.stringify(next), this.scratch.path('container-json'));
    return next;
  }

  /**
   * Gives a container another name. Under the lock: the new name is claimed, then the record
   * says it, then the old name goes. A crash in between leaves both names on the container
   * (its record says which one it has); removing the container frees both.
   */
  async rename(id: string, name: string): Promise<ContainerRecord> {
    if (!NAME_RE.test(name)) {
      throw new StoreError(`invalid container name "${name}": use letters, digits, "_", "." and "-", starting with a letter or digit`, 'PKIT_BAD_NAME');
    }
    mkdirSync(this.namesDir, { recursive: true });
    return withLock(this.lockPath, 'exclusive', async () => {
      const rec = await this.get(id);
      if (!rec) throw new NotFoundError(`no container with ID "${id}" found`);
      if (rec.name === name) throw new StoreError(`the container is already named "${name}": choose another name`, 'PKIT_BAD_NAME');
      const holder = await this.nameOwner(name);
      if (holder) {
        throw new StoreError(`the container name "${name}" is already in use by ${holder.slice(0, 12)}: remove that container or choose another name`, 'PKIT_NAME_IN_USE');
      }
      await this.writeName(name, id);
      const next = { ...rec, name };
      await atomicWriteFile(this.recordPath(id), JSON.stringify(next), this.scratch.path('container-json'));
      if ((await readJsonIfExists<{ id: string }>(this.namePath(rec.name)))?.id === id) await rm(this.namePath(rec.name), { force: true });
      return next;
    });
  }

  /** Removes the name first, then the directory: a name never outlives its record. */
  async remove(id: string): Promise<void> {
    await withLock(this.lockPath, 'exclusive', async () => {
      const rec = await this.get(id);
      if (!rec) throw new NotFoundError(`no container with ID "${id}" found`);
      if ((await this.nameOwner(rec.name)) === id) await rm(this.namePath(rec.name), { force: true });
      const doomed = this.scratch.path('deleted-container');
      await rename(this.containerDir(id), doomed);
      removeTree(doomed);
    });
  }

  private namePath(name: string): string {
    return join(this.namesDir, `${name}.json`);
  }

  /** The id holding `name`, or undefined; a name whose record is gone counts as free. */
  private async nameOwner(name: string): Promise<string | undefined> {
    if (!NAME_RE.test(name)) return undefined;
    const rec = await readJsonIfExists<{ id: string }>(this.namePath(name));
    if (!rec) return undefined;
    return (await this.get(rec.id)) ? rec.id : undefined;
  }

  private async writeName(name: string, id: string): Promise<void> {
    await atomicWriteFile(this.namePath(name), JSON.stringify({ name, id }), this.scratch.path('container-name'));
  }

  private async freeGeneratedName(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      // After many collisions, a numeric suffix keeps the space unbounded.
      const name = attempt < 50 ? generatedName() : `${generatedName()}_${attempt}`;
      if (!(await this.nameOwner(name))) return name;
    }
  }
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fancy', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nifty', 'proud', 'quiet', 'sharp', 'tender', 'vivid', 'witty', 'zen'];
const NOUNS = ['albattani', 'babbage', 'curie', 'darwin', 'euler', 'fermi', 'galois', 'hopper', 'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'turing', 'wiles'];

function generatedName(): string {
  const pick = (xs: string[]) => xs[randomBytes(1)[0]! % xs.length]!;
  return `${pick(ADJECTIVES)}_${pick(NOUNS)}`;
}
