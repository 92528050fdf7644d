// Test images for the transport tests: a config and two gzip layers per image, an OCI (or Docker)
// manifest, and a two-platform index; written through an ImageDestination and read back through
// an ImageSource. Also a minimal copy (no conversion) and openers by reference prefix.
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import * as assert from 'uvu/assert';
import { VerifyingStream, digestOf, type Digest } from '../../../packages/storage/src/digest.ts';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '../../../packages/storage/src/media-types.ts';
import type { Descriptor } from '../../../packages/storage/src/oci-types.ts';
import { parseManifestBytes } from '../../../packages/storage/src/validate.ts';
import type { ImageDestination, ImageSource, ManifestBlob } from '../../../packages/storage/src/transports/types.ts';
import { openOciDestination, openOciSource } from '../../../packages/storage/src/transports/oci-layout.ts';
import { openOciArchiveDestination, openOciArchiveSource } from '../../../packages/storage/src/transports/oci-archive.ts';
import { openDirDestination, openDirSource } from '../../../packages/storage/src/transports/dir.ts';
import { buildTar, file } from './tar-fixtures.ts';

export interface TestImage {
  manifest: ManifestBlob;
  config: Buffer;
  configDesc: Descriptor;
  layers: { bytes: Buffer; desc: Descriptor }[];
}

export interface TestIndex {
  index: ManifestBlob;
  images: TestImage[];
}

/** A gzip'd tar with one file whose content depends on `seed`. */
export async function makeLayer(seed: string): Promise<Buffer> {
  return buildTar([file(`file-${seed.replace(/[^a-z0-9-]/gi, '_')}.txt`, `layer ${seed}\n`.repeat(50))], 'gzip');
}

function desc(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

export function manifestBlob(obj: unknown, mediaType: string): ManifestBlob {
  const bytes = Buffer.from(JSON.stringify(obj));
  return { bytes, mediaType, digest: digestOf(bytes) };
}

/** An image for `arch`; `docker` makes a Docker schema 2 manifest instead of OCI. */
export async function makeImage(seed: string, arch = 'amd64', docker = false): Promise<TestImage> {
  const l1 = await makeLayer(`${seed}-1`);
  const l2 = await makeLayer(`${seed}-2`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Env: [`SEED=${seed}`] },
      rootfs: { type: 'layers', diff_ids: [digestOf(`x${seed}1`), digestOf(`x${seed}2`)] },
    }),
  );
  const layerType = docker ? DOCKER_LAYER_TAR_GZIP : OCI_LAYER_TAR_GZIP;
  const configDesc = desc(docker ? DOCKER_CONFIG : OCI_CONFIG, config);
  const layers = [l1, l2].map((bytes) => ({ bytes, desc: desc(layerType, bytes) }));
  const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const manifest = manifestBlob({ schemaVersion: 2, mediaType, config: configDesc, layers: layers.map((l) => l.desc) }, mediaType);
  return { manifest, config, configDesc, layers };
}

/** A two-platform OCI index (linux/amd64, linux/arm64). */
export async function makeIndex(seed: string): Promise<TestIndex> {
  const images = [await makeImage(`${seed}-amd64`, 'amd64'), await makeImage(`${seed}-arm64`, 'arm64')];
  const index = manifestBlob(
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: images.map((img, i) => ({
        mediaType: OCI_MANIFEST,
        digest: img.manifest.digest,
        size: img.manifest.bytes.length,
        platform: { os: 'linux', architecture: i === 0 ? 'amd64' : 'arm64' },
      })),
    },
    OCI_INDEX,
  );
  return { index, images };
}

async function putImageBlobs(dst: ImageDestination, img: TestImage): Promise<void> {
  for (const { bytes, desc: d } of [{ bytes: img.config, desc: img.configDesc }, ...img.layers]) {
    if (await dst.hasBlob(d)) continue;
    const stored = await dst.putBlob(Readable.from([bytes]), { mediaType: d.mediaType, digest: d.digest, size: d.size });
    assert.equal(stored, { digest: d.digest, size: d.size });
  }
}

/** Writes one image and commits it; closes the destination. */
export async function writeImage(dst: ImageDestination, img: TestImage): Promise<void> {
  try {
    await putImageBlobs(dst, img);
    await dst.commit(img.manifest);
  } finally {
    await dst.close();
  }
}

