// The one copy routine: any ImageSource to any ImageDestination (transports/types.ts).
// Blobs go in parallel, each through a VerifyingStream; a manifest keeps its exact bytes (and
// so its digest) unless the destination needs another format or another layer compression.
import { Readable } from 'node:stream';
import { createGzip, createGunzip, createZstdDecompress } from 'node:zlib';
import { VerifyingStream, type Digest } from '../digest.ts';
import { StoreError } from '../errors.ts';
import { layerCompression, type LayerCompression } from '../media-types.ts';
import type { Descriptor, ImageIndex, ImageManifest, IndexDescriptor } from '../oci-types.ts';
import { MAX_CONFIG_BYTES, currentPlatform, formatPlatform, parseImageConfig, parseManifestBytes, selectPlatform, type PlatformSpec } from '../validate.ts';
import {
  buildIndex,
  buildManifest,
  configMediaType,
  convertLayerDescriptor,
  familyOf,
  indexTypeOf,
  manifestTypeOf,
  type ManifestFamily,
} from './convert.ts';
import type { ImageDestination, ImageSource, ManifestBlob } from './types.ts';

export interface CopyOptions {
  /** Copy every image of an index, and the index (`--all`); default: this platform's only. */
  all?: boolean;
  /** Platform to pick from an index; default this machine's. */
  platform?: Partial<PlatformSpec>;
  /** Refuse any change of digest (format conversion, recompression). */
  preserveDigests?: boolean;
  /** Manifest format wanted at the destination (`--format`); default: keep the source's. */
  format?: ManifestFamily;
  /** Layer compression wanted at the destination (`--dest-compress-format`). */
  compression?: 'gzip' | 'none';
  /** Blobs copied at once (skopeo/containers-image default: 6). */
  parallel?: number;
  /** Told of each step, for progress output. */
  progress?: CopyProgress;
}

export interface CopyProgress {
  blobStart?(desc: Descriptor, kind: 'blob' | 'config'): void;
  blobSkipped?(desc: Descriptor, kind: 'blob' | 'config'): void;
  blobBytes?(desc: Descriptor, bytes: number): void;
  blobDone?(desc: Descriptor, kind: 'blob' | 'config'): void;
  manifest?(): void;
}

export interface CopyResult {
  /** The manifest (or index) now at the destination. */
  manifest: ManifestBlob;
  /** Whether it differs from the source's (conversion or recompression). */
  converted: boolean;
}

const DEFAULT_PARALLEL = 6;

export async function copyImage(src: ImageSource, dst: ImageDestination, opts: CopyOptions = {}): Promise<CopyResult> {
  const top = await src.manifest();
  const parsed = parseManifestBytes(top.bytes, top.mediaType);
  if (parsed.kind === 'manifest') {
    const result = await copyOne(src, dst, top, parsed.value, opts);
    await dst.commit(result.manifest);
    return result;
  }
  if (!opts.all) {
    const want = { ...currentPlatform(), ...stripUndefined(opts.platform ?? {}) } as PlatformSpec;
    let entry: IndexDescriptor;
    try {
      entry = selectPlatform(parsed.value, want);
    } catch (err) {
      throw new StoreError(`${src.name}: no image for ${formatPlatform(want)} in the index: ${(err as Error).message}; use --override-os/--override-arch or --all`, 'PKIT_NO_PLATFORM');
    }
    const child = await src.manifest(entry.digest);
    const result = await copyOne(src, dst, child, manifestOf(child), opts);
    await dst.commit(result.manifest);
    return result;
  }
  if (!dst.acceptsIndex) {
    throw new StoreError(`${dst.name} cannot hold a multi-image index: copy without --all to take this platform's image`, 'PKIT_NO_INDEX');
  }
  const family = targetFamily(dst, top.mediaType, opts.format);
  const entries: IndexDescriptor[] = [];
  let converted = false;
  for (const entry of parsed.value.manifests) {
    const child = await src.manifest(entry.digest);
    const r = await copyOne(src, dst, child, manifestOf(child), { ...opts, family });
    await dst.putManifest(r.manifest);
    converted ||= r.converted;
    entries.push({ ...entry, mediaType: r.manifest.mediaType, digest: r.manifest.digest, size: r.manifest.bytes.length });
  }
  const sameFormat = indexTypeOf(family) === top.mediaType;
  if (!converted && sameFormat) {
    await dst.commit(top);
    return { manifest: top, converted: false };
  }
  refuseIfPreserving(opts, src, 'the index must be rewritten for the destination');
  const index = buildIndex(family, parsed.value as ImageIndex, entries);
  await dst.commit(index);
  return { manifest: index, converted: true };
}

