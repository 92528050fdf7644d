// The user namespace shell: `pkit-runtime userns-exec` and packages/runtime/src/userns.ts, as
// the unprivileged test user with its /etc/subuid range (the rootless store's way of extracting
// layers with many owners and removing their trees). Builds the helper into a temp dir (the
// test user cannot write the repository); PKIT_TEST_HELPER names a pkit-runtime to use instead.
// Skipped as root (no user namespace is made there) and without a subordinate range.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { computeIDMappings, currentIdmapHost } from '../../../packages/runtime/src/idmap.ts';
import type { IDMapping } from '../../../packages/runtime/src/oci-spec.ts';
import {
  execInUserNamespace,
  formatMappings,
  removeAsUsernsRoot,
  runInUserNamespace,
  usernsExecArgs,
} from '../../../packages/runtime/src/userns.ts';
import { APPLY_WORKER, applyWorkerArgs, parseApplyWorkerResult } from '../../../packages/storage/src/layers/apply-worker.ts';
import { DigestMismatchError, StoreError } from '../../../packages/storage/src/errors.ts';
import { buildTar, dir, file, symlink } from '../storage/tar-fixtures.ts';

const REPO = process.env.PKIT_REPO || join(import.meta.dirname, '../../..');
const uid = process.getuid!();
const gid = process.getgid!();
const idmap = computeIDMappings(currentIdmapHost());
const READY = uid !== 0 && idmap.kind === 'subid';
const it = READY ? test : test.skip;

const work = mkdtempSync(join(tmpdir(), 'pkit-userns-'));
let helperPath: string | undefined;

/** Built once per process from native/helper (or PKIT_TEST_HELPER). */
function helper(): string {
  if (helperPath) return helperPath;
  if (process.env.PKIT_TEST_HELPER) return (helperPath = process.env.PKIT_TEST_HELPER);
  const out = join(work, 'build');
  const { NODE_PATH: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [join(REPO, 'native/build-helper.mjs')], {
    encoding: 'utf8',
    env: { ...env, PKIT_NATIVE_BUILD_DIR: out },
  });
  if (r.status !== 0) throw new Error(`building the helper failed:\n${r.stderr}`);
  const built = join(out, 'pkit-runtime');
  const probe = spawnSync(built, ['userns-exec', '--', 'true'], { encoding: 'utf8' });
  if (/unknown verb/.test(probe.stderr)) {
    throw new Error('the helper has no userns-exec verb: native/helper/cli.c must dispatch it to cmd_userns_exec (userns.h)');
  }
  helperPath = built;
  return helperPath;
}

/** The host id that container id `id` maps to. */
function hostID(maps: IDMapping[], id: number): number {
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  if (!m) throw new Error(`container id ${id} is not mapped`);
  return m.hostID + (id - m.containerID);
}

