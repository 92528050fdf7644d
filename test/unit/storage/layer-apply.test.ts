import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  createReadStream,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { applyLayerTar, type ApplyResult } from '../../../packages/storage/src/layers/apply.ts';
import { DigestMismatchError, LayerSecurityError, StoreError } from '../../../packages/storage/src/errors.ts';
import { native } from '../../../packages/storage/src/native.ts';
import { buildTar, dir, file, hardlink, symlink, type TarEntry, type Compression } from './tar-fixtures.ts';

const isRoot = process.getuid?.() === 0;
const bases: string[] = [];

interface Env {
  base: string;
  layer: string;
  sentinel: string;
  snapshot: () => string;
}

/** base/{layer,sentinel/file}: `snapshot()` describes everything outside the layer dir. */
function env(): Env {
  const base = mkdtempSync(join(tmpdir(), 'pkit-layer-'));
  bases.push(base);
  const layer = join(base, 'layer');
  const sentinel = join(base, 'sentinel');
  mkdirSync(layer);
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'file'), 'secret');
  mkdirSync(join(sentinel, 'sub'));
  const snapshot = (): string => {
    const lines: string[] = [];
    const walk = (p: string, rel: string): void => {
      if (p === layer) return;
      const st = lstatSync(p);
      lines.push(`${rel} ${st.mode.toString(8)} ${st.size} ${st.nlink} ${st.mtimeMs} ${st.ino}`);
      if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
    };
    walk(base, '.');
    // Names the tests try to reach outside through absolute or climbing paths.
    for (const p of ['/escape', '/file', '/abs', '/etc/passwd-pkit-test', join(tmpdir(), 'escape')]) lines.push(`${p} ${existsSync(p)}`);
    return lines.join('\n');
  };
  return { base, layer, sentinel, snapshot };
}

async function apply(entries: TarEntry[], layer: string, compression: Compression = 'none'): Promise<ApplyResult> {
  return applyLayerTar(Readable.from([await buildTar(entries, compression)]), layer);
}

/** Applies `entries`, expects a LayerSecurityError naming `entryName`, and nothing outside changed. */
async function refused(entries: TarEntry[], entryName: string, build?: (e: Env) => void): Promise<Env> {
  const e = env();
  build?.(e);
  const before = e.snapshot();
  try {
    await apply(entries, e.layer);
    assert.unreachable(`layer with "${entryName}" was applied`);
  } catch (err) {
    assert.instance(err, LayerSecurityError, String(err));
    assert.ok((err as Error).message.includes(`"${entryName}"`), (err as Error).message);
  }
  assert.is(e.snapshot(), before, 'something outside the layer dir changed');
  assert.is(readFileSync(join(e.sentinel, 'file'), 'utf8'), 'secret');
  return e;
}

async function rejectsWith(p: Promise<unknown>, cls: new (...a: never[]) => Error, re?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, cls, String(err));
    if (re) assert.match((err as Error).message, re);
    return err as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const T1 = new Date('2021-05-06T07:08:09Z');
const xattr = (p: string, name: string): string | undefined => native().lgetxattr(p, name)?.toString('latin1');
const ls = (p: string): string[] => readdirSync(p).sort();

test.after(() => {
  for (const b of bases) {
    spawnSync('chmod', ['-R', 'u+rwx', b]);
    rmSync(b, { recursive: true, force: true });
  }
});

// --- features ---------------------------------------------------------------------------

