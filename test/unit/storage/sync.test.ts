// pcopy sync's library: the plan (skopeo sync's naming, tag listing, dir trees) and the run
// (copies in order, skip when the destination already has the image, --keep-going).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import { OCI_MANIFEST } from '../../../packages/storage/src/media-types.ts';
import { closeRegistryConnections } from '../../../packages/storage/src/registry/client.ts';
import { openDirDestination } from '../../../packages/storage/src/transports/dir.ts';
import type { CopyResult } from '../../../packages/storage/src/transports/copy.ts';
import type { CopyByReferenceOptions } from '../../../packages/storage/src/transports/index.ts';
import { planSync, runSync, syncFailureMessage, syncSummaryLine, type PlanSyncOptions, type SyncItem } from '../../../packages/storage/src/transports/sync.ts';
import type { TransportOptions } from '../../../packages/storage/src/transports/types.ts';
import { rejects, tempDir } from './helpers.ts';
import { makeImage, makeIndex, writeImage, writeIndex, type TestImage } from './transport-image.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = tempDir('pkit-sync');
  dirs.push(d);
  return d;
}
test.after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await closeRegistryConnections();
});

/** A tag lister that answers from a table and records what it was asked. */
function lister(table: Record<string, string[]>) {
  const asked: { repo: string; opts: TransportOptions }[] = [];
  const fn = async (repo: string, opts: TransportOptions) => {
    asked.push({ repo, opts });
    const tags = table[repo];
    if (!tags) throw new StoreError(`${repo}: repository not found`, 'PKIT_NOT_FOUND');
    return tags;
  };
  return { fn, asked };
}

const docker = (extra: Partial<PlanSyncOptions> = {}, tags: Record<string, string[]> = {}): PlanSyncOptions => ({
  src: 'docker',
  dest: 'docker',
  listTags: lister(tags).fn,
  ...extra,
});

async function writeDirImage(path: string, img: TestImage): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await writeImage(await openDirDestination(path), img);
}

// ---- planning: docker sources ---------------------------------------------------------------

test('plan: a tagged docker source is that one image, named by its last path component', async () => {
  const plan = await planSync('reg.example:5000/team/app:1', 'mirror.example/ns', docker());
  assert.equal(plan, [{ source: 'docker://reg.example:5000/team/app:1', destination: 'docker://mirror.example/ns/app:1' }]);
});

test('plan: --scoped keeps the full source reference (registry included) under the destination', async () => {
  const plan = await planSync('reg.example/team/app:1', 'mirror.example/ns', docker({ scoped: true }));
  assert.equal(plan, [{ source: 'docker://reg.example/team/app:1', destination: 'docker://mirror.example/ns/reg.example/team/app:1' }]);
});

test('plan: an untagged repository is every tag, in the order the registry lists them', async () => {
  const l = lister({ 'reg.example/team/app': ['2', '1', 'latest'] });
  const srcOptions = { tlsVerify: false };
  const plan = await planSync('reg.example/team/app', 'mirror.example', { src: 'docker', dest: 'docker', listTags: l.fn, srcOptions });
  assert.equal(l.asked, [{ repo: 'reg.example/team/app', opts: srcOptions }]);
  assert.equal(
    plan.map((p) => [p.source, p.destination]),
    [
      ['docker://reg.example/team/app:2', 'docker://mirror.example/app:2'],
      ['docker://reg.example/team/app:1', 'docker://mirror.example/app:1'],
      ['docker://reg.example/team/app:latest', 'docker://mirror.example/app:latest'],
    ],
  );
});

test('plan: short names are normalized as docker does (docker.io/library/...)', async () => {
  const l = lister({ 'docker.io/library/busybox': ['1.36'] });
  const plan = await planSync('busybox', 'mirror.example/ns', { src: 'docker', dest: 'docker', listTags: l.fn, scoped: true });
  assert.equal(plan, [{ source: 'docker://docker.io/library/busybox:1.36', destination: 'docker://mirror.example/ns/docker.io/library/busybox:1.36' }]);
  const one = await planSync('busybox:1', 'mirror.example/ns', docker());
  assert.is(one[0]!.destination, 'docker://mirror.example/ns/busybox:1');
});

