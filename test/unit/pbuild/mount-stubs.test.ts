// Mount points of a RUN's mounts (packages/pbuild/src/actions/mount-stubs.ts): what the runtime
// will create in the upper dir, and taking it out again. The runtime's part is played here on
// plain directories the way overlayfs and pkit-runtime do it (copy-up of the parent, an empty
// directory or file as the mount point, an opaque directory over a whiteout).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../../../packages/storage/src/native.ts';
import { planStubs, removeStubs, stubOps, stubScript, type StubPlan } from '../../../packages/pbuild/src/actions/mount-stubs.ts';

const work = mkdtempSync(join(tmpdir(), 'pkit-stubs-'));
const NO_USERNS = { mappings: { userns: false, uidMappings: [], gidMappings: [] }, helper: '/nonexistent' };
let n = 0;

/** A lower layer with /run, /data, /var/run -> /run, and an empty upper dir. */
function layers(): { upper: string; lower: string; stack: string[] } {
  const base = join(work, String(n++));
  const upper = join(base, 'upper');
  const lower = join(base, 'lower');
  mkdirSync(upper, { recursive: true });
  for (const d of ['run', 'data', 'var', 'app']) mkdirSync(join(lower, d), { recursive: true, mode: 0o755 });
  chmodSync(join(lower, 'run'), 0o755);
  chmodSync(join(lower, 'data'), 0o755);
  symlinkSync('/run', join(lower, 'var', 'run'));
  return { upper, lower, stack: [upper, lower] };
}

/** What overlayfs does to make room in the upper dir: copy up a lower directory (mode kept). */
function copyUp(upper: string, path: string, mode = 0o755): void {
  mkdirSync(join(upper, path), { mode });
  chmodSync(join(upper, path), mode);
}

const ls = (dir: string) => readdirSync(dir).sort();

test('a secret under /run: the plan names the directory and the file to make, and the copy-up', async () => {
  const { stack } = layers();
  const plan = await planStubs(stack, [{ path: '/run/secrets/s', file: true }]);
  assert.equal(plan.created.map((c) => [c.path, c.file, c.whiteout]), [['/run/secrets', false, false], ['/run/secrets/s', true, false]]);
  assert.equal(plan.ancestors.map((a) => [a.path, a.inUpper]), [['/run', false], ['/', true]]);
});

test('everything the runtime made goes again: the upper dir is as before', async () => {
  const { upper, stack } = layers();
  const plan = await planStubs(stack, [{ path: '/run/secrets/s', file: true }, { path: '/data/cache/x', file: false }]);
  copyUp(upper, 'run');
  mkdirSync(join(upper, 'run/secrets'));
  writeFileSync(join(upper, 'run/secrets/s'), '');
  copyUp(upper, 'data');
  mkdirSync(join(upper, 'data/cache/x'), { recursive: true });
  assert.equal(await removeStubs(plan, NO_USERNS), []);
  assert.equal(ls(upper), []);
});

test('symlinks on the way are followed as the runtime follows them (/var/run -> /run)', async () => {
  const { stack } = layers();
  const plan = await planStubs(stack, [{ path: '/var/run/secrets/s', file: true }]);
  assert.equal(plan.created.map((c) => c.path), ['/run/secrets', '/run/secrets/s']);
});

test('nothing to make when the mount point exists; nothing when a file is in the way', async () => {
  const { lower, stack } = layers();
  writeFileSync(join(lower, 'afile'), 'x');
  assert.equal((await planStubs(stack, [{ path: '/data', file: false }])).created, []);
  assert.equal((await planStubs(stack, [{ path: '/afile/below', file: false }])).created, []);
});

test('what the command wrote beside a mount point stays, with the directories holding it', async () => {
  const { upper, stack } = layers();
  const plan = await planStubs(stack, [{ path: '/run/secrets/s', file: true }]);
  copyUp(upper, 'run');
  mkdirSync(join(upper, 'run/secrets'));
  writeFileSync(join(upper, 'run/secrets/s'), '');
  writeFileSync(join(upper, 'run/secrets/mine'), 'kept');
  await removeStubs(plan, NO_USERNS);
  assert.equal(ls(join(upper, 'run/secrets')), ['mine']);
});

test('a stub file with content is not ours any more: it stays', async () => {
  const { upper, stack } = layers();
  const plan = await planStubs(stack, [{ path: '/run/f', file: true }]);
  copyUp(upper, 'run');
  writeFileSync(join(upper, 'run/f'), 'written through');
  await removeStubs(plan, NO_USERNS);
  assert.equal(ls(join(upper, 'run')), ['f']);
});