test('regular files, dirs, symlinks, hardlinks, fifo: content, modes, times', async () => {
  const { layer } = env();
  await apply(
    [
      dir('etc', { mode: 0o750, mtime: T1 }),
      file('etc/conf', 'x=1\n', { mode: 0o640, mtime: T1 }),
      file('bin/su', 'ELF', { mode: 0o4755 }),
      file('bin/wall', 'ELF', { mode: 0o2755 }),
      dir('tmp', { mode: 0o1777 }),
      file('empty', ''),
      symlink('etc/link', '../bin/su', { mtime: T1 }),
      symlink('abs', '/does/not/exist'),
      hardlink('bin/su2', 'bin/su'),
      { name: 'run/fifo', type: 'fifo', mode: 0o600, mtime: T1 },
    ],
    layer,
  );
  assert.equal(ls(layer), ['abs', 'bin', 'empty', 'etc', 'run', 'tmp']);
  assert.is(readFileSync(join(layer, 'etc/conf'), 'utf8'), 'x=1\n');
  assert.is(lstatSync(join(layer, 'etc/conf')).mode & 0o7777, 0o640);
  assert.is(lstatSync(join(layer, 'etc/conf')).mtimeMs, T1.getTime());
  assert.is(lstatSync(join(layer, 'etc')).mode & 0o7777, 0o750);
  assert.is(lstatSync(join(layer, 'etc')).mtimeMs, T1.getTime(), 'dir mtime set after its children');
  assert.is(lstatSync(join(layer, 'bin/su')).mode & 0o7777, 0o4755, 'setuid kept');
  assert.is(lstatSync(join(layer, 'bin/wall')).mode & 0o7777, 0o2755, 'setgid kept');
  assert.is(lstatSync(join(layer, 'tmp')).mode & 0o7777, 0o1777, 'sticky kept, umask ignored');
  assert.is(lstatSync(join(layer, 'bin')).mode & 0o7777, 0o755, 'implicit parent dir');
  assert.is(lstatSync(join(layer, 'empty')).size, 0);
  assert.ok(lstatSync(join(layer, 'etc/link')).isSymbolicLink());
  assert.is(readlinkSync(join(layer, 'etc/link')), '../bin/su');
  assert.is(lstatSync(join(layer, 'etc/link')).mtimeMs, T1.getTime(), 'symlink time via lutimes');
  assert.is(readlinkSync(join(layer, 'abs')), '/does/not/exist');
  assert.is(lstatSync(join(layer, 'bin/su2')).ino, lstatSync(join(layer, 'bin/su')).ino);
  assert.is(lstatSync(join(layer, 'bin/su')).nlink, 2);
  assert.ok(lstatSync(join(layer, 'run/fifo')).isFIFO());
  assert.is(lstatSync(join(layer, 'run/fifo')).mode & 0o7777, 0o600);
  assert.is(lstatSync(join(layer, 'run/fifo')).mtimeMs, T1.getTime());
});

test('read-only directory still receives its children; mode applied at the end', async () => {
  const { layer } = env();
  await apply([dir('ro', { mode: 0o555, mtime: T1 }), dir('ro/sub', { mode: 0o500 }), file('ro/sub/f', 'a'), file('ro/g', 'b')], layer);
  assert.is(readFileSync(join(layer, 'ro/sub/f'), 'utf8'), 'a');
  assert.is(readFileSync(join(layer, 'ro/g'), 'utf8'), 'b');
  assert.is(lstatSync(join(layer, 'ro')).mode & 0o7777, 0o555);
  assert.is(lstatSync(join(layer, 'ro/sub')).mode & 0o7777, 0o500);
  assert.is(lstatSync(join(layer, 'ro')).mtimeMs, T1.getTime());
});

test('PAX long names and long link targets, sub-second PAX mtime', async () => {
  const { layer } = env();
  const longDir = `${'d'.repeat(120)}/${'e'.repeat(130)}`;
  const longName = `${longDir}/${'f'.repeat(200)}`;
  await apply(
    [
      file(longName, 'long', { pax: { mtime: '1620284889.25' } }),
      symlink('sl', `/${'t'.repeat(300)}`),
      hardlink('hl', longName),
    ],
    layer,
  );
  assert.is(readFileSync(join(layer, longName), 'utf8'), 'long');
  assert.is(lstatSync(join(layer, longName)).mtimeMs, 1620284889250);
  assert.is(readlinkSync(join(layer, 'sl')), `/${'t'.repeat(300)}`);
  assert.is(lstatSync(join(layer, 'hl')).ino, lstatSync(join(layer, longName)).ino);
});

test('device nodes: created when permitted, silently skipped otherwise', async () => {
  const { layer } = env();
  await apply(
    [
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660 },
      file('dev/after', 'still here'),
    ],
    layer,
  );
  assert.is(readFileSync(join(layer, 'dev/after'), 'utf8'), 'still here');
  let canMknod = true;
  try {
    native().mknod(join(layer, 'probe'), 0o020000 | 0o600, 1, 3);
  } catch {
    canMknod = false;
  }
  if (canMknod) {
    const st = lstatSync(join(layer, 'dev/null'));
    assert.ok(st.isCharacterDevice());
    assert.is(st.rdev, (1 << 8) | 3);
    assert.is(st.mode & 0o7777, 0o666);
    assert.ok(lstatSync(join(layer, 'dev/loop9')).isBlockDevice());
  } else {
    assert.not.ok(existsSync(join(layer, 'dev/null')));
  }
});