test('plan: a docker:// prefix on SOURCE is accepted', async () => {
  const plan = await planSync('docker://reg.example/app:1', 'mirror.example', docker());
  assert.is(plan[0]!.source, 'docker://reg.example/app:1');
});

test('plan: a source by digest goes to a digest reference', async () => {
  const d = digestOf('x');
  const plan = await planSync(`reg.example/team/app@${d}`, 'mirror.example/ns', docker());
  assert.equal(plan, [{ source: `docker://reg.example/team/app@${d}`, destination: `docker://mirror.example/ns/app@${d}` }]);
});

test('plan: tags the reference grammar refuses are left out; no tags at all is an error', async () => {
  const plan = await planSync('reg.example/app', 'mirror.example', docker({}, { 'reg.example/app': ['ok', '-bad', 'fine.1'] }));
  assert.equal(plan.map((p) => p.source), ['docker://reg.example/app:ok', 'docker://reg.example/app:fine.1']);
  await rejects(planSync('reg.example/app', 'mirror.example', docker({}, { 'reg.example/app': [] })), /no images to sync found in "reg\.example\/app"/);
});

test('plan: a tag-listing failure is the plan failure', async () => {
  await rejects(planSync('reg.example/missing', 'mirror.example', docker()), /reg\.example\/missing: repository not found/);
});

test('plan: docker -> dir is DESTINATION/NAME:TAG, scoped DESTINATION/REGISTRY/PATH:TAG (skopeo 1.9 naming)', async () => {
  const tags = { '127.0.0.1:5100/e2e/tags': ['b', 'a'] };
  const flat = await planSync('127.0.0.1:5100/e2e/tags', '/media/usb', docker({ dest: 'dir' }, tags));
  assert.equal(flat.map((p) => p.destination), ['dir:/media/usb/tags:b', 'dir:/media/usb/tags:a']);
  const scoped = await planSync('127.0.0.1:5100/e2e/tags', 'out/d2', docker({ dest: 'dir', scoped: true }, tags));
  assert.equal(scoped.map((p) => p.destination), ['dir:out/d2/127.0.0.1:5100/e2e/tags:b', 'dir:out/d2/127.0.0.1:5100/e2e/tags:a']);
});

test('plan: a scoped destination that is no valid docker reference is refused before anything is copied', async () => {
  // skopeo refuses it the same way: "127.0.0.1:5100" cannot be a path component.
  await rejects(planSync('127.0.0.1:5100/e2e/app:1', 'mirror.example', docker({ scoped: true })), /cannot name the destination of docker:\/\/127\.0\.0\.1:5100\/e2e\/app:1: invalid reference/);
});

test('plan: transports are checked; dir -> dir is refused as skopeo does', async () => {
  await rejects(planSync('x', 'y', { src: 'yaml', dest: 'docker' }), /"yaml" is not a valid source transport for sync: use docker or dir/);
  await rejects(planSync('x', 'y', { src: 'docker', dest: 'oci' }), /"oci" is not a valid destination transport/);
  await rejects(planSync('x', 'y', { src: 'dir', dest: 'dir' }), /sync from 'dir' to 'dir' is not implemented: use rsync/);
});

// ---- planning: dir sources ------------------------------------------------------------------

test('plan: a dir tree: each directory with a manifest.json is an image named by its relative path', async () => {
  const root = tmp();
  const img = await makeImage('tree');
  await writeDirImage(join(root, 'a', 'app:1'), img);
  await writeDirImage(join(root, 'b', 'c', 'tool:2'), img);
  await writeDirImage(join(root, 'busybox'), img);
  // an image's subdirectories are not searched, and directories without images are passed over
  await writeDirImage(join(root, 'busybox', 'inner:9'), img);
  mkdirSync(join(root, 'empty', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'b', 'notes.txt'), 'not an image');

  const flat = await planSync(root, '127.0.0.1:5100/mirror', { src: 'dir', dest: 'docker' });
  assert.equal(flat, [
    { source: `dir:${root}/a/app:1`, destination: 'docker://127.0.0.1:5100/mirror/app:1' },
    { source: `dir:${root}/b/c/tool:2`, destination: 'docker://127.0.0.1:5100/mirror/tool:2' },
    { source: `dir:${root}/busybox`, destination: 'docker://127.0.0.1:5100/mirror/busybox:latest' },
  ]);
  const scoped = await planSync(root, '127.0.0.1:5100/mirror', { src: 'dir', dest: 'docker', scoped: true });
  assert.equal(scoped.map((p) => p.destination), [
    'docker://127.0.0.1:5100/mirror/a/app:1',
    'docker://127.0.0.1:5100/mirror/b/c/tool:2',
    'docker://127.0.0.1:5100/mirror/busybox:latest',
  ]);
});

