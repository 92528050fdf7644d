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
import type { Descriptor, ImageManifest } from '../oci-types.ts';
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

/**
 * The store as a destination; the image is named `spec` (short names under localhost/), or is
 * stored by id only when `spec` is undefined (an untagged archive loaded, a pull by digest).
 */
export async function openLocalDestination(spec: string | undefined, opts: TransportOptions = {}): Promise<ImageDestination> {
  const name = spec === undefined ? undefined : localImageName(spec);
  const store = Store.open({ ...(opts.storeRoot ? { root: opts.storeRoot } : {}), ...opts.storeHooks });
  // Held for the whole copy: gc waits, so blobs ingested now survive until the record names them.
  const lock = await store.beginWrite();
  return new LocalDestination(`local:${spec ?? '(unnamed)'}`, name, store, lock);
}

/** Layers unpacked in order as their blobs arrive, while later blobs are still downloading. */
interface UnpackPlan {
  layers: Descriptor[];
  chains: Digest[];
  diffIDs: Digest[];
  arrived: boolean[];
  /** Index of the next layer to unpack. */
  next: number;
  running: Promise<void> | undefined;
  error: unknown;
}

class LocalDestination implements ImageDestination {
  readonly name: string;
  readonly manifestTypes = [OCI_MANIFEST, DOCKER_MANIFEST];
  readonly acceptsIndex = false;
  private readonly imageName: string | undefined;
  private readonly store: Store;
  private lock: FileLock | undefined;
  private plan: UnpackPlan | undefined;

  constructor(name: string, imageName: string | undefined, store: Store, lock: FileLock) {
    this.name = name;
    this.imageName = imageName;
    this.store = store;
    this.lock = lock;
  }

  async prepare(manifest: ImageManifest, config: Buffer): Promise<void> {
    const diffIDs = parseImageConfig(config).rootfs.diff_ids;
    if (diffIDs.length !== manifest.layers.length) return; // commit reports it
    const chains: Digest[] = [];
    for (const d of diffIDs) chains.push(chainID(chains.at(-1), d));
    this.plan = { layers: manifest.layers, chains, diffIDs, arrived: manifest.layers.map(() => false), next: 0, running: undefined, error: undefined };
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const has = await this.store.blobs.has(desc.digest);
    if (has) this.arrived(desc.digest);
    return has;
  }

  async putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    const expected = blob.digest
      ? { digest: blob.digest, ...(blob.size !== undefined ? { size: blob.size } : {}), ...(blob.verified ? { verified: true } : {}) }
      : undefined;
    const stored = await this.store.blobs.ingest(stream, expected);
    this.arrived(stored.digest);
    return stored;
  }

  /** Marks a layer blob as present and unpacks every layer that can now be, in order. */
  private arrived(digest: Digest): void {
    const plan = this.plan;
    if (!plan) return;
    plan.layers.forEach((l, i) => {
      if (l.digest === digest) plan.arrived[i] = true;
    });
    if (plan.running || plan.error !== undefined) return;
    plan.running = (async () => {
      while (plan.next < plan.layers.length && plan.arrived[plan.next]) {
        await this.unpack(plan.layers[plan.next]!, plan.chains[plan.next - 1], plan.diffIDs[plan.next]!);
        plan.next++;
      }
    })()
      .catch((err: unknown) => {
        plan.error = err;
      })
      .finally(() => {
        plan.running = undefined;
        if (plan.error === undefined && plan.next < plan.layers.length && plan.arrived[plan.next]) this.arrived(plan.layers[plan.next]!.digest);
      });
  }

  /** Unpacks one layer from its stored blob on top of `parent`, unless already unpacked. */
  private async unpack(layer: Descriptor, parent: Digest | undefined, diffID: Digest): Promise<void> {
    if (this.store.layers.has(chainID(parent, diffID))) return;
    const applied = await this.store.layers.apply(await this.store.blobs.open(layer.digest), parent);
    if (applied.diffID !== diffID) {
      throw new StoreError(`${this.name}: layer ${layer.digest} unpacks to ${applied.diffID}, but the config says ${diffID}`, 'PKIT_DIGEST_MISMATCH');
    }
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
    // Layers already unpacked while blobs arrived are skipped (same chainID).
    while (this.plan?.running) await this.plan.running;
    if (this.plan?.error !== undefined) throw this.plan.error;
    const chains: Digest[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      await this.unpack(layer, chains.at(-1), diffIDs[i]!);
      chains.push(chainID(chains.at(-1), diffIDs[i]!));
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
    if (this.imageName !== undefined) await this.store.images.tag(this.imageName, image.id);
  }

  async close(): Promise<void> {
    // A layer still unpacking in the background must finish before the store is closed.
    while (this.plan?.running) await this.plan.running;
    this.lock?.release();
    this.lock = undefined;
    this.store.close();
  }
}
