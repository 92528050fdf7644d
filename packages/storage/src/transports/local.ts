// `local:NAME` (alias `containers-storage:NAME`): the pkit store as a copy source and
// destination, so pull (docker -> local), push (local -> docker) and save/load are copies.
// The destination keeps the compressed layer blobs (a later push needs no recompression and
// keeps digests) and unpacks each layer once, in order, when the image is committed.
import type { Readable } from 'node:stream';
import { StoreError, NotFoundError } from '../errors.ts';
import type { Digest } from '../digest.ts';
import { findImage, localImageName } from '../image-lookup.ts';
import type { ImageRecord } from '../image-store.ts';
import { chainID } from '../layer-store.ts';
import type { FileLock } from '../lock.ts';
import { DOCKER_MANIFEST, OCI_MANIFEST } from '../media-types.ts';
import type { Descriptor } from '../oci-types.ts';
import { Store } from '../store.ts';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifestBytes } from '../validate.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob, TransportOptions } from './types.ts';

export async function openLocalSource(spec: string, opts: TransportOptions = {}): Promise<ImageSource> {
  const store = Store.open(opts.storeRoot ? { root: opts.storeRoot } : {});
  let image: ImageRecord;
  try {
    image = await findImage(store, spec);
  } catch (err) {
    store.close();
    throw err;
  }
  return new LocalSource(`local:${spec}`, store, image);
}

class LocalSource implements ImageSource {
  readonly name: string;
  private readonly store: Store;
  private readonly image: ImageRecord;

  constructor(name: string, store: Store, image: ImageRecord) {
    this.name = name;
    this.store = store;
    this.image = image;
  }

  async manifest(digest?: Digest): Promise<ManifestBlob> {
    const want = digest ?? this.image.manifestDigest;
    if (want !== this.image.manifestDigest) throw new NotFoundError(`${this.name}: manifest ${want} is not part of this image`);
    const bytes = await this.store.blobs.readBytes(want, MAX_MANIFEST_BYTES);
    return { bytes, mediaType: this.image.manifestMediaType, digest: want };
  }

  async blob(desc: Descriptor): Promise<Readable> {
    try {
      return await this.store.blobs.open(desc.digest);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(`${this.name}: blob ${desc.digest} is not in the local store (the image was stored without it)`);
      }
      throw err;
    }
  }

  async tags(): Promise<string[]> {
    return (await this.store.images.names()).filter((n) => n.id === this.image.id).map((n) => n.name);
  }

  async close(): Promise<void> {
    this.store.close();
  }
}

export async function openLocalDestination(spec: string, opts: TransportOptions = {}): Promise<ImageDestination> {
  const name = localImageName(spec);
  const store = Store.open(opts.storeRoot ? { root: opts.storeRoot } : {});
  // Held for the whole copy: gc waits, so blobs ingested now survive until the record names them.
  const lock = await store.beginWrite();
  return new LocalDestination(`local:${spec}`, name, store, lock);
}

class LocalDestination implements ImageDestination {
  readonly name: string;
  readonly manifestTypes = [OCI_MANIFEST, DOCKER_MANIFEST];
  readonly acceptsIndex = false;
  private readonly imageName: string;
  private readonly store: Store;
  private lock: FileLock | undefined;

  constructor(name: string, imageName: string, store: Store, lock: FileLock) {
    this.name = name;
    this.imageName = imageName;
    this.store = store;
    this.lock = lock;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.store.blobs.has(desc.digest);
  }

  putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    const expected = blob.digest ? { digest: blob.digest, ...(blob.size !== undefined ? { size: blob.size } : {}) } : undefined;
    return this.store.blobs.ingest(stream, expected);
  }

  async putManifest(manifest: ManifestBlob): Promise<void> {
    await this.store.blobs.putBytes(manifest.bytes, { digest: manifest.digest });
  }

  async commit(top: ManifestBlob): Promise<void> {
    const parsed = parseManifestBytes(top.bytes, top.mediaType);
    if (parsed.kind !== 'manifest') throw new StoreError(`${this.name}: the local store holds single images, not an index`, 'PKIT_NO_INDEX');
    const manifest = parsed.value;
    const config = parseImageConfig(await this.store.blobs.readBytes(manifest.config.digest, MAX_CONFIG_BYTES));
    const diffIDs = config.rootfs.diff_ids;
    if (diffIDs.length !== manifest.layers.length) {
      throw new StoreError(`${this.name}: the config lists ${diffIDs.length} layers but the manifest ${manifest.layers.length}`, 'PKIT_BAD_MANIFEST');
    }
    const chains: Digest[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      const parent = chains.at(-1);
      const chain = chainID(parent, diffIDs[i]!);
      if (!this.store.layers.has(chain)) {
        const applied = await this.store.layers.apply(await this.store.blobs.open(layer.digest), parent);
        if (applied.diffID !== diffIDs[i]) {
          throw new StoreError(`${this.name}: layer ${layer.digest} unpacks to ${applied.diffID}, but the config says ${diffIDs[i]}`, 'PKIT_DIGEST_MISMATCH');
        }
      }
      chains.push(chain);
    }
    await this.putManifest(top);
    const image: ImageRecord = {
      id: manifest.config.digest,
      manifestDigest: top.digest,
      manifestMediaType: top.mediaType,
      layers: chains,
      blobs: [top.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
      created: new Date().toISOString(),
    };
    await this.store.images.put(image);
    await this.store.images.tag(this.imageName, image.id);
  }

  async close(): Promise<void> {
    this.lock?.release();
    this.lock = undefined;
    this.store.close();
  }
}