test('xattrs from PAX are set, overlay ones are dropped, binary values kept', async () => {
  const { layer } = env();
  const binary = Buffer.from([0x01, 0x00, 0x80, 0xff, 0xfe, 0x0a, 0x3d, 0xc3]);
  const placeholder = 'QZQZQZQZ';
  const tar = await buildTar([
    file('f', 'x', {
      pax: {
        'SCHILY.xattr.user.color': 'blue',
        'SCHILY.xattr.user.bin': placeholder,
        'SCHILY.xattr.user.overlay.opaque': 'y',
        'SCHILY.xattr.trusted.overlay.opaque': 'y',
        'SCHILY.xattr.user.overlay.redirect': '/etc',
      },
    }),
    dir('d', { mode: 0o555, pax: { 'SCHILY.xattr.user.overlay.opaque': 'y', 'SCHILY.xattr.user.dirattr': 'yes' } }),
  ]);
  // Put raw (non-UTF-8) bytes in the PAX record, as Go's archive/tar writes them.
  const at = tar.indexOf(placeholder);
  assert.ok(at > 0);
  binary.copy(tar, at);
  await applyLayerTar(Readable.from([tar]), layer);
  const f = join(layer, 'f');
  assert.is(xattr(f, 'user.color'), 'blue');
  assert.equal(native().lgetxattr(f, 'user.bin'), binary);
  assert.is(xattr(f, 'user.overlay.opaque'), undefined);
  assert.is(xattr(f, 'user.overlay.redirect'), undefined);
  assert.is(xattr(join(layer, 'd'), 'user.overlay.opaque'), undefined, 'a layer cannot make a dir opaque by xattr');
  assert.is(xattr(join(layer, 'd'), 'user.dirattr'), 'yes');
  if (isRoot) assert.is(xattr(f, 'trusted.overlay.opaque'), undefined);
});

test('ownership: tar uid/gid as root, the caller otherwise', async () => {
  const { layer } = env();
  await apply(
    [
      dir('home', { uid: 1000, gid: 1001 }),
      file('home/f', 'x', { uid: 1234, gid: 5678, mode: 0o4755 }),
      symlink('home/l', 'f', { uid: 4321, gid: 8765 }),
      // PAX ids beyond the octal field
      file('big', 'x', { pax: { uid: '3000000', gid: '3000001' } }),
    ],
    layer,
  );
  const me = { uid: process.getuid!(), gid: process.getgid!() };
  const f = lstatSync(join(layer, 'home/f'));
  if (isRoot) {
    assert.equal([f.uid, f.gid], [1234, 5678]);
    assert.is(f.mode & 0o7777, 0o4755, 'setuid survives the chown');
    const l = lstatSync(join(layer, 'home/l'));
    assert.equal([l.uid, l.gid], [4321, 8765]);
    const d = lstatSync(join(layer, 'home'));
    assert.equal([d.uid, d.gid], [1000, 1001]);
    const b = lstatSync(join(layer, 'big'));
    assert.equal([b.uid, b.gid], [3000000, 3000001]);
  } else {
    assert.equal([f.uid, f.gid], [me.uid, me.gid]);
  }
});

test('names are cleaned: ./x, x//y, trailing /, absolute names stay inside', async () => {
  const e = env();
  const before = e.snapshot();
  await apply(
    [
      dir('./'),
      file('./a', '1'),
      file('b//c', '2'),
      dir('d/'),
      file('/abs/file', '3'),
      file('//etc/passwd-pkit-test', '4'),
      file('x/./y/../z', '5'),
      hardlink('abs/hl', '/abs/file'), // an absolute link target is inside the layer too
    ],
    e.layer,
  );
  assert.equal(ls(e.layer), ['a', 'abs', 'b', 'd', 'etc', 'x']);
  assert.is(readFileSync(join(e.layer, 'b/c'), 'utf8'), '2');
  assert.is(readFileSync(join(e.layer, 'abs/file'), 'utf8'), '3');
  assert.is(lstatSync(join(e.layer, 'abs/hl')).ino, lstatSync(join(e.layer, 'abs/file')).ino);
  assert.is(readFileSync(join(e.layer, 'etc/passwd-pkit-test'), 'utf8'), '4');
  assert.is(readFileSync(join(e.layer, 'x/z'), 'utf8'), '5');
  assert.equal(ls(join(e.layer, 'x')), ['z'], 'cleaned lexically: y is never created');
  assert.not.ok(existsSync('/abs/file'));
  assert.not.ok(existsSync('/etc/passwd-pkit-test'));
  assert.is(e.snapshot(), before);
});

