// -u resolution as podman 4.3 gives it (the expected values were read from podman's config.json
// for the same passwd/group files), and reading the files through a real layer stack.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import { applyLayerTar } from '../../../packages/storage/src/layers/apply.ts';
import { lookupInLayers } from '../../../packages/storage/src/layers/overlay-lookup.ts';
import {
  parseGroupLine,
  parsePasswdLine,
  resolveContainerUser,
  resolveUserSpec,
  type GroupEntry,
  type PasswdEntry,
} from '../../../packages/runtime/src/image-user.ts';
import { buildTar, dir, file, symlink, type TarEntry } from '../storage/tar-fixtures.ts';

const PASSWD_TEXT = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  'app:x:1001:1001:dup:/:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n');
const GROUP_TEXT = ['root:x:0:', 'wheel:x:10:root,app', 'audio:x:29:app', 'app:x:1000:', 'staff:x:50:nobody,app', 'daemon:x:1:', 'huge:x:80000:app'].join('\n');

const PASSWD = PASSWD_TEXT.split('\n').map((l) => parsePasswdLine(l)!);
const GROUP = GROUP_TEXT.split('\n').map((l) => parseGroupLine(l)!);

function user(spec: string, passwd: PasswdEntry[] = PASSWD, group: GroupEntry[] = GROUP) {
  return resolveUserSpec(spec, passwd, group);
}

function rejectsUser(spec: string, pattern: RegExp): void {
  try {
    user(spec);
  } catch (err) {
    assert.instance(err, StoreError);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`-u ${spec} should fail`);
}

test('names and numbers resolve as podman: primary gid first, then the groups listing the user', () => {
  const cases: [string, number, number, number[] | undefined, string | undefined][] = [
    ['', 0, 0, [10], '/root'],
    ['root', 0, 0, [0, 10], '/root'],
    ['app', 1000, 1000, [1000, 10, 29, 50, 80000], '/home/app'],
    ['1000', 1000, 1000, [1000, 10, 29, 50, 80000], '/home/app'],
    ['nobody', 65534, 65534, [65534, 50], '/nonexistent'],
    ['app:daemon', 1000, 1, [1], '/home/app'],
    ['app:50', 1000, 50, [50], '/home/app'],
    ['1000:1000', 1000, 1000, [1000], '/home/app'],
    [':staff', 0, 50, [50], '/root'],
    ['0:1', 0, 1, [1], '/root'],
    ['root:wheel', 0, 10, [10], '/root'],
    ['app:', 1000, 1000, [1000], '/home/app'],
    ['app:staff:x', 1000, 50, [50], '/home/app'],
    ['4242', 4242, 0, [0], undefined],
    ['4242:777', 4242, 777, [777], undefined],
  ];
  for (const [spec, uid, gid, additional, home] of cases) {
    const r = user(spec);
    assert.equal(r.user, { uid, gid, ...(additional ? { additionalGids: additional } : {}) }, `-u "${spec}"`);
    assert.is(r.home, home, `home for -u "${spec}"`);
    assert.equal(r.warnings, []);
  }
});

test('no spec and no group membership: no additionalGids at all', () => {
  const r = resolveUserSpec('', [parsePasswdLine('root:x:0:0:root:/root:/bin/sh')!], [parseGroupLine('root:x:0:')!]);
  assert.equal(r.user, { uid: 0, gid: 0 });
});

test('unknown names fail with podman\'s messages; numbers need no entry', () => {
  rejectsUser('nosuch', /^unable to find user nosuch: no matching entries in passwd file$/);
  rejectsUser('root:nosuch', /^unable to find group nosuch: no matching entries in group file$/);
  rejectsUser('daemon:1234', /unable to find user daemon/);
  rejectsUser('-1', /uids and gids must be in range 0-2147483647/);
  rejectsUser('2147483648', /must be in range/);
  rejectsUser('5:2147483648', /must be in range/);
  // No passwd or group file at all: numbers still work, names do not.
  assert.equal(resolveUserSpec('1234:5', undefined, undefined).user, { uid: 1234, gid: 5, additionalGids: [5] });
  assert.equal(resolveUserSpec('', undefined, undefined).user, { uid: 0, gid: 0 });
  assert.throws(() => resolveUserSpec('root', undefined, undefined), /unable to find user root/);
});

test('the first matching passwd line wins; comments and blank lines are skipped', () => {
  assert.is(user('app').user.uid, 1000);
  assert.is(parsePasswdLine('# a comment'), undefined);
  assert.is(parsePasswdLine('   '), undefined);
  // runc reads a field that is not a number as 0
  assert.equal(parsePasswdLine('odd:x:abc:7:::'), { name: 'odd', uid: 0, gid: 7, home: '' });
  assert.equal(parseGroupLine('g:x:5: a , b ,,'), { name: 'g', gid: 5, members: ['a', 'b'] });
});

test('supplementary gids outside the user namespace are skipped with a warning', () => {
  const idmap = { userns: true, gidMappings: [{ containerID: 0, hostID: 1001, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }] };
  const r = resolveUserSpec('app', PASSWD, GROUP, { idmap });
  assert.equal(r.user.additionalGids, [1000, 10, 29, 50]);
  assert.equal(r.warnings, ['warning: additional gid=80000 is not present in the user namespace, skip setting it']);
  // Without a user namespace (root) every gid is there.
  assert.equal(resolveUserSpec('app', PASSWD, GROUP, { idmap: { userns: false, gidMappings: [] } }).warnings, []);
});

