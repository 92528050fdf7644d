// prun run's filesystem view: bind mounts, named and anonymous volumes, --mount, --tmpfs,
// -u by name, and the generated /etc/hosts, /etc/hostname and /etc/resolv.conf.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
let host = '';
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-mounts');
  host = tempDir('pkit-hostdir');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('-v HOST:CTR: the container sees the host files; what it writes belongs to the invoking user', () => {
  writeFileSync(join(host, 'in.txt'), 'from host\n');
  const r = ok(prun(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in.txt; echo out > /data/out.txt; mkdir /data/d']));
  assert.is(r.stdout, 'from host\n');
  assert.is(readFileSync(join(host, 'out.txt'), 'utf8'), 'out\n');
  assert.is(statSync(join(host, 'out.txt')).uid, process.getuid!());
  assert.is(statSync(join(host, 'd')).uid, process.getuid!());
});

test('--userns=keep-id: files written in a bind mount are the user\'s, written as the user\'s own uid', () => {
  const r = ok(prun(['run', '--rm', '--userns=keep-id', '-v', `${host}:/src`, 'busybox', 'sh', '-c', 'id -u; touch /src/keep']));
  assert.is(r.stdout.trim(), String(process.getuid!()));
  assert.is(statSync(join(host, 'keep')).uid, process.getuid!());
});

test(':ro refuses writes; relative and missing sources are handled as podman', () => {
  const r = prun(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'touch', '/data/nope']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Read-only file system/);
  oneLineError(prun(['run', '--rm', '-v', '/no/such/dir:/data', 'busybox', 'true']), /no such file or directory/);
  oneLineError(prun(['run', '--rm', '-v', `${host}:/data:bogus`, 'busybox', 'true']), /bogus/);
  oneLineError(prun(['run', '--rm', '-v', `${host}:relative`, 'busybox', 'true']), /absolute/);
});

test('named volumes: created on first use, kept between containers, listed, and refused removal while used', () => {
  ok(prun(['run', '--rm', '-v', 'appdata:/var/app', 'busybox', 'sh', '-c', 'echo persisted > /var/app/f']));
  assert.is(ok(prun(['run', '--rm', '-v', 'appdata:/x', 'busybox', 'cat', '/x/f'])).stdout, 'persisted\n');
  assert.match(ok(prun(['volume', 'ls'])).stdout, /local\s+appdata/);
  ok(prun(['create', '--name', 'holder', '-v', 'appdata:/x', 'busybox', 'true']));
  const rm = prun(['volume', 'rm', 'appdata']);
  assert.not.equal(rm.code, 0);
  assert.match(rm.stderr, /in use|being used/);
  ok(prun(['rm', 'holder']));
  ok(prun(['volume', 'rm', 'appdata']));
});

test('a new named volume gets the image\'s files at its destination (copy-up)', () => {
  const r = ok(prun(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'cat', '/etc/group']));
  assert.match(r.stdout, /^root:x:0:/);
  ok(prun(['volume', 'rm', 'etcvol']));
});

test('an anonymous volume (-v /path) goes with its --rm container, and with rm -v', () => {
  const before = ok(prun(['volume', 'ls', '-q'])).stdout;
  ok(prun(['run', '--rm', '-v', '/anon', 'busybox', 'sh', '-c', 'echo x > /anon/f']));
  assert.is(ok(prun(['volume', 'ls', '-q'])).stdout, before);
  ok(prun(['run', '--name', 'anon', '-v', '/anon', 'busybox', 'true']));
  assert.is(ok(prun(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).length, before.split('\n').filter(Boolean).length + 1);
  ok(prun(['container', 'rm', '-v', 'anon']));
  assert.is(ok(prun(['volume', 'ls', '-q'])).stdout, before);
});

test('--mount type=bind|volume|tmpfs and --tmpfs', () => {
  const r = ok(prun(['run', '--rm',
    '--mount', `type=bind,source=${host},destination=/b,readonly`,
    '--mount', 'type=volume,src=mvol,dst=/v',
    '--mount', 'type=tmpfs,destination=/t,tmpfs-size=1m',
    '--tmpfs', '/scratch',
    'busybox', 'sh', '-c', 'touch /b/x 2>/dev/null || echo b-ro; echo v > /v/f && echo v-ok; grep -E " /t | /scratch " /proc/mounts | cut -d" " -f2,3 | sort']));
  assert.is(r.stdout, 'b-ro\nv-ok\n/scratch tmpfs\n/t tmpfs\n');
  oneLineError(prun(['run', '--rm', '--mount', 'type=nope,dst=/x', 'busybox', 'true']), /nope/);
  // podman's own message for a bind without a source: it stats the destination
  oneLineError(prun(['run', '--rm', '--mount', 'type=bind,dst=/x', 'busybox', 'true']), /statfs \/x: no such file or directory/);
});

test('a bad volume spec fails before anything is created', () => {
  const before = ok(prun(['ps', '-aq'])).stdout;
  oneLineError(prun(['run', '--name', 'never', '-v', ':/x', 'busybox', 'true']), /volume/i);
  assert.is(ok(prun(['ps', '-aq'])).stdout, before);
});

test('-u by name and by number, resolved in the image\'s /etc/passwd and /etc/group', () => {
  assert.is(ok(prun(['run', '--rm', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo $(id -u):$(id -g) $HOME'])).stdout, '65534:65534 /nonexistent\n');
  assert.is(ok(prun(['run', '--rm', '-u', '1234:nogroup', 'busybox', 'sh', '-c', 'echo $(id -u):$(id -g)'])).stdout, '1234:65534\n');
  oneLineError(prun(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']), /unable to find user nosuchuser/);
  ok(prun(['run', '-d', '--name', 'ux', 'busybox', 'sleep', '100']));
  assert.is(ok(prun(['exec', '-u', 'nobody', 'ux', 'id', '-u'])).stdout, '65534\n');
  ok(prun(['rm', '-f', 'ux']));
});

test('/etc/hostname and /etc/hosts as podman writes them; --hostname, --add-host', () => {
  const r = ok(prun(['run', '--rm', '--hostname', 'box', '--add-host', 'db.local:10.1.2.3',
    'busybox', 'sh', '-c', 'cat /etc/hostname; echo; echo ---; cat /etc/hosts']));
  const [hostname, hosts] = r.stdout.split('---\n');
  assert.is(hostname, 'box\n'); // podman writes it without a newline: the echo adds one
  assert.match(hosts!, /^10\.1\.2\.3\s+db\.local$/m);
  assert.match(hosts!, /\sbox(\s|$)/m);
  oneLineError(prun(['run', '--rm', '--add-host', 'nocolon', 'busybox', 'true']), /add-host|nocolon/);
  oneLineError(prun(['run', '--rm', '--dns', 'not-an-ip', 'busybox', 'true']), /not-an-ip/);
});

test('the default hostname is the container ID\'s first 12 characters', () => {
  const id = ok(prun(['create', 'busybox', 'hostname'])).stdout.trim();
  const r = ok(prun(['start', '-a', id]));
  assert.is(r.stdout, `${id.slice(0, 12)}\n`);
  ok(prun(['rm', id]));
});

test.run();
