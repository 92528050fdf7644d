import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { DigestMismatchError, NotFoundError } from '../../../packages/storage/src/errors.ts';
import { DOCKER_MANIFEST, OCI_MANIFEST } from '../../../packages/storage/src/media-types.ts';
import type { Descriptor } from '../../../packages/storage/src/oci-types.ts';
import {
  REF_NAME_ANNOTATION,
  addIndexEntry,
  openOciDestination,
  openOciSource,
  parseOciSpec,
} from '../../../packages/storage/src/transports/oci-layout.ts';
import { rejects, runWorker, tempDir, throwsStoreError } from './helpers.ts';
import {
  HAVE_SKOPEO,
  assertImage,
  checkImage,
  checkIndex,
  assertIndex,
  copyRefs,
  makeImage,
  makeIndex,
  readStream,
  skopeo,
  writeImage,
  writeIndex,
} from './transport-image.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = tempDir('pkit-oci');
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function indexJson(dir: string): { manifests: Descriptor[] } {
  return JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
}

function names(dir: string): (string | undefined)[] {
  return indexJson(dir).manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]);
}

function scratchEntries(dir: string): string[] {
  const t = join(dir, '.pkit', 'tmp');
  return existsSync(t) ? readdirSync(t) : [];
}

test('parseOciSpec: path up to the first colon, then a name or @N', () => {
  assert.equal(parseOciSpec('/a/b'), { path: '/a/b' });
  assert.equal(parseOciSpec('/a/b:'), { path: '/a/b' });
  assert.equal(parseOciSpec('layout:v1.0'), { path: 'layout', ref: 'v1.0' });
  assert.equal(parseOciSpec('l:example.com/app:1.2'), { path: 'l', ref: 'example.com/app:1.2' });
  assert.equal(parseOciSpec('l:@3'), { path: 'l', sourceIndex: 3 });
  throwsStoreError(() => parseOciSpec(''), 'the path is empty');
  throwsStoreError(() => parseOciSpec(':tag'), 'the path is empty');
  throwsStoreError(() => parseOciSpec('l:bad tag'), 'image name "bad tag"');
  throwsStoreError(() => parseOciSpec('l:-x'), 'image name "-x"');
  throwsStoreError(() => parseOciSpec('l:a//b'), 'image name');
  throwsStoreError(() => parseOciSpec('l:@x'), '"@x" must be @ followed by');
});

