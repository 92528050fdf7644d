// `prun image history`: the image config's history, newest first, each entry with the size of
// the layer it made and, as podman does, the ID of an image whose top layer that is.
import { MAX_CONFIG_BYTES, findImage, parseImageConfig, type Digest, type Store } from '@pkit/storage';

export interface HistoryEntry {
  /** Full image ID (no sha256:), or "<missing>". */
  id: string;
  created: string | undefined;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

export async function imageHistory(store: Store, query: string): Promise<HistoryEntry[]> {
  const image = await findImage(store, query);
  const config = parseImageConfig(await store.blobs.readBytes(image.id, MAX_CONFIG_BYTES));
  // Images by their top layer: an entry that made that layer is shown with the image's ID.
  const byTop = new Map<Digest, { id: Digest; names: string[] }[]>();
  const names = await store.images.names();
  for (const id of await store.images.ids()) {
    const rec = id === image.id ? image : await store.images.get(id);
    const top = rec?.layers.at(-1);
    if (!rec || top === undefined) continue;
    const list = byTop.get(top) ?? [];
    list.push({ id, names: names.filter((n) => n.id === id).map((n) => n.name).sort() });
    byTop.set(top, list);
  }
  const history = config.history ?? [];
  const out: HistoryEntry[] = [];
  const used = new Set<Digest>();
  let layer = image.layers.length - 1;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    const entry: HistoryEntry = {
      id: i === history.length - 1 ? image.id.slice(7) : '<missing>',
      created: h.created,
      createdBy: h.created_by ?? '',
      size: 0,
      comment: h.comment ?? '',
      tags: [],
    };
    const chain = layer >= 0 ? image.layers[layer] : undefined;
    if (chain !== undefined) {
      if (!h.empty_layer) entry.size = (await store.layers.get(chain)).size;
      const owners = byTop.get(chain) ?? [];
      const first = owners.find((o) => o.id === image.id) ?? owners[0];
      if (first && !used.has(first.id)) {
        entry.id = first.id.slice(7);
        used.add(first.id);
      }
      for (const o of owners) entry.tags.push(...o.names);
      if (!h.empty_layer) layer--;
    }
    out.push(entry);
  }
  return out;
}
