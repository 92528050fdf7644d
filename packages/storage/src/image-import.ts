// `import`: a root-filesystem tar (plain, gzip or zstd) becomes a one-layer OCI image in the store.
// One pass over the input: the bytes go at once to the layer store (unpacked, diffID computed)
// and to the blob store (as the gzip layer blob), so nothing is read twice or held in memory.
import { PassThrough, type Readable } from 'node:stream';
import { createGzip, createZstdDecompress } from 'node:zlib';
import { localImageName } from './image-lookup.ts';
import type { ImageRecord } from './image-store.ts';
import { detectCompression } from './layers/apply.ts';
import { OCI_CONFIG, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from './media-types.ts';
import type { ImageConfig, ImageManifest } from './oci-types.ts';
import type { Store } from './store.ts';
import { currentPlatform } from './validate.ts';

export interface ImportOptions {
  /** Name to tag the image with; short names are stored under localhost/. */
  name?: string;
  /** Creation time; defaults to now (SOURCE_DATE_EPOCH-style reproducibility comes with builds). */
  created?: Date;
  /** Entries for the config's Env; PATH is set when absent. */
  env?: string[];
  cmd?: string[];
}

export interface ImportResult {
  image: ImageRecord;
  name?: string;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function importRootfs(store: Store, input: Readable, opts: ImportOptions = {}): Promise<ImportResult> {
  const name = opts.name === undefined ? undefined : localImageName(opts.name);
  return store.write(async () => {
    const created = (opts.created ?? new Date()).toISOString();
    const { layer, blob } = await teeLayerAndBlob(store, input);

    const platform = currentPlatform();
    const env = opts.env ?? [];
    const config: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {
        Env: env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env],
        ...(opts.cmd ? { Cmd: opts.cmd } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created, created_by: 'pkit import' }],
    };
    const configBlob = await store.blobs.putBytes(JSON.stringify(config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: OCI_LAYER_TAR_GZIP, digest: blob.digest, size: blob.size }],
    };
    const manifestBlob = await store.blobs.putBytes(JSON.stringify(manifest));
    const image: ImageRecord = {
      id: configBlob.digest,
      manifestDigest: manifestBlob.digest,
      manifestMediaType: OCI_MANIFEST,
      layers: [layer.chainID],
      blobs: [manifestBlob.digest, configBlob.digest, blob.digest],
      created,
    };
    await store.images.put(image);
    if (name) await store.images.tag(name, image.id);
    return name ? { image, name } : { image };
  });
}

/** Feeds one input to the layer store and, gzip-compressed unless it already is, to the blob store. */
async function teeLayerAndBlob(store: Store, input: Readable) {
  const compression = detectCompression(await peek(input, 6));
  const toLayer = new PassThrough({ highWaterMark: 1 << 20 });
  const toBlob = new PassThrough({ highWaterMark: 1 << 20 });
  input.pipe(toLayer);
  input.pipe(toBlob);
  input.once('error', (err) => {
    toLayer.destroy(err);
    toBlob.destroy(err);
  });
  // The blob is the gzip layer: gzip input as it is, anything else (re)compressed from the tar.
  const blobSource =
    compression === 'gzip' ? toBlob : compression === 'zstd' ? toBlob.pipe(createZstdDecompress()).pipe(createGzip()) : toBlob.pipe(createGzip());
  // If one side fails, stop feeding the other so neither waits forever.
  const fail = (err: unknown) => {
    input.unpipe();
    toLayer.destroy(err as Error);
    toBlob.destroy(err as Error);
  };
  const [layer, staged] = await Promise.allSettled([
    store.layers.apply(toLayer, undefined).catch((e) => { fail(e); throw e; }),
    store.blobs.stage(blobSource).catch((e) => { fail(e); throw e; }),
  ]);
  // The blob is named only if the layer unpacked: a broken tar leaves no stray blob.
  if (layer.status === 'rejected' || staged.status === 'rejected') {
    if (staged.status === 'fulfilled') await staged.value.discard();
    throw layer.status === 'rejected' ? layer.reason : (staged as PromiseRejectedResult).reason;
  }
  return { layer: layer.value, blob: await staged.value.commit() };
}

/** Reads (up to) the first `n` bytes without consuming them, however the input is chunked. */
async function peek(input: Readable, n: number): Promise<Buffer> {
  const got: Buffer[] = [];
  let size = 0;
  return new Promise((resolve, reject) => {
    const done = () => {
      cleanup();
      const head = Buffer.concat(got, size);
      if (size > 0) input.unshift(head);
      resolve(head.subarray(0, n));
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (size < n && (chunk = input.read() as Buffer | null) !== null) {
        got.push(chunk);
        size += chunk.length;
      }
      if (size >= n) done();
    };
    const onEnd = () => done();
    const onError = (err: Error) => { cleanup(); reject(err); };
    const cleanup = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}