test('an image written through the destination reads back byte for byte', async () => {
  const dir = join(tmp(), 'layout');
  const img = await makeImage('one');
  await writeImage(await openOciDestination(`${dir}:v1`), img);
  assert.equal(readFileSync(join(dir, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  assert.equal(indexJson(dir).manifests, [
    { mediaType: OCI_MANIFEST, digest: img.manifest.digest, size: img.manifest.bytes.length, annotations: { [REF_NAME_ANNOTATION]: 'v1' } },
  ]);
  for (const d of [img.manifest.digest, img.configDesc.digest, ...img.layers.map((l) => l.desc.digest)]) {
    assert.ok(existsSync(join(dir, 'blobs', 'sha256', d.slice(7))), d);
  }
  assert.equal(scratchEntries(dir), []);
  for (const spec of [`${dir}:v1`, dir, `${dir}:@0`]) {
    const src = await openOciSource(spec);
    assert.is(src.name, `oci:${spec}`);
    await assertImage(src, img);
    await src.close();
  }
});

test('a multi-arch index with two child manifests round-trips', async () => {
  const dir = join(tmp(), 'layout');
  const idx = await makeIndex('multi');
  await writeIndex(await openOciDestination(`${dir}:multi`), idx);
  const src = await openOciSource(`${dir}:multi`);
  await assertIndex(src, idx);
  await rejects(src.manifest(digestOf('nope')), /manifest sha256:[0-9a-f]+ is missing from the layout/);
  await src.close();
});

test('several images: a name selects one; none given lists them; an unknown name lists the names', async () => {
  const dir = join(tmp(), 'layout');
  const a = await makeImage('a');
  const b = await makeImage('b');
  await writeImage(await openOciDestination(`${dir}:a`), a);
  await writeImage(await openOciDestination(`${dir}:b`), b);
  await checkImage(openOciSource(`${dir}:b`), b);
  await checkImage(openOciSource(`${dir}:@0`), a);
  const err = await rejects(openOciSource(dir), /the layout holds 2 images: specify one of: a, b$/);
  assert.is(err.message.includes('\n'), false);
  await rejects(openOciSource(`${dir}:c`), /no image named "c" in the layout; it has: a, b/);
  await rejects(openOciSource(`${dir}:@2`), /no entry @2: index.json has 2 entries/);
});

test('commit moves a name to the new image; the old entry stays, unnamed; same digest unnamed is replaced', async () => {
  const dir = join(tmp(), 'layout');
  const a = await makeImage('a');
  const b = await makeImage('b');
  await writeImage(await openOciDestination(`${dir}:latest`), a);
  await writeImage(await openOciDestination(`${dir}:latest`), b);
  let idx = indexJson(dir);
  assert.equal(idx.manifests.map((m) => m.digest), [a.manifest.digest, b.manifest.digest]);
  assert.equal(names(dir), [undefined, 'latest']);
  assert.is('annotations' in idx.manifests[0]!, false);
  // Re-naming the first image replaces its unnamed entry instead of adding one.
  await writeImage(await openOciDestination(`${dir}:again`), a);
  assert.equal(names(dir), ['again', 'latest']);
  // Unnamed commit of an image that already has an unnamed entry: no duplicate.
  await writeImage(await openOciDestination(`${dir}:latest`), a);
  await writeImage(await openOciDestination(dir), b);
  idx = indexJson(dir);
  assert.equal(idx.manifests.map((m) => m.digest), [a.manifest.digest, b.manifest.digest, a.manifest.digest]);
  assert.equal(names(dir), ['again', undefined, 'latest']);

  const index = { manifests: [{ mediaType: OCI_MANIFEST, digest: a.manifest.digest, size: 1, annotations: { x: 'y', [REF_NAME_ANNOTATION]: 'n' } }] as Descriptor[] };
  addIndexEntry(index, { mediaType: OCI_MANIFEST, digest: b.manifest.digest, size: 2, annotations: { [REF_NAME_ANNOTATION]: 'n' } });
  assert.equal(index.manifests[0]!.annotations, { x: 'y' }, 'other annotations are kept');
});

test('other index.json fields and entries survive a commit', async () => {
  const dir = join(tmp(), 'layout');
  const a = await makeImage('a');
  await writeImage(await openOciDestination(`${dir}:a`), a);
  const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  idx.annotations = { keep: 'me' };
  idx.manifests[0].annotations.other = 'x';
  writeFileSync(join(dir, 'index.json'), JSON.stringify(idx));
  await writeImage(await openOciDestination(`${dir}:b`), await makeImage('b'));
  const after = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.equal(after.annotations, { keep: 'me' });
  assert.equal(after.manifests[0].annotations, { other: 'x', [REF_NAME_ANNOTATION]: 'a' });
});

test('a missing blob and a blob of the wrong size are errors naming the layout and digest', async () => {
  const dir = join(tmp(), 'layout');
  const img = await makeImage('x');
  await writeImage(await openOciDestination(`${dir}:x`), img);
  const src = await openOciSource(`${dir}:x`);
  const [l1, l2] = img.layers;
  rmSync(join(dir, 'blobs', 'sha256', l1!.desc.digest.slice(7)));
  const e1 = await rejects(src.blob(l1!.desc), new RegExp(`^oci:${dir}:x: blob ${l1!.desc.digest} is missing from the layout \\(no blobs/sha256/`));
  assert.instance(e1, NotFoundError);
  appendFileSync(join(dir, 'blobs', 'sha256', l2!.desc.digest.slice(7)), 'x');
  const e2 = await rejects(src.blob(l2!.desc), new RegExp(`blob ${l2!.desc.digest} has ${l2!.desc.size + 1} bytes in the layout, but the manifest says ${l2!.desc.size}`));
  assert.instance(e2, DigestMismatchError);
  // A top manifest whose bytes changed is caught on open.
  writeFileSync(join(dir, 'blobs', 'sha256', img.manifest.digest.slice(7)), img.manifest.bytes.toString().replace('"schemaVersion":2', '"schemaVersion":2 '));
  await rejects(openOciSource(`${dir}:x`), /manifest sha256:[0-9a-f]+ has \d+ bytes in the layout, but its descriptor says/);
});

test('corrupt or missing layout files are one-line errors', async () => {
  const base = tmp();
  await rejects(openOciSource(join(base, 'nothing')), /no OCI image layout at .*nothing: directory not found/);
  mkdirSync(join(base, 'empty'));
  await rejects(openOciSource(join(base, 'empty')), /not an OCI image layout: .*empty has no oci-layout file/);

  const dir = join(base, 'layout');
  await writeImage(await openOciDestination(`${dir}:x`), await makeImage('x'));
  const good = readFileSync(join(dir, 'index.json'));
  writeFileSync(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[');
  await rejects(openOciSource(dir), /index.json is not valid JSON: /);
  // A destination does not overwrite what it cannot read.
  await rejects(writeImage(await openOciDestination(`${dir}:y`), await makeImage('y')), /index.json is not valid JSON: .*; not overwriting it/);
  assert.is(readFileSync(join(dir, 'index.json'), 'utf8'), '{"schemaVersion":2,"manifests":[');
  writeFileSync(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"sha256:abc"}]}');
  await rejects(openOciSource(dir), /index.json: manifests\[0\].mediaType must be a string/);
  writeFileSync(join(dir, 'index.json'), '{"schemaVersion":1,"manifests":[]}');
  await rejects(openOciSource(dir), /index.json: schemaVersion must be 2/);
  writeFileSync(join(dir, 'index.json'), good);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await rejects(openOciSource(dir), /unsupported OCI layout version "2.0.0"/);
});

test('an entry or a manifest of an unknown media type is refused', async () => {
  const dir = join(tmp(), 'layout');
  const img = await makeImage('x');
  await writeImage(await openOciDestination(`${dir}:x`), img);
  const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  idx.manifests[0].mediaType = 'application/vnd.example.thing+json';
  writeFileSync(join(dir, 'index.json'), JSON.stringify(idx));
  await rejects(openOciSource(`${dir}:x`), /has media type "application\/vnd.example.thing\+json", which is not an image manifest or index/);

  // A manifest blob whose body says another type than the entry.
  const body = Buffer.from(JSON.stringify({ ...JSON.parse(img.manifest.bytes.toString()), mediaType: 'application/vnd.example.other+json' }));
  const digest = digestOf(body);
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), body);
  idx.manifests[0] = { mediaType: OCI_MANIFEST, digest, size: body.length, annotations: { [REF_NAME_ANNOTATION]: 'x' } };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(idx));
  await rejects(openOciSource(`${dir}:x`), new RegExp(`manifest ${digest}: mediaType "application/vnd.example.other\\+json" is not a supported manifest media type`));

  // The destination stores OCI types only (the copy converts Docker ones).
  const dst = await openOciDestination(`${dir}:d`);
  const docker = await makeImage('d', 'amd64', true);
  assert.is(docker.manifest.mediaType, DOCKER_MANIFEST);
  await rejects(dst.commit(docker.manifest), /an OCI layout stores OCI manifests and indexes, not application\/vnd.docker.distribution.manifest.v2\+json/);
  await dst.close();
});

