// Containers over time: run -d, create/start, stop (grace then SIGKILL), kill, wait, restart,
// logs, exec and rm -f, through the built CLI as the unprivileged test user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { FIXTURE, REPO, binPath, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

const NODE_PATH = `${join(REPO, 'node_modules', 'node', 'bin')}:${process.env.PATH ?? ''}`;

let root = '';
const prun = (args: string[], input?: string) => run('prun', ['--root', root, ...args], input === undefined ? {} : { input });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `prun logs` until it holds `text` (the container runs on its own meanwhile). */
async function logsContain(name: string, text: string): Promise<string> {
  let out = '';
  for (let i = 0; i < 100; i++) {
    out = ok(prun(['logs', name]), 'logs').stdout;
    if (out.includes(text)) return out;
    await sleep(50);
  }
  assert.unreachable(`logs of ${name} never showed ${JSON.stringify(text)}: ${JSON.stringify(out)}`);
  return out;
}

function state(name: string): { State: string; ExitCode: number } | undefined {
  const list = JSON.parse(ok(prun(['ps', '-a', '--format', 'json'])).stdout) as Array<{ Names: string[]; State: string; ExitCode: number }>;
  return list.find((c) => c.Names.includes(name));
}

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-life');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('run -d prints the full ID and returns while the container runs; ps lists it as running', async () => {
  const r = ok(prun(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; trap "echo got-term; exit 3" TERM; while true; do sleep 0.1; done']));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  const ps = ok(prun(['ps'])).stdout;
  assert.match(ps, /web/);
  assert.match(ps, /Up /);
  await logsContain('web', 'started');
});

test('exec runs in the running container with its env, -e, -w and -u; exit codes pass through', () => {
  const r = ok(prun(['exec', '-e', 'X=1', '-w', '/tmp', 'web', 'sh', '-c', 'echo "$X $(pwd) $(id -u)"']));
  assert.is(r.stdout, '1 /tmp 0\n');
  assert.is(ok(prun(['exec', '-u', '1000:1000', 'web', 'id', '-u'])).stdout, '1000\n');
  assert.is(prun(['exec', 'web', 'sh', '-c', 'exit 7']).code, 7);
  oneLineError(prun(['exec', 'web', 'no-such-command']), /no-such-command/, 127);
  const i = ok(prun(['exec', '-i', 'web', 'cat'], 'piped\n'));
  assert.is(i.stdout, 'piped\n');
  // -d returns at once (with an ID) while the process runs on in the container
  const t0 = Date.now();
  const d = ok(prun(['exec', '-d', 'web', 'sleep', '3']));
  assert.ok(Date.now() - t0 < 2500, 'exec -d waited for the process');
  assert.match(d.stdout, /^[0-9a-f]{64}\n$/);
  assert.match(ok(prun(['exec', 'web', 'ps'])).stdout, /sleep 3/);
});

test('stop sends SIGTERM: the trap runs, the exit code is recorded, ps -a shows Exited (3)', () => {
  const r = ok(prun(['stop', 'web']));
  assert.is(r.stdout, 'web\n');
  assert.is(state('web')?.State, 'exited');
  assert.is(state('web')?.ExitCode, 3);
  assert.match(ok(prun(['ps', '-a'])).stdout, /Exited \(3\)/);
  assert.is(ok(prun(['wait', 'web'])).stdout, '3\n');
  assert.match(ok(prun(['logs', 'web'])).stdout, /started\ngot-term\n/);
});

test('exec in a stopped container fails as podman does (255)', () => {
  const r = prun(['exec', 'web', 'true']);
  assert.is(r.code, 255);
  assert.match(r.stderr, /can only create exec sessions on running containers/);
});

test('start runs it again in the background, keeping its filesystem; restart too', async () => {
  ok(prun(['start', 'web']));
  assert.is(state('web')?.State, 'running');
  ok(prun(['exec', 'web', 'sh', '-c', 'echo kept > /kept']));
  ok(prun(['restart', '-t', '5', 'web']));
  assert.is(state('web')?.State, 'running');
  assert.is(ok(prun(['exec', 'web', 'cat', '/kept'])).stdout, 'kept\n');
});

test('kill -s sends the signal; wait prints the exit code', () => {
  ok(prun(['kill', '-s', 'KILL', 'web']));
  assert.is(ok(prun(['wait', 'web'])).stdout, '137\n');
  oneLineError(prun(['kill', 'web']), /state improper|not running|can only kill running/);
  oneLineError(prun(['kill', '-s', 'NOPE', 'web']), /invalid signal/);
});