test('a copied-up directory the command changed (mode, opaque) stays', async () => {
  const { upper, stack } = layers();
  const plan = await planStubs(stack, [{ path: '/run/a', file: false }, { path: '/data/b', file: false }]);
  copyUp(upper, 'run', 0o700);
  mkdirSync(join(upper, 'run/a'));
  copyUp(upper, 'data');
  mkdirSync(join(upper, 'data/b'));
  native().lsetxattr(join(upper, 'data'), 'user.overlay.opaque', Buffer.from('y'));
  await removeStubs(plan, NO_USERNS);
  assert.equal(ls(upper), ['data', 'run']);
  assert.equal(ls(join(upper, 'run')), []);
  assert.equal(ls(join(upper, 'data')), []);
});

test('a directory that was in the upper dir gets its mtime back', async () => {
  const { upper, stack } = layers();
  copyUp(upper, 'app');
  utimesSync(join(upper, 'app'), 978307200, 978307200);
  const plan = await planStubs(stack, [{ path: '/app/cache', file: false }]);
  mkdirSync(join(upper, 'app/cache'));
  await removeStubs(plan, NO_USERNS);
  assert.equal(ls(join(upper, 'app')), []);
  assert.is(lstatSync(join(upper, 'app')).mtimeMs, 978307200000);
});

test('... unless the command added or removed names in it: then the mtime the command left', async () => {
  const { upper, stack } = layers();
  copyUp(upper, 'app');
  utimesSync(join(upper, 'app'), 978307200, 978307200);
  const plan = await planStubs(stack, [{ path: '/app/cache', file: false }]);
  mkdirSync(join(upper, 'app/cache'));
  await sleep(20);
  writeFileSync(join(upper, 'app/out'), 'x');
  const afterRun = lstatSync(join(upper, 'app'), { bigint: true }).mtimeNs;
  await removeStubs(plan, NO_USERNS);
  assert.equal(ls(join(upper, 'app')), ['out']);
  const now = lstatSync(join(upper, 'app'), { bigint: true }).mtimeNs;
  assert.ok(now - afterRun < 1000n && afterRun - now < 1000n, `mtime ${now} is the command's ${afterRun}`);
});

test('a mount point made where a whiteout was gets the whiteout back', async () => {
  const { upper, stack } = layers();
  copyUp(upper, 'run');
  native().mknod(join(upper, 'run/secrets'), 0o020000, 0, 0);
  const plan = await planStubs(stack, [{ path: '/run/secrets/s', file: true }]);
  assert.equal(plan.created.map((c) => [c.path, c.whiteout]), [['/run/secrets', true], ['/run/secrets/s', false]]);
  // overlayfs: an opaque directory replaces the whiteout
  unlinkSync(join(upper, 'run/secrets'));
  mkdirSync(join(upper, 'run/secrets'));
  native().lsetxattr(join(upper, 'run/secrets'), 'user.overlay.opaque', Buffer.from('y'));
  writeFileSync(join(upper, 'run/secrets/s'), '');
  await removeStubs(plan, NO_USERNS);
  const st = lstatSync(join(upper, 'run/secrets'));
  assert.ok(st.isCharacterDevice() && st.rdev === 0, 'a whiteout again');
});

test('a mount point made inside another mount never reached the upper dir: nothing to do', async () => {
  const { upper, stack } = layers();
  const plan = await planStubs(stack, [{ path: '/t', file: false }, { path: '/t/inner', file: false }]);
  mkdirSync(join(upper, 't'));
  assert.equal(stubOps(plan).map((o) => [o.op, o.path]), [['rmdir', '/t'], ['times', '/']]);
  await removeStubs(plan, NO_USERNS);
  assert.equal(ls(upper), []);
});

test('stubScript: the same changes as shell commands, quoted, each allowed to fail', () => {
  const plan: StubPlan = { upper: '/u', created: [], ancestors: [] };
  const script = stubScript(plan.upper, [
    { op: 'unlink', path: "/a b/it's" },
    { op: 'rmdir', path: '/a b' },
    { op: 'whiteout', path: '/w' },
    { op: 'times', path: '/', atimeNs: 1n, mtimeNs: 978307200_000000005n },
  ]);
  assert.is(script, [
    "rm -f -- '/u/a b/it'\\''s' || true",
    "rmdir -- '/u/a b' 2>/dev/null || true",
    "mknod -- '/u/w' c 0 0 || true",
    "touch -h -m -d @978307200.000000005 -- '/u' || true",
  ].join('\n'));
});

test('cleanup', () => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
