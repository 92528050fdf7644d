// writeLayerTar (packages/storage/src/layers/diff.ts) and its worker: a layer directory in the
// overlay form back to an OCI layer tar. In-process, as the calling user (owners are then the
// user's: the runtime test test/unit/runtime/layer-diff.test.ts covers owners in a user
// namespace and a real overlay upper directory).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, symlinkSync, linkSync, chmodSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import type { Headers } from 'tar-stream';
import { applyLayerTar } from '../../../packages/storage/src/layers/apply.ts';
import { writeLayerTar, type LayerTarOptions } from '../../../packages/storage/src/layers/diff.ts';
import { DIFF_WORKER, diffWorkerArgs, diffWorkerError } from '../../../packages/storage/src/layers/diff-worker.ts';
import { encodeTarHeader } from '../../../packages/storage/src/layers/tar-header.ts';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import { native } from '../../../packages/storage/src/native.ts';
import { buildTar, dir, file, hardlink, symlink } from './tar-fixtures.ts';
import { snapshotTree } from './tree-snapshot.ts';

const { extract } = createRequire(new URL('../../../packages/storage/package.json', import.meta.url))('tar-stream') as typeof import('tar-stream');
const RAW_XATTRS = Symbol.for('pkit.tar.rawXattrs');

const work = mkdtempSync(join(tmpdir(), 'pkit-layer-diff-'));
let n = 0;
const fresh = (label: string): string => {
  const d = join(work, `${label}-${++n}`);
  mkdirSync(d);
  return d;
};

test.after(() => rmSync(work, { recursive: true, force: true }));

async function tarOf(dirPath: string, opts: LayerTarOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  await writeLayerTar(dirPath, out, opts);
  return Buffer.concat(chunks);
}

interface Listed {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string | null;
  pax: Record<string, string>;
  xattrs: Record<string, string>;
  content: Buffer;
}

/** Every entry of a tar, with its PAX records and raw xattr values (hex). */
async function list(tar: Buffer): Promise<Listed[]> {
  const out: Listed[] = [];
  const ex = extract();
  ex.on('entry', (h: Headers & { pax?: Record<string, string> & { [RAW_XATTRS]?: Map<string, Buffer> } }, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const xattrs: Record<string, string> = {};
      for (const [k, v] of h.pax?.[RAW_XATTRS] ?? []) xattrs[k.slice('SCHILY.xattr.'.length)] = v.toString('hex');
      out.push({
        name: h.name, type: h.type!, mode: h.mode!, uid: h.uid!, gid: h.gid!, size: h.size!,
        mtime: Math.floor(h.mtime!.getTime() / 1000), linkname: h.linkname ?? null,
        pax: { ...(h.pax ?? {}) }, xattrs, content: Buffer.concat(chunks),
      });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve).on('error', reject);
    ex.end(tar);
  });
  return out;
}

const LONG_DIR = 'd'.repeat(90);
const LONG_NAME = `${LONG_DIR}/${'n'.repeat(60)}`; // 151 bytes: ustar prefix + name
const LONGER_NAME = `${'p'.repeat(120)}/${'q'.repeat(150)}`; // needs a PAX path
const BINARY = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x80]);

/** A layer with every kind of entry, applied by applyLayerTar: the overlay form. */
async function sampleLayer(): Promise<string> {
  const tar = await buildTar([
    dir('etc', { mode: 0o755 }),
    file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 }),
    file('etc/secret', 's', { mode: 0o600 }),
    file('etc/suid', '#!/bin/sh\n', { mode: 0o4755 }),
    file('etc/.wh.removed'),
    dir('opaque', { mode: 0o750 }),
    file('opaque/.wh..wh..opq'),
    file('opaque/kept', 'k'),
    symlink('etc/link', '../opaque/kept'),
    symlink('etc/longlink', `/${'t'.repeat(150)}`),
    file('h1', 'hardlinked\n'),
    hardlink('h2', 'h1'),
    dir('sub'),
    hardlink('sub/h3', 'h1'),
    file('xattr', 'x', { pax: { 'SCHILY.xattr.user.text': 'hello', 'SCHILY.xattr.user.bin': BINARY.toString('latin1') } }),
    { name: 'fifo', type: 'fifo', mode: 0o640 },
    dir(LONG_DIR),
    file(LONG_NAME, 'long'),
    dir('p'.repeat(120)),
    file(LONGER_NAME, 'longer'),
    dir('ünïcødé'),
    file('ünïcødé/日本', 'utf8'),
    file('big', Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a)),
    file('empty'),
  ]);
  const d = fresh('sample');
  await applyLayerTar(Readable.from([tar]), d);
  // buildTar cannot write binary PAX values: set the binary xattr directly.
  native().lsetxattr(join(d, 'xattr'), 'user.bin', BINARY);
  return d;
}