/** Writes an index with its images and commits it; closes the destination. */
export async function writeIndex(dst: ImageDestination, idx: TestIndex): Promise<void> {
  try {
    for (const img of idx.images) {
      await putImageBlobs(dst, img);
      await dst.putManifest(img.manifest);
    }
    await dst.commit(idx.index);
  } finally {
    await dst.close();
  }
}

export async function readStream(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Asserts that `src` (or its manifest `digest`) serves exactly `img`: manifest bytes, config and layers. */
export async function assertImage(src: ImageSource, img: TestImage, digest?: Digest): Promise<void> {
  const m = await src.manifest(digest);
  assert.equal(m.digest, img.manifest.digest);
  assert.equal(m.mediaType, img.manifest.mediaType);
  assert.ok(m.bytes.equals(img.manifest.bytes), 'manifest bytes');
  assert.ok((await readStream(await src.blob(img.configDesc))).equals(img.config), 'config bytes');
  for (const l of img.layers) assert.ok((await readStream(await src.blob(l.desc))).equals(l.bytes), `layer ${l.desc.digest}`);
}

export async function assertIndex(src: ImageSource, idx: TestIndex): Promise<void> {
  const top = await src.manifest();
  assert.equal(top.digest, idx.index.digest);
  assert.equal(top.mediaType, OCI_INDEX);
  assert.ok(top.bytes.equals(idx.index.bytes), 'index bytes');
  for (const img of idx.images) await assertImage(src, img, img.manifest.digest);
}

// ---------------------------------------------------------------------------------------------

export async function openSrc(ref: string): Promise<ImageSource> {
  if (ref.startsWith('oci:')) return openOciSource(ref.slice(4));
  if (ref.startsWith('oci-archive:')) return openOciArchiveSource(ref.slice(12));
  if (ref.startsWith('dir:')) return openDirSource(ref.slice(4));
  throw new Error(`test: unknown transport in ${ref}`);
}

export async function openDst(ref: string): Promise<ImageDestination> {
  if (ref.startsWith('oci:')) return openOciDestination(ref.slice(4));
  if (ref.startsWith('oci-archive:')) return openOciArchiveDestination(ref.slice(12));
  if (ref.startsWith('dir:')) return openDirDestination(ref.slice(4));
  throw new Error(`test: unknown transport in ${ref}`);
}

/** Copies everything (an index with all its images), byte for byte, with verification. */
export async function simpleCopy(src: ImageSource, dst: ImageDestination): Promise<ManifestBlob> {
  const top = await src.manifest();
  const copyBlobs = async (m: ManifestBlob) => {
    const parsed = parseManifestBytes(m.bytes, m.mediaType);
    if (parsed.kind !== 'manifest') throw new Error('nested index');
    for (const d of [parsed.value.config, ...parsed.value.layers]) {
      if (await dst.hasBlob(d)) continue;
      const raw = await src.blob(d);
      const check = new VerifyingStream({ digest: d.digest, size: d.size });
      raw.on('error', (err) => check.destroy(err));
      await dst.putBlob(raw.pipe(check), { mediaType: d.mediaType, digest: d.digest, size: d.size });
    }
  };
  const parsed = parseManifestBytes(top.bytes, top.mediaType);
  if (parsed.kind === 'index') {
    for (const child of parsed.value.manifests) {
      const m = await src.manifest(child.digest);
      await copyBlobs(m);
      await dst.putManifest(m);
    }
  } else {
    await copyBlobs(top);
  }
  await dst.commit(top);
  return top;
}

export async function copyRefs(from: string, to: string): Promise<ManifestBlob> {
  const src = await openSrc(from);
  try {
    const dst = await openDst(to);
    try {
      return await simpleCopy(src, dst);
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

// ---------------------------------------------------------------------------------------------
// skopeo

export const HAVE_SKOPEO = spawnSync('skopeo', ['--version'], { stdio: 'ignore' }).status === 0;

/** Runs `skopeo --insecure-policy ARGS`; throws with its stderr on failure. */
export function skopeo(...args: string[]): string {
  const r = spawnSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: process.env.TMPDIR ?? '/tmp' } });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Opens, checks and closes: `checkImage(openOciSource(ref), img)`. */
export async function checkImage(open: Promise<ImageSource>, img: TestImage): Promise<void> {
  const src = await open;
  try {
    await assertImage(src, img);
  } finally {
    await src.close();
  }
}

export async function checkIndex(open: Promise<ImageSource>, idx: TestIndex): Promise<void> {
  const src = await open;
  try {
    await assertIndex(src, idx);
  } finally {
    await src.close();
  }
}
