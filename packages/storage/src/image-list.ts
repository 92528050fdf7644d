// What `images` shows: one summary per image, with names split into repository and tag.
import type { Digest } from './digest.ts';
import { NotFoundError } from './errors.ts';
import type { ImageWithNames } from './image-store.ts';
import { MAX_CONFIG_BYTES, parseImageConfig } from './validate.ts';
import type { Store } from './store.ts';

export interface ImageSummary {
  id: Digest;
  names: string[];
  digest: Digest;
  /** From the image config; the store time when the config has none. */
  created: string;
  /** Uncompressed size of all layers. */
  size: number;
  /** Layer chainIDs, bottom first, and the image a build step made it on (intermediate images). */
  layers: Digest[];
  parent?: Digest;
}

export async function listImages(store: Store): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  for (const img of await store.images.list()) {
    try {
      out.push(await summarize(store, img));
    } catch (err) {
      if (err instanceof NotFoundError) continue; // removed while we listed
      throw err;
    }
  }
  return out.sort((a, b) => b.created.localeCompare(a.created));
}

async function summarize(store: Store, img: ImageWithNames): Promise<ImageSummary> {
  let size = 0;
  for (const chain of img.layers) size += (await store.layers.get(chain)).size;
  const config = parseImageConfig(await store.blobs.readBytes(img.id, MAX_CONFIG_BYTES));
  return { id: img.id, names: img.names, digest: img.manifestDigest, created: config.created ?? img.created, size, layers: img.layers, ...(img.parent ? { parent: img.parent } : {}) };
}

/** `registry/repo:tag` -> [`registry/repo`, `tag`]; a digest-only name has tag `<none>`. */
export function splitRepoTag(name: string): [string, string] {
  const at = name.indexOf('@');
  const base = at === -1 ? name : name.slice(0, at);
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return [base.slice(0, colon), base.slice(colon + 1)];
  return [base, '<none>'];
}