function manifestOf(m: ManifestBlob): ImageManifest {
  const parsed = parseManifestBytes(m.bytes, m.mediaType);
  if (parsed.kind !== 'manifest') throw new StoreError(`manifest ${m.digest}: an index inside an index is not supported`, 'PKIT_BAD_MANIFEST');
  return parsed.value;
}

function targetFamily(dst: ImageDestination, sourceType: string, wanted?: ManifestFamily): ManifestFamily {
  if (wanted) {
    if (!dst.manifestTypes.includes(manifestTypeOf(wanted))) {
      throw new StoreError(`${dst.name} cannot store ${wanted === 'docker' ? 'Docker schema 2' : 'OCI'} manifests: drop --format`, 'PKIT_CONVERSION');
    }
    return wanted;
  }
  if (dst.manifestTypes.includes(sourceType)) return familyOf(sourceType);
  return familyOf(dst.manifestTypes[0]!);
}

function refuseIfPreserving(opts: CopyOptions, src: ImageSource, why: string): void {
  if (opts.preserveDigests) {
    throw new StoreError(`${src.name}: cannot preserve digests: ${why}; drop --preserve-digests to allow it`, 'PKIT_DIGEST_CHANGE');
  }
}

interface LayerPlan {
  source: Descriptor;
  from: LayerCompression;
  to: LayerCompression;
  /** The uncompressed digest, from the config: what an uncompressed layer will hash to. */
  diffID?: Digest;
}

async function copyOne(
  src: ImageSource,
  dst: ImageDestination,
  m: ManifestBlob,
  manifest: ImageManifest,
  opts: CopyOptions & { family?: ManifestFamily },
): Promise<CopyResult> {
  const family = opts.family ?? targetFamily(dst, m.mediaType, opts.format);
  const wanted = dst.requiredCompression ?? opts.compression;
  // The config is small: read it whole (capped), verified.
  const configBytes = await readSmallBlob(src, manifest.config);
  const plans: LayerPlan[] = manifest.layers.map((layer) => {
    const from = layerCompression(layer.mediaType);
    if (from === undefined) throw new StoreError(`${src.name}: layer ${layer.digest} has unknown media type "${layer.mediaType}"`, 'PKIT_BAD_MANIFEST');
    // --preserve-digests keeps layers as they are rather than refuse the copy (skopeo)
    const compress = from === 'none' && dst.compressesUncompressed && !opts.preserveDigests;
    return { source: layer, from, to: wanted ?? (compress ? 'gzip' : from) };
  });
  // A decompressed layer hashes to its diffID: the config says which, so it can be checked.
  if (plans.some((p) => p.to === 'none' && p.from !== 'none')) {
    const diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
    plans.forEach((p, i) => (p.diffID = diffIDs[i]));
  }
  const formatChanges = manifestTypeOf(family) !== m.mediaType;
  const recompresses = plans.some((p) => p.from !== p.to);
  if (formatChanges) refuseIfPreserving(opts, src, `${dst.name} stores ${manifestTypeOf(family)} manifests, not ${m.mediaType}`);
  if (recompresses) refuseIfPreserving(opts, src, 'the layers must be recompressed for the destination');

  await dst.prepare?.(manifest, configBytes);
  const progress = opts.progress ?? {};
  const limit = Math.max(1, opts.parallel ?? DEFAULT_PARALLEL);
  const configDesc: Descriptor = { ...manifest.config, mediaType: configMediaType(family) };
  const layerTasks = plans.map((plan) => () => copyLayer(src, dst, plan, family, progress));
  const configTask = async (): Promise<Descriptor> => {
    if (await dst.hasBlob(manifest.config, src)) {
      progress.blobSkipped?.(manifest.config, 'config');
    } else {
      progress.blobStart?.(manifest.config, 'config');
      await dst.putBlob(Readable.from([configBytes]), { mediaType: configDesc.mediaType, digest: manifest.config.digest, size: manifest.config.size, verified: true });
      progress.blobDone?.(manifest.config, 'config');
    }
    return configDesc;
  };
  const layers = await runLimited(layerTasks, limit);
  await configTask();
  progress.manifest?.();
  if (!formatChanges && !recompresses) return { manifest: m, converted: false };
  return { manifest: buildManifest(family, manifest, configDesc, layers), converted: true };
}

