// The big synthetic image the pull and copy benchmarks move: a deterministic ~290 MB (compressed)
// image of 5 tar+gzip layers (small-file trees, a few large partly compressible files, and mixes
// of both), written directly as an OCI layout and cached while it checks out; and the registry
// helpers to push it and check it. Used by bench/pcopy.ts and bench/prun.ts.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Pack } from 'tar-stream';
import { Prng, writeTree } from './content.ts';

const REPO = join(import.meta.dirname, '..', '..');
const MB = 1e6;
const MiB = 1 << 20;
const GEN_VERSION = 1;
/** The image's name inside the layout (org.opencontainers.image.ref.name). */
export const REF = 'bench';

/** Where the layout is cached under `cache`. */
export const layoutDir = (cache: string): string => join(cache, `layout-v${GEN_VERSION}`);

interface LayerSpec {
  name: string;
  seed: number;
  smallFiles: number;
  largeFiles: number;
  largeSize: number;
  /** Incompressible share of the large files' bytes (small files: 0.5). */
  largeRandom: number;
}

// About 290 MB gzip (370 MB of tar) in all.
export const LAYERS: LayerSpec[] = [
  { name: 'base', seed: 1, smallFiles: 12000, largeFiles: 0, largeSize: 0, largeRandom: 0 },
  { name: 'libs', seed: 2, smallFiles: 0, largeFiles: 3, largeSize: 32 * MiB, largeRandom: 0.85 },
  { name: 'mixed', seed: 3, smallFiles: 5000, largeFiles: 2, largeSize: 24 * MiB, largeRandom: 0.7 },
  { name: 'data', seed: 4, smallFiles: 0, largeFiles: 2, largeSize: 40 * MiB, largeRandom: 0.75 },
  { name: 'app', seed: 5, smallFiles: 6000, largeFiles: 0, largeSize: 0, largeRandom: 0 },
];

/** Passes bytes through, hashing and counting them. */
class Tap extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
}

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

/** Writes one layer as a gzip blob into `blobs`; returns its descriptor and diffID. */
async function generateLayer(spec: LayerSpec, blobs: string): Promise<{ desc: Desc; diffID: string; tarSize: number }> {
  const { pack } = createRequire(join(REPO, 'packages', 'storage', 'package.json'))('tar-stream') as { pack: () => Pack };
  const rng = new Prng(spec.seed);
  const p = pack();
  const tmp = join(blobs, `.tmp-${spec.name}`);
  const raw = new Tap();
  const gz = new Tap();
  const written = pipeline(p, raw, createGzip({ level: 6 }), gz, createWriteStream(tmp));
  await writeTree(p, rng, { root: spec.name, smallFiles: spec.smallFiles, largeFiles: spec.largeFiles, largeSize: spec.largeSize, largeRandom: spec.largeRandom, bigDir: `${spec.name}/big`, bigDirEntry: true });
  p.finalize();
  await written;
  const hex = gz.hash.digest('hex');
  renameSync(tmp, join(blobs, hex));
  return {
    desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size: gz.size },
    diffID: `sha256:${raw.hash.digest('hex')}`,
    tarSize: raw.size,
  };
}

function putJSONBlob(blobs: string, value: unknown, mediaType: string): Desc {
  const bytes = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(blobs, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

export interface Image {
  manifest: Desc;
  config: Desc;
  layers: Desc[];
  /** Manifest + config + compressed layers: what each copy moves. */
  bytes: number;
  /** Sum of the uncompressed layer tars. */
  tarBytes: number;
}

const blobPath = (layout: string, digest: string): string => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** The cached layout's image if every blob is there with its size (digests: skopeo checks them on push). */
export function readLayout(layout: string): Image | undefined {
  try {
    const stamp = JSON.parse(readFileSync(join(layout, 'bench-image.json'), 'utf8')) as Image;
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: (Desc & { annotations?: Record<string, string> })[] };
    const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === REF);
    if (entry?.digest !== stamp.manifest.digest) return undefined;
    for (const d of [stamp.manifest, stamp.config, ...stamp.layers]) if (statSync(blobPath(layout, d.digest)).size !== d.size) return undefined;
    return stamp;
  } catch {
    return undefined;
  }
}

/** The cached layout under `cache`, generated first when missing or incomplete. */
export async function buildLayout(cache: string): Promise<Image> {
  const LAYOUT = layoutDir(cache);
  const cached = readLayout(LAYOUT);
  if (cached) return cached;
  mkdirSync(cache, { recursive: true });
  rmSync(LAYOUT, { recursive: true, force: true });
  const tmp = `${LAYOUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const blobs = join(tmp, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  process.stderr.write(`generating ${LAYOUT} (once) ...\n`);
  const t0 = performance.now();
  const layers: Desc[] = [];
  const diffIDs: string[] = [];
  let tarBytes = 0;
  for (const spec of LAYERS) {
    const { desc, diffID, tarSize } = await generateLayer(spec, blobs);
    layers.push(desc);
    diffIDs.push(diffID);
    tarBytes += tarSize;
    process.stderr.write(`  layer ${spec.name}: ${(desc.size / MB).toFixed(1)} MB gzip, ${(tarSize / MB).toFixed(1)} MB tar\n`);
  }
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  const created = '2024-01-01T00:00:00Z';
  const config = putJSONBlob(
    blobs,
    {
      created,
      architecture: arch,
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: diffIDs },
      history: LAYERS.map((l) => ({ created, created_by: `bench-pcopy layer ${l.name}` })),
    },
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = putJSONBlob(
    blobs,
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers },
    'application/vnd.oci.image.manifest.v1+json',
  );
  writeFileSync(join(tmp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(tmp, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': REF } }] }),
  );
  const image: Image = { manifest, config, layers, bytes: manifest.size + config.size + layers.reduce((a, l) => a + l.size, 0), tarBytes };
  writeFileSync(join(tmp, 'bench-image.json'), JSON.stringify(image));
  renameSync(tmp, LAYOUT);
  process.stderr.write(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(image.bytes / MB).toFixed(1)} MB\n`);
  return image;
}

// --- the registry ------------------------------------------------------------------------------

export async function registryAnswers(REGISTRY: string): Promise<boolean> {
  try {
    const r = await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Digest of the manifest tagged `ref` in `repo`, or undefined. */
export async function registryDigest(REGISTRY: string, repo: string, tag: string): Promise<string | undefined> {
  const r = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  return r.status === 200 ? (r.headers.get('docker-content-digest') ?? undefined) : undefined;
}
