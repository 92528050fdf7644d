// Named volumes in the store: records and data dirs, podman's names and errors, removal refused
// while a container record lists the volume, prune, the lock between use and removal, and data
// of subordinate owners removed through the store's tree remover.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, StoreError } from '../../../packages/storage/src/errors.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { computeIDMappings, currentIdmapHost } from '../../../packages/runtime/src/idmap.ts';
import { rootlessStoreHooks } from '../../../packages/runtime/src/store-hooks.ts';
import { execInUserNamespace, removeAsUsernsRoot } from '../../../packages/runtime/src/userns.ts';
import { putFakeImage } from './fake-image.ts';
import { openTempStore, tempDir } from './helpers.ts';

async function rejectsWith(p: Promise<unknown>, pattern: RegExp, ctor: typeof StoreError = StoreError): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, ctor);
    assert.match((err as Error).message, pattern);
    assert.not.match((err as Error).message, /\n/);
    return err as StoreError;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

test('create: record, data dir, labels and options; inspect, list by name, exists', async () => {
  const { store, root, cleanup } = openTempStore();
  try {
    const v = await store.volumes.create({ name: 'myvol', labels: { a: 'b', c: '' }, options: { o: 'uid=1000', type: 'tmpfs' } });
    assert.is(v.name, 'myvol');
    assert.is(v.driver, 'local');
    assert.is(v.mountpoint, join(root, 'volumes', 'myvol', '_data'));
    assert.equal(v.labels, { a: 'b', c: '' });
    assert.equal(v.options, { o: 'uid=1000', type: 'tmpfs' });
    assert.is(v.needsCopyUp, true);
    assert.ok(!Number.isNaN(Date.parse(v.created)));
    assert.ok(statSync(v.mountpoint).isDirectory());
    assert.is(statSync(v.mountpoint).mode & 0o777, 0o755);
    assert.is(statSync(join(root, 'volumes', 'myvol')).mode & 0o777, 0o700);
    assert.equal(await store.volumes.inspect('myvol'), v);

    const anon = await store.volumes.create();
    assert.match(anon.name, /^[a-f0-9]{64}$/);
    await store.volumes.create({ name: 'a_b.c-d' });
    assert.equal((await store.volumes.list()).map((x) => x.name), [anon.name, 'a_b.c-d', 'myvol'].sort());
    assert.is(await store.volumes.exists('myvol'), true);
    assert.is(await store.volumes.exists('nope'), false);
    assert.is(await store.volumes.exists('../images'), false);
    // Nothing of the build is left in scratch.
    assert.equal(readdirSync(store.scratch.dir()), []);
  } finally {
    cleanup();
  }
});

test('podman\'s errors: taken name, bad name, unknown driver option, missing volume', async () => {
  const { store, cleanup } = openTempStore();
  try {
    await store.volumes.create({ name: 'dup' });
    await rejectsWith(store.volumes.create({ name: 'dup' }), /^volume with name dup already exists: volume already exists$/);
    for (const bad of ['bad name', '.abc', '_a', '-x', 'a/b', '']) {
      await rejectsWith(store.volumes.create({ name: bad }), /names must match \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]\*/);
    }
    await rejectsWith(store.volumes.create({ name: 'o', options: { foo: 'bar' } }), /^invalid mount option foo for driver 'local': invalid argument$/);
    await rejectsWith(store.volumes.inspect('nope'), /^no volume with name "nope" found: no such volume$/, NotFoundError);
    await rejectsWith(store.volumes.remove('nope'), /no such volume/, NotFoundError);
    assert.is(await store.volumes.exists('o'), false);
  } finally {
    cleanup();
  }
});

