import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { chainID, chainIDs } from '../../../packages/storage/src/layer-store.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { buildTar, dir, file } from './tar-fixtures.ts';
import { openTempStore, rejects, runWorker, startWorker, tempDir, waitFor } from './helpers.ts';

test('chainID follows the image-spec definition', () => {
  const a = digestOf('a');
  const b = digestOf('b');
  assert.is(chainID(undefined, a), a);
  assert.is(chainID(a, b), digestOf(`${a} ${b}`));
  assert.equal(chainIDs([a, b]), [a, digestOf(`${a} ${b}`)]);
});

test('apply stacks layers by chainID and records diffID, parent and size', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const t1 = await buildTar([dir('etc'), file('etc/a', 'one')], 'gzip');
    const t2 = await buildTar([file('etc/b', 'two')]);
    const l1 = await store.layers.apply(Readable.from([t1]), undefined);
    const l2 = await store.layers.apply(Readable.from([t2]), l1.chainID);
    assert.is(l1.chainID, l1.diffID);
    assert.is(l2.parent, l1.chainID);
    assert.is(l2.diffID, digestOf(t2));
    assert.is(l2.chainID, chainID(l1.chainID, l2.diffID));
    assert.is(l1.inputDigest, digestOf(t1));
    assert.equal(await store.layers.get(l2.chainID), { chainID: l2.chainID, diffID: l2.diffID, parent: l1.chainID, size: l2.size, created: l2.created });
    assert.is(readFileSync(join(store.layers.diffDir(l2.chainID), 'etc/b'), 'utf8'), 'two');
    assert.equal((await store.layers.list()).sort(), [l1.chainID, l2.chainID].sort());
  } finally {
    cleanup();
  }
});

test('a missing parent is refused before anything is written', async () => {
  const { store, cleanup } = openTempStore();
  try {
    await rejects(store.layers.apply(Readable.from([await buildTar([file('x')])]), digestOf('nope')), /parent layer .* not found/);
    assert.equal(await store.layers.list(), []);
  } finally {
    cleanup();
  }
});

test('a layer whose bytes do not match the expected digest leaves nothing', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const t = await buildTar([file('x', 'data')], 'gzip');
    await rejects(store.layers.apply(Readable.from([t]), undefined, { digest: digestOf('other') }), /digest mismatch/);
    assert.equal(await store.layers.list(), []);
    assert.equal(readdirSync(join(root, 'tmp')).filter((n) => !n.endsWith('.lock')).flatMap((t) => readdirSync(join(root, 'tmp', t))), []);
  } finally {
    cleanup();
  }
});

test('two processes applying the same layer at once both succeed with one layer', async () => {
  const root = tempDir('pkit-store');
  const src = join(tempDir('pkit-src'), 'layer.tar.gz');
  const entries = Array.from({ length: 300 }, (_, i) => file(`d${i % 7}/f${i}`, `content ${i}`.repeat(50)));
  writeFileSync(src, await buildTar([...Array.from({ length: 7 }, (_, i) => dir(`d${i}`)), ...entries], 'gzip'));
  const runs = await Promise.all([1, 2, 3].map(() => runWorker('apply-layer', [root, src])));
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  assert.is(new Set(runs.map((r) => r.stdout.trim())).size, 1);
  const store = Store.open({ root });
  assert.is((await store.layers.list()).length, 1);
  assert.is(readdirSync(join(store.layers.diffDir(runs[0]!.stdout.trim() as `sha256:${string}`), 'd3')).length, 43);
  store.close();
});

test('a process killed mid-extraction leaves no layer and no debris after the next open', async () => {
  const root = tempDir('pkit-store');
  const src = join(tempDir('pkit-src'), 'layer.tar');
  writeFileSync(src, await buildTar(Array.from({ length: 400 }, (_, i) => file(`f${i}`, Buffer.alloc(4096, i % 256)))));
  const w = startWorker('apply-layer', [root, '--trickle', src]);
  await waitFor(() => w.output().includes('started'), 20000, 'the extraction to pass half-way');
  const tokens = readdirSync(join(root, 'tmp')).filter((n) => !n.endsWith('.lock'));
  assert.ok(tokens.some((t) => readdirSync(join(root, 'tmp', t)).length > 0), 'a partial layer exists in scratch');
  w.child.kill('SIGKILL');
  await w.done;
  const store = Store.open({ root });
  assert.equal(await store.layers.list(), []);
  assert.equal(readdirSync(join(root, 'tmp')), []);
  assert.not.ok(existsSync(join(root, 'layers')) && readdirSync(join(root, 'layers')).length > 0);
  store.close();
});

test.run();
