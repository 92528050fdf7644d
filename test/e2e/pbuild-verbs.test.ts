// pbuild's images, tag, push, unshare, mount and umount (buildah's verbs), driven through the
// built CLIs as the unprivileged test user, against the open test registry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { FIXTURE, REGISTRY, binPath, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

const id = randomBytes(4).toString('hex');
const NOTLS = '--tls-verify=false';
let root = '';
let work = '';
let ctr = '';
let imageId = '';
const pbuild = (args: string[], env: Record<string, string> = {}) => run('pbuild', ['--root', root, ...args], { env });
const prun = (r: string, args: string[]) => run('prun', ['--root', r, ...args]);
const pcopy = (args: string[]) => run('pcopy', args);
/** A shell script inside `pbuild unshare`, with $PB the pbuild binary. */
const inSession = (script: string) => pbuild(['unshare', 'sh', '-c', script], { PB: binPath('pbuild') });

test('setup: a working container with a copied file, committed as "verbs"', () => {
  requireBuild();
  root = tempDir('pkit-verbs');
  work = tempDir('pkit-verbs-files');
  ok(prun(root, ['import', FIXTURE, 'busybox']), 'import');
  ctr = ok(pbuild(['from', 'busybox'])).stdout.trim();
  writeFileSync(join(work, 'greeting'), 'hello from copy\n');
  ok(pbuild(['copy', ctr, join(work, 'greeting'), '/greeting']), 'copy');
  imageId = ok(pbuild(['commit', ctr, 'verbs'])).stdout.trim();
  assert.match(imageId, /^[0-9a-f]{64}$/);
});

// --- images, tag ----------------------------------------------------------------------------

test('images: buildah\'s columns, 3 spaces apart; the committed image first (newest)', () => {
  const lines = ok(pbuild(['images'])).stdout.trimEnd().split('\n');
  assert.is(lines.length, 3);
  assert.match(lines[0]!, /^REPOSITORY {3,}TAG {6}IMAGE ID {7}CREATED {3,}SIZE$/);
  const cols = (l: string) => l.split(/ {3,}/);
  assert.equal(cols(lines[1]!).slice(0, 3), ['localhost/verbs', 'latest', imageId.slice(0, 12)]);
  assert.match(cols(lines[1]!)[4]!, /^\d+(\.\d+)? [kM]B$/);
  assert.is(cols(lines[2]!)[0], 'localhost/busybox');
  // every column starts where its heading does
  for (const heading of ['TAG', 'IMAGE ID', 'CREATED', 'SIZE']) {
    const at = lines[0]!.indexOf(heading);
    assert.ok(lines.slice(1).every((l) => l[at - 1] === ' ' && l[at] !== ' '), `column ${heading}`);
  }
  assert.not.match(ok(pbuild(['images', '-n'])).stdout, /REPOSITORY/);
});

test('images -q, --json, --format, IMAGE; an unknown IMAGE is an error', () => {
  const ids = ok(pbuild(['images', '-q'])).stdout.trim().split('\n');
  assert.is(ids[0], imageId.slice(0, 12));
  assert.is(ids.length, 2);
  const json = JSON.parse(ok(pbuild(['images', '--json', '--no-trunc'])).stdout) as Array<{ id: string; names: string[]; size: string; created: number }>;
  const mine = json.find((i) => i.names?.includes('localhost/verbs:latest'));
  assert.ok(mine, 'the committed image in --json');
  assert.is(mine!.id, `sha256:${imageId}`);
  assert.type(mine!.created, 'number');
  assert.is(ok(pbuild(['images', '--format', '{{.Name}}:{{.Tag}} {{.ID}}', 'verbs'])).stdout, `localhost/verbs:latest ${imageId.slice(0, 12)}\n`);
  oneLineError(pbuild(['images', 'nosuch']), /nosuch/);
});

test('tag adds names (short ones under localhost/); images IMAGE shows them all', () => {
  assert.is(ok(pbuild(['tag', 'verbs', 'verbs:2', 'team/verbs:3'])).stdout, '');
  const rows = ok(pbuild(['images', '--format', '{{.Name}}:{{.Tag}} {{.ID}}', 'verbs:2'])).stdout.trim().split('\n').sort();
  assert.equal(rows, [`localhost/team/verbs:3 ${imageId.slice(0, 12)}`, `localhost/verbs:2 ${imageId.slice(0, 12)}`, `localhost/verbs:latest ${imageId.slice(0, 12)}`]);
  oneLineError(pbuild(['tag', 'nosuch', 'x']), /nosuch/);
  oneLineError(pbuild(['tag', 'verbs', 'Bad:Name']), /Bad:Name/);
  oneLineError(pbuild(['tag', 'verbs']), /name/i);
});

// --- push -----------------------------------------------------------------------------------

test('push to the registry: progress on stderr, --digestfile; pcopy inspects it, prun pulls and runs it', () => {
  const ref = `${REGISTRY}/e2e-pbuild-${id}/verbs:1`;
  const digestFile = join(work, 'digest');
  const r = ok(pbuild(['push', NOTLS, '--digestfile', digestFile, 'verbs', ref]), 'push');
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^Getting image source signatures\n[\s\S]*Writing manifest to image destination\nStoring signatures\n$/);
  const digest = readFileSync(digestFile, 'utf8');
  assert.match(digest, /^sha256:[0-9a-f]{64}$/, 'the digest alone, no newline (buildah)');
  const raw = ok(pcopy(['inspect', NOTLS, '--raw', `docker://${ref}`])).stdout;
  assert.is(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest);
  const info = JSON.parse(ok(pcopy(['inspect', NOTLS, `docker://${ref}`])).stdout) as { Digest: string; Layers: string[] };
  assert.is(info.Digest, digest);
  assert.is(info.Layers.length, 2);
  const other = tempDir('pkit-verbs-pull');
  ok(prun(other, ['pull', '-q', NOTLS, ref]), 'pull back');
  assert.is(ok(prun(other, ['run', '--rm', ref, 'cat', '/greeting'])).stdout, 'hello from copy\n');
});

