import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { DigestMismatchError, NotFoundError } from '../../../packages/storage/src/errors.ts';
import { DOCKER_MANIFEST } from '../../../packages/storage/src/media-types.ts';
import { DIR_VERSION, openDirDestination, openDirSource, parseDirSpec } from '../../../packages/storage/src/transports/dir.ts';
import { rejects, tempDir, throwsStoreError } from './helpers.ts';
import {
  HAVE_SKOPEO,
  checkImage,
  checkIndex,
  copyRefs,
  makeImage,
  makeIndex,
  readStream,
  skopeo,
  writeImage,
  writeIndex,
  type TestImage,
} from './transport-image.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = tempDir('pkit-dir');
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const hex = (d: string) => d.slice(7);
function blobNames(img: TestImage): string[] {
  return [img.configDesc.digest, ...img.layers.map((l) => l.desc.digest)].map(hex);
}

test('parseDirSpec: the whole string is the path', () => {
  assert.equal(parseDirSpec('/a/b:c'), { path: '/a/b:c' });
  throwsStoreError(() => parseDirSpec(''), 'invalid reference "dir:": the path is empty; use dir:DIR');
});

test('an image written through the destination has skopeo\'s layout and reads back', async () => {
  const dir = join(tmp(), 'img');
  const img = await makeImage('one');
  await writeImage(await openDirDestination(dir), img);
  assert.equal(readdirSync(dir).sort(), [...blobNames(img), 'manifest.json', 'version'].sort());
  assert.is(readFileSync(join(dir, 'version'), 'utf8'), 'Directory Transport Version: 1.1\n');
  assert.is(DIR_VERSION, 'Directory Transport Version: 1.1\n');
  assert.ok(readFileSync(join(dir, 'manifest.json')).equals(img.manifest.bytes));
  const src = await openDirSource(dir);
  assert.is(src.name, `dir:${dir}`);
  await checkImage(Promise.resolve(src), img);
});

test('an index: manifest.json is the index, each image manifest is <hex>.manifest.json', async () => {
  const dir = join(tmp(), 'multi');
  const idx = await makeIndex('multi');
  await writeIndex(await openDirDestination(dir), idx);
  const expected = [
    'manifest.json',
    'version',
    ...idx.images.flatMap((img) => [...blobNames(img), `${hex(img.manifest.digest)}.manifest.json`]),
  ];
  assert.equal(readdirSync(dir).sort(), expected.sort());
  await checkIndex(openDirSource(dir), idx);
});

test('a Docker schema 2 image is stored as it is', async () => {
  const dir = join(tmp(), 'docker');
  const img = await makeImage('docker', 'amd64', true);
  await writeImage(await openDirDestination(dir), img);
  const src = await openDirSource(dir);
  assert.is((await src.manifest()).mediaType, DOCKER_MANIFEST);
  await checkImage(Promise.resolve(src), img);
});

test('errors: missing blob, wrong size, missing or corrupt manifest.json, unknown media type', async () => {
  const base = tmp();
  const dir = join(base, 'img');
  const img = await makeImage('x');
  await writeImage(await openDirDestination(dir), img);
  const src = await openDirSource(dir);
  const [l1, l2] = img.layers;
  rmSync(join(dir, hex(l1!.desc.digest)));
  const e1 = await rejects(src.blob(l1!.desc), new RegExp(`^dir:${dir}: blob ${l1!.desc.digest} is missing from the directory`));
  assert.instance(e1, NotFoundError);
  appendFileSync(join(dir, hex(l2!.desc.digest)), 'x');
  const e2 = await rejects(src.blob(l2!.desc), /has \d+ bytes in the directory, but the manifest says/);
  assert.instance(e2, DigestMismatchError);
  await rejects(src.manifest(digestOf('child')), /manifest sha256:[0-9a-f]+ is not in the directory \(no [0-9a-f]+\.manifest\.json\)/);

  await rejects(openDirSource(join(base, 'none')), /not an image directory: .*none has no manifest.json/);
  writeFileSync(join(dir, 'manifest.json'), '{"schemaVersion":2,');
  await rejects(openDirSource(dir), /^dir:.*: manifest.json: invalid JSON: /);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...JSON.parse(img.manifest.bytes.toString()), mediaType: 'application/vnd.example+json' }));
  await rejects(openDirSource(dir), /manifest.json: mediaType "application\/vnd.example\+json" is not a supported manifest media type/);
  writeFileSync(join(dir, 'version'), 'Directory Transport Version: 2.0\n');
  await rejects(openDirSource(dir), /unsupported directory format "Directory Transport Version: 2.0"/);
});

