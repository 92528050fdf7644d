import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { DigestMismatchError, NotFoundError } from '../../../packages/storage/src/errors.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { openTempStore, rejects, runWorker, startWorker, tempDir, waitFor } from './helpers.ts';

/** Files under the store's scratch area other than the per-process lock files. */
function scratchFiles(root: string): string[] {
  const tmp = join(root, 'tmp');
  if (!existsSync(tmp)) return [];
  return readdirSync(tmp, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.lock'))
    .map((e) => e.name);
}

test('ingest stores content under its digest; has/stat/open/delete', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const data = randomBytes(100_000);
    const info = await store.blobs.putBytes(data);
    assert.is(info.digest, digestOf(data));
    assert.is(info.size, data.length);
    assert.ok(await store.blobs.has(info.digest));
    assert.equal(await store.blobs.stat(info.digest), { digest: info.digest, size: data.length });
    assert.ok(Buffer.compare(await store.blobs.readBytes(info.digest, 1 << 20), data) === 0);
    const chunks: Buffer[] = [];
    for await (const c of await store.blobs.open(info.digest)) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(data));
    assert.equal(await store.blobs.list(), [info.digest]);
    assert.ok(await store.blobs.delete(info.digest));
    assert.not.ok(await store.blobs.has(info.digest));
    assert.not.ok(await store.blobs.delete(info.digest));
  } finally {
    cleanup();
  }
});

test('open of a missing blob is a NotFoundError naming it', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const d = digestOf('absent');
    const err = await rejects(store.blobs.open(d), /not found/);
    assert.instance(err, NotFoundError);
    assert.match(err.message, d);
  } finally {
    cleanup();
  }
});

test('readBytes refuses a blob over the limit', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const info = await store.blobs.putBytes(randomBytes(2000));
    await rejects(store.blobs.readBytes(info.digest, 1000), /over the 1000-byte limit/);
  } finally {
    cleanup();
  }
});

test('a digest mismatch leaves no blob and no scratch file', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const claimed = digestOf('the real content');
    const err = await rejects(store.blobs.ingest(Readable.from([Buffer.from('forged content')]), { digest: claimed }), /digest mismatch/);
    assert.instance(err, DigestMismatchError);
    assert.not.ok(await store.blobs.has(claimed));
    assert.equal(await store.blobs.list(), []);
    assert.equal(scratchFiles(root), []);
  } finally {
    cleanup();
  }
});

test('a size mismatch leaves no blob', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const data = Buffer.from('twelve bytes');
    await rejects(store.blobs.putBytes(data, { digest: digestOf(data), size: 11 }), /size mismatch/);
    await rejects(store.blobs.putBytes(data, { digest: digestOf(data), size: 13 }), /size mismatch/);
    assert.equal(await store.blobs.list(), []);
  } finally {
    cleanup();
  }
});

test('a failing source stream leaves nothing', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const source = new Readable({ read() { this.destroy(new Error('connection reset')); } });
    await rejects(store.blobs.ingest(source), /connection reset/);
    assert.equal(await store.blobs.list(), []);
    assert.equal(scratchFiles(root), []);
  } finally {
    cleanup();
  }
});

test('two processes ingesting the same blob at once both succeed', async () => {
  const root = tempDir('pkit-store');
  const src = join(tempDir('pkit-src'), 'blob');
  const data = randomBytes(8 << 20);
  writeFileSync(src, data);
  const d = digestOf(data);
  const runs = await Promise.all([1, 2, 3, 4].map(() => runWorker('ingest', [root, src, d])));
  for (const r of runs) {
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.trim(), d);
  }
  const store = Store.open({ root });
  assert.equal(await store.blobs.list(), [d]);
  assert.ok(readFileSync(store.blobs.path(d)).equals(data));
  store.close();
});

test('a process killed mid-ingest leaves a store that opens clean, with nothing partial visible', async () => {
  const root = tempDir('pkit-store');
  const w = startWorker('ingest', [root, '--trickle']);
  await waitFor(() => w.output().includes('started'), 15000, 'the ingest to start');
  assert.ok(scratchFiles(root).length > 0, 'the partial blob should be in scratch while it is written');
  w.child.kill('SIGKILL');
  const r = await w.done;
  assert.is(r.signal, 'SIGKILL');
  const store = Store.open({ root });
  assert.equal(await store.blobs.list(), [], 'no blob visible');
  assert.equal(scratchFiles(root), [], 'the dead writer\'s scratch was removed on open');
  assert.equal(readdirSync(join(root, 'tmp')), [], 'no debris at all in tmp/');
  store.close();
});

test('opening a store does not remove the scratch of a live writer', async () => {
  const root = tempDir('pkit-store');
  const w = startWorker('ingest', [root, '--trickle']);
  try {
    await waitFor(() => w.output().includes('started'), 15000, 'the ingest to start');
    const before = scratchFiles(root);
    const store = Store.open({ root });
    assert.equal(scratchFiles(root).filter((f) => before.includes(f)), before);
    store.close();
  } finally {
    w.child.kill('SIGKILL');
    await w.done;
  }
});

test.run();