test('root dir entry ./ sets the mode and time of the layer dir', async () => {
  const { layer } = env();
  await apply([dir('./', { mode: 0o711, mtime: T1 }), file('f', 'x')], layer);
  assert.is(lstatSync(layer).mode & 0o7777, 0o711);
  assert.is(lstatSync(layer).mtimeMs, T1.getTime());
});

// --- whiteouts ----------------------------------------------------------------------------

test('whiteout becomes a 0:0 char device and replaces what the layer had there', async () => {
  const { layer } = env();
  await apply(
    [
      file('a/gone', 'x'),
      dir('a/gonedir'),
      file('a/gonedir/inner', 'x'),
      file('a/.wh.gone'),
      file('a/.wh.gonedir'),
      file('.wh.toplevel'),
      file('new/dir/.wh.deep'),
    ],
    layer,
  );
  for (const p of ['a/gone', 'a/gonedir', 'toplevel', 'new/dir/deep']) {
    const st = lstatSync(join(layer, p));
    assert.ok(st.isCharacterDevice(), p);
    assert.is(st.rdev, 0, p);
  }
  const all = execFileSync('find', [layer], { encoding: 'utf8' });
  assert.not.match(all, /\.wh\./);
});

test('opaque marker sets user.overlay.opaque whatever its position', async () => {
  const { layer } = env();
  await apply(
    [
      // marker after the dir and its entries
      dir('after', { mode: 0o555 }),
      file('after/f', 'x'),
      file('after/.wh..wh..opq'),
      // marker first, dir entry later (0555: set before the mode is applied)
      file('before/.wh..wh..opq'),
      dir('before', { mode: 0o555, mtime: T1 }),
      file('before/g', 'y'),
      // dir never listed
      file('implicit/deep/.wh..wh..opq'),
      // other aufs metadata is ignored
      file('.wh..wh.plnk/123.456'),
      file('.wh..wh.aufs'),
      dir('.wh..wh.orph'),
    ],
    layer,
  );
  assert.is(xattr(join(layer, 'after'), 'user.overlay.opaque'), 'y');
  assert.is(xattr(join(layer, 'before'), 'user.overlay.opaque'), 'y');
  assert.is(xattr(join(layer, 'implicit/deep'), 'user.overlay.opaque'), 'y');
  assert.is(xattr(join(layer, 'implicit'), 'user.overlay.opaque'), undefined);
  assert.is(xattr(layer, 'user.overlay.opaque'), undefined);
  assert.equal(ls(join(layer, 'before')), ['g']);
  assert.is(lstatSync(join(layer, 'before')).mode & 0o7777, 0o555);
  assert.is(lstatSync(join(layer, 'before')).mtimeMs, T1.getTime());
  assert.equal(ls(layer), ['after', 'before', 'implicit']);
});

test('a whiteout with an empty name is refused', async () => {
  const { layer } = env();
  await rejectsWith(apply([file('a/.wh.')], layer), LayerSecurityError, /"a\/\.wh\."/);
  await rejectsWith(apply([file('.wh..')], env().layer), LayerSecurityError);
  await rejectsWith(apply([file('a/.wh.b/c')], env().layer), StoreError, /whiteout name/);
});

// --- replacing ----------------------------------------------------------------------------

