import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { importRootfs } from '../../../packages/storage/src/image-import.ts';
import { findImage, localImageName, lookupCandidates } from '../../../packages/storage/src/image-lookup.ts';
import { listImages } from '../../../packages/storage/src/image-list.ts';
import { buildTar, dir, file } from './tar-fixtures.ts';
import { openTempStore, rejects } from './helpers.ts';

test('local names: short names go to localhost/, tags default to latest', () => {
  assert.is(localImageName('busybox'), 'localhost/busybox:latest');
  assert.is(localImageName('busybox:demo'), 'localhost/busybox:demo');
  assert.is(localImageName('quay.io/a/b:1'), 'quay.io/a/b:1');
  assert.is(localImageName('docker.io/busybox'), 'docker.io/library/busybox:latest');
  assert.throws(() => localImageName('Busybox'), /lowercase/);
  assert.equal(lookupCandidates('busybox'), ['localhost/busybox:latest', 'docker.io/library/busybox:latest']);
});

test('import of a plain tar: one-layer OCI image, gzip layer blob, diffID of the tar', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const tar = await buildTar([dir('bin'), file('bin/hello', '#!/bin/sh\necho hi\n', { mode: 0o755 })]);
    const { image, name } = await importRootfs(store, Readable.from([tar]), { name: 'hello:1' });
    assert.is(name, 'localhost/hello:1');
    const manifest = JSON.parse(readFileSync(store.blobs.path(image.manifestDigest), 'utf8'));
    const config = JSON.parse(readFileSync(store.blobs.path(image.id), 'utf8'));
    assert.is(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.is(manifest.config.digest, image.id);
    assert.is(manifest.layers.length, 1);
    assert.is(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const layerBlob = readFileSync(store.blobs.path(manifest.layers[0].digest));
    assert.is(manifest.layers[0].size, layerBlob.length);
    assert.ok(gunzipSync(layerBlob).equals(tar), 'the blob is the gzip of the input tar');
    assert.equal(config.rootfs, { type: 'layers', diff_ids: [digestOf(tar)] });
    assert.is(config.os, 'linux');
    assert.ok(config.config.Env[0].startsWith('PATH='));
    assert.is(readFileSync(join(store.layers.diffDir(image.layers[0]!), 'bin/hello'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.is((await findImage(store, 'hello:1')).id, image.id);
    assert.is((await findImage(store, image.id.slice(7, 19))).id, image.id);
  } finally {
    cleanup();
  }
});

test('import of a gzip tar keeps its bytes as the layer blob', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const tgz = await buildTar([file('a', 'x')], 'gzip');
    const { image } = await importRootfs(store, Readable.from([tgz]));
    assert.ok(image.blobs.includes(digestOf(tgz)));
    assert.is((await listImages(store))[0]!.names.length, 0);
  } finally {
    cleanup();
  }
});

test('a broken tar gives an error and leaves no image, layer or blob', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const tar = await buildTar([file('a', 'x'.repeat(5000))]);
    await rejects(importRootfs(store, Readable.from([tar.subarray(0, 1200)]), { name: 'broken' }), /./);
    assert.equal(await store.images.list(), []);
    assert.equal(await store.layers.list(), []);
    assert.equal(await store.blobs.list(), []);
  } finally {
    cleanup();
  }
});

test('the busybox fixture imports and lists with its size', async () => {
  const fixture = process.env.PKIT_TEST_FIXTURE ?? join(import.meta.dirname, '../../bed/out/busybox-rootfs.tar');
  assert.ok(existsSync(fixture), `fixture missing: ${fixture} (run scripts/setup.sh)`);
  const { store, cleanup } = openTempStore();
  try {
    const { image } = await importRootfs(store, createReadStream(fixture), { name: 'busybox' });
    const [row] = await listImages(store);
    assert.equal(row!.names, ['localhost/busybox:latest']);
    assert.is(row!.id, image.id);
    assert.ok(row!.size > 1_000_000, `size ${row!.size}`);
    const bin = join(store.layers.diffDir(image.layers[0]!), 'bin');
    assert.ok(existsSync(join(bin, 'busybox')));
    assert.ok(existsSync(join(bin, 'sh')));
  } finally {
    cleanup();
  }
});

test.run();
