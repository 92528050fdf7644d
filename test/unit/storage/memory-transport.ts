// An in-memory ImageSource/ImageDestination for unit tests of the copy routine.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { digestOf, type Digest } from '../../../packages/storage/src/digest.ts';
import { NotFoundError } from '../../../packages/storage/src/errors.ts';
import type { Descriptor } from '../../../packages/storage/src/oci-types.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob } from '../../../packages/storage/src/transports/types.ts';
import { manifestBlob } from '../../../packages/storage/src/transports/convert.ts';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../../packages/storage/src/media-types.ts';
import { buildTar, file } from './tar-fixtures.ts';

export class MemorySource implements ImageSource {
  name = 'memory:src';
  blobs = new Map<Digest, Buffer>();
  manifests = new Map<Digest, ManifestBlob>();
  top!: ManifestBlob;
  opened: Digest[] = [];

  async manifest(digest?: Digest): Promise<ManifestBlob> {
    if (!digest) return this.top;
    const m = this.manifests.get(digest);
    if (!m) throw new NotFoundError(`no manifest ${digest}`);
    return m;
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const b = this.blobs.get(desc.digest);
    if (!b) throw new NotFoundError(`no blob ${desc.digest}`);
    this.opened.push(desc.digest);
    // several chunks, so streaming paths are exercised
    const chunks: Buffer[] = [];
    for (let i = 0; i < b.length; i += 1000) chunks.push(b.subarray(i, i + 1000));
    return Readable.from(chunks.length ? chunks : [Buffer.alloc(0)]);
  }

  async close(): Promise<void> {}
}

export class MemoryDestination implements ImageDestination {
  name = 'memory:dst';
  manifestTypes: readonly string[];
  acceptsIndex: boolean;
  requiredCompression?: 'none' | 'gzip';
  blobs = new Map<Digest, Buffer>();
  manifests = new Map<Digest, ManifestBlob>();
  committed: ManifestBlob | undefined;
  closed = false;
  concurrent = 0;
  maxConcurrent = 0;

  constructor(manifestTypes: readonly string[], acceptsIndex = true, requiredCompression?: 'none' | 'gzip') {
    this.manifestTypes = manifestTypes;
    this.acceptsIndex = acceptsIndex;
    if (requiredCompression) this.requiredCompression = requiredCompression;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      const chunks: Buffer[] = [];
      for await (const c of stream) {
        chunks.push(c as Buffer);
        await new Promise((r) => setImmediate(r));
      }
      const data = Buffer.concat(chunks);
      const digest = digestOf(data);
      if (blob.digest && blob.digest !== digest) throw new Error(`destination: ${digest} is not the expected ${blob.digest}`);
      this.blobs.set(digest, data);
      return { digest, size: data.length };
    } finally {
      this.concurrent--;
    }
  }

  async putManifest(m: ManifestBlob): Promise<void> {
    this.manifests.set(m.digest, m);
  }

  async commit(top: ManifestBlob): Promise<void> {
    this.manifests.set(top.digest, top);
    this.committed = top;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Adds a one-image OCI manifest with `layers` gzip layers to a source; returns its parts. */
export async function addImage(src: MemorySource, layers: number, arch = 'amd64') {
  const tars = await Promise.all(Array.from({ length: layers }, (_, i) => buildTar([file(`f${i}`, `layer ${i} ${arch} `.repeat(200))])));
  const gz = tars.map((t) => gzipSync(t));
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: tars.map((t) => digestOf(t)) }, config: { Env: ['A=1'] } }));
  src.blobs.set(digestOf(config), config);
  gz.forEach((g) => src.blobs.set(digestOf(g), g));
  const m = manifestBlob(
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
      layers: gz.map((g) => ({ mediaType: OCI_LAYER_TAR_GZIP, digest: digestOf(g), size: g.length })),
    },
    OCI_MANIFEST,
  );
  src.manifests.set(m.digest, m);
  src.top = m;
  return { manifest: m, tars, gz, config };
}

/** Makes the source's top an index of the given images. */
export function makeIndex(src: MemorySource, images: { manifest: ManifestBlob; arch: string }[]): ManifestBlob {
  const idx = manifestBlob(
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: images.map((i) => ({ mediaType: OCI_MANIFEST, digest: i.manifest.digest, size: i.manifest.bytes.length, platform: { os: 'linux', architecture: i.arch } })),
    },
    OCI_INDEX,
  );
  src.top = idx;
  return idx;
}
