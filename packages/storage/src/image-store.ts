// Images and their names. `images/<id hex>.json` is one image (id = config digest, as podman);
// `names/<sha256(name) hex>.json` maps one name to an image id. Both are written by atomic
// rename, an image record only after every blob and layer it lists is committed, and a name
// only after its image record: a name never points at incomplete content.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDigest, isDigest, type Digest } from './digest.ts';
import { NotFoundError, StoreError } from './errors.ts';
import { atomicWriteFile, readJsonIfExists, removeIfExists, readdirOrEmpty } from './fsutil.ts';
import type { ScratchArea } from './tmp.ts';

export interface ImageRecord {
  /** The config digest: what `images` shows as IMAGE ID. */
  id: Digest;
  manifestDigest: Digest;
  manifestMediaType: string;
  /** Layer chainIDs, bottom first. */
  layers: Digest[];
  /** Every blob this image keeps alive: manifest, config and the layer blobs present. */
  blobs: Digest[];
  created: string;
  /** The image this one was built on by a build step (podman's Parent): intermediate images. */
  parent?: Digest;
}

interface NameRecord {
  name: string;
  id: Digest;
}

export interface ImageWithNames extends ImageRecord {
  names: string[];
}

export class ImageStore {
  private readonly imagesDir: string;
  private readonly namesDir: string;
  private readonly scratch: ScratchArea;

  constructor(imagesDir: string, namesDir: string, scratch: ScratchArea) {
    this.imagesDir = imagesDir;
    this.namesDir = namesDir;
    this.scratch = scratch;
  }

  private recordPath(id: Digest): string {
    return join(this.imagesDir, `${parseDigest(id).hex}.json`);
  }

  private namePath(name: string): string {
    return join(this.namesDir, `${createHash('sha256').update(name).digest('hex')}.json`);
  }

  /** Adds or replaces an image record. The caller has committed its blobs and layers. */
  async put(record: ImageRecord): Promise<void> {
    mkdirSync(this.imagesDir, { recursive: true });
    await atomicWriteFile(this.recordPath(record.id), JSON.stringify(record), this.scratch.path('image'));
  }

  async get(id: Digest): Promise<ImageRecord | undefined> {
    return readJsonIfExists<ImageRecord>(this.recordPath(id));
  }

  /** Points `name` (a normalised reference) at an image, replacing what it named before. */
  async tag(name: string, id: Digest): Promise<void> {
    if (!(await this.get(id))) throw new NotFoundError(`image ${id} not found in the store`);
    mkdirSync(this.namesDir, { recursive: true });
    const rec: NameRecord = { name, id };
    await atomicWriteFile(this.namePath(name), JSON.stringify(rec), this.scratch.path('name'));
  }

  /** Removes a name; false when it did not exist. */
  untag(name: string): Promise<boolean> {
    return removeIfExists(this.namePath(name));
  }

  async lookupName(name: string): Promise<Digest | undefined> {
    const rec = await readJsonIfExists<NameRecord>(this.namePath(name));
    return rec?.name === name ? rec.id : undefined;
  }

  async names(): Promise<NameRecord[]> {
    const out: NameRecord[] = [];
    for (const file of await readdirOrEmpty(this.namesDir)) {
      const rec = await readJsonIfExists<NameRecord>(join(this.namesDir, file));
      if (rec) out.push(rec);
    }
    return out;
  }

  async ids(): Promise<Digest[]> {
    return (await readdirOrEmpty(this.imagesDir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `sha256:${f.slice(0, -5)}` as Digest);
  }

  /** Every image with the names that point at it; names whose image is gone are skipped. */
  async list(): Promise<ImageWithNames[]> {
    const names = await this.names();
    const out: ImageWithNames[] = [];
    for (const id of await this.ids()) {
      const rec = await this.get(id);
      if (rec) out.push({ ...rec, names: names.filter((n) => n.id === id).map((n) => n.name).sort() });
    }
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  /**
   * Finds an image by one of: an exact name among `candidates` (tried in order), a full
   * config or manifest digest, or a unique prefix (at least 3 hex digits) of the image id.
   */
  async resolve(query: string, candidates: readonly string[]): Promise<ImageRecord> {
    for (const name of candidates) {
      const id = await this.lookupName(name);
      if (id) {
        const rec = await this.get(id);
        if (rec) return rec;
      }
    }
    const bare = query.startsWith('sha256:') ? query.slice(7) : query;
    if (isDigest(query)) {
      const byId = await this.get(query as Digest);
      if (byId) return byId;
      for (const id of await this.ids()) {
        const rec = await this.get(id);
        if (rec?.manifestDigest === query) return rec;
      }
    } else if (/^[a-f0-9]{3,64}$/.test(bare)) {
      const matches = (await this.ids()).filter((id) => id.slice(7).startsWith(bare));
      if (matches.length > 1) {
        throw new StoreError(`image id prefix "${bare}" is ambiguous: it matches ${matches.length} images; give more digits`, 'PKIT_AMBIGUOUS');
      }
      const rec = matches[0] && (await this.get(matches[0]));
      if (rec) return rec;
    }
    throw new NotFoundError(`image "${query}" not found in the local store`);
  }

  /** Removes an image record and every name pointing at it. */
  async remove(id: Digest): Promise<string[]> {
    const removed: string[] = [];
    for (const n of await this.names()) {
      if (n.id === id && (await this.untag(n.name))) removed.push(n.name);
    }
    await removeIfExists(this.recordPath(id));
    return removed;
  }
}