test('round trip: apply(diff(layer)) gives the same tree, and diffing that gives the same bytes', async () => {
  const a = await sampleLayer();
  const set: LayerTarOptions = { timestamp: 1_600_000_000, timestampMode: 'set' };
  const tarA = await tarOf(a, set);
  const b = fresh('roundtrip');
  const r = await applyLayerTar(Readable.from([tarA]), b);
  assert.is(r.diffID, digestOf(tarA));
  assert.equal(snapshotTree(b, { overlayXattrs: true }), snapshotTree(a, { overlayXattrs: true }));
  const snap = snapshotTree(b, { overlayXattrs: true });
  assert.is(snap['etc/removed']?.type, 'whiteout');
  assert.equal(snap.opaque?.xattrs, { 'user.overlay.opaque': Buffer.from('y').toString('hex') });
  assert.equal(snap.xattr?.xattrs, { 'user.bin': BINARY.toString('hex'), 'user.text': Buffer.from('hello').toString('hex') });
  assert.equal(snap.h1?.links, ['h2', 'sub/h3']);
  assert.is(snap['etc/suid']?.mode, 0o4755);
  // A fixed point: the re-applied tree gives byte for byte the same tar.
  assert.ok((await tarOf(b, set)).equals(tarA));
});

test('entries: parents first and sorted, OCI whiteouts and opaque markers, hardlinks, PAX only when needed', async () => {
  const a = await sampleLayer();
  const entries = await list(await tarOf(a));
  const names = entries.map((e) => e.name);
  assert.equal(names, [
    'big', LONG_DIR + '/', LONG_NAME, 'empty',
    'etc/', 'etc/link', 'etc/longlink', 'etc/passwd', 'etc/.wh.removed', 'etc/secret', 'etc/suid',
    'fifo', 'h1', 'h2', 'opaque/', 'opaque/.wh..wh..opq', 'opaque/kept',
    'p'.repeat(120) + '/', LONGER_NAME,
    'sub/', 'sub/h3', 'xattr', 'ünïcødé/', 'ünïcødé/日本',
  ]);
  const by = new Map(entries.map((e) => [e.name, e]));
  assert.is(by.get('etc/.wh.removed')!.type, 'file');
  assert.is(by.get('etc/.wh.removed')!.size, 0);
  assert.is(by.get('opaque/.wh..wh..opq')!.type, 'file');
  assert.is(by.get('opaque/')!.mode, 0o750);
  assert.is(by.get('h2')!.type, 'link');
  assert.is(by.get('h2')!.linkname, 'h1');
  assert.is(by.get('sub/h3')!.linkname, 'h1');
  assert.is(by.get('h1')!.content.toString(), 'hardlinked\n');
  assert.is(by.get('fifo')!.type, 'fifo');
  assert.is(by.get('etc/suid')!.mode, 0o4755);
  assert.is(by.get('etc/link')!.linkname, '../opaque/kept');
  assert.is(by.get('etc/longlink')!.linkname, `/${'t'.repeat(150)}`);
  assert.is(by.get('big')!.size, 3 * 1024 * 1024 + 7);
  assert.ok(by.get('big')!.content.equals(Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a)));
  assert.equal(by.get('xattr')!.xattrs, { 'user.bin': BINARY.toString('hex'), 'user.text': Buffer.from('hello').toString('hex') });
  // PAX headers only where ustar cannot hold the entry; no overlay xattrs ever.
  for (const e of entries) {
    const needsPax = e.name === 'xattr' || e.name === 'etc/longlink' || e.name.startsWith('p'.repeat(120)) || e.name.startsWith('ünïcødé');
    assert.is(Object.keys(e.pax).length > 0, needsPax, `PAX for ${e.name}: ${JSON.stringify(e.pax)}`);
    for (const k of Object.keys(e.pax)) assert.not.ok(k.includes('overlay'), `${e.name}: ${k}`);
    assert.not.ok('atime' in e.pax || 'ctime' in e.pax);
  }
  const uid = process.getuid!();
  assert.ok(entries.every((e) => e.uid === uid));
});

