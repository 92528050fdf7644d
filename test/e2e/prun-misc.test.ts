// prun unshare, top and port through the built CLI as the test user, compared with what
// podman 4.3 prints; failures are one line with exit 125.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readlinkSync } from 'node:fs';
import { Store } from '../../packages/storage/src/store.ts';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
const prun = (args: string[], input?: string, env?: Record<string, string | undefined>) =>
  run('prun', ['--root', root, ...args], { ...(input === undefined ? {} : { input }), ...(env ? { env } : {}) });

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-misc');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

// ---- unshare ----------------------------------------------------------------------------

test('unshare: root of a user namespace with the rootless mapping, podman\'s env', () => {
  const maps = ok(prun(['unshare', 'cat', '/proc/self/uid_map'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  assert.equal(maps[0], [0, process.getuid!(), 1]);
  assert.is(ok(prun(['unshare', 'id', '-u'])).stdout, '0\n');
  const env = ok(prun(['unshare', 'env'])).stdout;
  assert.match(env, /^_CONTAINERS_USERNS_CONFIGURED=done$/m);
  assert.match(env, new RegExp(`^_CONTAINERS_ROOTLESS_UID=${process.getuid!()}$`, 'm'));
  assert.match(env, new RegExp(`^_CONTAINERS_ROOTLESS_GID=${process.getgid!()}$`, 'm'));
  // A mount namespace of its own.
  assert.is.not(ok(prun(['unshare', 'readlink', '/proc/self/ns/mnt'])).stdout.trim(), readlinkSync('/proc/self/ns/mnt'));
});

test('unshare: arguments and options of the command are its own; stdin passes; exit codes pass through', () => {
  assert.is(ok(prun(['unshare', 'sh', '-c', 'echo "$0 $1"', 'a', '-b'])).stdout, 'a -b\n');
  assert.is(ok(prun(['unshare', '--', 'ls', '-d', '/'])).stdout, '/\n');
  assert.is(ok(prun(['unshare', 'cat'], 'piped\n')).stdout, 'piped\n');
  assert.is(prun(['unshare', 'sh', '-c', 'exit 7']).code, 7);
  const nf = prun(['unshare', 'no-such-command']);
  assert.is(nf.code, 127);
  assert.match(nf.stderr, /no-such-command/);
  assert.is(prun(['unshare', '/etc/passwd']).code, 126);
  assert.is(prun(['unshare', 'sh', '-c', 'kill -TERM $$']).code, 143);
});

test('unshare without a command runs $SHELL (else /bin/sh)', () => {
  assert.is(ok(prun(['unshare'], 'echo "shell $(id -u)"\n', { SHELL: '/bin/sh' })).stdout, 'shell 0\n');
  assert.is(ok(prun(['unshare'], 'echo "sh $(id -u)"\n', { SHELL: undefined })).stdout, 'sh 0\n');
});

// ---- top --------------------------------------------------------------------------------

test('top: podman\'s default columns for every process of the container, PIDs as inside', () => {
  ok(prun(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'sleep 600 & exec sleep 700']));
  const lines = ok(prun(['top', 'web'])).stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^USER {8}PID {9}PPID {8}%CPU {8}ELAPSED +TTY {9}TIME {8}COMMAND$/);
  const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
  assert.is(rows.length, 2, lines.join('\n'));
  const init = rows.find((r) => r[1] === '1')!;
  const child = rows.find((r) => r[1] !== '1')!;
  assert.equal([init[0], init[2], init[3], init[5], init[6], init[7]], ['root', '0', '0.000', '?', '0s', 'sleep 700']);
  assert.match(init[4]!, /^(\d+m)?\d+(\.\d+)?(s|ms)$/, 'ELAPSED as a Go duration');
  assert.equal([child[2], child[7]], ['1', 'sleep 600']);
});

test('top: descriptors, AIX codes, host pids', () => {
  const out = ok(prun(['top', 'web', 'pid', 'user', 'args', 'comm', 'hpid', 'huser', 'state', 'nice'])).stdout.trimEnd().split('\n');
  assert.match(out[0]!, /^PID {9}USER {8}COMMAND {5}COMMAND {5}HPID {8}HUSER {7}STATE {7}NI$/);
  const init = out.slice(1).map((l) => l.split(/\s{2,}/)).find((r) => r[0] === '1')!;
  assert.equal([init[1], init[2], init[3], init[5], init[6], init[7]], ['root', 'sleep 700', 'sleep', String(process.getuid!()), 'S', '0']);
  // The host pid really is that process.
  assert.is(readFileSync(`/proc/${init[4]}/cmdline`, 'utf8'), 'sleep\u0000700\u0000');
  assert.match(ok(prun(['top', 'web', '%p', '%U', '%a'])).stdout, /^PID {9}USER {8}COMMAND\n1 {11}root {8}sleep 700\n/);
});

test('top: the user is named from the container\'s /etc/passwd, by its id inside', () => {
  ok(prun(['run', '-d', '--name', 'asuser', '-u', '1000:1000', 'busybox', 'sleep', '600']));
  const row = ok(prun(['top', 'asuser', 'user', 'uid', 'group', 'args'])).stdout.trimEnd().split('\n')[1]!.split(/\s{2,}/);
  assert.equal(row, ['1000', '1000', '1000', 'sleep 600']);
  ok(prun(['run', '-d', '--name', 'nobody', '-u', 'nobody', 'busybox', 'sleep', '600']));
  assert.match(ok(prun(['top', 'nobody', 'user', 'args'])).stdout, /\nnobody {6}sleep 600\n/);
});

test('top: other descriptors run ps inside the container, as podman does', () => {
  const out = ok(prun(['top', 'web', '-o', 'pid,comm'])).stdout;
  assert.match(out, /PID +COMMAND\n/);
  assert.match(out, /\n +1 sleep\n/);
  assert.match(out, /\bps\n/);
});

test('top failures: a stopped container (podman\'s words), a missing one', () => {
  ok(prun(['create', '--name', 'idle', 'busybox', 'true']));
  oneLineError(prun(['top', 'idle']), /^Error: top can only be used on running containers$/m);
  oneLineError(prun(['top', 'nosuch']), /no container with name or ID "nosuch" found/);
  oneLineError(prun(['top']), /requires a CONTAINER|Missing 1 required arg/);
});

// ---- port -------------------------------------------------------------------------------

/** Writes published ports into a record as `-p` leaves them (the runtime's PortMapping shape). */
function setPorts(name: string, ports: unknown[]): Promise<void> {
  const store = Store.open({ root });
  return store.containers
    .resolve(name)
    .then((rec) => store.containers.update(rec.id, { config: { ...rec.config, ports } }))
    .then(() => undefined)
    .finally(() => store.close());
}

const PORTS = [
  { hostIP: '', hostPort: 18095, containerPort: 95, range: 1, protocol: 'tcp' },
  { hostIP: '127.0.0.1', hostPort: 18081, containerPort: 81, range: 1, protocol: 'udp' },
  { hostIP: '', hostPort: 18080, containerPort: 80, range: 1, protocol: 'tcp' },
  { hostIP: '', hostPort: 18090, containerPort: 90, range: 2, protocol: 'tcp' },
];

test('port: every published port as podman prints it, tcp first, by host port; a range one line per port', async () => {
  await setPorts('web', PORTS);
  assert.is(
    ok(prun(['port', 'web'])).stdout,
    '80/tcp -> 0.0.0.0:18080\n90/tcp -> 0.0.0.0:18090\n91/tcp -> 0.0.0.0:18091\n95/tcp -> 0.0.0.0:18095\n81/udp -> 127.0.0.1:18081\n',
  );
  assert.is(ok(prun(['container', 'port', 'web'])).stdout.split('\n').length, 6);
});

test('port CONTAINER PORT[/PROTO]: the host address only', () => {
  assert.is(ok(prun(['port', 'web', '80'])).stdout, '0.0.0.0:18080\n');
  assert.is(ok(prun(['port', 'web', '80/tcp'])).stdout, '0.0.0.0:18080\n');
  assert.is(ok(prun(['port', 'web', '91'])).stdout, '0.0.0.0:18091\n');
  assert.is(ok(prun(['port', 'web', '81/udp'])).stdout, '127.0.0.1:18081\n');
  oneLineError(prun(['port', 'web', '81']), /^Error: failed to find published port "81"$/m);
  oneLineError(prun(['port', 'web', '80/sctp']), /failed to find published port "80\/sctp"/);
  oneLineError(prun(['port', 'web', 'abc']), /invalid port "abc"/);
});

test('port -a: the running containers\' ports, each line led by the short ID; no ports, no output', async () => {
  await setPorts('asuser', [{ hostIP: '', hostPort: 18100, containerPort: 100, range: 1, protocol: 'tcp' }]);
  const ids = JSON.parse(ok(prun(['ps', '--format', 'json'])).stdout) as Array<{ Id: string; Names: string[] }>;
  const id = (n: string) => ids.find((c) => c.Names.includes(n))!.Id.slice(0, 12);
  const lines = ok(prun(['port', '-a'])).stdout.trimEnd().split('\n');
  assert.ok(lines.includes(`${id('web')}\t80/tcp -> 0.0.0.0:18080`), lines.join('\n'));
  assert.ok(lines.includes(`${id('asuser')}\t100/tcp -> 0.0.0.0:18100`), lines.join('\n'));
  assert.is(lines.length, 6);
  assert.is(ok(prun(['port', 'nobody'])).stdout, '');
});

test('port: a container that is not running publishes nothing; usage errors', async () => {
  await setPorts('idle', PORTS);
  assert.is(ok(prun(['port', 'idle'])).stdout, '');
  oneLineError(prun(['port', 'idle', '80']), /failed to find published port "80"/);
  oneLineError(prun(['port']), /you must supply a running container name or id/);
  oneLineError(prun(['port', '-a', 'web']), /no arguments are needed with --all/);
  oneLineError(prun(['port', 'nosuch']), /no container with name or ID "nosuch" found/);
});

test('cleanup', () => {
  ok(prun(['rm', '-f', '-a']));
});

test.run();
