import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../../packages/storage/src/store.ts';
import { openTempStore, rejects, runWorker } from './helpers.ts';
import { putFakeImage } from './fake-image.ts';

test('create records id, name, image and state; resolve by name, id and prefix', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const c = await store.containers.create({ name: 'web', image: img.id, imageName: 'localhost/app:1' });
    assert.match(c.id, /^[a-f0-9]{64}$/);
    assert.is(c.state, 'created');
    assert.is(c.image, img.id);
    assert.is((await store.containers.resolve('web')).id, c.id);
    assert.is((await store.containers.resolve(c.id)).id, c.id);
    assert.is((await store.containers.resolve(c.id.slice(0, 12))).id, c.id);
    const updated = await store.containers.update(c.id, { state: 'running' });
    assert.is(updated.state, 'running');
    assert.is((await store.containers.get(c.id))!.state, 'running');
  } finally {
    cleanup();
  }
});

test('a generated name is given when none is asked for', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const c = await store.containers.create({ image: img.id, imageName: 'x' });
    assert.match(c.name, /^[a-z]+_[a-z]+$/);
  } finally {
    cleanup();
  }
});

test('a name in use is refused; after removal it is free again', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const a = await store.containers.create({ name: 'db', image: img.id, imageName: 'x' });
    await rejects(store.containers.create({ name: 'db', image: img.id, imageName: 'x' }), /name "db" is already in use/);
    await store.containers.remove(a.id);
    await rejects(store.containers.resolve('db'), /no container with name or ID "db"/);
    const b = await store.containers.create({ name: 'db', image: img.id, imageName: 'x' });
    assert.is.not(b.id, a.id);
    assert.equal((await store.containers.list()).map((c) => c.id), [b.id]);
  } finally {
    cleanup();
  }
});

test('invalid names are refused with the rule', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    for (const bad of ['', '-x', 'a/b', '../x', 'a b']) {
      await rejects(store.containers.create({ name: bad, image: img.id, imageName: 'x' }), /invalid container name/);
    }
    assert.equal(await store.containers.list(), []);
  } finally {
    cleanup();
  }
});

test('two processes racing for one name: exactly one wins', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const runs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => runWorker('create-container', [root, img.id, 'racer'])));
    const outs = runs.map((r) => r.stdout.trim());
    assert.is(outs.filter((o) => o.startsWith('created')).length, 1, outs.join('\n'));
    assert.is(outs.filter((o) => o === 'refused PKIT_NAME_IN_USE').length, 5, outs.join('\n'));
    const fresh = Store.open({ root });
    assert.is((await fresh.containers.list()).length, 1);
    assert.equal(readdirSync(join(root, 'container-names')), ['racer.json']);
    fresh.close();
  } finally {
    cleanup();
  }
});

test('many creates at once in one process all succeed', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => store.containers.create({ name: `c${i}`, image: img.id, imageName: 'x' })));
    assert.is(new Set(made.map((c) => c.id)).size, 8);
    assert.is((await store.containers.list()).length, 8);
  } finally {
    cleanup();
  }
});

test('a name whose record never appeared (crash mid-create) is free', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    mkdirSync(join(root, 'container-names'), { recursive: true });
    writeFileSync(join(root, 'container-names', 'ghost.json'), JSON.stringify({ name: 'ghost', id: 'f'.repeat(64) }));
    const c = await store.containers.create({ name: 'ghost', image: img.id, imageName: 'x' });
    assert.is((await store.containers.resolve('ghost')).id, c.id);
  } finally {
    cleanup();
  }
});

test.run();
