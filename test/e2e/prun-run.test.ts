// prun run: the first path (overlay root over the store's layers, pkit-runtime, foreground),
// driven through the built CLI as the unprivileged test user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, binPath, ok, oneLineError, pipeline, requireBuild, run, tempDir } from './helpers.ts';

const prun = (root: string, args: string[], input?: string) => run('prun', ['--root', root, ...args], input === undefined ? {} : { input });

let root = '';

test('the built CLI and the fixture are there; import busybox', () => {
  requireBuild();
  assert.ok(existsSync(FIXTURE), `fixture missing: ${FIXTURE} (run scripts/setup.sh)`);
  root = tempDir('pkit-run');
  ok(prun(root, ['import', FIXTURE, 'busybox']), 'import');
});

test('run --rm busybox echo hi prints hi and exits 0', () => {
  const r = ok(prun(root, ['run', '--rm', 'busybox', 'echo', 'hi']), 'run');
  assert.is(r.stdout, 'hi\n');
});

test('the container\'s exit code is prun\'s; the command\'s own flags are not prun\'s', () => {
  const r = prun(root, ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.is(r.code, 3, r.stderr);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
});

test('a missing command exits 127 with a one-line error', () => {
  const r = prun(root, ['run', '--rm', 'busybox', 'no-such-command']);
  oneLineError(r, /no-such-command.*not found/, 127);
  assert.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
});

test('a command that is not executable exits 126', () => {
  const r = prun(root, ['run', '--rm', 'busybox', '/etc/passwd']);
  oneLineError(r, /\/etc\/passwd/, 126);
});

test('stdin passes through with -i, and is /dev/null without it', () => {
  const r = ok(prun(root, ['run', '--rm', '-i', 'busybox', 'cat'], 'line 1\nline 2\n'), 'run -i');
  assert.is(r.stdout, 'line 1\nline 2\n');
  const n = ok(prun(root, ['run', '--rm', 'busybox', 'cat'], 'ignored\n'), 'run without -i');
  assert.is(n.stdout, '');
});

test('-t without -i: a terminal, but what is typed does not reach the container (podman); -it: it does', () => {
  const inTerminal = (flags: string) =>
    spawnSync('script', ['-qec', `${binPath('prun')} --root ${root} run --rm ${flags} busybox sh -c 'if read -t 2 a; then echo "got=[$a]"; else echo "no input"; fi'`, '/dev/null'], {
      encoding: 'utf8',
      input: 'typed\n',
      timeout: 60_000,
      env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
    });
  const t = inTerminal('-t');
  assert.is(t.status, 0, t.stdout);
  assert.match(t.stdout, /no input/);
  assert.not.match(t.stdout, /got=/);
  const it = inTerminal('-it');
  assert.match(it.stdout, /got=\[typed\]/);
});

test('-e, -w, --hostname, --entrypoint', () => {
  const r = ok(prun(root, ['run', '--rm', '-e', 'A=1', '-e', 'B=two words', '-w', '/tmp', '--hostname', 'box1', 'busybox', 'sh', '-c', 'echo "$A $B $(pwd) $(hostname)"']));
  assert.is(r.stdout, '1 two words /tmp box1\n');
  const e = ok(prun(root, ['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint']));
  assert.is(e.stdout, 'from entrypoint\n');
  const missing = prun(root, ['run', '--rm', '-w', '/no/such/dir', 'busybox', 'pwd']);
  assert.is(missing.code, 126, 'podman refuses a -w that does not exist');
  assert.match(missing.stderr, /^Error: workdir "\/no\/such\/dir" does not exist on container [0-9a-f]{64}\n$/);
  assert.is(ok(prun(root, ['run', '--rm', '--tmpfs', '/scratch', '-w', '/scratch/new', 'busybox', 'pwd'])).stdout, '/scratch/new\n', 'under a mount it is made');
});

test('files written in the container do not reach the image\'s layers', () => {
  ok(prun(root, ['run', '--rm', 'busybox', 'sh', '-c', 'echo data > /x && cat /x']), 'write');
  const r = prun(root, ['run', '--rm', 'busybox', 'test', '-e', '/x']);
  assert.is(r.code, 1, `a second container sees /x: ${r.stderr}`);
  for (const layer of readdirSync(join(root, 'layers'))) {
    assert.not.ok(existsSync(join(root, 'layers', layer, 'diff', 'x')), `layer ${layer} got /x`);
  }
});

test('--rm leaves no container record', () => {
  const dir = join(root, 'containers');
  assert.equal(existsSync(dir) ? readdirSync(dir) : [], []);
});

test('--name twice: the second run fails with 125 "already in use"; the first container is kept', () => {
  ok(prun(root, ['run', '--name', 'web', 'busybox', 'true']), 'first');
  const r = prun(root, ['run', '--name', 'web', 'busybox', 'true']);
  oneLineError(r, /already in use/, 125);
  assert.is(readdirSync(join(root, 'containers')).length, 1);
});

test('image files keep their owners inside the container (subordinate ids on the host); rmi still removes them', () => {
  const dir = tempDir('pkit-owners');
  const tar = join(dir, 'owned.tar');
  const r = pipeline(`mkdir ${dir}/rootfs ${dir}/extra && tar -xf ${FIXTURE} -C ${dir}/rootfs && mkdir -p ${dir}/extra/home/u && echo hi > ${dir}/extra/home/u/f && ` +
    `tar --numeric-owner --owner=0 --group=0 -cf ${tar} -C ${dir}/rootfs . && tar --numeric-owner --owner=1000 --group=1000 -rf ${tar} -C ${dir}/extra ./home`);
  assert.is(r.code, 0, r.stderr);
  ok(prun(root, ['import', tar, 'owned']), 'import');
  assert.is(ok(prun(root, ['run', '--rm', 'owned', 'stat', '-c', '%u:%g', '/home/u/f', '/bin'])).stdout, '1000:1000\n0:0\n');
  // the same through pcopy into another store
  const archive = join(dir, 'owned.oci.tar');
  ok(prun(root, ['save', '--format', 'oci-archive', '-o', archive, 'owned']), 'save');
  const other = tempDir('pkit-owners-store');
  ok(run('pcopy', ['--root', other, 'copy', '-q', `oci-archive:${archive}`, 'local:owned']), 'pcopy copy');
  assert.is(ok(prun(other, ['run', '--rm', 'owned', 'stat', '-c', '%u:%g', '/home/u/f'])).stdout, '1000:1000\n');
  ok(prun(other, ['rmi', 'owned']), 'rmi in the pcopy store');
  ok(prun(root, ['rmi', 'owned']), 'rmi');
});

test('an unknown image fails with 125', () => {
  oneLineError(prun(root, ['run', '--rm', 'nosuchimage', 'true']), /nosuchimage/, 125);
});

test.run();