test('GNU tar lists and extracts the layer, xattrs included', async () => {
  const a = await sampleLayer();
  const tarFile = join(work, 'gnu.tar');
  writeFileSync(tarFile, await tarOf(a));
  const listing = spawnSync('tar', ['-tvf', tarFile], { encoding: 'utf8' });
  assert.is(listing.status, 0, listing.stderr);
  assert.is(listing.stderr, '');
  assert.match(listing.stdout, /h2 link to h1/);
  assert.match(listing.stdout, new RegExp(`${LONGER_NAME}`));
  assert.match(listing.stdout, /ünïcødé\/日本/);
  const out = fresh('gnu');
  const x = spawnSync('tar', ['--xattrs', '--xattrs-include=user.*', '-xf', tarFile, '-C', out], { encoding: 'utf8' });
  assert.is(x.status, 0, x.stderr);
  assert.is(native().lgetxattr(join(out, 'xattr'), 'user.bin')?.toString('hex'), BINARY.toString('hex'));
  assert.ok(readdirSync(join(out, 'etc')).includes('.wh.removed'));
});

test('timestamps: kept in whole seconds, clamped, or set', async () => {
  const d = fresh('times');
  writeFileSync(join(d, 'old'), 'o');
  writeFileSync(join(d, 'new'), 'n');
  mkdirSync(join(d, 'dir'));
  symlinkSync('old', join(d, 'link'));
  utimesSync(join(d, 'old'), 1_000_000_000.7, 1_000_000_000.7);
  utimesSync(join(d, 'new'), 2_000_000_000, 2_000_000_000);
  utimesSync(join(d, 'dir'), 1_900_000_000, 1_900_000_000);
  const mtimes = async (opts: LayerTarOptions) => Object.fromEntries((await list(await tarOf(d, opts))).map((e) => [e.name, e.mtime]));
  const kept = await mtimes({});
  assert.is(kept.old, 1_000_000_000);
  assert.is(kept.new, 2_000_000_000);
  assert.is(kept['dir/'], 1_900_000_000);
  const clamped = await mtimes({ timestamp: 1_500_000_000 });
  assert.equal(clamped, { 'dir/': 1_500_000_000, link: 1_500_000_000, new: 1_500_000_000, old: 1_000_000_000 });
  const set = await mtimes({ timestamp: 1_500_000_000, timestampMode: 'set' });
  assert.ok(Object.values(set).every((t) => t === 1_500_000_000));
  // A time after 2242 does not fit ustar's 11 octal digits: a PAX mtime keeps it.
  utimesSync(join(d, 'new'), 9_000_000_000, 9_000_000_000);
  const far = (await list(await tarOf(d))).find((e) => e.name === 'new')!;
  assert.is(far.pax.mtime, '9000000000');
});

test('deterministic: the same tree built in another order gives the same bytes', async () => {
  const build = (order: string[]): string => {
    const d = fresh('det');
    for (const name of order) {
      if (name.endsWith('/')) mkdirSync(join(d, name), { recursive: true });
      else writeFileSync(join(d, name), `content of ${name}`);
    }
    linkSync(join(d, 'b'), join(d, 'z-link'));
    chmodSync(join(d, 'a/'), 0o700);
    return d;
  };
  const one = build(['a/', 'a/x', 'b', 'c/', 'c/y', 'c/a', 'B', 'a-b']);
  const two = build(['c/', 'c/a', 'B', 'a-b', 'c/y', 'b', 'a/', 'a/x']);
  const opts: LayerTarOptions = { timestamp: 1_234_567_890, timestampMode: 'set' };
  const t1 = await tarOf(one, opts);
  const t2 = await tarOf(two, opts);
  assert.ok(t1.equals(t2));
  assert.equal((await list(t1)).map((e) => e.name), ['B', 'a/', 'a/x', 'a-b', 'b', 'c/', 'c/a', 'c/y', 'z-link']);
  assert.is((await list(t1)).find((e) => e.name === 'z-link')!.type, 'link');
});

