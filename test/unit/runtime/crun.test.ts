// End to end with crun standing in for pkit-runtime: the busybox fixture extracted into a
// temporary rootfs, a spec generated for the calling user (rootless as pkit-test in CI), and
// `crun --root TMP --cgroup-manager=disabled run --bundle DIR ID`. Checks are made from inside.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { writeBundle } from '../../../packages/runtime/src/bundle.ts';
import { hostFacts } from '../../../packages/runtime/src/host.ts';
import { computeIDMappings, currentIdmapHost } from '../../../packages/runtime/src/idmap.ts';
import type { UsernsMode } from '../../../packages/runtime/src/idmap.ts';
import { findInPath, runContainer, startContainer } from '../../../packages/runtime/src/run.ts';
import type { RuntimeBinary } from '../../../packages/runtime/src/run.ts';
import { buildSpec } from '../../../packages/runtime/src/spec.ts';
import type { RunOptions } from '../../../packages/runtime/src/spec.ts';

const REPO = process.env.PKIT_REPO ?? join(import.meta.dirname, '../../..');
const FIXTURE = process.env.PKIT_TEST_FIXTURE ?? join(REPO, 'test/bed/out/busybox-rootfs.tar');
const CRUN = findInPath('crun');
const READY = Boolean(CRUN) && existsSync(FIXTURE);
const it = READY ? test : test.skip;
const uid = process.getuid!();
const gid = process.getgid!();

let work = '';
let rootfs = '';
let counter = 0;
const runtime: RuntimeBinary = { path: CRUN ?? 'crun', kind: 'crun' };

test.before(() => {
  if (!READY) return;
  work = mkdtempSync(join(tmpdir(), 'pkit-crun-'));
  rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', FIXTURE, '-C', rootfs]);
});

test.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function collect(stream: Readable | null | undefined): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    let s = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (s += d));
    stream.on('end', () => resolve(s));
    stream.on('error', reject);
  });
}

async function prepare(script: string, over: Partial<RunOptions> = {}, userns: UsernsMode = { mode: 'auto' }) {
  const idmap = computeIDMappings(currentIdmapHost(), userns);
  const spec = buildSpec(undefined, { rootfs, idmap, args: ['sh', '-c', script], hostname: 'pkit-ctr', ...over }, hostFacts());
  const id = `t${process.pid}-${++counter}`;
  const bundle = await writeBundle(join(work, id), spec);
  return { id, bundle: bundle.dir, idmap };
}

async function run(script: string, over: Partial<RunOptions> = {}, userns?: UsernsMode) {
  const { id, bundle, idmap } = await prepare(script, over, userns);
  const c = startContainer({ runtime, bundle, id, root: join(work, 'state'), stdio: ['ignore', 'pipe', 'pipe'] });
  const [out, err, res] = await Promise.all([collect(c.child.stdout), collect(c.child.stderr), c.result]);
  return { out, err, code: res.exitCode, runtimeError: res.runtimeError, idmap };
}

function statusField(out: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(out)?.[1];
}

