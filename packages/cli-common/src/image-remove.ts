// Removing images by what a user typed (prun rmi, pbuild rmi). A name, while the image has
// other names, loses only that name; the last name, an ID or a digest removes the image, and
// with it its build's nameless, childless parents (storage's removeImage). An image that
// containers use is refused, or with force the containers go first. Each CLI prints the result
// in its own tool's words ("Untagged:"/"Deleted:" as podman, "untagged:" and IDs as buildah).
import type { ContainerRecord } from '@pkit/storage/container-store';
import type { Digest } from '@pkit/storage/digest';
import { StoreError } from '@pkit/storage/errors';
import { removeImage } from '@pkit/storage/gc';
import type { ImageRecord } from '@pkit/storage/image-store';
import type { Store } from '@pkit/storage/store';
import { findNamedImage } from './image-names.ts';

export interface ImageRemoval {
  /** Names removed, sorted. */
  untagged: string[];
  /** Image ids removed: the image, then the parents that went with it; none when only a name went. */
  deleted: Digest[];
}

export interface RemoveOptions {
  /** Remove the containers using the image, and an image with several names by ID. */
  force: boolean;
  /** Removes one container that uses the image (with force). */
  removeContainer: (rec: ContainerRecord) => Promise<void>;
  /** What to do about a container using the image, for the error (e.g. "remove the container first (prun rm) or use prun rmi -f"). */
  inUseFix: (rec: ContainerRecord) => string;
  /** Why a container using the image cannot be removed even with force (checked for all before any goes), or undefined. */
  keeps?: (rec: ContainerRecord) => string | undefined;
}

/** `rmi QUERY`: a name of several goes alone; otherwise the image (see the file's comment). */
export async function removeImageQuery(store: Store, query: string, opts: RemoveOptions): Promise<ImageRemoval> {
  const { image, name } = await findNamedImage(store, query);
  const names = (await store.images.names()).filter((n) => n.id === image.id).map((n) => n.name).sort();
  const hex = image.id.slice('sha256:'.length);
  const bare = query.startsWith('sha256:') ? query.slice(7) : query;
  const byId = (/^[a-f0-9]{3,64}$/.test(bare) && hex.startsWith(bare)) || query === image.manifestDigest;
  if (!byId && names.length > 1 && name !== undefined) {
    await store.images.untag(name);
    return { untagged: [name], deleted: [] };
  }
  if (byId && names.length > 1 && !opts.force) {
    throw new StoreError(`unable to delete image "${hex}" by ID with more than one tag ([${names.join(' ')}]): please force removal`, 'PKIT_IMAGE_IN_USE');
  }
  return removeWholeImage(store, image, opts);
}

/** Removes an image with all its names (rmi by ID, rmi --all), its containers first with force. */
export async function removeWholeImage(store: Store, image: ImageRecord, opts: RemoveOptions): Promise<ImageRemoval> {
  const users = (await store.containers.list()).filter((c) => c.image === image.id);
  if (users.length && !opts.force) {
    throw new StoreError(`image used by ${users[0]!.id}: image is in use by a container: ${opts.inUseFix(users[0]!)}`, 'PKIT_IMAGE_IN_USE');
  }
  if (users.length && opts.keeps) {
    for (const c of users) {
      const why = opts.keeps(c);
      if (why !== undefined) throw new StoreError(`image used by ${c.id}: ${why}`, 'PKIT_IMAGE_IN_USE');
    }
  }
  for (const c of users) await opts.removeContainer(c);
  const removed = await removeImage(store, image.id);
  return { untagged: removed.untagged.sort(), deleted: [image.id, ...removed.parents] };
}
