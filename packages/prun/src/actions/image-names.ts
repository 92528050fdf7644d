// Which of an image's names a user's query meant, for push (the default destination) and save
// (the name recorded in the archive).
import { findImage, lookupCandidates, type ImageRecord, type Store } from '@pkit/storage';

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
