import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { NotFoundError } from '../../../packages/storage/src/errors.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { openTempStore, rejects, runWorker } from './helpers.ts';
import { putFakeImage } from './fake-image.ts';

test('tag, lookup by name, untag', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    await store.images.tag('localhost/app:1', img.id);
    assert.is(await store.images.lookupName('localhost/app:1'), img.id);
    assert.is((await store.images.resolve('app:1', ['localhost/app:1'])).id, img.id);
    const [listed] = await store.images.list();
    assert.equal(listed!.names, ['localhost/app:1']);
    assert.ok(await store.images.untag('localhost/app:1'));
    assert.not.ok(await store.images.untag('localhost/app:1'));
    assert.is(await store.images.lookupName('localhost/app:1'), undefined);
  } finally {
    cleanup();
  }
});

test('tag moves a name from one image to another', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const a = await putFakeImage(store);
    const b = await putFakeImage(store);
    await store.images.tag('localhost/app:latest', a.id);
    await store.images.tag('localhost/app:latest', b.id);
    assert.is(await store.images.lookupName('localhost/app:latest'), b.id);
    const names = Object.fromEntries((await store.images.list()).map((i) => [i.id, i.names]));
    assert.equal(names[a.id], []);
    assert.equal(names[b.id], ['localhost/app:latest']);
  } finally {
    cleanup();
  }
});

test('tag of an unknown image is refused', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const err = await rejects(store.images.tag('localhost/x:1', digestOf('nothing')), /not found/);
    assert.instance(err, NotFoundError);
    assert.equal(await store.images.names(), []);
  } finally {
    cleanup();
  }
});

test('resolve by full id, manifest digest and unique id prefix', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    assert.is((await store.images.resolve(img.id, [])).id, img.id);
    assert.is((await store.images.resolve(img.manifestDigest, [])).id, img.id);
    assert.is((await store.images.resolve(img.id.slice(7, 19), [])).id, img.id);
    assert.is((await store.images.resolve(img.id.slice(0, 19), [])).id, img.id);
    await rejects(store.images.resolve('nosuchimage', ['localhost/nosuchimage:latest']), /image "nosuchimage" not found/);
  } finally {
    cleanup();
  }
});

test('an ambiguous id prefix is an error, not a guess', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const base = await putFakeImage(store);
    const ids = ['abc1', 'abc2'].map((p) => `sha256:${p}${'0'.repeat(60)}` as const);
    for (const id of ids) await store.images.put({ ...base, id });
    await rejects(store.images.resolve('abc', []), /ambiguous: it matches 2 images/);
    assert.is((await store.images.resolve('abc2', [])).id, ids[1]);
    await rejects(store.images.resolve('ab', []), /not found/); // under 3 digits is no id prefix
  } finally {
    cleanup();
  }
});

test('remove drops the record and all its names', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    await store.images.tag('localhost/a:1', img.id);
    await store.images.tag('localhost/b:1', img.id);
    const removed = await store.images.remove(img.id);
    assert.equal(removed.sort(), ['localhost/a:1', 'localhost/b:1']);
    assert.equal(await store.images.list(), []);
    assert.equal(await store.images.names(), []);
  } finally {
    cleanup();
  }
});

test('concurrent tagging from several processes corrupts nothing', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const runs = await Promise.all(['p', 'q', 'r'].map((p) => runWorker('tag', [root, img.id, p, '15'])));
    for (const r of runs) assert.is(r.code, 0, r.stderr);
    const fresh = Store.open({ root });
    const names = (await fresh.images.names()).map((n) => n.name).sort();
    assert.is(names.length, 46);
    assert.ok(names.includes('localhost/shared:latest'));
    for (const p of ['p', 'q', 'r']) for (let i = 0; i < 15; i++) assert.ok(names.includes(`localhost/${p}-${i}:latest`));
    assert.is((await fresh.images.list())[0]!.names.length, 46);
    fresh.close();
  } finally {
    cleanup();
  }
});

test.run();
