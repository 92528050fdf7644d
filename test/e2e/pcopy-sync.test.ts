// pcopy sync end to end, against the test bed's open registry: docker -> docker, docker -> dir,
// dir -> docker, reruns that copy nothing, --dry-run, --keep-going; skopeo 1.9's naming.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, REGISTRY, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

const root = tempDir('pkit-sync-store');
const prefix = `sync-${randomBytes(4).toString('hex')}`;
const ns = (name: string) => `${REGISTRY}/${prefix}/${name}`;
const NOTLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];
const pcopy = (args: string[]) => run('pcopy', ['--root', root, ...args]);
const sync = (...args: string[]) => pcopy(['sync', ...NOTLS, ...args]);
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** The digest of the manifest at a docker:// or dir: reference (pcopy inspect --raw). */
const digestAt = (ref: string) => sha256(ok(pcopy(['inspect', '--raw', '--tls-verify=false', ref]), `inspect ${ref}`).stdout);
const tagsOf = (repo: string) => {
  const r = pcopy(['list-tags', '--tls-verify=false', `docker://${repo}`]);
  return r.code === 0 ? (JSON.parse(r.stdout).Tags as string[]).sort() : [];
};

const digests: Record<string, string> = {};
let dirTree: string; // a docker -> dir sync result: dir:<tree>/app:1, app:2

test('setup: two different images pushed as app:1 and app:2', () => {
  requireBuild();
  ok(run('prun', ['--root', root, 'import', FIXTURE, 'app:e2e']), 'prun import');
  ok(pcopy(['copy', '-q', '--dest-tls-verify=false', 'local:app:e2e', `docker://${ns('app')}:1`]), 'push app:1');
  // The same image in Docker schema 2: another manifest, so each tag has its own digest.
  ok(pcopy(['copy', '-q', '--dest-tls-verify=false', '--format', 'v2s2', 'local:app:e2e', `docker://${ns('app')}:2`]), 'push app:2');
  digests['1'] = digestAt(`docker://${ns('app')}:1`);
  digests['2'] = digestAt(`docker://${ns('app')}:2`);
  assert.is.not(digests['1'], digests['2']);
  assert.equal(tagsOf(ns('app')), ['1', '2']);
});