test('plan: a dir source that is itself an image is named by its own last component', async () => {
  const root = tmp();
  await writeDirImage(join(root, 'app:3'), await makeImage('self'));
  const plan = await planSync(join(root, 'app:3'), 'mirror.example/ns', { src: 'dir', dest: 'docker', scoped: true });
  assert.equal(plan, [{ source: `dir:${root}/app:3`, destination: 'docker://mirror.example/ns/app:3' }]);
});

test('plan: two dir images that would land on one destination are refused; --scoped separates them', async () => {
  const root = tmp();
  const img = await makeImage('clash');
  await writeDirImage(join(root, 'x', 'app:1'), img);
  await writeDirImage(join(root, 'y', 'app:1'), img);
  await rejects(planSync(root, 'mirror.example', { src: 'dir', dest: 'docker' }), /x\/app:1 and dir:.*y\/app:1 would both be copied to docker:\/\/mirror\.example\/app:1: use --scoped/);
  const plan = await planSync(root, 'mirror.example', { src: 'dir', dest: 'docker', scoped: true });
  assert.equal(plan.map((p) => p.destination), ['docker://mirror.example/x/app:1', 'docker://mirror.example/y/app:1']);
});

test('plan: a missing, non-directory or image-less dir source is an error', async () => {
  const root = tmp();
  await rejects(planSync(join(root, 'nope'), 'm.example', { src: 'dir', dest: 'docker' }), /invalid source directory ".*nope": it does not exist/);
  writeFileSync(join(root, 'file'), 'x');
  await rejects(planSync(join(root, 'file'), 'm.example', { src: 'dir', dest: 'docker' }), /not a directory/);
  mkdirSync(join(root, 'empty'));
  await rejects(planSync(join(root, 'empty'), 'm.example', { src: 'dir', dest: 'docker' }), /no images to sync found in/);
});

// ---- running ----------------------------------------------------------------------------------

/** Three dir: images under a fresh root, and a plan to copy them into another dir tree. */
async function dirFixture(n = 3) {
  const root = tmp();
  const out = tmp();
  const images: TestImage[] = [];
  const plan: SyncItem[] = [];
  for (let i = 0; i < n; i++) {
    const img = await makeImage(`run-${i}`);
    images.push(img);
    await writeDirImage(join(root, `app:${i}`), img);
    plan.push({ source: `dir:${join(root, `app:${i}`)}`, destination: `dir:${join(out, `app:${i}`)}` });
  }
  return { root, out, images, plan };
}

function recorder() {
  const log: string[] = [];
  return {
    log,
    events: {
      imageStart: (_it: SyncItem, i: number, n: number) => log.push(`start ${i + 1}/${n}`),
      imageSkipped: (_it: SyncItem, i: number) => log.push(`skip ${i + 1}`),
      imageCopied: (_it: SyncItem, i: number) => log.push(`copied ${i + 1}`),
      imageFailed: (_it: SyncItem, i: number, _n: number, e: Error) => log.push(`failed ${i + 1}: ${e.message}`),
    },
  };
}

test('run: copies every image in order; a second run copies nothing', async () => {
  const { out, images, plan } = await dirFixture();
  const r1 = recorder();
  const s1 = await runSync(plan, { events: r1.events });
  assert.equal(r1.log, ['start 1/3', 'copied 1', 'start 2/3', 'copied 2', 'start 3/3', 'copied 3']);
  assert.equal([s1.total, s1.copied, s1.skipped, s1.failed, s1.notAttempted, s1.stopped], [3, 3, 0, 0, 0, false]);
  images.forEach((img, i) => {
    assert.ok(readFileSync(join(out, `app:${i}`, 'manifest.json')).equals(img.manifest.bytes), `image ${i} arrived unchanged`);
    assert.is(s1.results[i]!.digest, img.manifest.digest);
  });

  const copied: string[] = [];
  const r2 = recorder();
  const s2 = await runSync(plan, {
    events: { ...r2.events, copyProgress: () => ({ blobStart: (d) => copied.push(d.digest) }) },
  });
  assert.equal(r2.log, ['start 1/3', 'skip 1', 'start 2/3', 'skip 2', 'start 3/3', 'skip 3']);
  assert.equal([s2.copied, s2.skipped, s2.failed], [0, 3, 0]);
  assert.equal(copied, []);
  assert.match(syncSummaryLine(s2), /^Synced 3 of 3 images \(0 copied, 3 already present\)$/);
});

