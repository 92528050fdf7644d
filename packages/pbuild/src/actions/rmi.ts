// `pbuild rmi`: the image removal prun's rmi does (@pkit/cli-common/image-remove), with buildah's
// --all and --prune. With --force the working containers using an image go first; a container
// of prun is never removed by pbuild (its lifecycle, logs and volumes are prun's): the error
// says to remove it with prun.
import { removeImageQuery, removeWholeImage, type ImageRemoval, type RemoveOptions } from '@pkit/cli-common/image-remove';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { pruneImages } from '@pkit/storage/gc';
import type { Store } from '@pkit/storage/store';
import { isWorking, openStore, removeWorking } from './working.ts';

export interface RmiRequest {
  root?: string | undefined;
  images: string[];
  all: boolean;
  force: boolean;
  prune: boolean;
}

export interface RmiResult {
  /** What each removal did, in order (for buildah's "untagged:" and ID lines). */
  removals: ImageRemoval[];
  /** One message per image that could not be removed. */
  errors: string[];
}

export async function removeImages(req: RmiRequest): Promise<RmiResult> {
  if (req.all && req.prune) throw new StoreError('when using the --all switch, you may not use --prune switch', 'PKIT_USAGE');
  if (req.all && req.images.length) throw new StoreError('when using the --all switch, you may not pass any images names or IDs', 'PKIT_USAGE');
  if (req.prune && req.images.length) throw new StoreError('when using the --prune switch, you may not pass any images names or IDs', 'PKIT_USAGE');
  if (!req.all && !req.prune && !req.images.length) throw new StoreError('image name or ID must be specified (or --all, --prune)', 'PKIT_USAGE');
  const store = openStore(req.root);
  const out: RmiResult = { removals: [], errors: [] };
  try {
    if (req.prune) {
      // dangling: no name and no image built on it
      const r = await pruneImages(store, (image, { hasChildren }) => image.names.length === 0 && !hasChildren);
      out.removals.push({ untagged: [], deleted: r.removed });
      return out;
    }
    const opts = removeOptions(store, req.force);
    const attempt = async (remove: () => Promise<ImageRemoval>) => {
      try {
        out.removals.push(await remove());
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        out.errors.push(err.message);
      }
    };
    if (req.all) {
      // newest first: an image built on another goes before it
      for (const image of await store.images.list()) {
        if (!(await store.images.get(image.id))) continue; // gone with a child, as its parent
        await attempt(() => removeWholeImage(store, image, opts));
      }
    } else {
      for (const query of req.images) await attempt(() => removeImageQuery(store, query, opts));
    }
  } finally {
    store.close();
  }
  return out;
}

function removeOptions(store: Store, force: boolean): RemoveOptions {
  const prunHint = (c: ContainerRecord) => `it is container "${c.name}" of prun: remove it first (prun rm ${c.name})`;
  return {
    force,
    removeContainer: (c) => removeWorking(store, c),
    inUseFix: (c) => (isWorking(c) ? 'remove the working container first (pbuild rm) or use pbuild rmi -f' : prunHint(c)),
    keeps: (c) => (isWorking(c) ? undefined : `image is in use by a container: ${prunHint(c)}`),
  };
}