test('--dry-run prints the plan as JSON lines and copies nothing', () => {
  const r = ok(sync('--dry-run', '--src', 'docker', '--dest', 'docker', ns('app'), `${REGISTRY}/${prefix}/dry`), 'dry run');
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(
    lines.sort((a, b) => a.source.localeCompare(b.source)),
    ['1', '2'].map((t) => ({ source: `docker://${ns('app')}:${t}`, destination: `docker://${ns('dry')}/app:${t}` })),
  );
  assert.match(r.stderr, /Would have copied image ref 1\/2 from docker:\/\//);
  assert.equal(tagsOf(`${REGISTRY}/${prefix}/dry/app`), [], 'nothing was copied');
});

test('docker -> docker: every tag arrives with its digest; the output is skopeo-like', () => {
  const r = ok(sync('--src', 'docker', '--dest', 'docker', ns('app'), `${REGISTRY}/${prefix}/mirror`), 'sync');
  assert.equal(tagsOf(`${REGISTRY}/${prefix}/mirror/app`), ['1', '2']);
  for (const t of ['1', '2']) assert.is(digestAt(`docker://${REGISTRY}/${prefix}/mirror/app:${t}`), digests[t], `app:${t} digest`);
  assert.match(r.stderr, /Copying image ref 1\/2 from docker:\/\/\S+ to docker:\/\/\S+\/mirror\/app:/);
  assert.match(r.stderr, /Copying image ref 2\/2 /);
  assert.match(r.stderr, /Writing manifest to image destination/);
  assert.match(r.stderr.trimEnd().split('\n').at(-1)!, /^Synced 2 of 2 images \(2 copied, 0 already present\)$/);
  assert.is(r.stdout, '', 'stdout stays free for data');
});

test('docker -> docker again: a no-op, nothing copied', () => {
  const r = ok(sync('--src', 'docker', '--dest', 'docker', ns('app'), `${REGISTRY}/${prefix}/mirror`), 'second sync');
  assert.is(r.stderr.match(/Skipping: image already present at destination/g)?.length, 2);
  assert.not.match(r.stderr, /Copying (blob|config)|Writing manifest/);
  assert.match(r.stderr, /Synced 2 of 2 images \(0 copied, 2 already present\)/);
});

test('docker -> docker: a tagged source is that one image; -q prints the summary only', () => {
  const r = ok(sync('-q', '--src', 'docker', '--dest', 'docker', `${ns('app')}:2`, `${REGISTRY}/${prefix}/single`), 'sync one');
  assert.equal(tagsOf(`${REGISTRY}/${prefix}/single/app`), ['2']);
  assert.is(r.stderr.trim(), 'Synced 1 of 1 images (1 copied, 0 already present)');
});

test('docker -> dir: DEST/app:TAG directories (skopeo naming), readable by skopeo; --scoped keeps the full path', () => {
  dirTree = tempDir('pkit-sync-dir');
  ok(sync('-q', '--src', 'docker', '--dest', 'dir', ns('app'), dirTree), 'sync to dir');
  assert.equal(readdirSync(dirTree).sort(), ['app:1', 'app:2']);
  for (const t of ['1', '2']) {
    assert.is(sha256(readFileSync(join(dirTree, `app:${t}`, 'manifest.json'))), digests[t]);
    assert.ok(existsSync(join(dirTree, `app:${t}`, 'version')));
  }
  const scoped = tempDir('pkit-sync-scoped');
  ok(sync('-q', '--scoped', '--src', 'docker', '--dest', 'dir', ns('app'), scoped), 'scoped sync to dir');
  for (const t of ['1', '2']) assert.is(sha256(readFileSync(join(scoped, REGISTRY, prefix, `app:${t}`, 'manifest.json'))), digests[t]);
  // A rerun into the existing directories copies nothing (skopeo would refuse to overwrite them).
  const again = ok(sync('--src', 'docker', '--dest', 'dir', ns('app'), dirTree), 'rerun to dir');
  assert.match(again.stderr, /Synced 2 of 2 images \(0 copied, 2 already present\)/);
});

test('dir -> docker: the tree goes back to a registry with the same digests; a rerun is a no-op', () => {
  const dest = `${REGISTRY}/${prefix}/fromdir`;
  const r = ok(sync('--src', 'dir', '--dest', 'docker', dirTree, dest), 'sync from dir');
  assert.match(r.stderr, /Copying image ref 1\/2 from dir:\S+app:1 to docker:\/\/\S+\/fromdir\/app:1/);
  assert.equal(tagsOf(`${dest}/app`), ['1', '2']);
  for (const t of ['1', '2']) assert.is(digestAt(`docker://${dest}/app:${t}`), digests[t]);
  const again = ok(sync('--src', 'dir', '--dest', 'docker', dirTree, dest), 'rerun from dir');
  assert.match(again.stderr, /Synced 2 of 2 images \(0 copied, 2 already present\)/);
  assert.not.match(again.stderr, /Copying (blob|config)/);
});

test('--keep-going: a bad image in the middle fails, the others are copied, exit 125 with a summary', () => {
  const tree = tempDir('pkit-sync-bad');
  cpSync(dirTree, tree, { recursive: true });
  // "app:15" sorts between app:1 and app:2; its manifest names a blob the directory lacks.
  const bad = join(tree, 'app:15');
  mkdirSync(bad);
  const m = JSON.parse(readFileSync(join(tree, 'app:1', 'manifest.json'), 'utf8'));
  m.layers[0].digest = sha256('no such layer');
  writeFileSync(join(bad, 'manifest.json'), JSON.stringify(m));
  writeFileSync(join(bad, 'version'), 'Directory Transport Version: 1.1\n');

  const dest = `${REGISTRY}/${prefix}/keep`;
  const r = sync('--keep-going', '--src', 'dir', '--dest', 'docker', tree, dest);
  oneLineError(r, /sync failed for 1 of 3 images \(dir:\S+app:15\); 2 synced: 2 copied, 0 already present/);
  assert.match(r.stderr, /Error copying ref dir:\S+app:15: /);
  assert.match(r.stderr, /Copying image ref 3\/3 /, 'the image after the bad one was attempted');
  assert.equal(tagsOf(`${dest}/app`), ['1', '2']);

  // Without --keep-going the sync stops at the bad image; what was copied before stays.
  const dest2 = `${REGISTRY}/${prefix}/stop`;
  const s = sync('--src', 'dir', '--dest', 'docker', tree, dest2);
  oneLineError(s, /sync stopped at dir:\S+app:15: .*\(1 of 3 images synced: 1 copied, 0 already present; 1 not attempted/);
  assert.not.match(s.stderr, /Copying image ref 3\/3/);
  assert.equal(tagsOf(`${dest2}/app`), ['1']);
});

test('command-line errors: dir -> dir, unknown transports, missing --src', () => {
  oneLineError(pcopy(['sync', '--src', 'dir', '--dest', 'dir', '/tmp', '/tmp/x']), /sync from 'dir' to 'dir' is not implemented/);
  oneLineError(pcopy(['sync', '--src', 'yaml', '--dest', 'docker', 'a', 'b']), /yaml/);
  oneLineError(pcopy(['sync', '--dest', 'docker', 'a', 'b']), /Missing required flag src/);
  oneLineError(pcopy(['sync', '--src', 'dir', '--dest', 'docker', join(root, 'nowhere'), ns('x')]), /invalid source directory .*nowhere.*does not exist/);
});

test.run();
