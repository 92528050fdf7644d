// Finding a local image from what a user typed, as podman does: an image id, id prefix or
// digest; a full name; or a short name, tried as localhost/NAME, then docker.io's form, then
// any stored name that ends with /NAME (when exactly one does).
import { NotFoundError, StoreError } from './errors.ts';
import type { ImageRecord } from './image-store.ts';
import { DEFAULT_TAG, formatReference, isShortName, parseReference, splitReference } from './reference.ts';
import type { Store } from './store.ts';

/** The name an image made here (import, tag, commit) is stored under: short names go to localhost/. */
export function localImageName(name: string): string {
  const raw = splitReference(name);
  if (raw.digest) throw new StoreError(`invalid image name "${name}": a name to store under cannot carry a digest`, 'PKIT_BAD_REFERENCE');
  if (raw.registry === undefined) return formatReference({ registry: 'localhost', repository: raw.repository, tag: raw.tag ?? DEFAULT_TAG });
  return formatReference(parseReference(name));
}

/** Exact names to try, in order, for what a user typed. */
export function lookupCandidates(query: string): string[] {
  let raw;
  try {
    raw = splitReference(query);
  } catch {
    return []; // not a name: maybe an id prefix
  }
  if (raw.registry !== undefined) return [formatReference(parseReference(query))];
  const tagged = { ...raw, tag: raw.tag ?? (raw.digest ? undefined : DEFAULT_TAG) };
  return [formatReference({ registry: 'localhost', ...tagged }), formatReference(parseReference(formatReference(tagged)))];
}

export async function findImage(store: Store, query: string): Promise<ImageRecord> {
  try {
    return await store.images.resolve(query, lookupCandidates(query));
  } catch (err) {
    if (!(err instanceof NotFoundError) || !isShortName(query)) throw err;
  }
  const suffix = `/${lookupCandidates(query)[0]!.slice('localhost/'.length)}`;
  const matches = (await store.images.names()).filter((n) => n.name.endsWith(suffix));
  const ids = new Set(matches.map((m) => m.id));
  if (ids.size > 1) {
    throw new StoreError(`short name "${query}" matches several images (${matches.map((m) => m.name).join(', ')}): use the full name`, 'PKIT_AMBIGUOUS');
  }
  const rec = matches[0] && (await store.images.get(matches[0].id));
  if (rec) return rec;
  throw new NotFoundError(`image "${query}" not found in the local store`);
}