test('two creates of one name at once: exactly one succeeds, ensure uses the existing volume', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const results = await Promise.allSettled([store.volumes.create({ name: 'race' }), store.volumes.create({ name: 'race' })]);
    assert.equal(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const first = await store.volumes.inspect('race');
    writeFileSync(join(first.mountpoint, 'kept'), 'x');
    const e = await store.volumes.ensure('race');
    assert.is(e.created, false);
    assert.ok(existsSync(join(e.volume.mountpoint, 'kept')));
    assert.is((await store.volumes.ensure('fresh')).created, true);
  } finally {
    cleanup();
  }
});

test('a volume a container lists is kept: rm refuses unless forced, prune skips it', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    for (const n of ['used', 'free1', 'free2']) await store.volumes.create({ name: n });
    const c = await store.containers.create({ name: 'user', image: img.id, imageName: 'x', config: { volumes: ['used'] } });
    await rejectsWith(store.volumes.remove('used'), new RegExp(`^volume used is being used by the following container\\(s\\): ${c.id}: volume is being used$`));
    assert.ok(await store.volumes.exists('used'));
    assert.equal((await store.volumes.prune()).sort(), ['free1', 'free2']);
    assert.equal((await store.volumes.list()).map((v) => v.name), ['used']);
    await store.volumes.remove('used', { force: true });
    assert.equal(await store.volumes.list(), []);
    assert.equal(await store.volumes.prune(), []);
  } finally {
    cleanup();
  }
});

test('update replaces the copy-up and chown flags', async () => {
  const { store, cleanup } = openTempStore();
  try {
    await store.volumes.create({ name: 'v' });
    const v = await store.volumes.update('v', { needsCopyUp: false, needsChown: false });
    assert.is(v.needsCopyUp, false);
    assert.equal(await store.volumes.inspect('v'), v);
  } finally {
    cleanup();
  }
});

test('removal waits for a reservation: the container made under it keeps the volume', async () => {
  const { store, cleanup } = openTempStore();
  try {
    const img = await putFakeImage(store);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let reserved!: () => void;
    const inside = new Promise<void>((resolve) => (reserved = resolve));
    const using = store.volumes.reserve(['shared'], async (vols) => {
      reserved();
      await gate;
      await store.containers.create({ image: img.id, imageName: 'x', config: { volumes: vols.map((v) => v.name) } });
    });
    await inside;
    const removal = store.volumes.remove('shared');
    let settled = false;
    removal.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.is(settled, false, 'removal must wait for the reservation');
    open();
    await using;
    await rejectsWith(removal, /is being used/);
  } finally {
    cleanup();
  }
});

const idmap = computeIDMappings(currentIdmapHost());
const ROOTLESS = process.getuid!() !== 0 && idmap.kind === 'subid';

(ROOTLESS ? test : test.skip)('data of subordinate owners is removed through the tree remover', async () => {
  const hooks = rootlessStoreHooks();
  assert.type(hooks.treeRemover, 'function', 'the helper must be built (node native/build-helper.mjs)');
  const root = tempDir('pkit-volume-userns');
  const plain = Store.open({ root, runRoot: join(root, 'run') });
  const withHooks = Store.open({ root, runRoot: join(root, 'run'), ...hooks });
  try {
    for (const n of ['a', 'b']) {
      const v = await plain.volumes.create({ name: n });
      // What a container running as uid 1000 leaves: a 0500 dir of a subordinate owner.
      const r = await execInUserNamespace(['sh', '-c', 'mkdir d && echo x > d/f && chown -R 1000:1000 d && chmod 0500 d'], { cwd: v.mountpoint });
      assert.is(r.exitCode, 0, r.stderr);
      assert.is.not(statSync(join(v.mountpoint, 'd')).uid, process.getuid!());
    }
    await withHooks.volumes.remove('a');
    assert.equal(await withHooks.volumes.prune(), ['b']);
    assert.equal(readdirSync(join(root, 'volumes')), []);
  } finally {
    withHooks.close();
    plain.close();
    await removeAsUsernsRoot([root]).catch(() => rmSync(root, { recursive: true, force: true }));
  }
});

test.run();