test('the destination refuses a non-empty directory that is not an image directory', async () => {
  const base = tmp();
  writeFileSync(join(base, 'notes.txt'), 'keep me');
  await rejects(openDirDestination(base), /is not empty and not an image directory \(no version file\): choose a new or empty directory/);
  await rejects(openDirDestination(join(base, 'notes.txt')), /exists and is not a directory/);
  assert.is(readFileSync(join(base, 'notes.txt'), 'utf8'), 'keep me');
  // An empty existing directory is fine.
  mkdirSync(join(base, 'empty'));
  await writeImage(await openDirDestination(join(base, 'empty')), await makeImage('e'));
});

test('close without commit: a new directory is removed; an existing image stays intact, with no temp files', async () => {
  const base = tmp();
  const fresh = join(base, 'fresh');
  const img = await makeImage('a');
  const dst = await openDirDestination(fresh);
  await dst.putBlob(Readable.from([img.config]), { mediaType: img.configDesc.mediaType, digest: img.configDesc.digest, size: img.configDesc.size });
  await dst.close();
  assert.is(existsSync(fresh), false);

  const dir = join(base, 'img');
  await writeImage(await openDirDestination(dir), img);
  const before = readdirSync(dir).sort();
  const other = await makeImage('b');
  const dst2 = await openDirDestination(dir);
  await dst2.putBlob(Readable.from([other.layers[0]!.bytes]), { mediaType: 'x', digest: other.layers[0]!.desc.digest, size: other.layers[0]!.desc.size });
  await rejects(dst2.putBlob(Readable.from([Buffer.from('bad')]), { mediaType: 'x', digest: digestOf('good'), size: 3 }), /digest mismatch/);
  await dst2.close();
  assert.ok(readdirSync(dir).every((n) => !n.startsWith('.pkit-tmp-')), 'no temp files');
  assert.equal(readdirSync(dir).filter((n) => before.includes(n)).sort(), before);
  await checkImage(openDirSource(dir), img);
});

test('a new image replaces the old one: its files go at commit', async () => {
  const dir = join(tmp(), 'img');
  const idx = await makeIndex('old');
  await writeIndex(await openDirDestination(dir), idx);
  writeFileSync(join(dir, '.pkit-tmp-stale'), 'debris of a crash');
  const img = await makeImage('new');
  await writeImage(await openDirDestination(dir), img);
  assert.equal(readdirSync(dir).sort(), [...blobNames(img), 'manifest.json', 'version'].sort());
  await checkImage(openDirSource(dir), img);
});

(HAVE_SKOPEO ? test : test.skip)('skopeo: what we write it copies with the same digests; what it writes we read, file for file', async () => {
  const base = tmp();
  const img = await makeImage('sk');
  const idx = await makeIndex('sk-multi');
  const ours = join(base, 'ours');
  const oursMulti = join(base, 'ours-multi');
  await writeImage(await openDirDestination(ours), img);
  await writeIndex(await openDirDestination(oursMulti), idx);

  const layout = join(base, 'layout');
  skopeo('copy', `dir:${ours}`, `oci:${layout}:x`);
  skopeo('copy', '--all', `dir:${oursMulti}`, `oci:${layout}:m`);
  assert.is(digestOf(skopeo('inspect', '--raw', `oci:${layout}:x`)), img.manifest.digest);
  assert.is(digestOf(skopeo('inspect', '--raw', `oci:${layout}:m`)), idx.index.digest);

  // skopeo's dir: output has exactly the files ours has, with the same bytes.
  const theirs = join(base, 'theirs');
  const theirsMulti = join(base, 'theirs-multi');
  skopeo('copy', `oci:${layout}:x`, `dir:${theirs}`);
  skopeo('copy', '--all', `oci:${layout}:m`, `dir:${theirsMulti}`);
  for (const [a, b] of [[ours, theirs], [oursMulti, theirsMulti]] as const) {
    assert.equal(readdirSync(a).sort(), readdirSync(b).sort());
    for (const n of readdirSync(a)) assert.ok(readFileSync(join(a, n)).equals(readFileSync(join(b, n))), n);
  }
  await checkImage(openDirSource(theirs), img);
  await checkIndex(openDirSource(theirsMulti), idx);

  // Through our own copy: dir -> oci -> dir keeps every byte.
  const viaOci = join(base, 'via-oci');
  await copyRefs(`dir:${theirsMulti}`, `oci:${viaOci}:m`);
  const back = join(base, 'back');
  await copyRefs(`oci:${viaOci}:m`, `dir:${back}`);
  assert.equal(readdirSync(back).sort(), readdirSync(theirsMulti).sort());
  const src = await openDirSource(back);
  assert.ok((await readStream(await src.blob(idx.images[1]!.layers[0]!.desc))).equals(idx.images[1]!.layers[0]!.bytes));
});

test.run();
