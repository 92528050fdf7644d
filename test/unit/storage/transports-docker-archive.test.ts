import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Extract } from 'tar-stream';
import { digestOf, type Digest } from '../../../packages/storage/src/digest.ts';
import { DOCKER_CONFIG, DOCKER_LAYER_TAR, DOCKER_LAYER_TAR_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../../packages/storage/src/media-types.ts';
import type { Descriptor } from '../../../packages/storage/src/oci-types.ts';
import {
  legacyLayers,
  openDockerArchiveDestination,
  openDockerArchiveSource,
  parseDockerArchiveSpec,
} from '../../../packages/storage/src/transports/docker-archive.ts';
import type { ImageSource, ManifestBlob } from '../../../packages/storage/src/transports/types.ts';
import { rejects, tempDir } from './helpers.ts';
import { buildTar, dir, file, symlink, type TarEntry } from './tar-fixtures.ts';

const run = promisify(execFile);
const { extract } = createRequire(new URL('../../../packages/storage/package.json', import.meta.url))('tar-stream') as { extract: () => Extract };
// skopeo is part of the test bed (scripts/setup.sh): its absence is a failure, not a skip.
const requireSkopeo = () => assert.is(spawnSync('skopeo', ['--version']).status, 0, 'skopeo is not installed: run scripts/setup.sh');

interface TestImage {
  config: Buffer;
  layers: Buffer[];
  manifest: ManifestBlob;
}

async function makeImage(seed = 'a'): Promise<TestImage> {
  const l1 = await buildTar([dir('etc'), file('etc/hostname', `host-${seed}\n`), file('etc/big', Buffer.alloc(300_000, seed))]);
  const l2 = await buildTar([dir('app'), file('app/run.sh', `#!/bin/sh\necho ${seed}\n`, { mode: 0o755 }), symlink('app/latest', 'run.sh')]);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-02T03:04:05Z',
      config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/app/run.sh'], Labels: { 'a&b': '<x>' } },
      rootfs: { type: 'layers', diff_ids: [digestOf(l1), digestOf(l2)] },
      history: [{ created_by: 'layer 1' }, { created_by: 'layer 2' }],
    }),
  );
  const m = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, digest: digestOf(config), size: config.length },
    layers: [l1, l2].map((l) => ({ mediaType: DOCKER_LAYER_TAR, digest: digestOf(l), size: l.length })),
  };
  const bytes = Buffer.from(JSON.stringify(m));
  return { config, layers: [l1, l2], manifest: { bytes, mediaType: DOCKER_MANIFEST, digest: digestOf(bytes) } };
}

/** Stores an image through the destination API as the copy routine would. */
async function writeArchive(spec: string, img: TestImage): Promise<void> {
  const dst = await openDockerArchiveDestination(spec);
  try {
    assert.is(dst.requiredCompression, 'none');
    assert.equal(dst.manifestTypes, [DOCKER_MANIFEST]);
    assert.is(dst.acceptsIndex, false);
    const cfg = await dst.putBlob(Readable.from([img.config]), { mediaType: DOCKER_CONFIG, digest: digestOf(img.config), size: img.config.length });
    assert.equal(cfg, { digest: digestOf(img.config), size: img.config.length });
    // The first layer with its digest, the second as a decompressing copy sends it: no digest.
    await dst.putBlob(Readable.from([img.layers[0]!]), { mediaType: DOCKER_LAYER_TAR, digest: digestOf(img.layers[0]!) });
    const second = await dst.putBlob(Readable.from(chunks(img.layers[1]!, 1000)), { mediaType: DOCKER_LAYER_TAR });
    assert.equal(second, { digest: digestOf(img.layers[1]!), size: img.layers[1]!.length });
    await dst.commit(img.manifest);
  } finally {
    await dst.close();
  }
}