test('push to oci: gzips uncompressed layers (buildah), -D sends them all uncompressed; -q is silent; default DEST needs a name', () => {
  const layerTypes = (dir: string) => {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const m = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ mediaType: string }> };
    return m.layers.map((l) => l.mediaType);
  };
  // docker-archive keeps layers uncompressed: loaded from one, the store holds a plain tar layer
  const archive = join(work, 'bb.tar');
  ok(prun(root, ['save', '-q', '-o', archive, 'busybox']), 'save');
  const other = tempDir('pkit-verbs-plain');
  ok(prun(other, ['load', '-q', '-i', archive]), 'load');
  const gz = join(work, 'oci-gz');
  const q = ok(run('pbuild', ['--root', other, 'push', '-q', 'busybox', `oci:${gz}:x`]));
  assert.is(q.stdout + q.stderr, '');
  assert.equal(layerTypes(gz), ['application/vnd.oci.image.layer.v1.tar+gzip']);
  const plain = join(work, 'oci-plain');
  ok(run('pbuild', ['--root', other, 'push', '-q', '-D', 'busybox', `oci:${plain}:x`]));
  assert.equal(layerTypes(plain), ['application/vnd.oci.image.layer.v1.tar']);
  // -D also decompresses: the imported busybox layer is stored gzip-compressed
  const stored = join(work, 'oci-stored');
  ok(pbuild(['push', '-q', 'busybox', `oci:${stored}:x`]));
  assert.equal(layerTypes(stored), ['application/vnd.oci.image.layer.v1.tar+gzip']);
  const unpacked = join(work, 'oci-unpacked');
  ok(pbuild(['push', '-q', '-D', 'busybox', `oci:${unpacked}:x`]));
  assert.equal(layerTypes(unpacked), ['application/vnd.oci.image.layer.v1.tar']);
  oneLineError(pbuild(['push', NOTLS, imageId.slice(0, 12)]), /was given by ID, which names no registry: give the DESTINATION \(pbuild push/);
  oneLineError(pbuild(['push', NOTLS, 'nosuch', `oci:${join(work, 'none')}`]), /nosuch/);
});

// --- unshare, mount, umount -----------------------------------------------------------------

test('unshare: the command runs as uid 0 with the rootless mapping, in the user\'s store', () => {
  assert.is(ok(pbuild(['unshare', 'id', '-u'])).stdout, '0\n');
  const maps = ok(pbuild(['unshare', 'cat', '/proc/self/uid_map'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  assert.equal(maps[0], [0, process.getuid!(), 1]);
  const sub = readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${userInfo().username}:`))!.split(':');
  assert.equal(maps[1], [1, Number(sub[1]), Number(sub[2])]);
  const env = ok(pbuild(['unshare', 'env'])).stdout;
  assert.ok(env.split('\n').includes(`PKIT_ROOT=${root}`), 'PKIT_ROOT names the store');
  assert.ok(env.split('\n').includes('_CONTAINERS_USERNS_CONFIGURED=done'));
  assert.is(pbuild(['unshare', 'sh', '-c', 'exit 7']).code, 7);
  assert.is(ok(pbuild(['unshare', '--', 'sh', '-c', 'echo "$0"', '-x'])).stdout, '-x\n');
});

test('mount outside "pbuild unshare": one line naming the fix', () => {
  oneLineError(pbuild(['mount', ctr]), /run it inside "pbuild unshare"/);
  oneLineError(pbuild(['mount']), /run it inside "pbuild unshare"/);
});

test('mount inside "pbuild unshare": the merged root with the copied file; listed while mounted, gone after umount', () => {
  const r = ok(inSession(`set -e
m=$("$PB" mount ${ctr})
echo "path=$m"
cat "$m/greeting"
stat -c %u:%g "$m/greeting"
echo "list=$("$PB" mount)"
echo "again=$("$PB" mount ${ctr})"
echo "umount=$("$PB" umount ${ctr})"
echo "after=$("$PB" mount)"
test -e "$m/greeting" || echo unmounted`));
  const path = /path=(.*)\n/.exec(r.stdout)![1]!;
  assert.match(path, new RegExp(`^${root}/containers/[0-9a-f]{64}/merged$`));
  assert.ok(r.stdout.includes('hello from copy\n0:0\n'), r.stdout);
  assert.ok(r.stdout.includes(`list=${ctr} ${path}\n`), r.stdout);
  assert.ok(r.stdout.includes(`again=${path}\n`), 'mounting again gives the same path');
  assert.match(r.stdout, /umount=[0-9a-f]{64}\n/);
  assert.ok(r.stdout.includes('after=\nunmounted\n'), r.stdout);
});

test('a mount belongs to its session: a new session lists nothing; writes through it are committed', () => {
  ok(inSession(`set -e; m=$("$PB" mount ${ctr}); echo written > "$m/through-mount"`));
  assert.is(ok(inSession('"$PB" mount')).stdout, '');
  ok(pbuild(['commit', ctr, 'verbs-mounted']));
  assert.is(ok(prun(root, ['run', '--rm', 'verbs-mounted', 'cat', '/through-mount'])).stdout, 'written\n');
  assert.match(ok(pbuild(['umount', ctr])).stdout, /^[0-9a-f]{64}\n$/, 'umount outside a session: nothing mounted here, the ID as buildah');
});

test('cleanup', () => {
  ok(pbuild(['rm', ctr]));
});

test.run();