test('later entries replace earlier ones without following them', async () => {
  const e = env();
  const before = e.snapshot();
  const outside = join(e.sentinel, 'file');
  await apply(
    [
      file('f', 'original'),
      hardlink('h', 'f'),
      file('h', 'replaced'), // must not write through the hardlink into f
      symlink('s', outside),
      file('s', 'not through the symlink'),
      symlink('sd', e.sentinel),
      dir('sd'), // a dir replacing a symlink to a dir
      file('sd/x', 'inside'),
      dir('tree'),
      file('tree/a/b', 'x'),
      file('tree', 'a file now'), // dir replaced by a non-dir: removed recursively
      dir('keep', { mode: 0o700 }),
      file('keep/one', '1'),
      dir('keep', { mode: 0o751 }), // dir over dir: merged
      file('keep/two', '2'),
      file('todir', 'x'),
      dir('todir'),
    ],
    e.layer,
  );
  assert.is(readFileSync(join(e.layer, 'f'), 'utf8'), 'original');
  assert.is(readFileSync(join(e.layer, 'h'), 'utf8'), 'replaced');
  assert.is(lstatSync(join(e.layer, 'f')).nlink, 1);
  assert.ok(lstatSync(join(e.layer, 's')).isFile());
  assert.is(readFileSync(join(e.layer, 's'), 'utf8'), 'not through the symlink');
  assert.ok(lstatSync(join(e.layer, 'sd')).isDirectory());
  assert.equal(ls(join(e.layer, 'sd')), ['x']);
  assert.is(readFileSync(join(e.layer, 'tree'), 'utf8'), 'a file now');
  assert.equal(ls(join(e.layer, 'keep')), ['one', 'two']);
  assert.is(lstatSync(join(e.layer, 'keep')).mode & 0o7777, 0o751);
  assert.ok(lstatSync(join(e.layer, 'todir')).isDirectory());
  assert.is(e.snapshot(), before);
});

// --- escapes ------------------------------------------------------------------------------

test('refused: .. climbing out', async () => {
  await refused([file('../escape', 'x')], '../escape');
  await refused([file('a/../../escape', 'x')], 'a/../../escape');
  await refused([dir('ok'), file('ok/../../sentinel/file', 'pwned')], 'ok/../../sentinel/file');
  await refused([symlink('..', 'x')], '..');
  await refused([dir('../sentinel/new')], '../sentinel/new');
});

test('refused: writing through a symlinked parent (absolute and relative)', async () => {
  await refused([symlink('a', '/etc'), file('a/passwd', 'pwned')], 'a/passwd');
  // absolute symlink to the real sentinel dir
  {
    const e2 = env();
    const before = e2.snapshot();
    await rejectsWith(apply([symlink('etc', e2.sentinel), file('etc/file', 'pwned')], e2.layer), LayerSecurityError, /"etc\/file".*symlink/);
    assert.is(e2.snapshot(), before);
    await rejectsWith(apply([symlink('etc2', e2.sentinel), dir('etc2/new')], env().layer), LayerSecurityError);
  }
  await refused([symlink('a', '..'), file('a/sentinel/file', 'pwned')], 'a/sentinel/file');
  await refused([symlink('a', '..'), file('a/x', 'pwned')], 'a/x');
  await refused([symlink('a', '.'), file('a/a/x', 'x')], 'a/a/x');
  await refused([dir('d'), symlink('d/up', '../..'), dir('d/up/sentinel/sub/new')], 'd/up/sentinel/sub/new');
  await refused([symlink('a', '../sentinel'), { name: 'a/fifo', type: 'fifo' }], 'a/fifo');
  await refused([symlink('a', '../sentinel'), symlink('a/l', '/etc')], 'a/l');
  await refused([file('f', 'x'), symlink('a', '../sentinel'), hardlink('a/h', 'f')], 'a/h');
});

test('refused: whiteouts and opaque markers through a symlinked parent', async () => {
  await refused([symlink('a', '../sentinel'), file('a/.wh.file')], 'a/.wh.file');
  await refused([symlink('a', '../sentinel'), file('a/.wh..wh..opq')], 'a/.wh..wh..opq');
  await refused([symlink('a', '../sentinel'), file('a/sub/.wh..wh..opq')], 'a/sub/.wh..wh..opq');
});

