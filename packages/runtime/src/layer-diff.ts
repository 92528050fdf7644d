// Committing a container's overlay upper directory as an image layer, in one pass: the diff
// worker of @pkit/storage (layers/diff-worker.ts) writes the layer tar as root inside the
// container's user namespace (so owners are the container's ids, and every file is readable),
// and this process hashes that tar (diffID), compresses it and writes the blob into the store
// while hashing it (digest), and optionally unpacks the same bytes as a store layer; nothing is
// buffered whole. See docs/storage.md "Committing an upper directory".
//
//   worker stdout -> sha256 (diffID) -> [gate] -+-> gzip|zstd|- -> blobs.stage (digest, size)
//                                               +-> layers.apply (when `register`)
//
// The gate holds back the end of the tar until the worker exited 0: a worker that failed
// midway never yields a blob or a layer that looks complete.
import { resolve } from 'node:path';
import { PassThrough, Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlib, createGzip, createZstdCompress } from 'node:zlib';
import { HashingStream, type Digest } from '@pkit/storage/digest';
import { StoreError } from '@pkit/storage/errors';
import type { AppliedLayer } from '@pkit/storage/layer-store';
import type { LayerTarOptions } from '@pkit/storage/layers/diff';
import { DIFF_WORKER, diffWorkerArgs, diffWorkerError } from '@pkit/storage/layers/diff-worker';
import {
  DOCKER_LAYER_TAR,
  DOCKER_LAYER_TAR_GZIP,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  type LayerCompression,
} from '@pkit/storage/media-types';
import type { Store } from '@pkit/storage/store';
import { computeIDMappings, currentIdmapHost } from './idmap.ts';
import { runInUserNamespace, type UsernsMappings } from './userns.ts';
import { repoToolsFrom } from './repo-tools.ts';

export interface UpperLayerOptions extends LayerTarOptions {
  /** Default gzip. */
  compression?: LayerCompression;
  /** Compression level; default zlib's 6 for gzip (Go's default too), 3 for zstd. */
  level?: number;
  /** Media type family; default 'oci'. Docker has no zstd layer type. */
  format?: 'oci' | 'docker';
  /**
   * Also unpack the layer into store.layers on top of `parent` (undefined: a base layer),
   * from the same stream, so the image's layer exists without reading the blob again.
   */
  register?: { parent: Digest | undefined };
  /** The container's mappings; default: podman's rootless mapping for the calling user. */
  mappings?: UsernsMappings;
  /** The pkit-runtime binary; default: the one built in this repository. */
  helper?: string;
  /** The node binary running the worker; default: process.execPath. */
  node?: string;
  /** The worker program; default: @pkit/storage's DIFF_WORKER (a bundled CLI passes its own). */
  worker?: string;
}

export interface UpperLayer {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffID: Digest;
  /** Bytes of the uncompressed tar. */
  diffSize: number;
  /** Digest and size of the blob as stored (compressed), for the manifest's descriptor. */
  digest: Digest;
  size: number;
  mediaType: string;
  /** The store layer, when `register` was given. */
  layer?: AppliedLayer;
}

function mediaTypeOf(compression: LayerCompression, format: 'oci' | 'docker'): string {
  if (format === 'docker') {
    if (compression === 'zstd') throw new StoreError('zstd layers need the OCI format: use --format oci or gzip compression', 'PKIT_USAGE');
    return compression === 'gzip' ? DOCKER_LAYER_TAR_GZIP : DOCKER_LAYER_TAR;
  }
  return compression === 'gzip' ? OCI_LAYER_TAR_GZIP : compression === 'zstd' ? OCI_LAYER_TAR_ZSTD : OCI_LAYER_TAR;
}

function compressor(compression: LayerCompression, level: number | undefined): Transform {
  const opts = { chunkSize: 128 * 1024, highWaterMark: 1 << 20 };
  if (compression === 'gzip') return createGzip({ ...opts, level: level ?? 6 });
  if (compression === 'zstd') return createZstdCompress({ ...opts, params: { [zlib.ZSTD_c_compressionLevel]: level ?? 3 } });
  return new PassThrough({ highWaterMark: 1 << 20 });
}

/** The last `max` bytes of a stream, as text (a worker's stderr: its error line is last). */
function tail(stream: Readable | null, max = 64 * 1024): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolveText) => {
    let chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      bytes += c.length;
      if (bytes > 2 * max) {
        const all = Buffer.concat(chunks).subarray(-max);
        chunks = [all];
        bytes = all.length;
      }
    });
    stream.on('error', () => resolveText(Buffer.concat(chunks).toString('utf8')));
    stream.on('end', () => resolveText(Buffer.concat(chunks).subarray(-max).toString('utf8')));
  });
}

