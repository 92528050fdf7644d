import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { importRootfs } from '../../../packages/storage/src/image-import.ts';
import { findImage } from '../../../packages/storage/src/image-lookup.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { copyImage } from '../../../packages/storage/src/transports/copy.ts';
import { openLocalDestination, openLocalSource } from '../../../packages/storage/src/transports/local.ts';
import { parseTransportReference } from '../../../packages/storage/src/transports/index.ts';
import { buildTar, dir, file } from './tar-fixtures.ts';
import { rejects, tempDir } from './helpers.ts';

async function storeWithImage() {
  const root = tempDir('pkit-store');
  const store = Store.open({ root });
  const tar = await buildTar([dir('etc'), file('etc/motd', 'hello\n')]);
  const { image } = await importRootfs(store, Readable.from([tar]), { name: 'app:1' });
  store.close();
  return { root, image };
}

test('transport references parse in skopeo syntax, containers-storage as an alias of local', () => {
  assert.equal(parseTransportReference('docker://quay.io/a/b:1'), { transport: 'docker', spec: 'quay.io/a/b:1' });
  assert.equal(parseTransportReference('oci:/tmp/l:tag'), { transport: 'oci', spec: '/tmp/l:tag' });
  assert.equal(parseTransportReference('oci-archive:/dev/stdin'), { transport: 'oci-archive', spec: '/dev/stdin' });
  assert.equal(parseTransportReference('containers-storage:app'), { transport: 'local', spec: 'app' });
  assert.throws(() => parseTransportReference('quay.io/a/b:1'), /expected a transport.*did you mean "docker:\/\/quay\.io\/a\/b:1"/);
  assert.throws(() => parseTransportReference('docker://'), /nothing after "docker:\/\/"/);
});

test('local -> local: same manifest digest, layers unpacked in the other store, name under localhost/', async () => {
  const a = await storeWithImage();
  const bRoot = tempDir('pkit-store');
  const src = await openLocalSource('app:1', { storeRoot: a.root });
  const dst = await openLocalDestination('copy:2', { storeRoot: bRoot });
  const r = await copyImage(src, dst);
  await dst.close();
  await src.close();
  assert.not.ok(r.converted);
  const b = Store.open({ root: bRoot });
  const img = await findImage(b, 'copy:2');
  assert.is(img.manifestDigest, a.image.manifestDigest);
  assert.is(img.id, a.image.id);
  assert.equal(img.layers, a.image.layers);
  assert.ok(existsSync(join(b.layers.diffDir(img.layers[0]!), 'etc/motd')));
  assert.equal((await b.images.names()).map((n) => n.name), ['localhost/copy:2']);
  b.close();
});

test('a second copy into the same store transfers no blob', async () => {
  const a = await storeWithImage();
  const bRoot = tempDir('pkit-store');
  for (const name of ['x:1', 'x:2']) {
    const src = await openLocalSource('app:1', { storeRoot: a.root });
    const dst = await openLocalDestination(name, { storeRoot: bRoot });
    const started: string[] = [];
    await copyImage(src, dst, { progress: { blobStart: (d) => started.push(d.digest) } });
    await dst.close();
    await src.close();
    if (name === 'x:2') assert.equal(started, [], 'nothing copied the second time');
  }
});

test('a destination closed without commit names nothing', async () => {
  const root = tempDir('pkit-store');
  const dst = await openLocalDestination('never:1', { storeRoot: root });
  await dst.close();
  const s = Store.open({ root });
  assert.equal(await s.images.names(), []);
  s.close();
});

test('an unknown local image is a clear error', async () => {
  const root = tempDir('pkit-store');
  await rejects(openLocalSource('nope', { storeRoot: root }), /image "nope" not found in the local store/);
});

test.run();
