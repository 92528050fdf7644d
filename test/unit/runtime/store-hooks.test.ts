// The rootless store's hooks (packages/runtime/src/store-hooks.ts): a Store opened with
// rootlessStoreHooks() applies layers through the apply worker as root inside a user namespace,
// so files get the tar's owners (container uid 1000 = subuid start + 999, root = the user), and
// removes layers there too. Run as the unprivileged test user with its /etc/subuid range;
// skipped as root and without a range. PKIT_TEST_HELPER names a pkit-runtime to use instead of
// the one built in the repository.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeIDMappings, currentIdmapHost } from '../../../packages/runtime/src/idmap.ts';
import { rootlessStoreHooks } from '../../../packages/runtime/src/store-hooks.ts';
import { removeAsUsernsRoot } from '../../../packages/runtime/src/userns.ts';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { DigestMismatchError } from '../../../packages/storage/src/errors.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { buildTar, dir, file } from '../storage/tar-fixtures.ts';

const uid = process.getuid!();
const gid = process.getgid!();
const idmap = computeIDMappings(currentIdmapHost());
const READY = uid !== 0 && idmap.kind === 'subid';
const it = READY ? test : test.skip;
const helper = process.env.PKIT_TEST_HELPER || undefined;

const work = mkdtempSync(join(tmpdir(), 'pkit-store-hooks-'));

/** The start of the calling user's range in /etc/subuid or /etc/subgid. */
function subStart(path: string): number {
  const name = userInfo().username;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [who, start] = line.trim().split(':');
    if (who === name || who === String(uid)) return Number(start);
  }
  throw new Error(`no range for ${name} in ${path}`);
}

let counter = 0;
function openStore(): Store {
  const root = join(work, `s${++counter}`);
  return Store.open({ root, runRoot: join(root, 'run'), ...rootlessStoreHooks(helper ? { helper } : {}) });
}

test.after(() => {
  if (READY) {
    return removeAsUsernsRoot([work], helper ? { helper } : {}).catch(() => {
      rmSync(work, { recursive: true, force: true });
    });
  }
  rmSync(work, { recursive: true, force: true });
});

test('no hooks as root, or without the helper', () => {
  assert.equal(rootlessStoreHooks({ helper: join(work, 'no-such-helper') }), { layerApplier: undefined, treeRemover: undefined });
  if (uid === 0) assert.equal(rootlessStoreHooks(), { layerApplier: undefined, treeRemover: undefined });
  // Only the user's own id mapped: nothing better than the in-process default.
  const single = { userns: true, uidMappings: [{ containerID: 0, hostID: 1234, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1234, size: 1 }] };
  assert.equal(rootlessStoreHooks({ mappings: single }), { layerApplier: undefined, treeRemover: undefined });
});

it('layers get the tar owners through the rootless mapping, and are removed in the user namespace', async () => {
  const hooks = rootlessStoreHooks(helper ? { helper } : {});
  assert.type(hooks.layerApplier, 'function', 'the helper must be built (node native/build-helper.mjs)');
  assert.type(hooks.treeRemover, 'function');
  const store = openStore();
  try {
    const tar = await buildTar([
      dir('etc'),
      file('etc/rootfile', 'root', { uid: 0, gid: 0 }),
      dir('home'),
      dir('home/user', { uid: 1000, gid: 1000, mode: 0o755 }),
      file('home/user/owned', 'user', { uid: 1000, gid: 1000 }),
    ], 'gzip');
    const layer = await store.layers.apply(Readable.from([tar]), undefined, { digest: digestOf(tar), size: tar.length });
    assert.is(layer.inputDigest, digestOf(tar));
    const diff = store.layers.diffDir(layer.chainID);
    const owned = lstatSync(join(diff, 'home/user/owned'));
    assert.is(owned.uid, subStart('/etc/subuid') + 999);
    assert.is(owned.gid, subStart('/etc/subgid') + 999);
    assert.is(lstatSync(join(diff, 'home/user')).uid, subStart('/etc/subuid') + 999);
    const rootFile = lstatSync(join(diff, 'etc/rootfile'));
    assert.is(rootFile.uid, uid);
    assert.is(rootFile.gid, gid);
    assert.is(readFileSync(join(diff, 'home/user/owned'), 'utf8'), 'user');

    // The plain user cannot remove it (a directory of a subordinate owner, not empty)...
    const rm = spawnSync('rm', ['-rf', '--', join(diff, 'home/user')], { encoding: 'utf8' });
    assert.is.not(rm.status, 0, 'rm as the plain user should fail');
    assert.match(rm.stderr, /Permission denied|Operation not permitted/);
    assert.ok(existsSync(join(diff, 'home/user/owned')));
    // ...the store does, through its treeRemover.
    assert.is(await store.layers.delete(layer.chainID), true);
    assert.not.ok(existsSync(store.layers.layerDir(layer.chainID)));
    assert.equal(await store.layers.list(), []);
  } finally {
    store.close();
  }
});

it('a digest mismatch in the worker keeps its class and leaves nothing', async () => {
  const store = openStore();
  try {
    const tar = await buildTar([dir('d', { uid: 1000, gid: 1000 }), file('d/f', 'x', { uid: 1000, gid: 1000 })]);
    let err: unknown;
    try {
      await store.layers.apply(Readable.from([tar]), undefined, { digest: digestOf('other'), size: tar.length });
    } catch (e) {
      err = e;
    }
    assert.instance(err, DigestMismatchError);
    assert.equal(await store.layers.list(), []);
    assert.equal(readdirSync(store.scratch.dir()), []);
  } finally {
    store.close();
  }
});

test.run();