test('putBlob verifies: a wrong digest or size leaves no blob and no temp file', async () => {
  const dir = join(tmp(), 'layout');
  const dst = await openOciDestination(`${dir}:x`);
  const bytes = Buffer.from('hello');
  const wrong = digestOf('other');
  await rejects(dst.putBlob(Readable.from([bytes]), { mediaType: 'x', digest: wrong, size: 5 }), /digest mismatch/);
  await rejects(dst.putBlob(Readable.from([bytes]), { mediaType: 'x', digest: digestOf(bytes), size: 4 }), /size mismatch/);
  assert.is(existsSync(join(dir, 'blobs', 'sha256', wrong.slice(7))), false);
  assert.is(existsSync(join(dir, 'blobs', 'sha256', digestOf(bytes).slice(7))), false);
  // A failing source stream.
  const failing = new Readable({ read() { this.destroy(new Error('network down')); } });
  await rejects(dst.putBlob(failing, { mediaType: 'x' }), /network down/);
  // Without a digest, the content names itself.
  assert.equal(await dst.putBlob(Readable.from([bytes]), { mediaType: 'x' }), { digest: digestOf(bytes), size: 5 });
  assert.ok(await dst.hasBlob({ mediaType: 'x', digest: digestOf(bytes), size: 5 }));
  assert.is(await dst.hasBlob({ mediaType: 'x', digest: digestOf(bytes), size: 6 }), false);
  const scratch = readdirSync(join(dir, '.pkit', 'tmp')).filter((n) => !n.endsWith('.lock'));
  assert.equal(scratch.flatMap((s) => readdirSync(join(dir, '.pkit', 'tmp', s))), []);
  await dst.close();
});

test('a destination closed without commit adds no index entry and leaves no temp files', async () => {
  const dir = join(tmp(), 'layout');
  const a = await makeImage('a');
  await writeImage(await openOciDestination(`${dir}:a`), a);
  const before = readFileSync(join(dir, 'index.json'), 'utf8');
  const dst = await openOciDestination(`${dir}:b`);
  const b = await makeImage('b');
  await dst.putBlob(Readable.from([b.config]), { mediaType: b.configDesc.mediaType, digest: b.configDesc.digest, size: b.configDesc.size });
  await dst.putManifest(b.manifest);
  assert.ok(scratchEntries(dir).length > 0, 'scratch in use while open');
  await dst.close();
  assert.is(readFileSync(join(dir, 'index.json'), 'utf8'), before);
  assert.equal(scratchEntries(dir), []);
  await rejects(openOciSource(`${dir}:b`), /no image named "b"/);
  // A new layout that never got a commit is a valid, empty layout.
  const fresh = join(tmp(), 'fresh');
  await (await openOciDestination(`${fresh}:x`)).close();
  assert.equal(indexJson(fresh).manifests, []);
  assert.equal(scratchEntries(fresh), []);
});

