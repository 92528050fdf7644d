// pcopy end to end: every transport pair users meet, against the test bed's real registries,
// with skopeo as the interoperability check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH_PASS, AUTH_REGISTRY, AUTH_USER, FIXTURE, REGISTRY, ok, oneLineError, pipeline, requireBuild, run, tempDir } from './helpers.ts';

const root = tempDir('pkit-pcopy-store');
const id = randomBytes(4).toString('hex');
const repo = (name: string) => `${REGISTRY}/e2e-${id}/${name}`;
const NOTLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];
const pcopy = (args: string[], input?: Buffer) => run('pcopy', ['--root', root, ...args], input ? { input } : {});
const copy = (src: string, dst: string, ...flags: string[]) => pcopy(['copy', '-q', ...NOTLS, ...flags, src, dst]);
const skopeo = (args: string[]) => {
  const r = spawnSync('skopeo', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** The digest of the manifest a reference points at, as skopeo sees it. */
const skopeoDigest = (ref: string) => {
  const args = ['inspect', ...(ref.startsWith('docker://') ? ['--tls-verify=false'] : []), '--raw', ref];
  const r = spawnSync('skopeo', args);
  assert.is(r.status, 0, `skopeo inspect ${ref}: ${r.stderr}`);
  return sha256(r.stdout);
};

let base: string; // docker:// reference of the busybox image in the open registry
let baseDigest: string;

test('setup: import the busybox fixture and push it with pcopy', () => {
  requireBuild();
  ok(run('prun', ['--root', root, 'import', FIXTURE, 'busybox:e2e']), 'prun import');
  base = `docker://${repo('busybox')}:1`;
  ok(copy('local:busybox:e2e', base), 'push');
  baseDigest = skopeoDigest(base);
  const local = JSON.parse(ok(pcopy(['inspect', '--raw', 'local:busybox:e2e'])).stdout);
  assert.is(local.schemaVersion, 2);
  assert.is(baseDigest, sha256(Buffer.from(ok(pcopy(['inspect', '--raw', 'local:busybox:e2e'])).stdout)), 'push keeps the manifest digest');
});

test('registry -> oci -> registry (new repo): digests preserved end to end', () => {
  const layout = tempDir('pkit-oci');
  ok(copy(base, `oci:${layout}:v1`), 'pull to oci');
  assert.ok(existsSync(join(layout, 'index.json')));
  const idx = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  assert.is(idx.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
  assert.is(idx.manifests[0].digest, baseDigest);
  const back = `docker://${repo('from-oci')}:v1`;
  ok(copy(`oci:${layout}:v1`, back), 'push from oci');
  assert.is(skopeoDigest(back), baseDigest);
});

test('registry -> local -> registry', () => {
  ok(copy(base, 'local:pulled:1'), 'pull to local');
  const imgs = ok(run('prun', ['--root', root, 'images', '--format', 'json'])).stdout;
  assert.ok(JSON.parse(imgs).some((i: { Names: string[] }) => i.Names.includes('localhost/pulled:1')));
  const again = pcopy(['copy', ...NOTLS, base, 'local:pulled:2']);
  ok(again, 'second pull');
  assert.not.match(again.stderr, /Copying blob sha256:[0-9a-f]{64}\n/, 'a second pull transfers no layer');
  const out = `docker://${repo('from-local')}:1`;
  ok(copy('local:pulled:1', out), 'push from local');
  assert.is(skopeoDigest(out), baseDigest);
});

test('registry -> registry in the same registry: the layers are mounted, not re-uploaded', () => {
  const dst = `docker://${repo('mounted')}:1`;
  const r = ok(pcopy(['copy', ...NOTLS, base, dst]), 'copy');
  assert.match(r.stderr, /skipped: already exists/);
  assert.is(skopeoDigest(dst), baseDigest);
});

test('oci-archive through a pipe: /dev/stdout | /dev/stdin', () => {
  const layout = tempDir('pkit-oci');
  const r = pipeline(`"$PCOPY" --root ${root} copy -q --src-tls-verify=false ${base} oci-archive:/dev/stdout | "$PCOPY" --root ${root} copy -q oci-archive:/dev/stdin oci:${layout}:piped`);
  ok(r, 'pipe');
  assert.is(JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')).manifests[0].digest, baseDigest);
});

test('docker-archive both ways; skopeo reads what pcopy writes', () => {
  const file = join(tempDir('pkit-da'), 'img.tar');
  ok(copy(base, `docker-archive:${file}:busybox:saved`), 'to docker-archive');
  const info = JSON.parse(ok(skopeo(['inspect', `docker-archive:${file}`]), 'skopeo inspect').stdout);
  assert.is(info.Layers.length, 1);
  const manifest = JSON.parse(spawnSync('tar', ['xOf', file, 'manifest.json'], { encoding: 'utf8' }).stdout);
  assert.equal(manifest[0].RepoTags, ['docker.io/library/busybox:saved']);
  ok(copy(`docker-archive:${file}`, 'local:loaded:1'), 'from docker-archive');
  const cfg = JSON.parse(ok(pcopy(['inspect', '--config', 'local:loaded:1'])).stdout);
  const orig = JSON.parse(ok(pcopy(['inspect', '--config', 'local:busybox:e2e'])).stdout);
  assert.equal(cfg.rootfs.diff_ids, orig.rootfs.diff_ids, 'same layers after the round trip');
});

test('interop: skopeo copies what pcopy wrote back identically, and pcopy reads what skopeo wrote', () => {
  const ours = tempDir('pkit-oci');
  ok(copy(base, `oci:${ours}:x`), 'pcopy to oci');
  const theirs = tempDir('pkit-oci');
  ok(skopeo(['copy', '-q', `oci:${ours}:x`, `oci:${theirs}:y`]), 'skopeo oci -> oci');
  assert.is(JSON.parse(readFileSync(join(theirs, 'index.json'), 'utf8')).manifests[0].digest, baseDigest);
  const dirOut = tempDir('pkit-dir');
  ok(skopeo(['copy', '-q', `oci:${theirs}:y`, `dir:${dirOut}`]), 'skopeo to dir');
  ok(copy(`dir:${dirOut}`, 'local:from-skopeo-dir:1'), 'pcopy reads skopeo dir');
  const back = `docker://${repo('via-skopeo')}:1`;
  ok(copy(`oci:${theirs}:y`, back), 'pcopy reads skopeo oci');
  assert.is(skopeoDigest(back), baseDigest);
});

test('inspect prints skopeo\'s fields; list-tags; delete', () => {
  const info = JSON.parse(ok(pcopy(['inspect', '--tls-verify=false', base])).stdout);
  assert.is(info.Name, repo('busybox'));
  assert.is(info.Digest, baseDigest);
  assert.equal(info.RepoTags, ['1']);
  for (const k of ['Created', 'DockerVersion', 'Labels', 'Architecture', 'Os', 'Layers', 'LayersData', 'Env']) assert.ok(k in info, k);
  assert.is(info.Layers.length, 1);
  const theirs = JSON.parse(ok(skopeo(['inspect', '--tls-verify=false', base])).stdout);
  for (const k of ['Name', 'Digest', 'RepoTags', 'Architecture', 'Os', 'Layers', 'Env']) assert.equal(info[k], theirs[k], k);
  const tagged = `docker://${repo('tags')}`;
  ok(copy(base, `${tagged}:a`));
  ok(copy(base, `${tagged}:b`));
  const tags = JSON.parse(ok(pcopy(['list-tags', '--tls-verify=false', tagged])).stdout);
  assert.is(tags.Repository, repo('tags'));
  assert.equal([...tags.Tags].sort(), ['a', 'b']); // in the registry's order, as skopeo prints them
  ok(pcopy(['delete', '--tls-verify=false', `${tagged}:a`]), 'delete');
  oneLineError(pcopy(['inspect', '--tls-verify=false', `${tagged}:a`]), /manifest unknown|not found/);
});

test('the htpasswd registry: right credentials work, wrong ones give one clear line', () => {
  const dst = `docker://${AUTH_REGISTRY}/e2e-${id}/busybox:1`;
  ok(copy(base, dst, `--dest-creds=${AUTH_USER}:${AUTH_PASS}`), 'push with creds');
  const bad = copy(base, `docker://${AUTH_REGISTRY}/e2e-${id}/other:1`, `--dest-creds=${AUTH_USER}:wrong`);
  oneLineError(bad, new RegExp(`${AUTH_REGISTRY.replace(/\./g, '\\.')}.*(invalid username or password|unauthorized)`, 'i'));
});

test('bad input: unknown tag, unreachable registry, no transport, corrupt blob in a layout', () => {
  oneLineError(copy(`docker://${repo('busybox')}:nope`, 'local:x:1'), /nope.*manifest unknown|manifest unknown.*nope/);
  oneLineError(copy('docker://127.0.0.1:1/x:1', 'local:x:1'), /127\.0\.0\.1:1/);
  oneLineError(pcopy(['copy', 'busybox', 'local:x']), /expected a transport/);
  const layout = tempDir('pkit-oci');
  ok(copy(base, `oci:${layout}:good`));
  const idx = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
  const layerPath = join(layout, 'blobs/sha256', manifest.layers[0].digest.slice(7));
  const bytes = readFileSync(layerPath);
  bytes[100]! ^= 0xff;
  writeFileSync(layerPath, bytes);
  const dst = `docker://${repo('corrupt')}:1`;
  oneLineError(copy(`oci:${layout}:good`, dst), /digest mismatch/);
  assert.is.not(skopeo(['inspect', '--tls-verify=false', dst]).code, 0, 'nothing was pushed under the name');
  const store = tempDir('pkit-store');
  oneLineError(run('pcopy', ['--root', store, 'copy', '-q', `oci:${layout}:good`, 'local:corrupt:1']), /digest mismatch/);
  assert.equal(existsSync(join(store, 'names')) ? readdirSync(join(store, 'names')) : [], []);
});

test.run();