function chunks(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

async function readStream(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

interface ListedEntry {
  type: string;
  mode: number;
  content?: Buffer;
  linkname?: string;
}

/** name -> entry of a tar file (small test archives only). */
async function listTar(path: string): Promise<Map<string, ListedEntry>> {
  const out = new Map<string, ListedEntry>();
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const content = await readStream(entry as unknown as Readable);
      out.set(h.name, { type: h.type ?? 'file', mode: h.mode ?? 0, ...(h.type === 'file' ? { content } : {}), ...(h.linkname ? { linkname: h.linkname } : {}) });
    }
  })();
  await pipeline(Readable.from([readFileSync(path)]), ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

function hex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** Uses a private TMPDIR for the duration of `fn`, so temp dirs left behind can be counted. */
async function withTmpdir<T>(fn: (tmp: string) => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  const tmp = tempDir('pkit-da-tmp');
  process.env.TMPDIR = tmp;
  try {
    return await fn(tmp);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function checkSourceMatches(src: ImageSource, img: TestImage): Promise<void> {
  const top = await src.manifest();
  assert.is(top.mediaType, DOCKER_MANIFEST);
  assert.is(top.digest, digestOf(top.bytes));
  const m = JSON.parse(top.bytes.toString()) as { mediaType: string; config: Descriptor; layers: Descriptor[] };
  assert.is(m.mediaType, DOCKER_MANIFEST);
  assert.equal(m.config, { mediaType: DOCKER_CONFIG, digest: digestOf(img.config), size: img.config.length });
  assert.equal(
    m.layers,
    img.layers.map((l) => ({ mediaType: DOCKER_LAYER_TAR, digest: digestOf(l), size: l.length })),
  );
  assert.ok((await readStream(await src.blob(m.config))).equals(img.config), 'config bytes');
  for (const [i, l] of m.layers.entries()) {
    assert.ok((await readStream(await src.blob(l))).equals(img.layers[i]!), `layer ${i} bytes`);
  }
  // Read twice, in parallel: random access, nothing consumed.
  const again = await Promise.all(m.layers.map(async (l) => readStream(await src.blob(l))));
  assert.ok(again[1]!.equals(img.layers[1]!));
  assert.is((await src.manifest(top.digest)).digest, top.digest);
  await rejects(src.manifest(`sha256:${'0'.repeat(64)}`), /not in the archive/);
  await rejects(src.blob({ mediaType: DOCKER_LAYER_TAR, digest: `sha256:${'1'.repeat(64)}`, size: 1 }), /not part of the image/);
}

// --- the reference ---------------------------------------------------------------------------

test('spec: FILE, FILE:NAME[:TAG] (tag defaults to latest), FILE:@N; digests refused', () => {
  assert.equal(parseDockerArchiveSpec('/tmp/x.tar'), { path: '/tmp/x.tar' });
  assert.equal(parseDockerArchiveSpec('x.tar:app'), { path: 'x.tar', ref: { registry: 'docker.io', repository: 'library/app', tag: 'latest' } });
  assert.equal(parseDockerArchiveSpec('x.tar:quay.io/a/b:2'), { path: 'x.tar', ref: { registry: 'quay.io', repository: 'a/b', tag: '2' } });
  assert.equal(parseDockerArchiveSpec('x.tar:@3'), { path: 'x.tar', index: 3 });
  assert.throws(() => parseDockerArchiveSpec('x.tar:@x'), /is not @N/);
  assert.throws(() => parseDockerArchiveSpec(`x.tar:app@sha256:${'a'.repeat(64)}`), /by tag, not by digest/);
  assert.throws(() => parseDockerArchiveSpec(':app'), /expected docker-archive:FILE/);
  assert.throws(() => parseDockerArchiveSpec('x.tar:Bad'), /lowercase/);
});

// --- destination -> source --------------------------------------------------------------------

test('round trip: an image written through the destination reads back with equal bytes and digests', async () => {
  const work = tempDir('pkit-da');
  try {
    const img = await makeImage();
    const path = join(work, 'img.tar');
    await withTmpdir(async (tmp) => {
      await writeArchive(`${path}:app:1`, img);
      assert.equal(readdirSync(tmp), [], 'the staging dir is removed on close');
      const src = await openDockerArchiveSource(`${path}:app:1`);
      try {
        await checkSourceMatches(src, img);
        assert.equal(await src.tags!(), ['docker.io/library/app:1']);
        assert.equal(readdirSync(tmp), [], 'a regular file is read in place: nothing extracted');
      } finally {
        await src.close();
      }
    });
    assert.equal(readdirSync(work), ['img.tar'], 'no temp file left next to the archive');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('destination layout: <hex>.tar layers, <hex>.json config, legacy dirs, manifest.json, repositories', async () => {
  const work = tempDir('pkit-da');
  try {
    const img = await makeImage();
    const path = join(work, 'img.tar');
    await writeArchive(`${path}:quay.io/org/app:2`, img);
    const tar = await listTar(path);
    const [d1, d2] = img.layers.map((l) => hex(digestOf(l)));
    const cfg = hex(digestOf(img.config));
    const legacy = legacyLayers(img.layers.map((l) => digestOf(l)), img.config);
    assert.equal([...tar.keys()], [
      `${d1}.tar`,
      `${d2}.tar`,
      `${cfg}.json`,
      ...legacy.flatMap((l) => [`${l.id}/layer.tar`, `${l.id}/VERSION`, `${l.id}/json`]),
      'manifest.json',
      'repositories',
    ]);
    assert.ok(tar.get(`${d1}.tar`)!.content!.equals(img.layers[0]!));
    assert.is(tar.get(`${d1}.tar`)!.mode, 0o444);
    assert.ok(tar.get(`${cfg}.json`)!.content!.equals(img.config));
    assert.equal(JSON.parse(tar.get('manifest.json')!.content!.toString()), [
      { Config: `${cfg}.json`, RepoTags: ['quay.io/org/app:2'], Layers: [`${d1}.tar`, `${d2}.tar`] },
    ]);
    assert.equal(JSON.parse(tar.get('repositories')!.content!.toString()), { 'quay.io/org/app': { '2': legacy[1]!.id } });
    assert.is(tar.get(`${legacy[0]!.id}/layer.tar`)!.linkname, `../${d1}.tar`);
    assert.is(tar.get(`${legacy[0]!.id}/VERSION`)!.content!.toString(), '1.0');
    const topJson = JSON.parse(tar.get(`${legacy[1]!.id}/json`)!.content!.toString());
    assert.is(topJson.parent, legacy[0]!.id);
    assert.is(topJson.id, legacy[1]!.id);
    assert.is(topJson.container, null);
    assert.equal(topJson.config.Labels, { 'a&b': '<x>' });
    assert.match(tar.get(`${legacy[1]!.id}/json`)!.content!.toString(), /\\u0026b":"\\u003cx\\u003e/, 'Go-style HTML escaping');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('destination: untagged archive has empty RepoTags and no repositories; an existing file is replaced', async () => {
  const work = tempDir('pkit-da');
  try {
    const path = join(work, 'img.tar');
    writeFileSync(path, 'old content');
    await writeArchive(path, await makeImage('b'));
    const tar = await listTar(path);
    assert.equal(JSON.parse(tar.get('manifest.json')!.content!.toString())[0].RepoTags, []);
    assert.not.ok(tar.has('repositories'));
    assert.equal(readdirSync(work), ['img.tar']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('destination errors: bad digest, compressed layer, index, @N, missing blob, missing directory; close without commit', async () => {
  const work = tempDir('pkit-da');
  try {
    const img = await makeImage();
    const path = join(work, 'img.tar');
    await rejects(openDockerArchiveDestination(`${path}:@0`), /cannot use @0/);
    await rejects(openDockerArchiveDestination(join(work, 'nodir', 'x.tar')), /directory .*nodir does not exist/);
    await rejects(openDockerArchiveDestination(work), /is a directory/);
    await withTmpdir(async (tmp) => {
      const dst = await openDockerArchiveDestination(path);
      await rejects(dst.putBlob(Readable.from([Buffer.from('not the layer')]), { mediaType: DOCKER_LAYER_TAR, digest: digestOf(img.layers[0]!) }), /digest mismatch|size mismatch/);
      assert.not.ok(await dst.hasBlob({ mediaType: DOCKER_LAYER_TAR, digest: digestOf(img.layers[0]!), size: img.layers[0]!.length }));
      await rejects(dst.putBlob(Readable.from([gzipSync(img.layers[0]!)]), { mediaType: DOCKER_LAYER_TAR_GZIP }), /stores layers uncompressed/);
      await rejects(dst.putManifest(img.manifest), /single images, not an index/);
      await dst.putBlob(Readable.from([img.config]), { mediaType: DOCKER_CONFIG });
      await dst.putBlob(Readable.from([img.layers[0]!]), { mediaType: DOCKER_LAYER_TAR });
      assert.ok(await dst.hasBlob({ mediaType: DOCKER_LAYER_TAR, digest: digestOf(img.layers[0]!), size: img.layers[0]!.length }));
      await rejects(dst.commit(img.manifest), new RegExp(`layer ${digestOf(img.layers[1]!)} was not stored`));
      await dst.close();
      assert.not.ok(existsSync(path), 'nothing written without a commit');
      assert.equal(readdirSync(tmp), [], 'staging removed');
    });
    assert.equal(readdirSync(work), []);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('destination: streams to a FIFO (as to /dev/stdout)', async () => {
  const work = tempDir('pkit-da');
  try {
    const fifo = join(work, 'out.fifo');
    assert.is(spawnSync('mkfifo', [fifo]).status, 0);
    const img = await makeImage('c');
    const collected = join(work, 'collected.tar');
    const reader = run('sh', ['-c', `cat "${fifo}" > "${collected}"`]);
    await writeArchive(`${fifo}:app`, img);
    await reader;
    const tar = await listTar(collected);
    assert.equal(JSON.parse(tar.get('manifest.json')!.content!.toString())[0].RepoTags, ['docker.io/library/app:latest']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

// --- source over hand-made archives ----------------------------------------------------------

interface ArchiveImage {
  config: Buffer;
  layers: Buffer[];
  names?: string[];
  tags?: string[];
}

async function handMadeArchive(path: string, images: ArchiveImage[], extra: TarEntry[] = [], manifestOverride?: unknown): Promise<void> {
  const entries: TarEntry[] = [...extra];
  const items = images.map((img, i) => {
    const names = img.names ?? img.layers.map((_l, j) => `img${i}/layer${j}.tar`);
    img.layers.forEach((l, j) => entries.push(file(names[j]!, l)));
    entries.push(file(`img${i}/config.json`, img.config));
    return { Config: `img${i}/config.json`, RepoTags: img.tags ?? null, Layers: names };
  });
  entries.push(file('manifest.json', JSON.stringify(manifestOverride ?? items)));
  writeFileSync(path, await buildTar(entries));
}

function configFor(layers: Buffer[], tag = 'x'): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { tag } }, rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l)) } }));
}

test('source: a gzip-compressed layer file gets the gzip media type and the digest of the file', async () => {
  const work = tempDir('pkit-da');
  try {
    const plain = await buildTar([file('a', 'a')]);
    const other = await buildTar([file('b', 'b')]);
    const gz = gzipSync(other);
    const path = join(work, 'gz.tar');
    await handMadeArchive(path, [{ config: configFor([plain, other]), layers: [plain, gz], tags: ['gz:1'] }]);
    const src = await openDockerArchiveSource(path);
    try {
      const m = JSON.parse((await src.manifest()).bytes.toString());
      assert.equal(m.layers, [
        { mediaType: DOCKER_LAYER_TAR, digest: digestOf(plain), size: plain.length },
        { mediaType: DOCKER_LAYER_TAR_GZIP, digest: digestOf(gz), size: gz.length },
      ]);
      assert.ok((await readStream(await src.blob(m.layers[1]))).equals(gz));
      assert.equal(await src.tags!(), ['gz:1']);
    } finally {
      await src.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('source: choosing an image by tag or @N; several images need one', async () => {
  const work = tempDir('pkit-da');
  try {
    const la = await buildTar([file('a', 'a')]);
    const lb = await buildTar([file('b', 'b')]);
    const path = join(work, 'two.tar');
    await handMadeArchive(path, [
      { config: configFor([la], 'first'), layers: [la], tags: ['docker.io/library/one:1', 'one:latest'] },
      { config: configFor([lb], 'second'), layers: [lb], tags: ['quay.io/x/two:2'] },
    ]);
    const label = async (spec: string) => {
      const src = await openDockerArchiveSource(spec);
      try {
        const m = JSON.parse((await src.manifest()).bytes.toString());
        return JSON.parse((await readStream(await src.blob(m.config))).toString()).config.Labels.tag as string;
      } finally {
        await src.close();
      }
    };
    assert.is(await label(`${path}:one:1`), 'first');
    assert.is(await label(`${path}:one`), 'first', 'a bare name means :latest, compared normalised');
    assert.is(await label(`${path}:quay.io/x/two:2`), 'second');
    assert.is(await label(`${path}:@1`), 'second');
    assert.is(await label(`${path}:@0`), 'first');
    await rejects(openDockerArchiveSource(path), /holds 2 images; name one as .*docker.io\/library\/one:1, one:latest, quay.io\/x\/two:2/);
    const err = await rejects(openDockerArchiveSource(`${path}:three:3`), /no image tagged docker.io\/library\/three:3 in the archive; it has: docker.io\/library\/one:1, one:latest, quay.io\/x\/two:2$/);
    assert.is((err as { code?: string }).code, 'PKIT_NOT_FOUND');
    await rejects(openDockerArchiveSource(`${path}:@2`), /no image @2: the archive holds 2 images \(@0..@1\)/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('source errors: no manifest.json, missing layer or config, layer count, diffID, not a tar, no file', async () => {
  const work = tempDir('pkit-da');
  try {
    const la = await buildTar([file('a', 'a')]);
    const p = (n: string) => join(work, n);
    await withTmpdir(async (tmp) => {
      writeFileSync(p('nomanifest.tar'), await buildTar([file('something', 'x')]));
      await rejects(openDockerArchiveSource(p('nomanifest.tar')), /no manifest.json in the archive: not a "docker save" archive$/);
      writeFileSync(p('oci.tar'), await buildTar([file('oci-layout', '{}'), file('index.json', '{}')]));
      await rejects(openDockerArchiveSource(p('oci.tar')), /it is an OCI layout: use oci-archive:FILE/);

      await handMadeArchive(p('nolayer.tar'), [{ config: configFor([la]), layers: [] }], [], [{ Config: 'img0/config.json', RepoTags: null, Layers: ['gone/layer.tar'] }]);
      await rejects(openDockerArchiveSource(p('nolayer.tar')), /the layer file "gone\/layer.tar" listed in manifest.json is missing from the archive/);
      await handMadeArchive(p('noconfig.tar'), [{ config: configFor([la]), layers: [la] }], [], [{ Config: 'nope.json', RepoTags: null, Layers: ['img0/layer0.tar'] }]);
      await rejects(openDockerArchiveSource(p('noconfig.tar')), /config file "nope.json" .* is missing/);
      await handMadeArchive(p('count.tar'), [{ config: configFor([la, la]), layers: [la] }]);
      await rejects(openDockerArchiveSource(p('count.tar')), /manifest.json lists 1 layers but the config 2/);
      await handMadeArchive(p('diffid.tar'), [{ config: configFor([la]), layers: [await buildTar([file('z', 'z')])] }]);
      await rejects(openDockerArchiveSource(p('diffid.tar')), /hashes to sha256:.*but the config lists/);
      await handMadeArchive(p('badjson.tar'), [], [], 'x');
      await rejects(openDockerArchiveSource(p('badjson.tar')), /manifest.json: expected an array of images/);

      writeFileSync(p('garbage.tar'), Buffer.alloc(2048, 'x'));
      await rejects(openDockerArchiveSource(p('garbage.tar')), /not a valid tar archive/);
      writeFileSync(p('empty.tar'), '');
      await rejects(openDockerArchiveSource(p('empty.tar')), /not a tar archive \(the file is empty\)/);
      const good = await buildTar([file('manifest.json', '[]'), file('big', Buffer.alloc(10000))]);
      writeFileSync(p('truncated.tar'), good.subarray(0, 3000));
      await rejects(openDockerArchiveSource(p('truncated.tar')), /truncated/);
      await rejects(openDockerArchiveSource(p('missing.tar')), /missing.tar does not exist/);
      await rejects(openDockerArchiveSource(work), /is a directory/);
      assert.equal(readdirSync(tmp), [], 'no temp dirs left after failures');
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('source: docker save legacy layout (<id>/layer.tar, a duplicate layer as a symlink) and long names', async () => {
  const work = tempDir('pkit-da');
  try {
    const la = await buildTar([file('a', 'a')]);
    const lb = await buildTar([file('b', 'b')]);
    const longDir = `${'d'.repeat(120)}`;
    const path = join(work, 'legacy.tar');
    await handMadeArchive(
      path,
      [{ config: configFor([la, lb, la]), layers: [], tags: ['legacy:1'] }],
      [file(`${longDir}/layer.tar`, la), file('./222/layer.tar', lb), dir('333'), symlink('333/layer.tar', `../${longDir}/layer.tar`)],
      [{ Config: 'img0/config.json', RepoTags: ['legacy:1'], Layers: [`${longDir}/layer.tar`, '222/layer.tar', '333/layer.tar'] }],
    );
    const src = await openDockerArchiveSource(path);
    try {
      const m = JSON.parse((await src.manifest()).bytes.toString());
      assert.equal(m.layers.map((l: Descriptor) => l.digest), [digestOf(la), digestOf(lb), digestOf(la)]);
      assert.ok((await readStream(await src.blob(m.layers[2]))).equals(la));
      assert.ok((await readStream(await src.blob(m.layers[1]))).equals(lb));
    } finally {
      await src.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('source: a FIFO and a gzip-compressed archive are extracted to a private temp dir, removed on close', async () => {
  const work = tempDir('pkit-da');
  try {
    const img = await makeImage('f');
    const path = join(work, 'img.tar');
    await writeArchive(`${path}:fifo:1`, img);
    const fifo = join(work, 'in.fifo');
    assert.is(spawnSync('mkfifo', [fifo]).status, 0);
    await withTmpdir(async (tmp) => {
      const writer = pipeline(Readable.from(chunks(readFileSync(path), 4096)), createWriteStream(fifo));
      const src = await openDockerArchiveSource(fifo);
      await writer;
      try {
        assert.is(readdirSync(tmp).length, 1, 'one private extraction dir');
        await checkSourceMatches(src, img);
        assert.equal(await src.tags!(), ['docker.io/library/fifo:1']);
      } finally {
        await src.close();
      }
      assert.equal(readdirSync(tmp), []);

      writeFileSync(join(work, 'img.tar.gz'), gzipSync(readFileSync(path)));
      const gz = await openDockerArchiveSource(`${join(work, 'img.tar.gz')}:fifo:1`);
      try {
        await checkSourceMatches(gz, img);
      } finally {
        await gz.close();
      }
      assert.equal(readdirSync(tmp), []);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

// --- interoperability with skopeo ------------------------------------------------------------

/** A tiny OCI layout (one plain and one gzip layer) written by hand. */
async function ociLayout(path: string): Promise<{ layers: Buffer[]; config: Buffer }> {
  const l1 = await buildTar([dir('bin'), file('bin/tool', 'tool\n', { mode: 0o755 })]);
  const l2 = await buildTar([file('readme', 'hello from layer 2\n')]);
  const gz2 = gzipSync(l2);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/tool'] }, rootfs: { type: 'layers', diff_ids: [digestOf(l1), digestOf(l2)] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
      layers: [
        { mediaType: OCI_LAYER_TAR, digest: digestOf(l1), size: l1.length },
        { mediaType: OCI_LAYER_TAR_GZIP, digest: digestOf(gz2), size: gz2.length },
      ],
    }),
  );
  const blobs = join(path, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  for (const b of [l1, gz2, config, manifest]) writeFileSync(join(blobs, hex(digestOf(b))), b);
  writeFileSync(join(path, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(path, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, digest: digestOf(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'x' } }],
    }),
  );
  return { layers: [l1, l2], config };
}

test('skopeo reads what we write: inspect and copy to an OCI layout keep the layers and diffIDs', async () => {
  requireSkopeo();
  const work = tempDir('pkit-da');
  try {
    const img = await makeImage('s');
    const path = join(work, 'img.tar');
    await writeArchive(`${path}:app:1`, img);
    const diffIDs = img.layers.map((l) => digestOf(l));

    const { stdout } = await run('skopeo', ['inspect', `docker-archive:${path}`]);
    const info = JSON.parse(stdout);
    assert.equal(info.Layers, diffIDs);
    assert.is(info.Architecture, 'amd64');
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${path}`])).stdout);
    assert.is(raw.config.digest, digestOf(img.config));

    const oci = join(work, 'oci');
    await run('skopeo', ['copy', '-q', `docker-archive:${path}:app:1`, `oci:${oci}:x`]);
    const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(oci, 'blobs', 'sha256', hex(index.manifests[0].digest)), 'utf8'));
    const config = JSON.parse(readFileSync(join(oci, 'blobs', 'sha256', hex(manifest.config.digest)), 'utf8'));
    assert.equal(config.rootfs.diff_ids, diffIDs);
    assert.equal(config.config.Labels, { 'a&b': '<x>' });
    // skopeo's oci: destination may compress the layers on the way: compare the tars.
    manifest.layers.forEach((l: Descriptor, i: number) => {
      const blob = readFileSync(join(oci, 'blobs', 'sha256', hex(l.digest)));
      const tar = l.mediaType === OCI_LAYER_TAR_GZIP ? gunzipSync(blob) : blob;
      assert.ok(tar.equals(img.layers[i]!), `layer ${i} bytes`);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('we read what skopeo writes, and write the same archive content for the same image', async () => {
  requireSkopeo();
  const work = tempDir('pkit-da');
  try {
    const oci = join(work, 'oci');
    const { layers, config } = await ociLayout(oci);
    const theirs = join(work, 'skopeo.tar');
    await run('skopeo', ['copy', '-q', `oci:${oci}:x`, `docker-archive:${theirs}:name:tag`]);

    const src = await openDockerArchiveSource(`${theirs}:name:tag`);
    const ours = join(work, 'ours.tar');
    try {
      assert.equal(await src.tags!(), ['docker.io/library/name:tag']);
      const top = await src.manifest();
      const m = JSON.parse(top.bytes.toString());
      assert.equal(m.config, { mediaType: DOCKER_CONFIG, digest: digestOf(config), size: config.length });
      // skopeo stores layers uncompressed: the digests are the diffIDs.
      assert.equal(m.layers, layers.map((l) => ({ mediaType: DOCKER_LAYER_TAR, digest: digestOf(l), size: l.length })));
      for (const [i, l] of m.layers.entries()) assert.ok((await readStream(await src.blob(l))).equals(layers[i]!));

      // Copy it back out through our destination, as pcopy would (no conversion needed).
      const dst = await openDockerArchiveDestination(`${ours}:name:tag`);
      try {
        for (const d of [m.config, ...m.layers] as Descriptor[]) await dst.putBlob(await src.blob(d), { mediaType: d.mediaType, digest: d.digest, size: d.size });
        await dst.commit(top);
      } finally {
        await dst.close();
      }
    } finally {
      await src.close();
    }
    const a = await listTar(theirs);
    const b = await listTar(ours);
    assert.equal([...b.keys()].sort(), [...a.keys()].sort(), 'same file names (legacy ids included)');
    for (const [name, e] of a) {
      const o = b.get(name)!;
      assert.is(o.type, e.type, name);
      if (e.content) assert.ok(o.content!.equals(e.content), `${name}: same content`);
      assert.is(o.linkname, e.linkname, name);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
