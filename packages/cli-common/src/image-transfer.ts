// What pull and load share: copying an image from any transport into the local store and
// naming it, with podman's progress lines.
import type { Readable } from 'node:stream';
import {
  StoreError,
  copyImage,
  copyProgress,
  formatReference,
  localImageName,
  openLocalDestination,
  parseManifestBytes,
  parseReference,
  type CopyOptions,
  type Descriptor,
  type Digest,
  type ImageSource,
  type ManifestBlob,
  type Store,
} from '@pkit/storage';

/** The image id (config digest) of a single-image manifest. */
export function imageIdOf(manifest: ManifestBlob): Digest {
  const parsed = parseManifestBytes(manifest.bytes, manifest.mediaType);
  if (parsed.kind !== 'manifest') throw new StoreError(`${manifest.digest} is an index, not an image`, 'PKIT_NO_INDEX');
  return parsed.value.config.digest;
}

/**
 * Copies `src` into the store and gives the image `names` (none: stored by id only). The store's
 * shared writer lock is held until the names are written, so a concurrent prune or gc never sees
 * the new image unnamed.
 */
export async function copyIntoStore(store: Store, src: ImageSource, names: readonly string[], opts: CopyOptions): Promise<Digest> {
  const lock = await store.beginWrite();
  try {
    const dst = await openLocalDestination(undefined, { storeRoot: store.paths.root });
    let manifest: ManifestBlob;
    try {
      manifest = (await copyImage(new StoreFirstSource(src, store), dst, opts)).manifest;
    } finally {
      await dst.close();
    }
    const id = imageIdOf(manifest);
    for (const name of names) await store.images.tag(name, id);
    return id;
  } finally {
    lock.release();
  }
}

/**
 * The source, except that blobs the store already holds are read from the store: the copy
 * skips stored layers anyway, and the config (which it always reads) then comes from disk too,
 * so pulling an image again downloads nothing but its manifest.
 */
class StoreFirstSource implements ImageSource {
  readonly name: string;
  private readonly src: ImageSource;
  private readonly store: Store;

  constructor(src: ImageSource, store: Store) {
    this.name = src.name;
    this.src = src;
    this.store = store;
  }

  manifest(digest?: Digest): Promise<ManifestBlob> {
    return this.src.manifest(digest);
  }

  async blob(desc: Descriptor): Promise<Readable> {
    if (await this.store.blobs.has(desc.digest)) return this.store.blobs.open(desc.digest);
    return this.src.blob(desc);
  }

  /** The wrapped source stays open: whoever opened it closes it. */
  async close(): Promise<void> {}
}

/** Progress on stderr as podman prints it (nothing when quiet); `begin` prints the first line. */
export function podmanProgress(quiet: boolean): ReturnType<typeof copyProgress> & { line(s: string): void; signatures(): void } {
  const p = copyProgress(quiet);
  const line = (s: string) => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  // containers/image ends every copy with this line, signatures or not.
  return Object.assign(p, { line, signatures: () => line('Storing signatures') });
}

/** The names a source records for its image, as the store keeps them (podman's pull and load). */
export async function recordedNames(src: ImageSource): Promise<string[]> {
  const names: string[] = [];
  // docker-archive RepoTags are docker references: "busybox:1" is docker.io/library/busybox:1.
  for (const tag of (await src.tags?.()) ?? []) {
    const name = tryName(() => formatReference(parseReference(tag)));
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  // An OCI layout's name: "v1" becomes localhost/v1:latest, as podman loads it.
  const ref = src.refName?.();
  if (ref !== undefined) {
    const name = tryName(() => localImageName(ref));
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  return names;
}

/** The name, or undefined when it is not a valid image name (the image is then stored unnamed). */
export function tryName(make: () => string): string | undefined {
  try {
    return make();
  } catch (err) {
    if (err instanceof StoreError) return undefined;
    throw err;
  }
}
