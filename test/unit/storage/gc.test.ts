import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { garbageCollect, removeImage } from '../../../packages/storage/src/gc.ts';
import { openTempStore, rejects } from './helpers.ts';
import { putFakeImage } from './fake-image.ts';

test('gc removes blobs no image references and keeps the rest', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const stray = await store.blobs.putBytes('unreferenced');
    const res = await garbageCollect(store);
    assert.equal(res.blobs, [stray.digest]);
    assert.not.ok(await store.blobs.has(stray.digest));
    for (const b of img.blobs) assert.ok(await store.blobs.has(b));
  } finally {
    cleanup();
  }
});

test('removeImage refuses an image a container uses, then removes image, names and blobs', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    const other = await putFakeImage(store);
    await store.images.tag('localhost/app:1', img.id);
    const c = await store.containers.create({ name: 'user', image: img.id, imageName: 'localhost/app:1' });
    await rejects(removeImage(store, img.id), /in use by container user/);
    assert.ok(await store.images.get(img.id));
    await store.containers.remove(c.id);
    const res = await removeImage(store, img.id);
    assert.equal(res.untagged, ['localhost/app:1']);
    assert.equal(res.gc.blobs.sort(), [...img.blobs].sort());
    assert.is(await store.images.get(img.id), undefined);
    for (const b of other.blobs) assert.ok(await store.blobs.has(b), 'the other image keeps its blobs');
  } finally {
    cleanup();
  }
});

test.run();