test('run: a destination holding another image is copied over; skipExisting: false always copies', async () => {
  const { out, images, plan } = await dirFixture(1);
  await writeDirImage(join(out, 'app:0'), await makeImage('other'));
  const s = await runSync(plan);
  assert.equal([s.copied, s.skipped], [1, 0]);
  assert.ok(readFileSync(join(out, 'app:0', 'manifest.json')).equals(images[0]!.manifest.bytes));
  const again = await runSync(plan, { skipExisting: false });
  assert.equal([again.copied, again.skipped], [1, 0]);
});

test('run: stops at the first failure by default; the rest is not attempted', async () => {
  const { out, plan } = await dirFixture();
  rmSync(join(plan[1]!.source.slice(4), 'manifest.json'));
  const r = recorder();
  const s = await runSync(plan, { events: r.events });
  assert.equal(r.log.slice(0, 3), ['start 1/3', 'copied 1', 'start 2/3']);
  assert.match(r.log[3]!, /^failed 2: .*has no manifest\.json/);
  assert.is(r.log.length, 4);
  assert.equal([s.copied, s.failed, s.notAttempted, s.stopped], [1, 1, 1, true]);
  assert.equal(s.results.map((x) => x.outcome), ['copied', 'failed', 'not-attempted']);
  assert.not.ok(readFileSync(join(out, 'app:0', 'manifest.json')).length === 0);
  const line = syncSummaryLine(s);
  assert.match(line, /^sync stopped at dir:.*app:1: .*has no manifest\.json \(1 of 3 images synced: 1 copied, 0 already present; 1 not attempted \(--keep-going goes on past a failed image\)\)$/);
  assert.not.match(line, /\n/);
});

test('run: --keep-going copies the others and reports every failure', async () => {
  const { out, plan } = await dirFixture();
  rmSync(join(plan[1]!.source.slice(4), 'manifest.json'));
  const r = recorder();
  const s = await runSync(plan, { keepGoing: true, events: r.events });
  assert.equal([s.copied, s.failed, s.notAttempted, s.stopped], [2, 1, 0, false]);
  assert.equal(r.log.filter((l) => l.startsWith('copied')), ['copied 1', 'copied 3']);
  readFileSync(join(out, 'app:2', 'manifest.json'));
  assert.match(syncSummaryLine(s), /^sync failed for 1 of 3 images \(dir:.*app:1\); 2 synced: 2 copied, 0 already present$/);
});

test('run: an index source without --all is compared by the platform entry the copy takes', async () => {
  const root = tmp();
  const out = tmp();
  const idx = await makeIndex('multi');
  await writeIndex(await openDirDestination(join(root, 'multi:1')), idx);
  const plan = [{ source: `dir:${join(root, 'multi:1')}`, destination: `dir:${join(out, 'multi:1')}` }];
  const platform = { os: 'linux', architecture: 'arm64' };
  const s1 = await runSync(plan, { platform });
  assert.is(s1.results[0]!.digest, idx.images[1]!.manifest.digest);
  const s2 = await runSync(plan, { platform });
  assert.equal([s2.copied, s2.skipped], [0, 1], 'the arm64 image is there already');
  const s3 = await runSync(plan, { platform: { os: 'linux', architecture: 'amd64' } });
  assert.equal([s3.copied, s3.skipped], [1, 0], 'another platform is another image');
  const s4 = await runSync(plan, { all: true });
  assert.is(s4.results[0]!.digest, idx.index.digest);
  const s5 = await runSync(plan, { all: true });
  assert.equal([s5.copied, s5.skipped], [0, 1]);
});

