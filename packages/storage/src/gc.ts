// Garbage collection and image removal: everything here runs under the store's exclusive
// lock, so no writer is between adding an object and recording a reference to it.
import type { Digest } from './digest.ts';
import { StoreError } from './errors.ts';
import type { ImageRecord, ImageWithNames } from './image-store.ts';
import type { Store } from './store.ts';

export interface GcResult {
  blobs: Digest[];
  layers: Digest[];
}

/** Deletes every blob and layer that no image and no container references. */
export function garbageCollect(store: Store): Promise<GcResult> {
  return store.exclusive(() => collect(store));
}

async function collect(store: Store): Promise<GcResult> {
  const keepBlobs = new Set<Digest>();
  const keepLayers = new Set<Digest>();
  const images = new Map<Digest, ImageRecord>();
  for (const id of await store.images.ids()) {
    const rec = await store.images.get(id);
    if (!rec) continue;
    images.set(id, rec);
    rec.blobs.forEach((b) => keepBlobs.add(b));
    rec.layers.forEach((l) => keepLayers.add(l));
  }
  // A container keeps its image's layers even if the image lost every name.
  for (const c of await store.containers.list()) {
    const img = images.get(c.image) ?? (await store.images.get(c.image));
    img?.layers.forEach((l) => keepLayers.add(l));
  }
  const result: GcResult = { blobs: [], layers: [] };
  for (const d of await store.blobs.list()) {
    if (!keepBlobs.has(d) && (await store.blobs.delete(d))) result.blobs.push(d);
  }
  for (const l of await store.layers.list()) {
    if (!keepLayers.has(l) && (await store.layers.delete(l))) result.layers.push(l);
  }
  return result;
}

export interface RemoveImageResult {
  id: Digest;
  untagged: string[];
  /** Its build's intermediate images removed with it (parents left without name or child). */
  parents: Digest[];
  gc: GcResult;
}

/** Images that are some other image's parent (a build step's image under the next one). */
function parentIds(images: readonly ImageRecord[]): Set<Digest> {
  return new Set(images.flatMap((i) => (i.parent ? [i.parent] : [])));
}

/**
 * Removes an image (by name, id, id prefix or digest) with its names, then its unreferenced
 * blobs and layers. Refused while a container uses it. As podman, the intermediate images of
 * its build go with it: each parent up the chain that has no name, no other child and no
 * container.
 */
export function removeImage(store: Store, id: Digest): Promise<RemoveImageResult> {
  return store.exclusive(async () => {
    const containers = await store.containers.list();
    const users = containers.filter((c) => c.image === id);
    if (users.length > 0) {
      throw new StoreError(
        `image ${id.slice(7, 19)} is in use by container ${users.map((c) => c.name).join(', ')}: remove the container first`,
        'PKIT_IMAGE_IN_USE',
      );
    }
    let parent = (await store.images.get(id))?.parent;
    const untagged = await store.images.remove(id);
    const parents: Digest[] = [];
    const used = new Set(containers.map((c) => c.image));
    while (parent !== undefined) {
      const rec = await store.images.get(parent);
      if (!rec || used.has(parent)) break;
      const named = (await store.images.names()).some((n) => n.id === parent);
      if (named || parentIds(await store.images.list()).has(parent)) break;
      await store.images.remove(parent);
      parents.push(parent);
      parent = rec.parent;
    }
    return { id, untagged, parents, gc: await collect(store) };
  });
}

export interface PruneImagesResult {
  /** Ids of the images removed. */
  removed: Digest[];
  gc: GcResult;
  /** Uncompressed size of the unpacked layers deleted (what podman reports as reclaimed). */
  layerBytes: number;
}

/**
 * Removes, under one exclusive lock, every image `select` picks among those no container uses,
 * then collects once. `select` sees each image with its names as they are under the lock, so a
 * name that a concurrent pull or tag added is seen before the choice (prune: dangling images),
 * and whether it has children (a later build step's image): removing a child can leave its
 * parent childless, so the choice is made again until nothing more goes.
 */
export function pruneImages(store: Store, select: (image: ImageWithNames, ctx: { hasChildren: boolean }) => boolean): Promise<PruneImagesResult> {
  return store.exclusive(async () => {
    const used = new Set((await store.containers.list()).map((c) => c.image));
    const removed: Digest[] = [];
    const sizes = new Map<Digest, number>();
    for (let again = true; again; ) {
      again = false;
      const images = await store.images.list();
      const parents = parentIds(images);
      for (const image of images) {
        if (used.has(image.id) || !select(image, { hasChildren: parents.has(image.id) })) continue;
        for (const l of image.layers) if (!sizes.has(l) && store.layers.has(l)) sizes.set(l, (await store.layers.get(l)).size);
        await store.images.remove(image.id);
        removed.push(image.id);
        if (image.parent !== undefined) again = true;
      }
    }
    const gc = await collect(store);
    const layerBytes = gc.layers.reduce((n, l) => n + (sizes.get(l) ?? 0), 0);
    return { removed, gc, layerBytes };
  });
}