test('refused: hardlinks escaping or going through a symlink', async () => {
  await refused([hardlink('h', '../sentinel/file')], 'h');
  await refused([dir('x'), hardlink('h', 'x/../../sentinel/file')], 'h');
  await refused([symlink('l', '../sentinel'), hardlink('h', 'l/file')], 'h');
  await refused([symlink('l', `/`), hardlink('h', 'l/etc/passwd')], 'h');
  await refused([dir('d'), hardlink('h', 'd')], 'h');
  // absolute target: taken inside the layer, where it does not exist
  const e = env();
  const before = e.snapshot();
  await rejectsWith(apply([hardlink('h', join(e.sentinel, 'file'))], e.layer), StoreError, /not an earlier entry/);
  assert.is(e.snapshot(), before);
  assert.is(lstatSync(join(e.sentinel, 'file')).nlink, 1);
});

test('a hardlink to a symlink links the symlink itself', async () => {
  const e = env();
  const before = e.snapshot();
  await apply([symlink('s', join(e.sentinel, 'file')), hardlink('h', 's'), symlink('sd', e.sentinel), hardlink('h2', 'sd')], e.layer);
  const h = lstatSync(join(e.layer, 'h'));
  assert.ok(h.isSymbolicLink());
  assert.is(h.ino, lstatSync(join(e.layer, 's')).ino);
  assert.ok(lstatSync(join(e.layer, 'h2')).isSymbolicLink());
  assert.is(lstatSync(join(e.sentinel, 'file')).nlink, 1);
  assert.is(e.snapshot(), before);
});

test('symlinks may point anywhere; they are stored, never followed', async () => {
  const e = env();
  const before = e.snapshot();
  await apply(
    [symlink('out', join(e.sentinel, 'file')), symlink('up', '../../../../..'), dir('d'), symlink('d/x', '/etc/shadow'), file('after', 'ok')],
    e.layer,
  );
  assert.is(readlinkSync(join(e.layer, 'out')), join(e.sentinel, 'file'));
  assert.is(readlinkSync(join(e.layer, 'up')), '../../../../..');
  assert.is(e.snapshot(), before);
});

test('the layer dir with pre-existing read-only content is not a way out', async () => {
  // A directory given as non-empty still gets lstat-checked parents.
  const e = env();
  const { symlinkSync } = await import('node:fs');
  symlinkSync(e.sentinel, join(e.layer, 'pre'));
  const before = e.snapshot();
  await rejectsWith(apply([file('pre/file', 'pwned')], e.layer), LayerSecurityError, /"pre\/file"/);
  assert.is(e.snapshot(), before);
  chmodSync(e.layer, 0o755);
});

// --- digests and compression ----------------------------------------------------------------

const SAMPLE: TarEntry[] = [dir('a'), file('a/one', 'one'), file('a/two', Buffer.alloc(70000, 0x61)), symlink('l', 'a/one')];

test('diffID is the sha256 of the uncompressed tar; digest of the input as given', async () => {
  const plain = await buildTar(SAMPLE);
  for (const c of ['none', 'gzip', 'zstd'] as const) {
    const input = await buildTar(SAMPLE, c);
    const { layer } = env();
    const r = await applyLayerTar(Readable.from([input]), layer);
    assert.is(r.diffID, sha256(plain), c);
    assert.is(r.size, plain.length, c);
    assert.is(r.digest, sha256(input), c);
    assert.is(r.inputSize, input.length, c);
    assert.is(readFileSync(join(layer, 'a/one'), 'utf8'), 'one');
    assert.is(readFileSync(join(layer, 'a/two')).length, 70000);
  }
  const gz = await buildTar(SAMPLE, 'gzip');
  assert.equal(gunzipSync(gz), plain);
});

test('compression is detected by content, not by name; bzip2 and xz are refused clearly', async () => {
  const gz = await buildTar(SAMPLE, 'gzip');
  const { layer } = env();
  const tarPath = join(env().base, 'layer.tar'); // a gzip file named .tar
  writeFileSync(tarPath, gz);
  const r = await applyLayerTar(createReadStream(tarPath, { highWaterMark: 1 }), layer);
  assert.is(r.diffID, sha256(await buildTar(SAMPLE)));
  await rejectsWith(applyLayerTar(Readable.from([Buffer.from('BZh91AY&SY....')]), env().layer), StoreError, /bzip2.*unsupported/);
  await rejectsWith(applyLayerTar(Readable.from([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])]), env().layer), StoreError, /xz.*unsupported/);
});

