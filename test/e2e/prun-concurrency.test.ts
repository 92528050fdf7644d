// Behaviour people rely on in pipelines and with several terminals: bytes pass through
// unchanged, names stay unique under a race, and parallel runs leave a consistent store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, REGISTRY, REPO, binPath, ok, pipeline, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);
const PATH = `${join(REPO, 'node_modules', 'node', 'bin')}:${process.env.PATH ?? ''}`;

/** Runs prun with `input` on stdin; resolves with its exit code and raw stdout. */
function prunBytes(args: string[], input: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(binPath('prun'), ['--root', root, ...args], { env: { ...process.env, PATH } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-conc');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('binary stdin and stdout pass through byte for byte, with and without --rm', async () => {
  const data = randomBytes(3 << 20);
  for (const extra of [['--rm'], []]) {
    const r = await prunBytes(['run', ...extra, '-i', 'busybox', 'cat'], data);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.length, data.length);
    assert.is(sha(r.stdout), sha(data), `bytes changed (${extra.join(' ') || 'no --rm'})`);
  }
  ok(prun(['rm', '-a']));
});

test('tar c . | prun run -i busybox tar x: a tree goes in through a pipe', () => {
  const src = tempDir('pkit-tarsrc');
  mkdirSync(join(src, 'sub'));
  writeFileSync(join(src, 'a.txt'), 'alpha\n');
  writeFileSync(join(src, 'sub', 'b.bin'), randomBytes(4096));
  const r = pipeline(`cd ${src} && tar c . | "$PRUN" --root ${root} run --rm -i busybox sh -c 'mkdir /out && tar x -C /out && cat /out/a.txt && find /out -type f | sort'`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'alpha\n/out/a.txt\n/out/sub/b.bin\n');
});

test('two runs racing for one name: exactly one wins, the other fails with "already in use"', async () => {
  const one = () =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(binPath('prun'), ['--root', root, 'run', '--name', 'racer', 'busybox', 'true'], { env: { ...process.env, PATH } });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, stderr: err }));
    });
  const results = await Promise.all([one(), one(), one()]);
  const won = results.filter((r) => r.code === 0);
  assert.is(won.length, 1, JSON.stringify(results));
  for (const r of results.filter((x) => x.code !== 0)) {
    assert.is(r.code, 125);
    assert.match(r.stderr, /already in use/);
  }
  ok(prun(['rm', 'racer']));
});

test('parallel runs with --rm all succeed and leave no container, record or name behind', async () => {
  const runs = Array.from({ length: 6 }, (_, i) =>
    new Promise<number | null>((resolve) => {
      const c = spawn(binPath('prun'), ['--root', root, 'run', '--rm', 'busybox', 'sh', '-c', `echo ${i} > /f; cat /f`], { env: { ...process.env, PATH }, stdio: 'ignore' });
      c.on('close', resolve);
    }),
  );
  assert.equal(await Promise.all(runs), [0, 0, 0, 0, 0, 0]);
  assert.is(ok(prun(['ps', '-aq'])).stdout, '', ok(prun(['ps', '-a', '--format', 'json'])).stdout);
  assert.equal(readdirSync(join(root, 'container-names')), []);
});

test('runs during a pull: both finish, and the store lists the pulled image and nothing half-made', async () => {
  const ref = `${REGISTRY}/e2e-conc-${process.pid}/bb:1`;
  ok(prun(['push', '--tls-verify=false', 'busybox', ref]), 'push');
  // the store then holds only "runner" (the same files, another image): the pull has work to do
  ok(prun(['rmi', '-f', 'busybox']), 'rmi');
  ok(prun(['import', FIXTURE, 'runner']), 'import');
  const spawnPrun = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(binPath('prun'), ['--root', root, ...args], { env: { ...process.env, PATH } });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, err }));
    });
  const results = await Promise.all([
    spawnPrun(['pull', '-q', '--tls-verify=false', ref]),
    spawnPrun(['run', '--rm', 'runner', 'true']),
    spawnPrun(['run', '--rm', 'runner', 'true']),
    spawnPrun(['run', '--rm', 'runner', 'true']),
  ]);
  for (const r of results) assert.is(r.code, 0, r.err);
  const names = ok(prun(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').sort();
  assert.equal(names, [ref, 'localhost/runner:latest'].sort());
  assert.is(ok(prun(['run', '--rm', ref, 'echo', 'pulled-ok'])).stdout, 'pulled-ok\n');
});

test.run();
