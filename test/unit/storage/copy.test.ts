import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gunzipSync } from 'node:zlib';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { DOCKER_CONFIG, DOCKER_LAYER_TAR, DOCKER_LAYER_TAR_GZIP, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST } from '../../../packages/storage/src/media-types.ts';
import { copyImage } from '../../../packages/storage/src/transports/copy.ts';
import { MemoryDestination, MemorySource, addImage, makeIndex } from './memory-transport.ts';
import { rejects } from './helpers.ts';

const ALL_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

test('a copy between same-format ends keeps the manifest bytes and digest', async () => {
  const src = new MemorySource();
  const { manifest, gz, config } = await addImage(src, 3);
  const dst = new MemoryDestination(ALL_TYPES);
  const r = await copyImage(src, dst);
  assert.not.ok(r.converted);
  assert.is(dst.committed!.digest, manifest.digest);
  assert.ok(dst.committed!.bytes.equals(manifest.bytes));
  for (const g of gz) assert.ok(dst.blobs.get(digestOf(g))!.equals(g));
  assert.ok(dst.blobs.get(digestOf(config))!.equals(config));
});

test('blobs already at the destination are skipped, not read', async () => {
  const src = new MemorySource();
  const { gz } = await addImage(src, 2);
  const dst = new MemoryDestination(ALL_TYPES);
  dst.blobs.set(digestOf(gz[0]!), gz[0]!);
  const skipped: string[] = [];
  await copyImage(src, dst, { progress: { blobSkipped: (d) => skipped.push(d.digest) } });
  assert.equal(skipped, [digestOf(gz[0]!)]);
  assert.not.ok(src.opened.includes(digestOf(gz[0]!)));
});

test('a source blob whose bytes do not match its descriptor fails the copy; nothing is committed', async () => {
  const src = new MemorySource();
  const { gz } = await addImage(src, 2);
  const tampered = Buffer.from(gz[1]!);
  tampered[tampered.length - 5]! ^= 0xff;
  src.blobs.set(digestOf(gz[1]!), tampered);
  const dst = new MemoryDestination(ALL_TYPES);
  await rejects(copyImage(src, dst), /memory:src: blob sha256:[0-9a-f]{64}: digest mismatch/);
  assert.is(dst.committed, undefined);
  assert.not.ok(dst.blobs.has(digestOf(tampered)), 'the tampered bytes were not stored');
});

test('a destination that stores Docker schema 2 only gets a converted manifest', async () => {
  const src = new MemorySource();
  const { gz, config } = await addImage(src, 2);
  const dst = new MemoryDestination([DOCKER_MANIFEST]);
  const r = await copyImage(src, dst);
  assert.ok(r.converted);
  const m = JSON.parse(dst.committed!.bytes.toString());
  assert.is(dst.committed!.mediaType, DOCKER_MANIFEST);
  assert.is(m.mediaType, DOCKER_MANIFEST);
  assert.is(m.config.mediaType, DOCKER_CONFIG);
  assert.is(m.config.digest, digestOf(config), 'config bytes unchanged');
  assert.equal(m.layers.map((l: { mediaType: string }) => l.mediaType), [DOCKER_LAYER_TAR_GZIP, DOCKER_LAYER_TAR_GZIP]);
  assert.equal(m.layers.map((l: { digest: string }) => l.digest), gz.map((g) => digestOf(g)), 'layer bytes unchanged');
});

test('--preserve-digests refuses a conversion before copying anything', async () => {
  const src = new MemorySource();
  await addImage(src, 2);
  const dst = new MemoryDestination([DOCKER_MANIFEST]);
  await rejects(copyImage(src, dst, { preserveDigests: true }), /cannot preserve digests: memory:dst stores application\/vnd\.docker/);
  assert.is(dst.blobs.size, 0);
  assert.is(dst.committed, undefined);
});

test('a destination that needs uncompressed layers gets them, named by their diffIDs', async () => {
  const src = new MemorySource();
  const { tars } = await addImage(src, 2);
  const dst = new MemoryDestination([DOCKER_MANIFEST], false, 'none');
  await copyImage(src, dst);
  const m = JSON.parse(dst.committed!.bytes.toString());
  assert.equal(m.layers.map((l: { digest: string }) => l.digest), tars.map((t) => digestOf(t)));
  assert.equal(m.layers.map((l: { mediaType: string }) => l.mediaType), [DOCKER_LAYER_TAR, DOCKER_LAYER_TAR]);
  assert.equal(m.layers.map((l: { size: number }) => l.size), tars.map((t) => t.length));
  assert.ok(dst.blobs.get(digestOf(tars[0]!))!.equals(tars[0]!));
});