it('runs sh in the container: uid_map, hostname, caps, no_new_privs, seccomp, masks', async () => {
  const r = await run('cat /proc/self/uid_map; echo host=$(hostname); cat /proc/self/status; echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c); echo keys=$(cat /proc/keys | wc -c); id -u');
  assert.is(r.code, 0, r.err);
  const maps = r.out.split('\n').filter((l) => /^\s*\d+\s+\d+\s+\d+\s*$/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
  if (uid === 0) {
    assert.equal(maps, [[0, 0, 4294967295]]);
  } else {
    assert.equal(maps, r.idmap.uidMappings.map((m) => [m.containerID, m.hostID, m.size]));
    assert.equal(maps[0], [0, uid, 1]);
  }
  assert.match(r.out, /^host=pkit-ctr$/m);
  assert.is(statusField(r.out, 'CapEff'), '00000000800405fb');
  assert.is(statusField(r.out, 'CapBnd'), '00000000800405fb');
  assert.is(statusField(r.out, 'CapInh'), '0000000000000000');
  assert.is(statusField(r.out, 'NoNewPrivs'), '1');
  assert.is(statusField(r.out, 'Seccomp'), '2');
  // /proc/kcore may not exist on this kernel; either way nothing can be read from it.
  assert.match(r.out, /^kcore=0$/m);
  assert.match(r.out, /^keys=0$/m);
  assert.match(r.out, /^0$/m);
});

it('exit codes propagate; a missing command is 127', async () => {
  assert.is((await run('exit 3')).code, 3);
  assert.is((await run('exit 0')).code, 0);
  const { id, bundle } = await prepare('');
  // Replace the command by one that does not exist.
  const { readBundleSpec } = await import('../../../packages/runtime/src/bundle.ts');
  const spec = await readBundleSpec(bundle);
  spec.process.args = ['/no/such/command'];
  await writeBundle(bundle, spec);
  const r = await runContainer({ runtime, bundle, id, root: join(work, 'state'), stdio: ['ignore', 'ignore', 'ignore'] });
  assert.is(r.exitCode, 127);
  assert.match(r.runtimeError ?? '', /not found/);
});

it('a non-root user inside has no effective capabilities', async () => {
  const r = await run('grep -E "^(Cap|Uid)" /proc/self/status', { user: '1000:1000' });
  assert.is(r.code, 0, r.err);
  assert.is(statusField(r.out, 'CapEff'), '0000000000000000');
  assert.is(statusField(r.out, 'CapPrm'), '0000000000000000');
  assert.is(statusField(r.out, 'CapBnd'), '00000000800405fb');
  assert.match(statusField(r.out, 'Uid') ?? '', /^1000\s/);
});

(READY && uid !== 0 ? test : test.skip)('keep-id: the user keeps its uid inside', async () => {
  const r = await run('id -u; id -g; cat /proc/self/uid_map', {}, { mode: 'keep-id' });
  assert.is(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.is(lines[0], String(uid));
  assert.is(lines[1], String(gid));
  assert.match(r.out, new RegExp(`^\\s*${uid}\\s+${uid}\\s+1\\s*$`, 'm'));
});

it('env, cwd, read-only root, network none, bind mount', async () => {
  const data = join(work, 'data');
  mkdirSync(data, { recursive: true });
  const r = await run('echo FOO=$FOO; echo container=$container; pwd; touch /x 2>/dev/null && echo rw || echo ro; echo hi > /data/f && cat /data/f; ls /sys/class/net', {
    env: ['FOO=bar'],
    cwd: '/tmp',
    readOnly: true,
    mounts: [{ type: 'bind', source: data, destination: '/data' }],
  });
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^FOO=bar$/m);
  assert.match(r.out, /^container=pkit$/m);
  assert.match(r.out, /^\/tmp$/m);
  assert.match(r.out, /^ro$/m);
  assert.match(r.out, /^hi$/m);
  assert.match(r.out, /^lo$/m);
  assert.not.match(r.out, /eth0/);
});

it('SIGTERM to this process reaches the container', async () => {
  const { id, bundle } = await prepare('trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done');
  const before = process.listenerCount('SIGTERM');
  const c = startContainer({ runtime, bundle, id, root: join(work, 'state'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.child.stdout!.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => {
    c.child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
  });
  const errText = collect(c.child.stderr);
  // If the container fails to start, fail here rather than wait for "ready" forever.
  const early = await Promise.race([ready.then(() => undefined), c.result]);
  if (early) assert.unreachable(`container ended before it was ready (${early.exitCode}): ${await errText}`);
  process.kill(process.pid, 'SIGTERM');
  const r = await c.result;
  assert.is(r.exitCode, 7);
  assert.match(out, /got-term/);
  assert.is(process.listenerCount('SIGTERM'), before);
});

test.run();
