// Naming local images, for push (the default destination), save (the name recorded in the
// archive) and tag, in prun and pbuild alike.
import { findImage, localImageName, lookupCandidates } from '@pkit/storage/image-lookup';
import type { ImageRecord } from '@pkit/storage/image-store';
import type { Store } from '@pkit/storage/store';

/** The image `query` finds, and the name it matched (undefined when found by ID or digest). */
export async function findNamedImage(store: Store, query: string): Promise<{ image: ImageRecord; name: string | undefined }> {
  const image = await findImage(store, query);
  const names = (await store.images.names()).filter((n) => n.id === image.id).map((n) => n.name);
  const candidates = lookupCandidates(query);
  // A short name found through "any stored name ending in /NAME:TAG" (findImage's last rule).
  const suffix = candidates[0] ? `/${candidates[0].slice('localhost/'.length)}` : undefined;
  const name = names.find((n) => candidates.includes(n)) ?? names.find((n) => suffix !== undefined && n.endsWith(suffix));
  return { image, name };
}

/**
 * `tag SOURCE NAME...`: every NAME is checked before any is written, so a bad one leaves nothing
 * half-done; short names go under localhost/ (as podman and buildah).
 */
export async function tagImage(store: Store, source: string, targets: readonly string[]): Promise<void> {
  const names = targets.map((t) => localImageName(t));
  const image = await findImage(store, source);
  for (const name of names) await store.images.tag(name, image.id);
}