function run(cmd: string[], extra: { input?: Buffer | string | Readable; cwd?: string } = {}) {
  return execInUserNamespace(cmd, { helper: helper(), mappings: idmap, ...extra });
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

let counter = 0;
function scratch(): string {
  const d = join(work, `t${++counter}`);
  mkdirSync(d);
  return d;
}

test.after(() => {
  // Trees left with subordinate owners by a failed test: removed the same way.
  if (READY && helperPath) {
    return removeAsUsernsRoot([work], { helper: helperPath, mappings: idmap }).catch(() => {
      rmSync(work, { recursive: true, force: true });
    });
  }
  rmSync(work, { recursive: true, force: true });
});

test('helper arguments: mappings as C:H:N lists, extra fds, the command after --', () => {
  const maps = {
    userns: true,
    uidMappings: [{ containerID: 0, hostID: 1001, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 1001, size: 1 }],
  };
  assert.is(formatMappings(maps.uidMappings), '0:1001:1,1:100000:65536');
  assert.equal(usernsExecArgs(['rm', '-rf', '/x'], maps, 2), [
    'userns-exec', '--uid-map', '0:1001:1,1:100000:65536', '--gid-map', '0:1001:1', '--preserve-fds', '2', '--', 'rm', '-rf', '/x',
  ]);
  assert.equal(usernsExecArgs(['true'], { userns: true, uidMappings: [], gidMappings: [] }), ['userns-exec', '--', 'true']);
});

it('root inside, with both ranges in uid_map and gid_map', async () => {
  const r = await run(['sh', '-c', 'id -u; id -g; echo --; cat /proc/self/uid_map; echo --; cat /proc/self/gid_map']);
  assert.is(r.exitCode, 0, r.stderr);
  const [ids, umap, gmap] = r.stdout.split('--\n');
  assert.is(ids, '0\n0\n');
  const lines = (s: string | undefined) => (s ?? '').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  assert.equal(lines(umap), idmap.uidMappings.map((m) => [m.containerID, m.hostID, m.size]));
  assert.equal(lines(gmap), idmap.gidMappings.map((m) => [m.containerID, m.hostID, m.size]));
  assert.is(idmap.uidMappings.length, 2, 'own id and the subordinate range');
  assert.equal(idmap.uidMappings[0], { containerID: 0, hostID: uid, size: 1 });
});

it('a file chowned to 1000 inside belongs to the subordinate id on the host', async () => {
  const d = scratch();
  const r = await run(['sh', '-c', 'touch f mine && chown 1000:1000 f'], { cwd: d });
  assert.is(r.exitCode, 0, r.stderr);
  const st = lstatSync(join(d, 'f'));
  assert.is(st.uid, hostID(idmap.uidMappings, 1000));
  assert.is(st.gid, hostID(idmap.gidMappings, 1000));
  assert.is(st.uid, idmap.uidMappings[1]!.hostID + 999);
  // container root is the user
  assert.is(lstatSync(join(d, 'mine')).uid, uid);
  assert.is(lstatSync(join(d, 'mine')).gid, gid);
});

it('exit codes, signals, stdin/stdout and preserved fds pass through', async () => {
  assert.is((await run(['sh', '-c', 'exit 7'])).exitCode, 7);
  assert.is((await run(['sh', '-c', 'kill -TERM $$'])).exitCode, 143);
  const missing = await run(['pkit-no-such-command']);
  assert.is(missing.exitCode, 127);
  assert.is(missing.stderr, 'pkit-runtime: exec: "pkit-no-such-command": executable file not found in $PATH\n');
  const cat = await run(['cat'], { input: 'hello\n' });
  assert.is(cat.stdout, 'hello\n');
  // fd 3 handed to the command (--preserve-fds 1)
  const p = runInUserNamespace(['sh', '-c', 'echo three >&3'], { helper: helper(), mappings: idmap, stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  const chunks: Buffer[] = [];
  (p.child.stdio[3] as Readable).on('data', (c: Buffer) => chunks.push(c));
  assert.is(await p.exitCode, 0);
  assert.is(Buffer.concat(chunks).toString(), 'three\n');
  // without --preserve-fds, fd 3 is closed in the command
  const closed = runInUserNamespace(['sh', '-c', 'echo three >&3'], { helper: helper(), mappings: idmap, stdio: ['ignore', 'ignore', 'ignore'] });
  assert.is.not(await closed.exitCode, 0);
  // signals sent to the helper reach the command
  const slow = runInUserNamespace(['sh', '-c', 'echo up; exec sleep 30'], { helper: helper(), mappings: idmap, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => slow.child.stdout!.once('data', resolve));
  slow.child.kill('SIGINT');
  assert.is(await slow.exitCode, 130);
});

it('the helper\'s own failures: one line, exit 125', async () => {
  const bad = spawnSync(helper(), ['userns-exec', '--uid-map', '0:x:1', '--', 'true'], { encoding: 'utf8' });
  assert.is(bad.status, 125);
  assert.is(bad.stderr, 'pkit-runtime: userns-exec: --uid-map: invalid mapping "0:x:1" (expected CONTAINER:HOST:SIZE, SIZE > 0)\n');
  // a range that is not ours: newuidmap refuses it
  const start = idmap.uidMappings[1]!.hostID;
  const notOurs = spawnSync(helper(), ['userns-exec', '--uid-map', `0:${uid}:1,1:${start + 70000}:10`, '--', 'true'], { encoding: 'utf8' });
  assert.is(notOurs.status, 125);
  assert.match(notOurs.stderr, /^pkit-runtime: userns-exec: newuidmap failed \(exit 1\): check the ranges in \/etc\/subuid for this user\n$/m);
  const noCmd = spawnSync(helper(), ['userns-exec'], { encoding: 'utf8' });
  assert.is(noCmd.status, 125);
  assert.match(noCmd.stderr, /^pkit-runtime: userns-exec: expected a command/);
});

/** A layer with owners 0 and 1000, a private and a read-only directory owned by 1000. */
async function ownersLayer(): Promise<Buffer> {
  return buildTar([
    dir('etc', { uid: 0, gid: 0 }),
    file('etc/root-file', 'root\n', { uid: 0, gid: 0, mode: 0o644 }),
    dir('home/user', { uid: 1000, gid: 1000, mode: 0o755 }),
    file('home/user/note', 'mine\n', { uid: 1000, gid: 1000, mode: 0o600 }),
    symlink('home/user/link', 'note', { uid: 1000, gid: 1000 }),
    dir('home/user/private', { uid: 1000, gid: 1000, mode: 0o700 }),
    file('home/user/private/key', 'k', { uid: 1000, gid: 1000, mode: 0o600 }),
    dir('ro', { uid: 1000, gid: 1000, mode: 0o555 }),
    file('ro/locked', 'x', { uid: 1000, gid: 1000, mode: 0o444 }),
  ]);
}

async function applyInUserns(target: string, tar: Buffer, opts: Parameters<typeof applyWorkerArgs>[1] = {}) {
  const r = await run([process.execPath, APPLY_WORKER, ...applyWorkerArgs(target, opts)], { input: tar });
  return { r, result: () => parseApplyWorkerResult(r.exitCode, r.stdout, r.stderr) };
}

it('the apply worker inside the user namespace gives files the tar\'s owners', async () => {
  const tar = await ownersLayer();
  const target = join(scratch(), 'diff');
  mkdirSync(target);
  const { r, result } = await applyInUserns(target, tar);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').length, 1, 'one JSON line');
  const res = result();
  assert.equal(res, { diffID: sha256(tar), size: tar.length, digest: sha256(tar), inputSize: tar.length });
  const sub = hostID(idmap.uidMappings, 1000);
  const subG = hostID(idmap.gidMappings, 1000);
  assert.is(sub, idmap.uidMappings[1]!.hostID + 999);
  for (const p of ['home/user', 'home/user/note', 'home/user/link', 'home/user/private', 'ro', 'ro/locked']) {
    const st = lstatSync(join(target, p));
    assert.is(st.uid, sub, p);
    assert.is(st.gid, subG, p);
  }
  for (const p of ['etc', 'etc/root-file', 'home']) {
    const st = lstatSync(join(target, p));
    assert.is(st.uid, uid, p);
    assert.is(st.gid, gid, p);
  }
  assert.is(lstatSync(join(target, 'ro')).mode & 0o7777, 0o555);
  assert.is(lstatSync(join(target, 'home/user/private')).mode & 0o7777, 0o700);
  // the user cannot read what belongs to its subordinate owner; root in the namespace can
  assert.throws(() => readFileSync(join(target, 'home/user/note')), /EACCES/);
  assert.throws(() => lstatSync(join(target, 'home/user/private/key')), /EACCES/);
  const inside = await run(['stat', '-c', '%u:%g %a', join(target, 'home/user/private/key')]);
  assert.is(inside.stdout, '1000:1000 600\n', inside.stderr);
});

it('the apply worker: expected digest, bad input and usage errors come back as StoreErrors', async () => {
  const tar = await ownersLayer();
  const target = join(scratch(), 'diff');
  mkdirSync(target);
  const wrong = `sha256:${'0'.repeat(64)}` as const;
  const mismatch = await applyInUserns(target, tar, { expected: { digest: wrong } });
  assert.is(mismatch.r.exitCode, 1);
  assert.is(mismatch.r.stderr.trim().split('\n').length, 1, mismatch.r.stderr);
  assert.throws(mismatch.result, (e: Error) => e instanceof DigestMismatchError);

  const ok = await applyInUserns(join(scratch()), tar, { expected: { digest: sha256(tar) as `sha256:${string}`, size: tar.length } });
  assert.is(ok.result().diffID, sha256(tar));

  const garbage = await applyInUserns(join(scratch()), Buffer.alloc(1024, 7));
  assert.is(garbage.r.exitCode, 1);
  assert.throws(garbage.result, (e: Error) => e instanceof StoreError && (e as StoreError).code === 'PKIT_LAYER_FORMAT');

  const missing = await applyInUserns(join(work, 'no-such-dir'), tar);
  assert.is(missing.r.exitCode, 1);
  assert.throws(missing.result, /no-such-dir/);

  // the input failing midway: that error, not the worker's view of a truncated tar
  const half = tar.subarray(0, 1536);
  let pushed = false;
  const failing = new Readable({
    read() {
      if (pushed) return;
      pushed = true;
      this.push(half);
      setTimeout(() => this.destroy(new Error('network down')), 20);
    },
  });
  try {
    await run([process.execPath, APPLY_WORKER, ...applyWorkerArgs(scratch())], { input: failing });
    assert.unreachable('expected the input error');
  } catch (e) {
    assert.is((e as Error).message, 'network down');
  }

  // a worker that dies without its JSON line
  assert.throws(() => parseApplyWorkerResult(137, '', ''), (e: Error) => (e as StoreError).code === 'PKIT_LAYER_WORKER' && /exit 137/.test(e.message));
});

it('removeAsUsernsRoot removes a tree the user itself cannot', async () => {
  const base = scratch();
  const target = join(base, 'layer');
  mkdirSync(target);
  const { r } = await applyInUserns(target, await ownersLayer());
  assert.is(r.exitCode, 0, r.stderr);
  writeFileSync(join(base, 'plain'), 'x');
  const asUser = spawnSync('rm', ['-rf', target], { encoding: 'utf8' });
  assert.is.not(asUser.status, 0);
  assert.match(asUser.stderr, /Permission denied|Operation not permitted/);
  assert.throws(() => rmSync(target, { recursive: true, force: true }), (e: NodeJS.ErrnoException) => e.code === 'EACCES' || e.code === 'EPERM');
  assert.ok(existsSync(join(target, 'ro/locked')));

  await removeAsUsernsRoot([target, join(base, 'plain'), join(base, 'not-there')], { helper: helper(), mappings: idmap });
  assert.not.ok(existsSync(target));
  assert.not.ok(existsSync(join(base, 'plain')));
  assert.ok(existsSync(base));
});

test('removeAsUsernsRoot refuses / and empty paths, and does nothing for none', async () => {
  await removeAsUsernsRoot([], { helper: '/nonexistent' });
  try {
    await removeAsUsernsRoot(['/tmp/../'], { helper: '/nonexistent' });
    assert.unreachable('expected a refusal');
  } catch (e) {
    assert.match((e as Error).message, /refusing to remove \//);
  }
  try {
    await removeAsUsernsRoot([''], { helper: '/nonexistent' });
    assert.unreachable('expected a refusal');
  } catch (e) {
    assert.match((e as Error).message, /empty path/);
  }
});

it('removeAsUsernsRoot reports a failure with its message', async () => {
  const d = scratch();
  writeFileSync(join(d, 'f'), 'x');
  // a range that is not ours: the helper fails (125) before rm runs, and nothing is removed
  const notOurs = { ...idmap, uidMappings: [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: idmap.uidMappings[1]!.hostID + 70000, size: 10 }] };
  try {
    await removeAsUsernsRoot([d], { helper: helper(), mappings: notOurs });
    assert.unreachable('expected a failure');
  } catch (e) {
    assert.instance(e, StoreError);
    assert.is((e as StoreError).code, 'PKIT_REMOVE');
    assert.match((e as Error).message, /^removing .* in the user namespace failed \(exit 125\): .*pkit-runtime: userns-exec: newuidmap failed/);
  }
  assert.ok(existsSync(join(d, 'f')));
});

test.run();