test('--dest-compress-format gzip recompresses uncompressed layers', async () => {
  const src = new MemorySource();
  const { tars } = await addImage(src, 1);
  const plain = new MemoryDestination([DOCKER_MANIFEST], false, 'none');
  await copyImage(src, plain);
  // now plain -> gzip
  const src2 = new MemorySource();
  src2.blobs = plain.blobs;
  src2.top = plain.committed!;
  const dst = new MemoryDestination(ALL_TYPES);
  const r = await copyImage(src2, dst, { compression: 'gzip' });
  assert.ok(r.converted);
  const m = JSON.parse(dst.committed!.bytes.toString());
  assert.is(m.layers[0].mediaType, DOCKER_LAYER_TAR_GZIP);
  assert.ok(gunzipSync(dst.blobs.get(m.layers[0].digest)!).equals(tars[0]!));
});

test('an index resolves to this platform\'s image by default, or the one asked for', async () => {
  const src = new MemorySource();
  const amd = await addImage(src, 1, 'amd64');
  const arm = await addImage(src, 1, 'arm64');
  makeIndex(src, [{ manifest: amd.manifest, arch: 'amd64' }, { manifest: arm.manifest, arch: 'arm64' }]);
  const dst = new MemoryDestination(ALL_TYPES);
  await copyImage(src, dst, { platform: { architecture: 'arm64', os: 'linux' } });
  assert.is(dst.committed!.digest, arm.manifest.digest);
  assert.not.ok(dst.blobs.has(digestOf(amd.gz[0]!)));
  await rejects(copyImage(src, new MemoryDestination(ALL_TYPES), { platform: { architecture: 's390x' } }), /no image for linux\/s390x/);
});

test('--all copies every image and the index unchanged', async () => {
  const src = new MemorySource();
  const amd = await addImage(src, 1, 'amd64');
  const arm = await addImage(src, 2, 'arm64');
  const idx = makeIndex(src, [{ manifest: amd.manifest, arch: 'amd64' }, { manifest: arm.manifest, arch: 'arm64' }]);
  const dst = new MemoryDestination(ALL_TYPES);
  const r = await copyImage(src, dst, { all: true });
  assert.not.ok(r.converted);
  assert.is(dst.committed!.digest, idx.digest);
  assert.ok(dst.manifests.has(amd.manifest.digest) && dst.manifests.has(arm.manifest.digest));
  await rejects(copyImage(src, new MemoryDestination(ALL_TYPES, false), { all: true }), /cannot hold a multi-image index/);
});

test('--all to a Docker-only destination converts every image and the index', async () => {
  const src = new MemorySource();
  const amd = await addImage(src, 1, 'amd64');
  const arm = await addImage(src, 1, 'arm64');
  makeIndex(src, [{ manifest: amd.manifest, arch: 'amd64' }, { manifest: arm.manifest, arch: 'arm64' }]);
  const dst = new MemoryDestination([DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]);
  await copyImage(src, dst, { all: true });
  const idx = JSON.parse(dst.committed!.bytes.toString());
  assert.is(idx.mediaType, DOCKER_MANIFEST_LIST);
  for (const e of idx.manifests) {
    assert.is(e.mediaType, DOCKER_MANIFEST);
    assert.ok(dst.manifests.has(e.digest));
  }
  assert.equal(idx.manifests.map((e: { platform: { architecture: string } }) => e.platform.architecture), ['amd64', 'arm64']);
});

test('layers are copied in parallel up to the limit', async () => {
  const src = new MemorySource();
  await addImage(src, 8);
  const dst = new MemoryDestination(ALL_TYPES);
  await copyImage(src, dst, { parallel: 3 });
  assert.is(dst.maxConcurrent, 3);
  const one = new MemoryDestination(ALL_TYPES);
  await copyImage(src, one, { parallel: 1 });
  assert.is(one.maxConcurrent, 1);
});

test.run();
