import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { NotFoundError } from '../../../packages/storage/src/errors.ts';
import { openOciArchiveDestination, openOciArchiveSource, parseOciArchiveSpec, extractLayoutArchive } from '../../../packages/storage/src/transports/oci-archive.ts';
import { openOciDestination, openOciSource } from '../../../packages/storage/src/transports/oci-layout.ts';
import { WORKERS, rejects, tempDir, throwsStoreError } from './helpers.ts';
import { buildTar, file } from './tar-fixtures.ts';
import { HAVE_SKOPEO, assertImage, assertIndex, checkImage, checkIndex, copyRefs, makeImage, makeIndex, skopeo, writeImage, writeIndex } from './transport-image.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = tempDir('pkit-ociarch');
  dirs.push(d);
  return d;
}
// Every extraction and staging directory goes under a private TMPDIR, to check they are removed.
// Set only while this suite runs: uvu imports every test file before running any suite, so a
// TMPDIR set at import time would send the other files' temp dirs here too.
const privateTmp = tmp();
const savedTmpdir = process.env.TMPDIR;
test.before(() => {
  process.env.TMPDIR = privateTmp;
});
test.after(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function leftovers(): string[] {
  return readdirSync(privateTmp).filter((n) => n.startsWith('pkit-oci-archive-'));
}

function tarList(path: string): string[] {
  const r = spawnSync('tar', ['-tvf', path], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

test('parseOciArchiveSpec', () => {
  assert.equal(parseOciArchiveSpec('/x/a.tar'), { path: '/x/a.tar' });
  assert.equal(parseOciArchiveSpec('a.tar:app:1'), { path: 'a.tar', ref: 'app:1' });
  throwsStoreError(() => parseOciArchiveSpec(':x'), 'invalid reference "oci-archive::x": the path is empty; use oci-archive:FILE[:NAME]');
  throwsStoreError(() => parseOciArchiveSpec('a.tar:Bad Name'), 'image name "Bad Name"');
});

test('an image written to an archive reads back; the tar is deterministic and holds only the layout', async () => {
  const base = tmp();
  const img = await makeImage('arch');
  await writeImage(await openOciArchiveDestination(`${join(base, 'a.tar')}:v1`), img);
  await writeImage(await openOciArchiveDestination(`${join(base, 'b.tar')}:v1`), img);
  assert.ok(readFileSync(join(base, 'a.tar')).equals(readFileSync(join(base, 'b.tar'))), 'same image, same archive bytes');
  const list = tarList(join(base, 'a.tar'));
  const namesInTar = list.map((l) => l.split(/\s+/).pop());
  const blobs = [img.manifest.digest, img.configDesc.digest, ...img.layers.map((l) => l.desc.digest)].map((d) => `blobs/sha256/${d.slice(7)}`).sort();
  assert.equal(namesInTar, ['oci-layout', 'index.json', 'blobs/', 'blobs/sha256/', ...blobs]);
  assert.ok(list.every((l) => l.includes('0/0') && l.includes('1970-01-01')), list.join('\n'));
  assert.equal(existsSync(join(base, 'a.tar')) && readdirSync(base).sort(), ['a.tar', 'b.tar']);
  assert.equal(leftovers(), []);

  for (const spec of [`${join(base, 'a.tar')}:v1`, join(base, 'a.tar')]) {
    const src = await openOciArchiveSource(spec);
    assert.is(src.name, `oci-archive:${spec}`);
    await assertImage(src, img);
    assert.is(leftovers().length, 1, 'extracted while open');
    await src.close();
  }
  assert.equal(leftovers(), []);
});

test('a multi-arch index round-trips through an archive', async () => {
  const path = join(tmp(), 'multi.tar');
  const idx = await makeIndex('arch-multi');
  await writeIndex(await openOciArchiveDestination(`${path}:multi`), idx);
  const src = await openOciArchiveSource(`${path}:multi`);
  await assertIndex(src, idx);
  await src.close();
});

test('a failed copy leaves an existing archive untouched and no temp files', async () => {
  const base = tmp();
  const path = join(base, 'a.tar');
  writeFileSync(path, 'old archive');
  const dst = await openOciArchiveDestination(`${path}:x`);
  const img = await makeImage('x');
  await dst.putBlob(Readable.from([img.config]), { mediaType: img.configDesc.mediaType, digest: img.configDesc.digest, size: img.configDesc.size });
  assert.is(leftovers().length, 1);
  await dst.close();
  assert.is(readFileSync(path, 'utf8'), 'old archive');
  assert.equal(readdirSync(base), ['a.tar']);
  assert.equal(leftovers(), []);
  // A new file is not created at all.
  await (await openOciArchiveDestination(join(base, 'new.tar'))).close();
  assert.equal(readdirSync(base), ['a.tar']);
  // And a commit replaces the old content.
  await writeImage(await openOciArchiveDestination(`${path}:x`), img);
  await checkImage(openOciArchiveSource(`${path}:x`), img);
  assert.equal(readdirSync(base), ['a.tar']);
});

test('archive errors: missing file, a directory, not a tar, no layout inside, unsafe paths, unknown name', async () => {
  const base = tmp();
  const e = await rejects(openOciArchiveSource(join(base, 'none.tar')), /^oci-archive:.*none.tar: .*none.tar not found$/);
  assert.instance(e, NotFoundError);
  await rejects(openOciArchiveSource(base), /is a directory: use oci:/);
  await rejects(openOciArchiveDestination(base), /is a directory: use oci:/);
  await rejects(openOciArchiveDestination(join(base, 'no', 'such', 'x.tar')), /cannot create .*x.tar: directory .*such not found/);

  writeFileSync(join(base, 'junk.tar'), Buffer.alloc(1024, 7));
  await rejects(openOciArchiveSource(join(base, 'junk.tar')), /not a valid tar archive/);
  writeFileSync(join(base, 'other.tar'), await buildTar([file('hello.txt', 'hi')]));
  await rejects(openOciArchiveSource(join(base, 'other.tar')), /not an OCI image layout: the archive has no oci-layout file/);
  writeFileSync(join(base, 'evil.tar'), await buildTar([file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'), file('blobs/../../escape', 'x')]));
  await rejects(openOciArchiveSource(join(base, 'evil.tar')), /unsafe path "blobs\/..\/..\/escape" in the archive/);
  assert.is(existsSync(join(privateTmp, 'escape')), false);

  const path = join(base, 'two.tar');
  const layout = join(base, 'layout');
  await writeImage(await openOciDestination(`${layout}:a`), await makeImage('a'));
  await writeImage(await openOciDestination(`${layout}:b`), await makeImage('b'));
  await copyRefs(`oci:${layout}:a`, `oci-archive:${path}:a`);
  await rejects(openOciArchiveSource(`${path}:zzz`), /no image named "zzz" in the layout; it has: a/);
  assert.equal(leftovers(), []);
});

test('extraction accepts ./-prefixed names and skips links', async () => {
  const base = tmp();
  const img = await makeImage('dot');
  const layout = join(base, 'layout');
  await writeImage(await openOciDestination(`${layout}:dot`), img);
  const tarPath = join(base, 'dot.tar');
  const r = spawnSync('tar', ['-C', layout, '--exclude', './.pkit', '-cf', tarPath, '.'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  await checkImage(openOciArchiveSource(`${tarPath}:dot`), img);

  const out = join(base, 'x');
  mkdirSync(out);
  const tar = await buildTar([file('./a/b', 'x'), { name: 'link', type: 'symlink', linkname: '/etc/passwd' }]);
  await extractLayoutArchive(Readable.from([tar]), out, 'test');
  assert.equal(readdirSync(out).sort(), ['a']);
  assert.is(readFileSync(join(out, 'a', 'b'), 'utf8'), 'x');
});

test('through a pipe: one process writes oci-archive:/dev/stdout, another reads oci-archive:/dev/stdin', async () => {
  const base = tmp();
  const from = join(base, 'from');
  const to = join(base, 'to');
  const idx = await makeIndex('pipe');
  await writeIndex(await openOciDestination(`${from}:p`), idx);
  const worker = join(WORKERS, 'transport-worker.ts');
  const writer = spawn(process.execPath, [worker, 'copy', `oci:${from}:p`, 'oci-archive:/dev/stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reader = spawn(process.execPath, [worker, 'copy', 'oci-archive:/dev/stdin', `oci:${to}:q`], { stdio: [writer.stdout, 'pipe', 'pipe'] });
  writer.stdout.destroy(); // the reader has it now
  const done = (c: ReturnType<typeof spawn>) => {
    let err = '';
    c.stderr!.on('data', (d) => (err += d));
    return new Promise<{ code: number | null; err: string }>((resolve) => c.on('close', (code) => resolve({ code, err })));
  };
  const [w, r] = await Promise.all([done(writer), done(reader)]);
  assert.is(w.code, 0, w.err);
  assert.is(r.code, 0, r.err);
  assert.is(w.err.trim(), idx.index.digest);
  assert.is(r.err.trim(), idx.index.digest);
  await checkIndex(openOciSource(`${to}:q`), idx);
});

test('through a FIFO, and to /dev/stdout redirected to a regular file', async () => {
  const base = tmp();
  const from = join(base, 'from');
  const img = await makeImage('fifo');
  await writeImage(await openOciDestination(`${from}:f`), img);
  const fifo = join(base, 'fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  const worker = join(WORKERS, 'transport-worker.ts');
  const writer = spawn(process.execPath, [worker, 'copy', `oci:${from}:f`, `oci-archive:${fifo}:f`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  writer.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => writer.on('close', resolve));
  const src = await openOciArchiveSource(`${fifo}:f`);
  await assertImage(src, img);
  await src.close();
  assert.is(await exited, 0, err);

  // `> file`: /dev/stdout is a regular file the shell opened; then read it back through `< file`.
  const out = join(base, 'out.tar');
  writeFileSync(out, Buffer.alloc(100_000, 1));
  const r = spawnSync('sh', ['-c', `exec "$0" "$1" copy "oci:${from}:f" oci-archive:/dev/stdout:f >"$2"`, process.execPath, worker, out], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  await checkImage(openOciArchiveSource(`${out}:f`), img);
  const back = join(base, 'back');
  const r2 = spawnSync('sh', ['-c', `exec "$0" "$1" copy oci-archive:/dev/fd/0:f "oci:$3:f" <"$2"`, process.execPath, worker, out, back], { encoding: 'utf8' });
  assert.is(r2.status, 0, r2.stderr);
  await checkImage(openOciSource(`${back}:f`), img);
});

(HAVE_SKOPEO ? test : test.skip)('skopeo reads our archives and we read skopeo archives, digests unchanged', async () => {
  const base = tmp();
  const img = await makeImage('sk');
  const idx = await makeIndex('sk-multi');
  const ours = join(base, 'ours.tar');
  await writeImage(await openOciArchiveDestination(`${ours}:x`), img);
  const oursMulti = join(base, 'ours-multi.tar');
  await writeIndex(await openOciArchiveDestination(`${oursMulti}:m`), idx);

  const layout = join(base, 'theirs');
  skopeo('copy', `oci-archive:${ours}:x`, `oci:${layout}:x`);
  skopeo('copy', '--all', `oci-archive:${oursMulti}:m`, `oci:${layout}:m`);
  assert.is(digestOf(skopeo('inspect', '--raw', `oci:${layout}:x`)), img.manifest.digest);
  assert.is(digestOf(skopeo('inspect', '--raw', `oci:${layout}:m`)), idx.index.digest);

  const theirs = join(base, 'theirs.tar');
  skopeo('copy', `oci:${layout}:x`, `oci-archive:${theirs}:y`);
  const theirsMulti = join(base, 'theirs-multi.tar');
  skopeo('copy', '--all', `oci:${layout}:m`, `oci-archive:${theirsMulti}:n`);
  await checkImage(openOciArchiveSource(`${theirs}:y`), img);
  await checkImage(openOciArchiveSource(theirs), img);
  await checkIndex(openOciArchiveSource(`${theirsMulti}:n`), idx);
  // skopeo's archive straight from a stream.
  const piped = spawnSync(process.execPath, [join(WORKERS, 'transport-worker.ts'), 'copy', 'oci-archive:/dev/stdin:y', `oci:${join(base, 'fromstdin')}:z`], {
    input: readFileSync(theirs),
    encoding: 'utf8',
  });
  assert.is(piped.status, 0, piped.stderr);
  await checkImage(openOciSource(`${join(base, 'fromstdin')}:z`), img);
});

test.run();
