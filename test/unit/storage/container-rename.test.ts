// ContainerStore.rename: the new name is claimed under the store's lock, the old one freed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openTempStore, rejects } from './helpers.ts';
import { putFakeImage } from './fake-image.ts';

test('rename: the record and resolution follow the new name; the old name is free again', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const c = await store.containers.create({ name: 'old', image: img.id, imageName: 'x' });
    const renamed = await store.containers.rename(c.id, 'new');
    assert.is(renamed.name, 'new');
    assert.is((await store.containers.get(c.id))!.name, 'new');
    assert.is((await store.containers.resolve('new')).id, c.id);
    await rejects(store.containers.resolve('old'), /no container with name or ID "old"/);
    const other = await store.containers.create({ name: 'old', image: img.id, imageName: 'x' });
    assert.is.not(other.id, c.id);
  } finally {
    cleanup();
  }
});

test('rename: a taken name, the same name, a bad name or an unknown id is refused and changes nothing', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const a = await store.containers.create({ name: 'a', image: img.id, imageName: 'x' });
    await store.containers.create({ name: 'b', image: img.id, imageName: 'x' });
    await rejects(store.containers.rename(a.id, 'b'), /already in use/);
    await rejects(store.containers.rename(a.id, 'a'), /already named "a"/);
    await rejects(store.containers.rename(a.id, 'no spaces'), /invalid container name/);
    await rejects(store.containers.rename('f'.repeat(64), 'c'), /no container with ID/);
    assert.is((await store.containers.resolve('a')).id, a.id);
    assert.is((await store.containers.get(a.id))!.name, 'a');
  } finally {
    cleanup();
  }
});

test.run();
