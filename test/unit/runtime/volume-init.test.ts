// A named volume's first mount (packages/runtime/src/volume-init.ts): the image's directory
// copied in with its owners, the volume given the image directory's owner and mode (or the
// container user's), the record's flags cleared. Layers applied in the user namespace, so
// their files belong to subordinate ids as a pulled image's do. Rootless with a subordinate
// range only (skipped otherwise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Store } from '../../../packages/storage/src/store.ts';
import { computeIDMappings, currentIdmapHost } from '../../../packages/runtime/src/idmap.ts';
import { rootlessStoreHooks } from '../../../packages/runtime/src/store-hooks.ts';
import { execInUserNamespace, removeAsUsernsRoot } from '../../../packages/runtime/src/userns.ts';
import { initVolumes } from '../../../packages/runtime/src/volume-init.ts';
import { buildTar, dir, file, symlink, type TarEntry } from '../storage/tar-fixtures.ts';

const idmap = computeIDMappings(currentIdmapHost());
const READY = process.getuid!() !== 0 && idmap.kind === 'subid';
const it = READY ? test : test.skip;
const work = mkdtempSync(join(tmpdir(), 'pkit-volume-init-'));

/**
 * A tree as the container sees it (ids inside the user namespace): "PATH UID GID MODE" lines,
 * "." for the top; the volume may be 0750 and owned by a subordinate id, unreadable from here.
 */
async function tree(path: string): Promise<string[]> {
  const r = await execInUserNamespace(['find', path, '-printf', '%P %U %G %m\\n'], { mappings: idmap });
  assert.is(r.exitCode, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => (l.startsWith(' ') ? `.${l}` : l)).sort();
}

let n = 0;
/** A store with the layers applied (bottom first) in the user namespace; the layer dirs top first. */
async function image(...stack: TarEntry[][]): Promise<{ store: Store; layerDirs: string[]; mountDir: string }> {
  const root = join(work, `s${++n}`);
  const store = Store.open({ root, runRoot: join(root, 'run'), ...rootlessStoreHooks() });
  let parent;
  const dirs: string[] = [];
  for (const entries of stack) {
    const layer = await store.layers.apply(Readable.from([await buildTar(entries)]), parent);
    parent = layer.chainID;
    dirs.push(store.layers.diffDir(layer.chainID));
  }
  const mountDir = join(root, 'mnt');
  mkdirSync(mountDir);
  return { store, layerDirs: dirs.reverse(), mountDir };
}

const USER = { uid: 1000, gid: 1000 };
const BASE: TarEntry[] = [
  dir('data', { uid: 999, gid: 998, mode: 0o750 }),
  file('data/a', 'a', { uid: 999, gid: 998, mode: 0o600 }),
  file('data/gone', 'x'),
  dir('data/sub', { uid: 5, gid: 5 }),
  file('data/sub/deep', 'deep', { uid: 5, gid: 5 }),
  symlink('link', 'data'),
  symlink('escape', '/../../../../tmp'),
];

it('copy-up through the merged layers, owners kept; the volume takes the image directory\'s owner and mode', async () => {
  const { store, layerDirs, mountDir } = await image(BASE, [dir('data', { uid: 999, gid: 998, mode: 0o750 }), file('data/.wh.gone'), file('data/b', 'b', { uid: 7, gid: 7 })]);
  try {
    const v = await store.volumes.create({ name: 'v' });
    const { results, warnings } = await initVolumes(store.volumes, [{ name: 'v', destination: '/data', copyUp: true }], { layerDirs, user: USER, idmap, mountDir });
    assert.equal(results, [{ name: 'v', copied: true, chowned: true }]);
    assert.equal(warnings, []);
    assert.equal(await tree(v.mountpoint), ['. 999 998 750', 'a 999 998 600', 'b 7 7 644', 'sub 5 5 755', 'sub/deep 5 5 644']);
    const rec = await store.volumes.inspect('v');
    assert.equal([rec.needsCopyUp, rec.needsChown], [false, false]);
    // The second mount does nothing.
    const again = await initVolumes(store.volumes, [{ name: 'v', destination: '/data', copyUp: true }], { layerDirs, user: USER, idmap, mountDir });
    assert.equal(again.results, [{ name: 'v', copied: false, chowned: false }]);
  } finally {
    store.close();
  }
});

it('no directory in the image: chowned to the container user, nothing copied; nocopy and a non-empty volume copy nothing', async () => {
  const { store, layerDirs, mountDir } = await image(BASE);
  try {
    const fresh = await store.volumes.create({ name: 'fresh' });
    const nocopy = await store.volumes.create({ name: 'nocopy' });
    const full = await store.volumes.create({ name: 'full' });
    writeFileSync(join(full.mountpoint, 'mine'), 'x');
    const viaLink = await store.volumes.create({ name: 'link' });
    const escape = await store.volumes.create({ name: 'escape' });
    const { results } = await initVolumes(
      store.volumes,
      [
        { name: 'fresh', destination: '/nonexistent', copyUp: true },
        { name: 'nocopy', destination: '/data', copyUp: false },
        { name: 'full', destination: '/data', copyUp: true },
        { name: 'link', destination: '/link', copyUp: true },
        { name: 'escape', destination: '/escape', copyUp: true },
      ],
      { layerDirs, user: USER, idmap, mountDir },
    );
    assert.equal(results.map((r) => r.copied), [false, false, false, true, false]);
    assert.equal(await tree(fresh.mountpoint), ['. 1000 1000 755']);
    assert.is((await store.volumes.inspect('fresh')).needsCopyUp, true, 'nothing to copy: podman keeps the flag');
    assert.equal(await tree(nocopy.mountpoint), ['. 999 998 750']);
    assert.equal(await tree(full.mountpoint), ['. 999 998 750', 'mine 0 0 644']);
    // a single layer is read as it is: whiteouts do not matter there
    assert.equal(await tree(viaLink.mountpoint), ['. 999 998 750', 'a 999 998 600', 'gone 0 0 644', 'sub 5 5 755', 'sub/deep 5 5 644']);
    // the symlink's absolute target stays inside the image, where /tmp does not exist
    assert.equal(await tree(escape.mountpoint), ['. 1000 1000 755']);
  } finally {
    store.close();
  }
});

test.after(() => removeAsUsernsRoot([work]).catch(() => rmSync(work, { recursive: true, force: true })));

test.run();