test('the xattr form of a whiteout becomes .wh.NAME; sockets are skipped', async () => {
  const d = fresh('misc');
  writeFileSync(join(d, 'xwh'), '');
  native().lsetxattr(join(d, 'xwh'), 'user.overlay.whiteout', Buffer.alloc(0));
  mkdirSync(join(d, 'holder'));
  native().lsetxattr(join(d, 'holder'), 'user.overlay.opaque', Buffer.from('x')); // "x": not opaque
  writeFileSync(join(d, 'holder/f'), 'f');
  const sock = join(d, 'sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    const names = (await list(await tarOf(d))).map((e) => e.name);
    assert.equal(names, ['holder/', 'holder/f', '.wh.xwh']);
  } finally {
    server.close();
  }
});

test('refused: a real file named .wh.*, a name that is not UTF-8', async () => {
  const d = fresh('wh');
  writeFileSync(join(d, '.wh.fake'), 'x');
  try {
    await tarOf(d);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, StoreError);
    assert.match((err as Error).message, /\.wh\.fake.*cannot be stored in a layer/);
  }
  const e = fresh('latin1');
  writeFileSync(Buffer.from(`${e}/caf\xe9`, 'latin1'), 'x');
  try {
    await tarOf(e);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, StoreError);
    assert.match((err as Error).message, /not UTF-8/);
  }
});

test('backpressure: a slow reader gets every byte; an output closed early rejects', async () => {
  const d = fresh('slow');
  const content = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < content.length; i += 4) content.writeUInt32LE(i, i);
  writeFileSync(join(d, 'data'), content);
  for (let i = 0; i < 200; i++) writeFileSync(join(d, `small-${i}`), `small ${i}`);
  const slow = new PassThrough({ highWaterMark: 1024 });
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const c of slow) {
      chunks.push(c as Buffer);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await writeLayerTar(d, slow);
  slow.end();
  await reading;
  const entries = await list(Buffer.concat(chunks));
  assert.ok(entries.find((e) => e.name === 'data')!.content.equals(content));
  assert.is(entries.length, 201);

  const broken = new PassThrough({ highWaterMark: 1024 });
  broken.once('data', () => broken.destroy(new Error('reader went away')));
  try {
    await writeLayerTar(d, broken);
    assert.unreachable('should reject');
  } catch (err) {
    assert.match((err as Error).message, /reader went away|closed early/);
  }
});

test('tar headers: ustar prefix split, PAX for large ids and sizes', () => {
  const h = encodeTarHeader({ name: LONG_NAME, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 });
  assert.is(h.length, 512, 'a ustar prefix, no PAX header');
  assert.is(h.subarray(345, 345 + LONG_DIR.length).toString(), LONG_DIR);
  const big = encodeTarHeader({ name: 'f', type: 'file', mode: 0o644, uid: 3_000_000, gid: 5, size: 2 ** 34, mtime: 0 });
  const records = big.subarray(512, 1024).toString('latin1');
  assert.match(records, /\d+ uid=3000000\n/);
  assert.match(records, /\d+ size=17179869184\n/);
  assert.not.match(records, /gid=/);
  // Each record's length counts itself.
  for (const m of records.replace(/\0+$/, '').matchAll(/(\d+) [^\n]*\n/g)) assert.is(Number(m[1]), Buffer.byteLength(m[0]));
});

test('the worker writes the same tar on stdout; failures come back as StoreErrors', async () => {
  const a = await sampleLayer();
  const opts: LayerTarOptions = { timestamp: 1_600_000_000 };
  const r = spawnSync(process.execPath, [DIFF_WORKER, ...diffWorkerArgs(a, opts)], { maxBuffer: 64 << 20 });
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stderr.toString(), '');
  assert.ok(r.stdout.equals(await tarOf(a, opts)));

  const missing = spawnSync(process.execPath, [DIFF_WORKER, ...diffWorkerArgs(join(work, 'no-such-dir'))], { encoding: 'utf8' });
  assert.is(missing.status, 1);
  const err = diffWorkerError(missing.status!, missing.stderr);
  assert.instance(err, StoreError);
  assert.is(err.code, 'PKIT_LAYER_DIFF');
  assert.match(err.message, /no-such-dir/);

  const usage = spawnSync(process.execPath, [DIFF_WORKER, '--timestamp', 'soon', a], { encoding: 'utf8' });
  assert.is(usage.status, 1);
  assert.is(diffWorkerError(1, usage.stderr).code, 'PKIT_USAGE');

  const died = diffWorkerError(137, 'killed\n');
  assert.is(died.code, 'PKIT_LAYER_WORKER');
  assert.match(died.message, /exit 137.*killed/);
});

test.run();
