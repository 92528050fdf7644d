// Fixes from review: hostile tar headers, read-only layer dirs, import input detection,
// store creation races, corrupt records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { importRootfs } from '../../../packages/storage/src/image-import.ts';
import { applyLayerTar } from '../../../packages/storage/src/layers/apply.ts';
import { removeImage } from '../../../packages/storage/src/gc.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { ScratchArea, cleanAbandonedScratch } from '../../../packages/storage/src/tmp.ts';
import { buildTar, dir, file, rawTarHeader as header } from './tar-fixtures.ts';
import { openTempStore, rejects, runWorker, tempDir } from './helpers.ts';


const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
const paxRecord = (k: string, v: string) => {
  const body = ` ${k}=${v}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len++;
  return `${len}${body}`;
};

test('a PAX header over 1 MiB is refused before it is buffered', async () => {
  const dirPath = tempDir('apply');
  const big = 64 << 20;
  // Only the header is sent: a tar-stream that buffered it would wait for 64 MiB.
  const input = Readable.from([header('PaxHeader', big, 'x'), Buffer.alloc(4096)]);
  await rejects(applyLayerTar(input, dirPath), /pax-header of 67108864 bytes is over the 1048576-byte limit/);
});

test('a negative PAX size is refused instead of stalling', async () => {
  const dirPath = tempDir('apply');
  const rec = Buffer.from(paxRecord('size', '-1'));
  const tar = Buffer.concat([header('PaxHeader', rec.length, 'x'), pad(rec), header('f', 0, '0'), Buffer.alloc(1024)]);
  await rejects(applyLayerTar(Readable.from([tar]), dirPath), /invalid tar PAX size "-1"/);
});

test('an image whose layer has read-only directories can be removed by a plain user', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const tar = await buildTar([dir('usr', { mode: 0o555 }), dir('usr/lib', { mode: 0o500 }), file('usr/lib/x', 'x', { mode: 0o444 })]);
    const { image } = await importRootfs(store, Readable.from([tar]), { name: 'ro:1' });
    await removeImage(store, image.id);
    assert.equal(await store.layers.list(), []);
  } finally {
    cleanup();
  }
});

test('scratch debris with read-only directories is still cleaned', () => {
  const tmp = join(tempDir('scratch'), 'tmp');
  const a = new ScratchArea(tmp);
  const p = a.path('layer');
  mkdirSync(join(p, 'usr', 'lib'), { recursive: true });
  writeFileSync(join(p, 'usr', 'lib', 'x'), 'x');
  chmodSync(join(p, 'usr', 'lib'), 0o500);
  chmodSync(join(p, 'usr'), 0o555);
  a.close();
  assert.equal(readdirSync(tmp), []);
  assert.equal(cleanAbandonedScratch(tmp), []);
});

test('import of a zstd tar stores a gzip blob of the tar', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const tar = await buildTar([file('a', 'zstd content '.repeat(100))]);
    const { image } = await importRootfs(store, Readable.from([zstdCompressSync(tar)]));
    const layerBlob = image.blobs[2]!;
    assert.ok(gunzipSync(await store.blobs.readBytes(layerBlob, 1 << 20)).equals(tar));
  } finally {
    cleanup();
  }
});

test('import of gzip input arriving one byte first is not gzipped twice', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const tgz = gzipSync(await buildTar([file('a', 'slow')]));
    const source = Readable.from(
      (async function* () {
        yield tgz.subarray(0, 1);
        await new Promise((r) => setTimeout(r, 20));
        yield tgz.subarray(1);
      })(),
    );
    const { image } = await importRootfs(store, source);
    assert.ok(image.blobs.includes(digestOf(tgz)));
  } finally {
    cleanup();
  }
});

test('many processes creating one new store at once all open it', async () => {
  const root = join(tempDir('race'), 'store');
  const runs = await Promise.all(Array.from({ length: 6 }, () => runWorker('ingest', [root, '/dev/null'])));
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(join(root, 'version')));
  Store.open({ root }).close();
});

test('a corrupt record is an error naming the file, not a crash', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    mkdirSync(join(root, 'images'), { recursive: true });
    writeFileSync(join(root, 'images', `${'a'.repeat(64)}.json`), '{"id": ');
    await rejects(store.images.list(), /corrupt store record .*images\/a{64}\.json/);
  } finally {
    cleanup();
  }
});

test.run();