/** Writes every chunk to all `targets`, waiting for the slowest; ends them all at the end. */
function tee(targets: Writable[]): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      let waiting = 1;
      const done = (): void => {
        if (--waiting === 0) cb();
      };
      for (const t of targets) {
        if (!t.write(chunk)) {
          waiting++;
          t.once('drain', done);
        }
      }
      done();
    },
    final(cb) {
      for (const t of targets) t.end();
      cb();
    },
  });
}

/**
 * Makes the layer of the overlay upper directory `upperDir` (see the top of this file): the
 * blob is in store.blobs when this resolves, and with `register` the unpacked layer is in
 * store.layers. The caller holds the store's shared writer lock (store.write) until the
 * image record naming the blob is written. Throws the worker's StoreError when the upper
 * directory cannot be read or stored as a layer; nothing is left behind then.
 */
export async function layerFromUpperDir(store: Store, upperDir: string, opts: UpperLayerOptions = {}): Promise<UpperLayer> {
  const compression = opts.compression ?? 'gzip';
  const mediaType = mediaTypeOf(compression, opts.format ?? 'oci');
  const tarOpts: LayerTarOptions = {};
  if (opts.timestamp !== undefined) tarOpts.timestamp = opts.timestamp;
  if (opts.timestampMode !== undefined) tarOpts.timestampMode = opts.timestampMode;
  const mappings = opts.mappings ?? computeIDMappings(currentIdmapHost());
  const cmd = [opts.node ?? process.execPath, opts.worker ?? DIFF_WORKER, ...diffWorkerArgs(resolve(upperDir), tarOpts)];
  const worker = runInUserNamespace(cmd, { mappings, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.helper ? { helper: opts.helper } : {}) });
  const exited = worker.exitCode;
  exited.catch(() => {}); // observed through the gate
  const stderr = tail(worker.child.stderr);

  const diffHash = new HashingStream();
  let workerFailure: StoreError | undefined;
  const gate = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      Promise.all([exited, stderr]).then(
        ([code, text]) => {
          if (code === 0) return cb();
          workerFailure = diffWorkerError(code, text);
          cb(workerFailure);
        },
        (err: unknown) => cb(err as Error),
      );
    },
  });

  const blobInput = compressor(compression, opts.level);
  const layerInput = opts.register ? new PassThrough({ highWaterMark: 1 << 20 }) : undefined;
  // Their consumers report failures through their promises (a consumer that never started,
  // such as an apply refused up front, would leave a destroy's error unhandled).
  for (const s of [blobInput, layerInput]) s?.on('error', () => {});
  const feed = pipeline(worker.child.stdout!, diffHash, gate, tee(layerInput ? [blobInput, layerInput] : [blobInput]));
  const staging = store.blobs.stage(blobInput);
  const applying = layerInput ? store.layers.apply(layerInput, opts.register!.parent) : Promise.resolve(undefined);

  try {
    const [, staged, layer] = await Promise.all([feed, staging, applying]);
    const diffID = diffHash.digest;
    if (layer && layer.diffID !== diffID) {
      await staged.discard();
      throw new StoreError(`layer of ${upperDir}: the store layer has diffID ${layer.diffID}, the tar ${diffID}`, 'PKIT_LAYER_DIFF');
    }
    const blob = await staged.commit();
    return { diffID, diffSize: diffHash.size, digest: blob.digest, size: blob.size, mediaType, ...(layer ? { layer } : {}) };
  } catch (err) {
    const failure = err instanceof Error ? err : new Error(String(err));
    for (const s of [worker.child.stdout, gate, blobInput, layerInput]) s?.destroy(failure);
    worker.child.kill('SIGTERM');
    const [, staged] = await Promise.allSettled([feed, staging, applying]);
    if (staged.status === 'fulfilled') await staged.value.discard();
    await exited.catch(() => {});
    // The worker's own report is the cause of whatever the streams said after it.
    throw workerFailure ?? err;
  }
}

/**
 * The helper and diff worker for a CLI started from `from` (its import.meta.url): the
 * pkit-runtime built in the repository and the bundle's own worker (dist/diff-worker.mjs),
 * found by walking up from there (repo-tools.ts); the worker is absent from the sources (the
 * defaults then apply).
 */
export function upperLayerToolsFrom(from: string | URL): Pick<UpperLayerOptions, 'helper' | 'worker'> {
  return repoToolsFrom(from, 'diff-worker.mjs');
}