async function copyLayer(src: ImageSource, dst: ImageDestination, plan: LayerPlan, family: ManifestFamily, progress: CopyProgress): Promise<Descriptor> {
  const { source, from, to } = plan;
  if (from === to) {
    const out = convertLayerDescriptor(family, source, to);
    if (await dst.hasBlob(source, src)) {
      progress.blobSkipped?.(source, 'blob');
      return out;
    }
    progress.blobStart?.(source, 'blob');
    const stored = await dst.putBlob(await verifiedBlob(src, source, progress), { mediaType: out.mediaType, digest: source.digest, size: source.size, verified: true });
    progress.blobDone?.(source, 'blob');
    return { ...out, digest: stored.digest, size: stored.size };
  }
  // Recompression: the result is known only once written (an uncompressed layer's digest is
  // its diffID, which the destination checks).
  progress.blobStart?.(source, 'blob');
  let stream: Readable = await verifiedBlob(src, source, progress);
  if (from !== 'none') stream = stream.pipe(from === 'gzip' ? createGunzip() : createZstdDecompress());
  if (to === 'gzip') stream = stream.pipe(createGzip());
  else if (to === 'zstd') throw new StoreError('compressing layers with zstd is not supported yet: use --dest-compress-format gzip', 'PKIT_CONVERSION');
  const mediaType = convertLayerDescriptor(family, source, to).mediaType;
  const stored = await dst.putBlob(stream, { mediaType, ...(to === 'none' && plan.diffID ? { digest: plan.diffID } : {}) });
  progress.blobDone?.(source, 'blob');
  const out = convertLayerDescriptor(family, source, to);
  return { ...out, digest: stored.digest, size: stored.size };
}

/** The source's blob, failing (before it ends) if its bytes do not match the descriptor. */
async function verifiedBlob(src: ImageSource, desc: Descriptor, progress: CopyProgress): Promise<Readable> {
  const raw = await src.blob(desc);
  const check = new VerifyingStream({ digest: desc.digest, size: desc.size }, `${src.name}: blob`);
  raw.on('error', (err) => check.destroy(err));
  if (progress.blobBytes) raw.on('data', (chunk: Buffer) => progress.blobBytes!(desc, chunk.length));
  return raw.pipe(check);
}

async function readSmallBlob(src: ImageSource, desc: Descriptor): Promise<Buffer> {
  if (desc.size > MAX_CONFIG_BYTES) throw new StoreError(`${src.name}: config ${desc.digest} is ${desc.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`, 'PKIT_BAD_CONFIG');
  const stream = await verifiedBlob(src, desc, {});
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Runs tasks with at most `limit` at once; results in task order; the first failure wins. */
async function runLimited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]!();
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failed !== undefined) throw failed;
  return results;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