test('stop of a container that ignores SIGTERM: SIGKILL after the -t grace period, with a warning', () => {
  ok(prun(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']));
  const t0 = Date.now();
  const r = ok(prun(['stop', '-t', '1', 'stubborn']));
  assert.ok(Date.now() - t0 >= 1000, 'stop returned before the grace period');
  assert.match(r.stderr, /resorting to SIGKILL/);
  assert.is(state('stubborn')?.ExitCode, 137);
});

test('rm refuses a running container without -f; rm -f kills and removes it', () => {
  ok(prun(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '1000']));
  oneLineError(prun(['rm', 'busy']), /as it is running/);
  const r = ok(prun(['rm', '-f', 'busy']));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.is(state('busy'), undefined);
  oneLineError(prun(['stop', 'busy']), /no container with name or ID "busy"/);
});

test('a foreground run keeps its output for logs (stdout and stderr apart); --tail and -t', () => {
  const r = prun(['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo one; echo two; echo err >&2; printf part']);
  assert.is(r.stdout, 'one\ntwo\npart');
  const l = prun(['logs', 'fg']);
  assert.is(l.stdout, 'one\ntwo\npart');
  assert.is(l.stderr, 'err\n');
  assert.is(ok(prun(['logs', '--tail', '1', 'fg'])).stdout, 'part');
  assert.match(ok(prun(['logs', '-t', 'fg'])).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n/);
  assert.is(ok(prun(['logs', '--since', '1h', 'fg'])).stdout, 'one\ntwo\npart');
  assert.is(ok(prun(['logs', '--until', '2000-01-01T00:00:00Z', 'fg'])).stdout, '');
});

test('logs -f follows a detached container until it exits', () => {
  ok(prun(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.2; done']));
  const r = ok(prun(['logs', '-f', 'ticker']));
  assert.is(r.stdout, 'tick 1\ntick 2\ntick 3\n');
});

test('create makes a container that start -a runs in the foreground with its exit code', () => {
  const id = ok(prun(['create', '--name', 'job', 'busybox', 'sh', '-c', 'echo from-job; exit 4'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.is(state('job')?.State, 'created');
  const r = prun(['start', '-a', 'job']);
  assert.is(r.code, 4, r.stderr);
  assert.is(r.stdout, 'from-job\n');
});

test('run -d --rm: the container is gone once it exited', async () => {
  ok(prun(['run', '-d', '--rm', '--name', 'gone', 'busybox', 'true']));
  for (let i = 0; i < 50 && state('gone'); i++) await sleep(50);
  assert.is(state('gone'), undefined);
});

test('--cidfile gets the ID; an existing cidfile is refused before anything is created', () => {
  const f = join(tempDir('pkit-cid'), 'cid');
  ok(prun(['run', '--rm', '--cidfile', f, 'busybox', 'true']));
  assert.match(readFileSync(f, 'utf8'), /^[0-9a-f]{64}$/);
  writeFileSync(f, 'x');
  const before = ok(prun(['ps', '-aq'])).stdout;
  oneLineError(prun(['run', '--rm', '--cidfile', f, 'busybox', 'true']), /exists/);
  assert.is(ok(prun(['ps', '-aq'])).stdout, before);
});

test('ps --filter and --format templates', () => {
  ok(prun(['run', '-d', '--name', 'up1', '--label', 'tier=web', 'busybox', 'sleep', '100']));
  const names = (args: string[]) => ok(prun(['ps', '-a', ...args, '--format', '{{.Names}}'])).stdout.trim().split('\n').filter(Boolean).sort();
  assert.equal(names(['--filter', 'status=running']), ['up1']);
  assert.equal(names(['--filter', 'label=tier=web']), ['up1']);
  assert.equal(names(['--filter', 'name=^job$']), ['job']);
  assert.equal(names(['--filter', 'status=exited', '--filter', 'exited=4']), ['job']);
  const line = ok(prun(['ps', '--filter', 'name=up1', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Status}}'])).stdout;
  assert.match(line, /^[0-9a-f]{12} busybox sleep 100 Up /);
  assert.is(ok(prun(['ps', '-a', '--latest', '--format', '{{.Names}}'])).stdout, 'up1\n');
  oneLineError(prun(['ps', '--filter', 'bogus=1']), /invalid filter/);
  ok(prun(['rm', '-f', 'up1']));
});

test('a foreground container whose prun was killed still runs, and stop still stops it', async () => {
  const child = spawn(binPath('prun'), ['--root', root, 'run', '--name', 'orphan', 'busybox', 'sleep', '1000'], { env: { ...process.env, PATH: NODE_PATH }, stdio: 'ignore' });
  for (let i = 0; i < 100 && state('orphan')?.State !== 'running'; i++) await sleep(50);
  assert.is(state('orphan')?.State, 'running');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  assert.is(state('orphan')?.State, 'running', 'the container outlives its prun');
  ok(prun(['stop', '-t', '1', 'orphan']));
  assert.is(state('orphan')?.State, 'exited');
  ok(prun(['rm', 'orphan']));
});

test('stop -a, rm -a clean up everything; no runtime state is left', () => {
  ok(prun(['run', '-d', 'busybox', 'sleep', '1000']));
  ok(prun(['stop', '-a', '-t', '0']));
  assert.is(ok(prun(['ps', '-q'])).stdout, '');
  ok(prun(['rm', '-a']));
  assert.is(ok(prun(['ps', '-aq'])).stdout, '');
  const dir = join(root, 'containers');
  assert.equal(existsSync(dir) ? readdirSync(dir) : [], []);
});

test.run();