// --- through the layer stack ---------------------------------------------------------------

const bases: string[] = [];

/** Applies each layer (bottom first) into its own dir; returns the dirs top first, as overlay wants. */
async function layers(...stack: TarEntry[][]): Promise<string[]> {
  const base = mkdtempSync(join(tmpdir(), 'pkit-image-user-'));
  bases.push(base);
  const dirs: string[] = [];
  for (const [i, entries] of stack.entries()) {
    const d = join(base, `l${i}`);
    mkdirSync(d);
    await applyLayerTar(Readable.from([await buildTar(entries)]), d);
    dirs.push(d);
  }
  return dirs.reverse();
}

const baseLayer = [dir('etc'), file('etc/passwd', PASSWD_TEXT), file('etc/group', GROUP_TEXT)];

test('the image\'s files are read from the layers', async () => {
  const stack = await layers(baseLayer);
  const r = await resolveContainerUser(stack, 'app');
  assert.equal(r.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29, 50, 80000] });
  assert.is(r.home, '/home/app');
  // The image's User (no -u) goes through the same resolution.
  assert.equal((await resolveContainerUser(stack, undefined)).user, { uid: 0, gid: 0, additionalGids: [10] });
});

test('an upper layer\'s file replaces a lower one', async () => {
  const stack = await layers(baseLayer, [dir('etc'), file('etc/passwd', 'root:x:0:0::/r:/bin/sh\nweb:x:33:33::/srv:/bin/sh\n')]);
  assert.equal((await resolveContainerUser(stack, 'web')).user, { uid: 33, gid: 33, additionalGids: [33] });
  await assertRejects(resolveContainerUser(stack, 'app'), /unable to find user app/);
  // the group file still comes from the lower layer
  assert.equal((await resolveContainerUser(stack, 'web:wheel')).user.gid, 10);
});

test('a whiteout hides the lower file', async () => {
  const stack = await layers(baseLayer, [dir('etc'), file('etc/.wh.group')]);
  await assertRejects(resolveContainerUser(stack, 'app:wheel'), /unable to find group wheel: no matching entries in group file/);
  assert.equal((await resolveContainerUser(stack, 'app')).user, { uid: 1000, gid: 1000, additionalGids: [1000] });
  assert.equal((await resolveContainerUser(stack, 'app:7')).user.gid, 7);
});

test('an opaque directory hides the lower directory\'s files', async () => {
  const stack = await layers(baseLayer, [dir('etc'), file('etc/.wh..wh..opq'), file('etc/hostname', 'x')]);
  await assertRejects(resolveContainerUser(stack, 'app'), /unable to find user app/);
  assert.equal((await resolveContainerUser(stack, '1000')).user, { uid: 1000, gid: 0, additionalGids: [0] });
  // A file in the opaque layer itself is still seen.
  assert.ok(await lookupInLayers(stack, '/etc/hostname'));
  assert.is(await lookupInLayers(stack, '/etc/group'), undefined);
});

test('a parent replaced by a file in an upper layer hides the lower tree', async () => {
  const stack = await layers(baseLayer, [file('etc', 'not a dir')]);
  assert.is(await lookupInLayers(stack, '/etc/passwd'), undefined);
});

test('symlinks are followed inside the image only, never to the host', async () => {
  const sentinel = mkdtempSync(join(tmpdir(), 'pkit-image-user-host-'));
  bases.push(sentinel);
  writeFileSync(join(sentinel, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
  const stack = await layers(
    [dir('usr'), dir('usr/lib'), file('usr/lib/passwd', 'lib:x:7:7::/lib:/bin/sh\n'), dir('etc'), file('etc/group', GROUP_TEXT)],
    [dir('etc'), symlink('etc/passwd', '../usr/lib/passwd'), symlink('etc/group', `/../../../../../../..${sentinel}/passwd`)],
  );
  assert.equal((await resolveContainerUser(stack, 'lib')).user, { uid: 7, gid: 7, additionalGids: [7] });
  // the absolute, climbing target stays inside the image, where it does not exist
  assert.is(await lookupInLayers(stack, '/etc/group'), undefined);
  await assertRejects(resolveContainerUser(stack, 'lib:evil'), /unable to find group evil/);
});

test('a symlink loop is an error, not a hang', async () => {
  const stack = await layers([dir('etc'), symlink('etc/passwd', 'passwd2'), symlink('etc/passwd2', 'passwd')]);
  await assertRejects(lookupInLayers(stack, '/etc/passwd'), /too many levels of symbolic links/);
});

test('a passwd file over the size cap is refused, not read', async () => {
  const stack = await layers(baseLayer);
  // sparse: no disk used
  truncateSync(join(stack[0]!, 'etc/passwd'), 17 << 20);
  await assertRejects(resolveContainerUser(stack, 'app'), /more than a passwd or group file can be/);
});

async function assertRejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

test.after(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

test.run();