test('expected digest and size are verified', async () => {
  const gz = await buildTar(SAMPLE, 'gzip');
  const good = { digest: sha256(gz) as `sha256:${string}`, size: gz.length };
  const r = await applyLayerTar(Readable.from([gz]), env().layer, { expected: good });
  assert.is(r.digest, good.digest);
  assert.is(r.inputSize, gz.length);
  const bad = sha256(Buffer.from('other')) as `sha256:${string}`;
  await rejectsWith(applyLayerTar(Readable.from([gz]), env().layer, { expected: { digest: bad } }), DigestMismatchError, /digest mismatch/);
  await rejectsWith(applyLayerTar(Readable.from([gz]), env().layer, { expected: { digest: good.digest, size: gz.length + 1 } }), DigestMismatchError, /size/);
  await rejectsWith(applyLayerTar(Readable.from([gz]), env().layer, { expected: { digest: good.digest, size: gz.length - 1 } }), DigestMismatchError, /size/);
  // sha512 expectations work too; the result digest stays sha256
  const d512 = `sha512:${createHash('sha512').update(gz).digest('hex')}` as const;
  const r2 = await applyLayerTar(Readable.from([gz]), env().layer, { expected: { digest: d512 } });
  assert.is(r2.digest, sha256(gz));
});

test('large files stream through; small input chunks split headers anywhere', async () => {
  const big = Buffer.alloc(5 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
  const entries = [file('big', big, { mode: 0o600, mtime: T1 }), file('small', 'tail')];
  const plain = await buildTar(entries);
  const { layer } = env();
  const chunks: Buffer[] = [];
  for (let i = 0; i < plain.length; i += 777) chunks.push(plain.subarray(i, i + 777));
  const r = await applyLayerTar(Readable.from(chunks), layer);
  assert.is(r.diffID, sha256(plain));
  assert.ok(readFileSync(join(layer, 'big')).equals(big));
  assert.is(lstatSync(join(layer, 'big')).mode & 0o7777, 0o600);
  assert.is(lstatSync(join(layer, 'big')).mtimeMs, T1.getTime());
  assert.is(readFileSync(join(layer, 'small'), 'utf8'), 'tail');
});

test('a corrupt or truncated layer rejects', async () => {
  const plain = await buildTar(SAMPLE);
  const broken = Buffer.from(plain);
  broken[100] = broken[100]! ^ 0xff; // header checksum mismatch
  await rejectsWith(applyLayerTar(Readable.from([broken]), env().layer), StoreError);
  await rejectsWith(applyLayerTar(Readable.from([plain.subarray(0, 1000)]), env().layer), StoreError);
  const gz = await buildTar(SAMPLE, 'gzip');
  await rejectsWith(applyLayerTar(Readable.from([gz.subarray(0, gz.length - 20)]), env().layer), StoreError);
  // the input stream failing midway (e.g. a network error) rejects with that error
  const big = await buildTar([file('big', Buffer.alloc(3 << 20, 1)), file('after', 'x')]);
  const failing = new Readable({
    read() {
      this.push(big.subarray(0, 2 << 20));
      this.destroy(new Error('connection reset'));
    },
  });
  await rejectsWith(applyLayerTar(failing, env().layer), StoreError, /connection reset/);
});

// --- a real overlay -------------------------------------------------------------------------

test('stacked layers mount as a real overlay with the expected merged view', async () => {
  const e = env();
  const l1 = join(e.base, 'l1');
  const l2 = join(e.base, 'l2');
  const merged = join(e.base, 'merged');
  for (const d of [l1, l2, merged]) mkdirSync(d);
  await apply([dir('a'), file('a/f1', '1'), file('a/f2', '2'), dir('b'), file('b/x', 'x'), dir('c'), file('c/y', 'y')], l1, 'gzip');
  await apply([file('a/.wh.f1'), file('.wh.b'), file('c/.wh..wh..opq'), file('c/z', 'z')], l2, 'zstd');
  const script = `mount -t overlay overlay -o lowerdir=${l2}:${l1},userxattr ${merged} && cd ${merged} && find . | sort`;
  const res = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script], { encoding: 'utf8' });
  // No silent pass: an environment that cannot mount the overlay fails this test.
  assert.is(res.status, 0, `overlay mount failed (status ${res.status}): ${res.error ?? ''} ${res.stderr}`);
  assert.equal(res.stdout.trim().split('\n'), ['.', './a', './a/f2', './c', './c/z']);
});

test.run();