test('the scratch of a writer that died is removed by the next one; a live one is kept', async () => {
  const dir = join(tmp(), 'layout');
  await writeImage(await openOciDestination(`${dir}:a`), await makeImage('a'));
  const dead = join(dir, '.pkit', 'tmp', '12345-deadbeef');
  mkdirSync(dead);
  writeFileSync(join(dead, 'blob-1'), 'partial');
  writeFileSync(`${dead}.lock`, '');
  const old = new Date(Date.now() - 3600_000);
  utimesSync(dead, old, old);
  const live = await openOciDestination(`${dir}:b`);
  await live.putBlob(Readable.from([Buffer.from('x')]), { mediaType: 'x' });
  const other = await openOciDestination(`${dir}:c`);
  assert.is(existsSync(dead), false);
  assert.is(scratchEntries(dir).length, 4, 'the two live writers keep their scratch and lock');
  await live.close();
  await other.close();
  assert.equal(scratchEntries(dir), []);
});

test('a destination refuses a non-empty directory that is not a layout, and @N', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'important.txt'), 'x');
  await rejects(openOciDestination(`${dir}:x`), /is not empty and not an OCI image layout \(no oci-layout file\): choose a new or empty directory/);
  assert.equal(readdirSync(dir), ['important.txt'], 'nothing created in a foreign directory');
  await rejects(openOciDestination(`${join(dir, 'important.txt')}:x`), /exists and is not a directory/);
  await rejects(openOciDestination(`${join(dir, 'l')}:@0`), /@0 selects an existing entry; name the image instead/);
});

test('concurrent commits from several processes into one layout keep every entry', async () => {
  const dir = join(tmp(), 'layout');
  const workers = 4;
  const each = 5;
  const results = await Promise.all(Array.from({ length: workers }, (_, w) => runWorker('transport-worker', ['commit', dir, `w${w}`, String(each)])));
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const idx = indexJson(dir);
  const expected = Array.from({ length: workers }, (_, w) => Array.from({ length: each }, (_, i) => `w${w}-${i}`)).flat();
  assert.equal(names(dir).sort(), expected.sort());
  const digests = results.flatMap((r) => r.stdout.trim().split('\n'));
  assert.equal(idx.manifests.map((m) => m.digest).sort(), digests.sort());
  assert.equal(scratchEntries(dir), []);
  for (const n of ['w0-0', 'w3-4']) {
    const src = await openOciSource(`${dir}:${n}`);
    await assertImage(src, await makeImage(n));
  }
});

(HAVE_SKOPEO ? test : test.skip)('skopeo copies what we write byte-identically, and we read what skopeo writes', async () => {
  const base = tmp();
  const ours = join(base, 'ours');
  const img = await makeImage('skopeo');
  const idx = await makeIndex('skopeo-multi');
  await writeImage(await openOciDestination(`${ours}:x`), img);
  await writeIndex(await openOciDestination(`${ours}:multi`), idx);

  const theirs = join(base, 'theirs');
  skopeo('copy', `oci:${ours}:x`, `oci:${theirs}:y`);
  skopeo('copy', '--all', `oci:${ours}:multi`, `oci:${theirs}:m`);
  const entries = indexJson(theirs).manifests;
  assert.equal(entries.map((e) => [e.digest, e.annotations?.[REF_NAME_ANNOTATION]]), [
    [img.manifest.digest, 'y'],
    [idx.index.digest, 'm'],
  ]);
  await checkImage(openOciSource(`${theirs}:y`), img);
  await checkIndex(openOciSource(`${theirs}:m`), idx);

  // skopeo's layout back into ours: the same digests again, and skopeo reads the result.
  const back = join(base, 'back');
  assert.is((await copyRefs(`oci:${theirs}:m`, `oci:${back}:m2`)).digest, idx.index.digest);
  assert.is((await copyRefs(`oci:${theirs}:y`, `oci:${back}:y2`)).digest, img.manifest.digest);
  const raw = skopeo('inspect', '--raw', `oci:${back}:y2`);
  assert.is(digestOf(raw), img.manifest.digest);
  const rawIndex = skopeo('inspect', '--raw', `oci:${back}:m2`);
  assert.is(digestOf(rawIndex), idx.index.digest);
  // Layer bytes too.
  const src = await openOciSource(`${back}:y2`);
  const layer = await readStream(await src.blob(img.layers[1]!.desc));
  assert.ok(layer.equals(img.layers[1]!.bytes));
});

test.run();
