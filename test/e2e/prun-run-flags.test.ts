// prun run's flags beyond the first path: -t, --init, --read-only, capabilities, security
// options, --userns=keep-id, --env-file, labels, limits; as the unprivileged test user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, REGISTRY, binPath, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
const prun = (args: string[], input?: string) => run('prun', ['--root', root, ...args], input === undefined ? {} : { input });

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-flags');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('-t gives the container a terminal (under script(1)); without -t it has none', () => {
  const cmd = `${binPath('prun')} --root ${root} run --rm -t busybox sh -c 'tty; test -t 0 && echo is-a-tty; exit 5'`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, PATH: `${join(binPath('prun'), '../../../../node_modules/node/bin')}:${process.env.PATH}` } });
  assert.is(r.status, 5, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+\r?\n/);
  assert.match(r.stdout, /is-a-tty/);
  const n = prun(['run', '--rm', 'busybox', 'sh', '-c', 'test -t 1 || echo no-tty']);
  assert.is(n.stdout, 'no-tty\n');
});

test('combined short flags (-it, -dit) are taken apart', () => {
  const r = ok(prun(['run', '--rm', '-i', 'busybox', 'cat'], 'x\n'));
  assert.is(r.stdout, 'x\n');
  const id = ok(prun(['run', '-di', '--name', 'dit', 'busybox', 'sleep', '100'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  ok(prun(['rm', '-f', 'dit']));
});

test('--init runs catatonit as PID 1 before the command', () => {
  const r = ok(prun(['run', '--rm', '--init', 'busybox', 'cat', '/proc/1/cmdline']));
  assert.is(r.stdout.split('\0').filter(Boolean).join(' '), '/run/podman-init -- cat /proc/1/cmdline');
  // a shell as PID 1 ignores SIGTERM; under --init, stop does not need SIGKILL
  ok(prun(['run', '-d', '--init', '--name', 'inited', 'busybox', 'sleep', '1000']));
  const s = ok(prun(['stop', '-t', '5', 'inited']));
  assert.not.match(s.stderr, /SIGKILL/);
  ok(prun(['rm', 'inited']));
});

test('--read-only: / cannot be written, /tmp can', () => {
  const r = prun(['run', '--rm', '--read-only', 'busybox', 'sh', '-c', 'touch /x 2>/dev/null && echo wrote-root; touch /tmp/y && echo wrote-tmp']);
  assert.is(r.stdout, 'wrote-tmp\n');
});

test('--cap-drop and --cap-add change the effective set', () => {
  const capEff = (args: string[]) => ok(prun(['run', '--rm', ...args, 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status'])).stdout.trim().split(/\s+/)[1]!;
  const base = BigInt(`0x${capEff([])}`);
  const chown = 1n << 0n;
  assert.ok(base & chown, 'CHOWN is a default capability');
  assert.not.ok(BigInt(`0x${capEff(['--cap-drop', 'CHOWN'])}`) & chown);
  const netAdmin = 1n << 12n;
  assert.not.ok(base & netAdmin);
  assert.ok(BigInt(`0x${capEff(['--cap-add', 'NET_ADMIN'])}`) & netAdmin);
  assert.is(BigInt(`0x${capEff(['--cap-drop', 'ALL'])}`), 0n);
  oneLineError(prun(['run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']), /NOT_A_CAP/);
});

test('--security-opt: seccomp=unconfined, a profile file, no-new-privileges; bad values fail', () => {
  const seccomp = (args: string[]) => ok(prun(['run', '--rm', ...args, 'busybox', 'sh', '-c', 'grep ^Seccomp: /proc/self/status'])).stdout.trim();
  assert.match(seccomp([]), /\t2$/);
  assert.match(seccomp(['--security-opt', 'seccomp=unconfined']), /\t0$/);
  const profile = join(tempDir('pkit-seccomp'), 'deny-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  const r = prun(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/newdir']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /not permitted/i);
  const nnp = ok(prun(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', 'grep NoNewPrivs /proc/self/status'])).stdout;
  assert.match(nnp, /1$/m);
  oneLineError(prun(['run', '--rm', '--security-opt', 'seccomp=/no/such.json', 'busybox', 'true']), /no such file/);
  oneLineError(prun(['run', '--rm', '--security-opt', 'bogus', 'busybox', 'true']), /unknown option/);
});

test('--userns=keep-id: the invoking user keeps its uid inside', () => {
  const uid = process.getuid!();
  const r = ok(prun(['run', '--rm', '--userns=keep-id', 'busybox', 'id', '-u']));
  assert.is(r.stdout.trim(), String(uid));
  assert.is(ok(prun(['run', '--rm', 'busybox', 'id', '-u'])).stdout.trim(), '0');
});

test('--env-file and -e: the file first, -e wins; a missing file fails', () => {
  const f = join(tempDir('pkit-envf'), 'env');
  writeFileSync(f, '# comment\nA=from-file\n\nB=file-b\n');
  const r = ok(prun(['run', '--rm', '--env-file', f, '-e', 'B=flag', 'busybox', 'sh', '-c', 'echo $A $B']));
  assert.is(r.stdout, 'from-file flag\n');
  oneLineError(prun(['run', '--rm', '--env-file', '/no/such/env', 'busybox', 'true']), /no such file/);
});

test('--label and --stop-signal are kept; inspect shows them', () => {
  ok(prun(['create', '--name', 'lab', '--label', 'team=core', '--stop-signal', 'SIGINT', 'busybox', 'true']));
  const r = ok(prun(['inspect', '--format', '{{index .Config.Labels "team"}} {{.Config.StopSignal}} {{.State.Status}}', 'lab']));
  assert.is(r.stdout, 'core SIGINT created\n');
  ok(prun(['rm', 'lab']));
});

test('limits: bad values are refused; on this cgroup v1 host valid ones are ignored with podman\'s warning', () => {
  oneLineError(prun(['run', '--rm', '--memory', 'lots', 'busybox', 'true']), /--memory lots/);
  oneLineError(prun(['run', '--rm', '--cpus', '-1', 'busybox', 'true']), /--cpus/);
  oneLineError(prun(['run', '--rm', '--pids-limit', 'x', 'busybox', 'true']), /--pids-limit/);
  const r = prun(['run', '--rm', '--memory', '64m', '--pids-limit', '100', 'busybox', 'echo', 'ran']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'ran\n');
});

test('--runtime: crun is refused with the reason; unknown runtimes too', () => {
  oneLineError(prun(['run', '--rm', '--runtime', 'crun', 'busybox', 'true']), /pkit-runtime/);
  oneLineError(prun(['run', '--rm', '--runtime', '/no/such/runtime', 'busybox', 'true']), /runtime/);
});

test('inspect: containers and images, JSON and templates; unknown names fail after the rest', () => {
  assert.is(prun(['run', '--name', 'insp', 'busybox', 'sh', '-c', 'exit 2']).code, 2);
  const [c] = JSON.parse(ok(prun(['inspect', 'insp'])).stdout) as Array<{ Id: string; Name: string; State: { Status: string; ExitCode: number }; Config: { Cmd: string[] } }>;
  assert.is(c!.Name, 'insp');
  assert.is(c!.State.Status, 'exited');
  assert.is(c!.State.ExitCode, 2);
  assert.equal(c!.Config.Cmd, ['sh', '-c', 'exit 2']);
  const img = JSON.parse(ok(prun(['inspect', '--type', 'image', 'busybox'])).stdout) as Array<{ Id: string }>;
  assert.match(img[0]!.Id, /^[0-9a-f]{64}$/);
  const bad = prun(['inspect', 'insp', 'nosuch']);
  assert.is(bad.code, 125);
  assert.is((JSON.parse(bad.stdout) as unknown[]).length, 1);
  assert.match(bad.stderr, /no such object: "nosuch"/);
  oneLineError(prun(['inspect', '--format', '{{nofunc .Id}}', 'insp']), /not defined/);
});

test('without subordinate ranges the container still runs, as the user alone, with a one-line warning', () => {
  const r = run('prun', ['--root', root, 'run', '--rm', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map'], { env: { PKIT_SUBUID_FILE: '/dev/null', PKIT_SUBGID_FILE: '/dev/null' } });
  assert.is(r.code, 0, r.stderr);
  const [uid, map] = r.stdout.trim().split('\n');
  assert.is(uid, '0');
  assert.equal(map!.trim().split(/\s+/), ['0', String(process.getuid!()), '1']);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /subuid|subordinate/i);
});

test('--pull: missing pulls an absent image once; never fails without it; always pulls again', () => {
  const ref = `${REGISTRY}/e2e-runpull-${process.pid}/bb:1`;
  ok(prun(['push', '--tls-verify=false', 'busybox', ref]), 'push');
  const fresh = tempDir('pkit-runpull');
  const p = (args: string[]) => run('prun', ['--root', fresh, ...args]);
  oneLineError(p(['run', '--rm', '--pull', 'never', ref, 'true']), /not found|not known/);
  const first = p(['run', '--rm', '--tls-verify=false', ref, 'echo', 'pulled']);
  assert.is(first.code, 0, first.stderr);
  assert.is(first.stdout, 'pulled\n');
  assert.match(first.stderr, /Copying blob|Writing manifest/);
  const second = p(['run', '--rm', ref, 'echo', 'again']);
  assert.is(second.stdout, 'again\n');
  assert.not.match(second.stderr, /Copying blob/, 'a present image is not pulled again');
  const always = p(['run', '--rm', '--pull', 'always', '--tls-verify=false', '-q', ref, 'true']);
  assert.is(always.code, 0, always.stderr);
  oneLineError(p(['run', '--rm', '--pull', 'sometimes', ref, 'true']), /sometimes/);
});

test.run();
