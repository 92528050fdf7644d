// The registry client and the docker transport against the test-bed registries (Debian's
// docker-registry 2.8): the open one (delete enabled) and the htpasswd one. skopeo seeds and
// cross-checks, so both sides are checked against an independent implementation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { digestOf, type Digest } from '../../packages/storage/src/digest.ts';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../packages/storage/src/media-types.ts';
import { closeRegistryConnections, RegistryClient } from '../../packages/storage/src/registry/client.ts';
import {
  deleteImage,
  DockerSource,
  listTags,
  openDockerDestination,
  openDockerSource,
} from '../../packages/storage/src/transports/docker.ts';
import { copyImage } from '../../packages/storage/src/transports/copy.ts';
import type { BlobToPut, ImageDestination, ManifestBlob } from '../../packages/storage/src/transports/types.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = process.env.PKIT_TEST_FIXTURE ?? join(REPO_ROOT, 'test/bed/out/busybox-rootfs.tar');
const REGISTRY = process.env.PKIT_TEST_REGISTRY ?? '127.0.0.1:5100';
const AUTH_REGISTRY = process.env.PKIT_TEST_AUTH_REGISTRY ?? '127.0.0.1:5101';
const AUTH_USER = process.env.PKIT_TEST_AUTH_USER ?? 'pkituser';
const AUTH_PASS = process.env.PKIT_TEST_AUTH_PASS ?? 'pkitpass';

const work = mkdtempSync(join(tmpdir(), 'pkit-e2e-registry-'));
// No auth file of the user running the tests may interfere.
const ENV = { HOME: join(work, 'home') };
const OPEN = { tlsVerify: false, env: ENV, retryDelay: 20 };
const T = { tlsVerify: false, authFile: join(work, 'no-auth.json') };
writeFileSync(T.authFile, '{}');

const unique = (label: string) => `pkit-e2e/${label}-${process.pid}-${randomBytes(3).toString('hex')}`;

function skopeo(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', env: { ...process.env, HOME: ENV.HOME }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Image {
  layer: Buffer;
  layerDigest: Digest;
  config: Buffer;
  configDigest: Digest;
  manifest: Buffer;
  manifestDigest: Digest;
}

/** The busybox fixture as an OCI image: one gzip layer, a config, a manifest. */
function makeImage(tag = 'x'): Image {
  const tar = readFileSync(FIXTURE);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['sh'], Labels: { tag } },
      rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_TAR_GZIP, digest: digestOf(layer), size: layer.length }],
    }),
  );
  return { layer, layerDigest: digestOf(layer), config, configDigest: digestOf(config), manifest, manifestDigest: digestOf(manifest) };
}

const image = makeImage();