test('run: copy options and transport options reach each copy; a thrown non-Error is wrapped', async () => {
  const calls: { src: string; dst: string; opts: CopyByReferenceOptions }[] = [];
  const result = (d: string): CopyResult => ({ manifest: { bytes: Buffer.from('{}'), mediaType: OCI_MANIFEST, digest: digestOf(d) }, converted: false });
  const plan = [
    { source: 'docker://a.example/x:1', destination: 'docker://b.example/x:1' },
    { source: 'docker://a.example/x:2', destination: 'docker://b.example/x:2' },
  ];
  const s = await runSync(plan, {
    skipExisting: false,
    keepGoing: true,
    all: true,
    preserveDigests: true,
    src: { tlsVerify: false },
    dst: { retryTimes: 1 },
    copy: async (src, dst, opts) => {
      calls.push({ src, dst, opts });
      if (src.endsWith(':2')) throw 'boom';
      return result(src);
    },
  });
  assert.equal(calls.map((c) => [c.src, c.dst]), plan.map((p) => [p.source, p.destination]));
  assert.is(calls[0]!.opts.all, true);
  assert.is(calls[0]!.opts.preserveDigests, true);
  assert.equal(calls[0]!.opts.src, { tlsVerify: false });
  assert.equal(calls[0]!.opts.dst, { retryTimes: 1 });
  assert.is(s.results[1]!.error!.message, 'boom');
  assert.equal([s.copied, s.failed], [1, 1]);
});

// ---- the skip check against a registry (HEAD of both manifests) ---------------------------

interface Repo {
  manifests: Map<string, Buffer>;
}

/** A registry that answers manifest HEAD/GET by tag or digest; nothing else. */
async function tinyRegistry(repos: Record<string, Repo>) {
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    const bytes = m ? repos[m[1]!]?.manifests.get(decodeURIComponent(m[2]!)) : undefined;
    if (!bytes) {
      const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(bytes.length), 'docker-content-digest': digestOf(bytes) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

test('run: docker -> docker skips an image whose destination tag has the same digest (HEADs only)', async () => {
  const img = await makeImage('reg');
  const other = await makeImage('reg-other');
  const reg = await tinyRegistry({
    'src/app': { manifests: new Map([['1', img.manifest.bytes], ['2', img.manifest.bytes]]) },
    'dst/app': { manifests: new Map([['1', img.manifest.bytes], ['2', other.manifest.bytes]]) },
  });
  try {
    const plan = ['1', '2', '3'].map((t) => ({ source: `docker://${reg.host}/src/app:${t}`, destination: `docker://${reg.host}/dst/app:${t}` }));
    const copied: string[] = [];
    const s = await runSync(plan, {
      keepGoing: true,
      src: { tlsVerify: false, retryTimes: 0 },
      dst: { tlsVerify: false, retryTimes: 0 },
      copy: async (src) => {
        copied.push(src);
        return { manifest: img.manifest, converted: false };
      },
    });
    assert.equal(s.results.map((r) => r.outcome), ['skipped', 'copied', 'copied']);
    assert.is(s.results[0]!.digest, img.manifest.digest);
    assert.equal(copied, [plan[1]!.source, plan[2]!.source], 'a different digest or a missing tag is copied');
    assert.not.ok(reg.seen.some((l) => l.startsWith('GET /v2/src/app/manifests/1')), 'the skip needed no manifest body');
  } finally {
    await reg.close();
  }
});

test('summary line: every outcome in one line', () => {
  const item = { source: 'docker://a/x:1', destination: 'docker://b/x:1' };
  const base = { total: 2, copied: 1, skipped: 1, failed: 0, notAttempted: 0, stopped: false, results: [] };
  assert.is(syncSummaryLine(base), 'Synced 2 of 2 images (1 copied, 1 already present)');
  const failed = { ...base, total: 3, failed: 1, stopped: true, results: [{ item, outcome: 'failed' as const, error: new Error('manifest unknown') }] };
  assert.is(syncSummaryLine(failed), 'sync stopped at docker://a/x:1: manifest unknown (2 of 3 images synced: 1 copied, 1 already present)');
  // an error that names its image already is not prefixed twice
  assert.is(syncFailureMessage(item, new Error('docker://a/x:1: manifest unknown')), 'docker://a/x:1: manifest unknown');
});

test.run();
