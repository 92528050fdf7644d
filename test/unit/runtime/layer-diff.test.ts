// Committing a real overlay upper directory (packages/runtime/src/layer-diff.ts and the diff
// worker of @pkit/storage), as the unprivileged test user with its /etc/subuid range: a lower
// layer from the rootless store, an overlay mounted with userxattr inside `pkit-runtime
// userns-exec` and changed there (what a RUN step does), the upper directory turned into a
// layer, and that layer applied on top of the lower again: the result must look exactly like
// the merged view the container saw. Skipped as root and without a range. PKIT_TEST_HELPER
// names a pkit-runtime to use instead of the one built in the repository.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Headers } from 'tar-stream';
import { computeIDMappings, currentIdmapHost } from '../../../packages/runtime/src/idmap.ts';
import { layerFromUpperDir, type UpperLayerOptions } from '../../../packages/runtime/src/layer-diff.ts';
import { rootlessStoreHooks } from '../../../packages/runtime/src/store-hooks.ts';
import { execInUserNamespace, removeAsUsernsRoot } from '../../../packages/runtime/src/userns.ts';
import { applyLayerTar } from '../../../packages/storage/src/layers/apply.ts';
import { APPLY_WORKER, applyWorkerArgs, parseApplyWorkerResult } from '../../../packages/storage/src/layers/apply-worker.ts';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import { OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, OCI_LAYER_TAR_ZSTD } from '../../../packages/storage/src/media-types.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import { buildTar, dir, file, hardlink, symlink } from '../storage/tar-fixtures.ts';
import type { Tree } from '../storage/tree-snapshot.ts';

const { extract } = createRequire(new URL('../../../packages/storage/package.json', import.meta.url))('tar-stream') as typeof import('tar-stream');

const uid = process.getuid!();
const idmap = computeIDMappings(currentIdmapHost());
const READY = uid !== 0 && idmap.kind === 'subid';
const it = READY ? test : test.skip;
const helper = process.env.PKIT_TEST_HELPER || undefined;
const helperOpt = helper ? { helper } : {};
const TOOL = join(import.meta.dirname, '../storage/tree-snapshot.ts');
const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex');

const work = mkdtempSync(join(tmpdir(), 'pkit-layer-diff-rt-'));
let store: Store | undefined;

