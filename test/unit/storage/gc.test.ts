import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { garbageCollect, pruneImages, removeImage } from '../../../packages/storage/src/gc.ts';
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

test('pruneImages: a dangling image\'s parent left childless goes too, whatever the order; a parent with a named child stays', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const parent = await putFakeImage(store, '2024-01-01T00:00:01Z');
    const other = await putFakeImage(store, '2024-01-01T00:00:02Z');
    const child = { ...(await putFakeImage(store, '2024-01-01T00:00:03Z')), parent: parent.id };
    await store.images.put(child);
    const keptParent = await putFakeImage(store, '2024-01-01T00:00:04Z');
    const named = { ...(await putFakeImage(store, '2024-01-01T00:00:05Z')), parent: keptParent.id };
    await store.images.put(named);
    await store.images.tag('localhost/app:1', named.id);
    // newest first: the child, then the parentless image, both dangling; the parent only after
    const res = await pruneImages(store, (image, { hasChildren }) => image.names.length === 0 && !hasChildren);
    assert.equal(res.removed.sort(), [parent.id, other.id, child.id].sort());
    assert.ok(await store.images.get(keptParent.id), 'an intermediate image under a named one is kept');
  } finally {
    cleanup();
  }
});

test.run();