/** Writes `img` as an OCI layout and pushes it with skopeo. */
function seedWithSkopeo(img: Image, dest: string): void {
  const dir = mkdtempSync(join(work, 'layout-'));
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  for (const b of [img.layer, img.config, img.manifest]) writeFileSync(join(dir, 'blobs/sha256', digestOf(b).slice(7)), b);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: img.manifestDigest, size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  const r = skopeo(['copy', '--dest-tls-verify=false', '--preserve-digests', `oci:${dir}:latest`, `docker://${dest}`]);
  assert.is(r.code, 0, `skopeo copy: ${r.stderr}`);
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Pushes `img` with our client. */
async function pushImage(c: RegistryClient, repo: string, tag: string, img: Image): Promise<void> {
  await c.putBlob(repo, Readable.from([img.layer]), { digest: img.layerDigest, size: img.layer.length });
  await c.putBlob(repo, Readable.from([img.config]), { digest: img.configDigest, size: img.config.length });
  assert.is(await c.putManifest(repo, tag, img.manifest, OCI_MANIFEST), img.manifestDigest);
}

test.after(async () => {
  await closeRegistryConnections();
  rmSync(work, { recursive: true, force: true });
});

test('the registries answer; ping picks plain http with tls-verify off', async () => {
  const c = new RegistryClient(REGISTRY, OPEN);
  const p = await c.ping();
  assert.is(p.url, `http://${REGISTRY}/`);
  assert.is(p.authScheme, undefined);
  const a = await new RegistryClient(AUTH_REGISTRY, OPEN).ping();
  assert.is(a.authScheme, 'basic');
});

test('an image pushed by skopeo reads back: manifest by tag and digest, blobs, docker source', async () => {
  const repo = unique('seeded');
  seedWithSkopeo(image, `${REGISTRY}/${repo}:1`);
  const c = new RegistryClient(REGISTRY, OPEN);
  const m = await c.getManifest(repo, '1');
  assert.is(m.digest, image.manifestDigest);
  assert.is(m.mediaType, OCI_MANIFEST);
  assert.ok(m.bytes.equals(image.manifest));
  const byDigest = await c.getManifest(repo, image.manifestDigest);
  assert.ok(byDigest.bytes.equals(image.manifest));
  const head = await c.headManifest(repo, '1');
  assert.is(head?.digest, image.manifestDigest);
  const layer = await readAll(await c.getBlob(repo, { digest: image.layerDigest, size: image.layer.length }));
  assert.is(digestOf(layer), image.layerDigest);

  const src = await openDockerSource(`${REGISTRY}/${repo}:1`, T);
  assert.is(src.name, `docker://${REGISTRY}/${repo}:1`);
  const top = await src.manifest();
  assert.is(top.digest, image.manifestDigest);
  const cfg = await readAll(await src.blob({ mediaType: OCI_CONFIG, digest: image.configDigest, size: image.config.length }));
  assert.ok(cfg.equals(image.config));
  assert.equal(await src.tags!(), ['1']);
  await src.close();
});

test('an image pushed by us (monolithic and chunked blobs) reads back with skopeo', async () => {
  const repo = unique('pushed');
  // A small chunk size forces the chunked PATCH path for the 1 MB layer.
  const c = new RegistryClient(REGISTRY, { ...OPEN, chunkSize: 256 * 1024, monolithicMax: 64 * 1024 });
  const up = await c.putBlob(repo, Readable.from([image.layer]), {});
  assert.equal(up, { digest: image.layerDigest, size: image.layer.length });
  await c.putBlob(repo, Readable.from([image.config]), { digest: image.configDigest, size: image.config.length });
  await c.putManifest(repo, 'v1', image.manifest, OCI_MANIFEST);
  const raw = skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${REGISTRY}/${repo}:v1`]);
  assert.is(raw.code, 0, raw.stderr);
  assert.is(raw.stdout, image.manifest.toString());
  const dir = join(work, `pulled-${randomBytes(3).toString('hex')}`);
  const pull = skopeo(['copy', '--src-tls-verify=false', `docker://${REGISTRY}/${repo}:v1`, `dir:${dir}`]);
  assert.is(pull.code, 0, pull.stderr);
  assert.ok(readFileSync(join(dir, image.layerDigest.slice(7))).equals(image.layer));
});

test('the docker destination: HEAD skip, put, commit by tag and by digest', async () => {
  const repo = unique('dest');
  const dst = await openDockerDestination(`${REGISTRY}/${repo}:t1`, T);
  assert.ok(dst.acceptsIndex);
  assert.ok(dst.manifestTypes.includes(OCI_MANIFEST));
  const layerDesc = { mediaType: OCI_LAYER_TAR_GZIP, digest: image.layerDigest, size: image.layer.length };
  assert.is(await dst.hasBlob(layerDesc), false);
  const stored = await dst.putBlob(Readable.from([image.layer]), layerDesc);
  assert.equal(stored, { digest: image.layerDigest, size: image.layer.length });
  assert.is(await dst.hasBlob(layerDesc), true, 'HEAD finds it now: the copy skips it');
  await dst.putBlob(Readable.from([image.config]), { mediaType: OCI_CONFIG, digest: image.configDigest, size: image.config.length });
  const top: ManifestBlob = { bytes: image.manifest, mediaType: OCI_MANIFEST, digest: image.manifestDigest };
  await dst.putManifest(top);
  const c = new RegistryClient(REGISTRY, OPEN);
  assert.is(await c.headManifest(repo, 't1'), undefined, 'putManifest stores by digest, no tag yet');
  assert.is((await c.headManifest(repo, image.manifestDigest))?.digest, image.manifestDigest);
  await dst.commit(top);
  await dst.close();
  assert.equal(await c.listTags(repo), ['t1']);
  const byDigest = await openDockerDestination(`${REGISTRY}/${repo}@${image.manifestDigest}`, T);
  await byDigest.commit(top);
  const wrong = await openDockerDestination(`${REGISTRY}/${repo}@${digestOf('other')}`, T);
  try {
    await wrong.commit(top);
    assert.unreachable('a digest reference must match');
  } catch (err) {
    assert.match((err as Error).message, /not the digest in the reference/);
  }
});

test('cross-repository mount: 201 from the registry, and through the destination with a docker source', async () => {
  const from = unique('mount-src');
  const c = new RegistryClient(REGISTRY, OPEN);
  await pushImage(c, from, 'a', image);
  const to1 = unique('mount-dst');
  assert.is(await c.hasBlob(to1, image.layerDigest), undefined);
  assert.is(await c.mountBlob(to1, image.layerDigest, from), true);
  assert.is(await c.hasBlob(to1, image.layerDigest), image.layer.length);
  // A blob the source repository does not have: 202, the upload is cancelled, false.
  assert.is(await c.mountBlob(to1, digestOf('not there'), from), false);

  const to2 = unique('mount-dst');
  const src = await openDockerSource(`${REGISTRY}/${from}:a`, T);
  assert.ok(src instanceof DockerSource);
  const dst = await openDockerDestination(`${REGISTRY}/${to2}:b`, T);
  assert.is(await dst.hasBlob({ mediaType: OCI_CONFIG, digest: image.configDigest, size: image.config.length }, src), true);
  assert.is(await c.hasBlob(to2, image.configDigest), image.config.length);
});

test('copyImage docker -> docker on one registry mounts the blobs and keeps the digest', async () => {
  const from = unique('copy-src');
  const to = unique('copy-dst');
  const c = new RegistryClient(REGISTRY, OPEN);
  await pushImage(c, from, 'v1', image);
  const src = await openDockerSource(`${REGISTRY}/${from}:v1`, T);
  const real = await openDockerDestination(`${REGISTRY}/${to}:v2`, T);
  let uploads = 0;
  const dst: ImageDestination = Object.assign(Object.create(real) as ImageDestination, {
    putBlob: (stream: Readable, blob: BlobToPut) => {
      uploads++;
      return real.putBlob(stream, blob);
    },
  });
  const r = await copyImage(src, dst);
  await dst.close();
  await src.close();
  assert.is(r.manifest.digest, image.manifestDigest);
  assert.is((await c.headManifest(to, 'v2'))?.digest, image.manifestDigest);
  assert.is(uploads, 0, 'layer and config mounted, not uploaded');
  assert.is(await c.hasBlob(to, image.layerDigest), image.layer.length);
});

test('tags are listed (several, sorted by the registry) through the client and listTags()', async () => {
  const repo = unique('tags');
  const c = new RegistryClient(REGISTRY, OPEN);
  await pushImage(c, repo, 'one', image);
  for (const t of ['two', 'three']) await c.putManifest(repo, t, image.manifest, OCI_MANIFEST);
  assert.equal((await c.listTags(repo)).sort(), ['one', 'three', 'two']);
  assert.equal((await listTags(`docker://${REGISTRY}/${repo}`, T)).sort(), ['one', 'three', 'two']);
});

test('delete resolves the tag to its digest and deletes the manifest', async () => {
  const repo = unique('delete');
  const c = new RegistryClient(REGISTRY, OPEN);
  await pushImage(c, repo, 'gone', image);
  const d = await deleteImage(`${REGISTRY}/${repo}:gone`, T);
  assert.is(d, image.manifestDigest);
  try {
    await c.getManifest(repo, 'gone');
    assert.unreachable('deleted');
  } catch (err) {
    assert.match((err as Error).message, new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/${repo}:gone: manifest unknown$`));
  }
  try {
    await deleteImage(`${REGISTRY}/${repo}:never`, T);
    assert.unreachable('unknown tag');
  } catch (err) {
    assert.match((err as Error).message, /:never: manifest unknown$/);
  }
});

test('unknown tag: one line naming the reference', async () => {
  const c = new RegistryClient(REGISTRY, OPEN);
  try {
    await c.getManifest('busybox', 'nope');
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, `${REGISTRY}/busybox:nope: manifest unknown`);
  }
});

test('basic auth registry: right credentials push and pull, wrong ones give a clear error', async () => {
  const repo = unique('auth');
  const good = new RegistryClient(AUTH_REGISTRY, { ...OPEN, creds: { username: AUTH_USER, password: AUTH_PASS } });
  await pushImage(good, repo, 'v1', image);
  assert.is((await good.getManifest(repo, 'v1')).digest, image.manifestDigest);
  const bad = new RegistryClient(AUTH_REGISTRY, { ...OPEN, creds: { username: AUTH_USER, password: 'wrong' } });
  try {
    await bad.getManifest(repo, 'v1');
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, `authentication to ${AUTH_REGISTRY} failed: invalid username or password (use --creds or "pcopy login ${AUTH_REGISTRY}")`);
  }
  const anon = await openDockerSource(`${AUTH_REGISTRY}/${repo}:v1`, T);
  try {
    await anon.manifest();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /^authentication required for 127\.0\.0\.1:\d+\/pkit-e2e\/auth-[^ ]+ \(use --creds or "pcopy login /);
  }
  // Credentials from an auth file given with --authfile.
  const authFile = join(work, 'auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from(`${AUTH_USER}:${AUTH_PASS}`).toString('base64') } } }));
  const viaFile = await openDockerSource(`${AUTH_REGISTRY}/${repo}:v1`, { tlsVerify: false, authFile });
  assert.is((await viaFile.manifest()).digest, image.manifestDigest);
});

test('https without --tls-verify=false to a plain-http registry says what to do', async () => {
  const c = new RegistryClient(REGISTRY, { env: ENV, registriesConf: { files: [], mainPath: '', unqualifiedSearchRegistries: [], shortNameMode: 'enforcing', aliases: {}, registries: [], credentialHelpers: [] } });
  try {
    await c.ping();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /^cannot reach registry 127\.0\.0\.1:5100 over HTTPS: .*use --tls-verify=false, or set insecure = true for it in registries\.conf$/);
  }
});

test('an unreachable registry: connection refused', async () => {
  const c = new RegistryClient('127.0.0.1:5999', OPEN);
  try {
    await c.ping();
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, 'cannot reach registry 127.0.0.1:5999: connection refused');
  }
});

test.run();