test.after(async () => {
  store?.close();
  if (READY) await removeAsUsernsRoot([work], helperOpt).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

/** Runs a shell script as root of the user namespace (own mount namespace); its stdout. */
async function asRoot(script: string): Promise<string> {
  const r = await execInUserNamespace(['sh', '-ec', script], { ...helperOpt, mappings: idmap });
  assert.is(r.exitCode, 0, `script failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** The tree at DIR (relative to an overlay mounted with `mount`), as seen inside the namespace. */
async function snapshotInUserns(mountScript: string, path: string): Promise<Tree> {
  return JSON.parse(await asRoot(`${mountScript}\n"${process.execPath}" "${TOOL}" snapshot "${path}"`)) as Tree;
}

const BINARY = Buffer.from([0x00, 0xff, 0x10, 0x80]);
/** A v2 file capability (effective, permitted cap_net_raw): how root of the namespace sees it. */
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const RAW_XATTRS = Symbol.for('pkit.tar.rawXattrs');

function withoutLinks(tree: Tree): Tree {
  const out: Tree = {};
  for (const [path, e] of Object.entries(tree)) {
    const { links: _links, ...rest } = e;
    out[path] = rest;
  }
  return out;
}

interface Fixture {
  lowerChain: `${string}:${string}`;
  lowerDir: string;
  upper: string;
  merged: Tree;
}

let fixture: Fixture | undefined;

/** The lower layer, the overlay, the changes: made once, used by the tests below. */
async function setup(): Promise<Fixture> {
  if (fixture) return fixture;
  store = Store.open({ root: join(work, 'store'), runRoot: join(work, 'run'), ...rootlessStoreHooks(helperOpt) });
  const tar = await buildTar([
    dir('etc'),
    file('etc/keep', 'keep\n'),
    file('etc/nested-gone', 'n'),
    file('mod', 'v1\n'),
    file('chm', 'c', { mode: 0o644 }),
    file('own', 'o'),
    file('gone', 'bye'),
    dir('dir'),
    file('dir/old1', '1'),
    dir('dir/sub'),
    file('dir/sub/old2', '2'),
    symlink('link', 'etc/keep'),
    file('h1', 'hard'),
    hardlink('h2', 'h1'),
    dir('home'),
    dir('home/user', { uid: 1000, gid: 1000, mode: 0o700 }),
    file('home/user/f', 'u', { uid: 1000, gid: 1000 }),
    file('xa', 'x', { pax: { 'SCHILY.xattr.user.note': 'lower' } }),
    file('lowerfile', 'lf'),
  ]);
  const lower = await store.layers.apply(Readable.from([tar]), undefined);
  const lowerDir = store.layers.diffDir(lower.chainID);
  const base = join(work, 'ctr');
  const [upper, wd, merged] = ['upper', 'work', 'merged'].map((d) => join(base, d)) as [string, string, string];
  for (const d of [upper, wd, merged]) mkdirSync(d, { recursive: true });
  const node = `"${process.execPath}" "${TOOL}"`;
  const snapshot = JSON.parse(await asRoot(`
    mount -t overlay overlay -o lowerdir=${lowerDir},upperdir=${upper},workdir=${wd},userxattr ${merged}
    cd ${merged}
    echo new > added
    mkdir -p newdir/deep && echo deep > newdir/deep/f
    echo v2 >> mod
    chmod 600 chm
    chmod 4755 etc/keep
    chown 1000:1000 own
    rm gone etc/nested-gone
    rm -rf dir && mkdir dir && echo fresh > dir/fresh
    ln -s added newlink
    ln added added2
    ln lowerfile lowerlink
    echo more >> home/user/f
    mkfifo fifo
    ${node} setxattr xa user.note ${hex('upper')}
    ${node} setxattr added user.bin ${BINARY.toString('hex')}
    echo cap > capfile
    ${node} setxattr capfile security.capability ${CAP_NET_RAW.toString('hex')}
    ${node} snapshot ${merged}
  `)) as Tree;
  fixture = { lowerChain: lower.chainID, lowerDir, upper, merged: snapshot };
  return fixture;
}

/** The entries of a (gzip or plain) layer blob in the store. */
async function blobEntries(s: Store, digest: `${string}:${string}`, gzip: boolean): Promise<(Headers & { pax?: Record<string, string> })[]> {
  const out: (Headers & { pax?: Record<string, string> })[] = [];
  const ex = extract();
  ex.on('entry', (h, stream, next) => {
    out.push(h);
    stream.on('end', () => next()).resume();
  });
  const done = new Promise<void>((resolve, reject) => ex.on('finish', resolve).on('error', reject));
  const src = await s.blobs.open(digest);
  (gzip ? src.pipe(createGunzip()) : src).pipe(ex);
  await done;
  return out;
}

it('the layer of an upper dir, applied on the lower, looks like the merged view', async () => {
  const f = await setup();
  // The upper dir holds the kernel's forms: a 0:0 device for a deletion, an opaque dir.
  assert.ok(readdirSync(f.upper).includes('gone'));
  const res = await layerFromUpperDir(store!, f.upper, { ...helperOpt, register: { parent: f.lowerChain } });
  assert.is(res.mediaType, OCI_LAYER_TAR_GZIP);
  assert.match(res.diffID, /^sha256:[0-9a-f]{64}$/);
  assert.ok(await store!.blobs.has(res.digest));
  assert.is((await store!.blobs.stat(res.digest))!.size, res.size);
  assert.ok(res.layer);
  assert.is(res.layer!.diffID, res.diffID);
  assert.is(res.layer!.parent, f.lowerChain);
  assert.ok(store!.layers.has(res.layer!.chainID));

  // The tar: OCI whiteouts and opaque marker, container owners, hardlinks, xattrs.
  const entries = await blobEntries(store!, res.digest, true);
  const by = new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e]));
  for (const name of ['.wh.gone', 'etc/.wh.nested-gone', 'dir/.wh..wh..opq', 'dir/fresh', 'added', 'own', 'chm', 'mod', 'fifo']) {
    assert.ok(by.has(name), `${name} in ${[...by.keys()].join(' ')}`);
  }
  assert.not.ok(by.has('gone'));
  assert.not.ok(by.has('dir/old1'), 'the old content of the opaque dir is not in the layer');
  assert.is(by.get('own')!.uid, 1000);
  assert.is(by.get('own')!.gid, 1000);
  assert.is(by.get('added')!.uid, 0, 'container root, not the host user');
  assert.is(by.get('home/user/f')!.uid, 1000);
  assert.is(by.get('home/user')!.uid, 1000);
  assert.is(by.get('etc/keep')!.mode, 0o4755);
  assert.is(by.get('added2')!.type, 'link');
  assert.is(by.get('added2')!.linkname, 'added');
  assert.is(by.get('lowerlink')!.type, 'link');
  assert.is(by.get('lowerlink')!.linkname, 'lowerfile');
  assert.is(by.get('xa')!.pax?.['SCHILY.xattr.user.note'], 'upper');
  const raw = (name: string, key: string) => (by.get(name)!.pax as { [RAW_XATTRS]?: Map<string, Buffer> } | undefined)?.[RAW_XATTRS]?.get(key);
  assert.is(raw('capfile', 'SCHILY.xattr.security.capability')?.toString('hex'), CAP_NET_RAW.toString('hex'), 'the container view of the capability');
  assert.is(raw('added', 'SCHILY.xattr.user.bin')?.toString('hex'), BINARY.toString('hex'));
  for (const e of entries) {
    for (const k of Object.keys(e.pax ?? {})) assert.not.ok(k.includes('overlay'), `${e.name} carries ${k}`);
    assert.is(e.uname, '');
  }

  // Applied again into a fresh dir (applyLayerTar in the apply worker, as root of the namespace)...
  const freshDir = join(work, 'fresh');
  mkdirSync(freshDir);
  const w = await execInUserNamespace([process.execPath, APPLY_WORKER, ...applyWorkerArgs(freshDir, { expected: { digest: res.digest, size: res.size } })], {
    ...helperOpt, mappings: idmap, input: await store!.blobs.open(res.digest),
  });
  const applied = parseApplyWorkerResult(w.exitCode, w.stdout, w.stderr);
  assert.is(applied.diffID, res.diffID);
  // ...and mounted on the lower: the same tree as the container's merged view.
  const view = join(work, 'view');
  mkdirSync(view);
  const remounted = await snapshotInUserns(`mount -t overlay overlay -o lowerdir=${freshDir}:${f.lowerDir},userxattr ${view}`, view);
  // Hardlinks compared apart: the container's merged view reports a file linked after its
  // copy-up (lowerfile, lowerlink) with its lower inode and one link; in the layer they are
  // one inode, as the link made them.
  assert.equal(withoutLinks(remounted), withoutLinks(f.merged));
  assert.equal(remounted.added!.links, ['added2']);
  assert.equal(remounted.lowerfile!.links, ['lowerlink']);
  assert.equal(remounted.h1!.links, ['h2']);
  assert.is(f.merged.own!.uid, 1000);
  assert.is(f.merged.chm!.mode, 0o600);
  assert.equal(f.merged.added!.links, ['added2']);
  assert.equal(f.merged.added!.xattrs, { 'user.bin': BINARY.toString('hex') });
  assert.equal(f.merged.capfile!.xattrs, { 'security.capability': CAP_NET_RAW.toString('hex') });
  assert.equal(Object.keys(f.merged).filter((p) => p.startsWith('dir/')), ['dir/fresh']);
  assert.is(f.merged.gone, undefined);
  // The store layer registered from the same stream is the same as the fresh one.
  const regView = join(work, 'regview');
  mkdirSync(regView);
  const viaStore = await snapshotInUserns(`mount -t overlay overlay -o lowerdir=${store!.layers.diffDir(res.layer!.chainID)}:${f.lowerDir},userxattr ${regView}`, regView);
  assert.equal(viaStore, remounted);
});

it('deterministic: the same upper gives the same digest; a timestamp clamps mtimes', async () => {
  const f = await setup();
  const one = await layerFromUpperDir(store!, f.upper, helperOpt);
  const two = await layerFromUpperDir(store!, f.upper, helperOpt);
  assert.is(two.digest, one.digest);
  assert.is(two.diffID, one.diffID);

  const T = 1_600_000_000;
  const opts: UpperLayerOptions = { ...helperOpt, timestamp: T };
  const clamped = await layerFromUpperDir(store!, f.upper, opts);
  assert.is.not(clamped.diffID, one.diffID);
  const entries = await blobEntries(store!, clamped.digest, true);
  assert.ok(entries.every((e) => e.mtime!.getTime() / 1000 <= T));
  // Copied-up files keep their older lower mtimes (2020-01-02); new ones are clamped.
  assert.is(entries.find((e) => e.name === 'lowerfile')!.mtime!.getTime() / 1000, 1_577_934_245);
  assert.is(entries.find((e) => e.name === 'added')!.mtime!.getTime() / 1000, T);
  // Touching files changes the plain layer, not the clamped one.
  await asRoot(`touch ${f.upper}/added ${f.upper}/dir`);
  assert.is((await layerFromUpperDir(store!, f.upper, opts)).digest, clamped.digest);
  const set = await layerFromUpperDir(store!, f.upper, { ...opts, timestampMode: 'set' });
  assert.ok((await blobEntries(store!, set.digest, true)).every((e) => e.mtime!.getTime() / 1000 === T));
});

it('compression: none gives digest = diffID, zstd gives the same diffID', async () => {
  const f = await setup();
  const gz = await layerFromUpperDir(store!, f.upper, { ...helperOpt, timestamp: 1_600_000_000 });
  const plain = await layerFromUpperDir(store!, f.upper, { ...helperOpt, timestamp: 1_600_000_000, compression: 'none' });
  assert.is(plain.mediaType, OCI_LAYER_TAR);
  assert.is(plain.digest, plain.diffID);
  assert.is(plain.diffID, gz.diffID);
  assert.is(plain.size, plain.diffSize);
  assert.ok(gz.size < plain.size);
  const zstd = await layerFromUpperDir(store!, f.upper, { ...helperOpt, timestamp: 1_600_000_000, compression: 'zstd' });
  assert.is(zstd.mediaType, OCI_LAYER_TAR_ZSTD);
  assert.is(zstd.diffID, gz.diffID);
  const check = join(work, 'zstd-check');
  mkdirSync(check);
  const r = await applyLayerTar(await store!.blobs.open(zstd.digest), check);
  assert.is(r.diffID, gz.diffID);
  assert.is(r.digest, zstd.digest);
  try {
    await layerFromUpperDir(store!, f.upper, { ...helperOpt, compression: 'zstd', format: 'docker' });
    assert.unreachable('docker has no zstd layers');
  } catch (err) {
    assert.instance(err, StoreError);
  }
});

it('a failing worker leaves no blob, no layer and no scratch', async () => {
  await setup();
  const blobs = (await store!.blobs.list()).sort();
  const layers = (await store!.layers.list()).sort();
  const bad = join(work, 'bad-upper');
  mkdirSync(bad);
  writeFileSync(join(bad, 'ok'), 'fine');
  writeFileSync(join(bad, '.wh.real'), 'a real file with a whiteout name');
  for (const target of [bad, join(work, 'no-such-upper')]) {
    try {
      await layerFromUpperDir(store!, target, { ...helperOpt, register: { parent: undefined } });
      assert.unreachable('should fail');
    } catch (err) {
      assert.instance(err, StoreError);
      assert.match((err as Error).message, target === bad ? /\.wh\.real.*cannot be stored in a layer/ : /no-such-upper/);
    }
  }
  try {
    await layerFromUpperDir(store!, bad, { ...helperOpt, register: { parent: `sha256:${'0'.repeat(64)}` } });
    assert.unreachable('should fail');
  } catch (err) {
    assert.instance(err, StoreError);
    assert.match((err as Error).message, /parent layer .* not found/);
  }
  assert.equal((await store!.blobs.list()).sort(), blobs);
  assert.equal((await store!.layers.list()).sort(), layers);
  assert.equal(readdirSync(store!.scratch.dir()), []);
});

test.run();
