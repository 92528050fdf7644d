// prun cp through the built CLI as the test user: container -> host, host -> container,
// tar streams on stdin/stdout, running and stopped containers, owners and modes as podman 4.3
// gives them, symlinks resolved inside the container, and the failures (one line, exit 125).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, pipeline, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
let host = '';
const prun = (args: string[], input?: string) => run('prun', ['--root', root, ...args], input === undefined ? {} : { input });
/** A shell pipeline in the host dir, with $P for `prun --root ROOT`. */
const sh = (script: string) => pipeline(`cd "${host}" && P="$PRUN --root ${root}" && ${script}`);
const inCtr = (name: string, script: string) => ok(prun(['exec', name, 'sh', '-c', script]), `exec ${script}`).stdout;
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

test('setup: a running container with a small tree, and host files', () => {
  requireBuild();
  root = tempDir('pkit-cp');
  host = tempDir('pkit-cp-host');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
  ok(prun(['run', '-d', '--name', 'web', 'busybox', 'sleep', '600']));
  inCtr('web', 'mkdir -p /d/sub && echo hi > /d/a && echo s > /d/sub/b && ln -s /etc /d/link && chown 1000:1000 /d/a && chmod 640 /d/a');
  writeFileSync(join(host, 'h'), 'host\n');
  chmodSync(join(host, 'h'), 0o640);
  mkdirSync(join(host, 'tree/sub'), { recursive: true });
  writeFileSync(join(host, 'tree/f'), 'f\n');
  writeFileSync(join(host, 'tree/sub/g'), 'g\n');
  symlinkSync('f', join(host, 'tree/lnk'));
});

test('container -> host: a file gets the new name or goes into a directory; it belongs to the user, mode kept', () => {
  ok(prun(['cp', 'web:/d/a', join(host, 'a')]));
  const st = statSync(join(host, 'a'));
  assert.is(readFileSync(join(host, 'a'), 'utf8'), 'hi\n');
  assert.is(st.uid, process.getuid!());
  assert.is(st.gid, process.getgid!());
  assert.is(st.mode & 0o777, 0o640);
  mkdirSync(join(host, 'into'));
  ok(prun(['container', 'cp', 'web:/d/a', join(host, 'into')]));
  assert.is(readFileSync(join(host, 'into/a'), 'utf8'), 'hi\n');
  // An existing file is replaced.
  writeFileSync(join(host, 'old'), 'old\n');
  ok(prun(['cp', 'web:/d/a', join(host, 'old')]));
  assert.is(readFileSync(join(host, 'old'), 'utf8'), 'hi\n');
});

test('container -> host: a directory, its contents ("/."), into an existing directory; symlinks stay links', () => {
  ok(prun(['cp', 'web:/d', join(host, 'd')]));
  assert.is(readFileSync(join(host, 'd/sub/b'), 'utf8'), 's\n');
  assert.is(readlinkSync(join(host, 'd/link')), '/etc');
  assert.is(statSync(join(host, 'd/sub/b')).uid, process.getuid!());
  ok(prun(['cp', 'web:/d/.', join(host, 'dd')]));
  assert.ok(existsSync(join(host, 'dd/a')) && existsSync(join(host, 'dd/sub/b')));
  mkdirSync(join(host, 'e'));
  ok(prun(['cp', 'web:/d/.', join(host, 'e')]));
  assert.ok(existsSync(join(host, 'e/a')) && !existsSync(join(host, 'e/d')));
  mkdirSync(join(host, 'f'));
  ok(prun(['cp', 'web:/d', join(host, 'f')]));
  assert.ok(existsSync(join(host, 'f/d/sub/b')));
});

test('container -> host: a symlink in SRC is followed inside the container', () => {
  ok(prun(['cp', 'web:/d/link/hostname', join(host, 'hn')]));
  assert.is(readFileSync(join(host, 'hn'), 'utf8').trim(), inCtr('web', 'cat /etc/hostname').trim());
  ok(prun(['cp', 'web:/d/link', join(host, 'etccopy')]));
  assert.ok(lstatSync(join(host, 'etccopy')).isDirectory());
  assert.ok(existsSync(join(host, 'etccopy/passwd')));
});

test('container -> stdout: a tar stream, owners 0/0, names as podman writes them', () => {
  const file = sh('$P cp web:/d/a - | tar -tv --numeric-owner');
  ok(file);
  assert.match(file.stdout, /^-rw-r----- 0\/0 +3 .* a\n$/);
  const dir = ok(sh('$P cp web:/d - | tar -t')).stdout.split('\n').filter(Boolean).sort();
  assert.equal(dir, ['d/', 'd/a', 'd/link', 'd/sub/', 'd/sub/b']);
  const contents = ok(sh('$P cp web:/d/. - | tar -t')).stdout.split('\n').filter(Boolean).sort();
  assert.equal(contents, ['a', 'link', 'sub/', 'sub/b']);
  // --archive=false keeps the container's ids.
  assert.match(ok(sh('$P cp --archive=false web:/d/a - | tar -tv --numeric-owner')).stdout, / 1000\/1000 /);
});

test('host -> container: files belong to root inside (podman\'s --archive), mode kept; new name, into a dir', () => {
  ok(prun(['cp', join(host, 'h'), 'web:/tmp/']));
  ok(prun(['cp', join(host, 'h'), 'web:/tmp/h2']));
  assert.is(inCtr('web', 'stat -c "%u:%g %a" /tmp/h /tmp/h2'), '0:0 640\n0:0 640\n');
  assert.is(inCtr('web', 'cat /tmp/h2'), 'host\n');
  // A symlink to a directory in DEST is followed inside the container.
  ok(prun(['cp', join(host, 'h'), 'web:/d/link/']));
  assert.is(inCtr('web', 'cat /etc/h'), 'host\n');
  // A relative host path; --no-archive gives the user's files the id the user has inside (0).
  const r = sh(`$P cp --no-archive ./h web:/tmp/h3 && $P exec web stat -c %u:%g /tmp/h3`);
  assert.is(ok(r).stdout, '0:0\n');
});

test('host -> container: a directory, its contents, a second copy into the first; host symlinks followed by name', () => {
  ok(prun(['cp', join(host, 'tree'), 'web:/tmp/tree']));
  assert.is(inCtr('web', 'cat /tmp/tree/sub/g; readlink /tmp/tree/lnk'), 'g\nf\n');
  ok(prun(['cp', join(host, 'tree'), 'web:/tmp/tree']));
  assert.is(inCtr('web', 'cat /tmp/tree/tree/f'), 'f\n');
  ok(prun(['cp', `${join(host, 'tree')}/.`, 'web:/tmp/contents']));
  assert.is(inCtr('web', 'ls /tmp/contents | sort | tr "\\n" " "'), 'f lnk sub ');
  assert.is(inCtr('web', 'stat -c %u:%g /tmp/contents/sub/g'), '0:0\n');
  // An existing directory keeps its own mode when contents are copied into it.
  ok(prun(['cp', `${join(host, 'tree')}/.`, 'web:/tmp']));
  assert.is(inCtr('web', 'stat -c %a /tmp'), '1777\n');
  symlinkSync(join(host, 'h'), join(host, 'hlink'));
  ok(prun(['cp', join(host, 'hlink'), 'web:/tmp/']));
  assert.is(inCtr('web', 'cat /tmp/hlink; test -L /tmp/hlink || echo regular'), 'host\nregular\n');
});

test('stdin -> container: DEST must be a directory; owners become root, or stay with --archive=false', () => {
  writeFileSync(join(host, 'own.txt'), 'x\n');
  const into = (dir: string, flags = '') => sh(`tar --owner=1000 --group=1000 -c own.txt | $P cp ${flags} - web:${dir}`);
  inCtr('web', 'mkdir -p /in1 /in2');
  ok(into('/in1'));
  ok(into('/in2', '--archive=false'));
  assert.is(inCtr('web', 'stat -c %u:%g /in1/own.txt /in2/own.txt'), '0:0\n1000:1000\n');
  oneLineError(into('/in1/own.txt'), /destination must be a directory when copying from stdin/);
  oneLineError(into('/nodir/'), /"\/nodir\/" could not be found on container web: no such file or directory/);
});

test('a container running as 1000: files copied in (from the host, stdin with pax owners, another container) get 1000:1000', () => {
  ok(prun(['run', '-d', '--name', 'u1', '-u', '1000:1000', 'busybox', 'sleep', '600']));
  ok(prun(['cp', join(host, 'h'), 'u1:/tmp/']));
  ok(prun(['cp', join(host, 'tree'), 'u1:/tmp/']));
  const big = randomBytes(3 << 20);
  mkdirSync(join(host, 'pax'));
  writeFileSync(join(host, 'pax/blob'), big);
  ok(sh('tar --format=pax --pax-option=uid:=55,gid:=66 -c pax | $P cp - u1:/home'));
  ok(prun(['cp', 'web:/d/a', 'u1:/tmp/from-web']));
  assert.is(inCtr('u1', 'stat -c %u:%g /tmp/h /tmp/tree/sub/g /home/pax /home/pax/blob /tmp/from-web'), '1000:1000\n'.repeat(5));
  assert.is(inCtr('u1', 'sha256sum /home/pax/blob').split(' ')[0], sha(big));
});

test('large files stream both ways unchanged', () => {
  const data = randomBytes(24 << 20);
  writeFileSync(join(host, 'big'), data);
  ok(prun(['cp', join(host, 'big'), 'web:/tmp/big']));
  assert.is(inCtr('web', 'sha256sum /tmp/big').split(' ')[0], sha(data));
  ok(prun(['cp', 'web:/tmp/big', join(host, 'big.back')]));
  assert.is(sha(readFileSync(join(host, 'big.back'))), sha(data));
});

test('symlinks in the container never reach host files', () => {
  const secretDir = tempDir('pkit-cp-secret');
  writeFileSync(join(secretDir, 'secret'), 'secret\n');
  inCtr('web', `ln -s ${secretDir} /esc && ln -s / /rootlink && ln -s ../../.. /d/sub/up3`);
  oneLineError(prun(['cp', 'web:/esc/secret', join(host, 's')]), /"\/esc\/secret" could not be found on container web: no such file or directory/);
  oneLineError(prun(['cp', join(host, 'h'), 'web:/esc/']), /could not be found on container web/);
  assert.ok(!existsSync(join(secretDir, 'h')));
  // "/" and ".." resolve to the container's root, not the host's.
  ok(prun(['cp', join(host, 'h'), `web:/rootlink${secretDir}-x`]));
  assert.ok(!existsSync(`${secretDir}-x`));
  assert.is(inCtr('web', `cat ${secretDir}-x`), 'host\n');
  const hostname = inCtr('web', 'cat /etc/hostname');
  assert.is(ok(sh('$P cp web:/../../../etc/hostname - | tar -xO')).stdout, hostname);
  assert.is(ok(sh('$P cp web:/d/sub/up3/etc/hostname - | tar -xO')).stdout, hostname);
});

test('a created container (never started) and an exited one: copy in and out through their overlay', () => {
  ok(prun(['create', '--name', 'job', 'busybox', 'cat', '/tmp/in']));
  ok(prun(['cp', join(host, 'h'), 'job:/tmp/in']));
  assert.is(ok(sh('$P cp job:/tmp/in - | tar -xO')).stdout, 'host\n');
  const r = prun(['start', '-a', 'job']);
  assert.is(r.stdout, 'host\n', r.stderr);
  ok(prun(['cp', 'job:/etc/passwd', join(host, 'passwd')]));
  assert.match(readFileSync(join(host, 'passwd'), 'utf8'), /^root:/);
  ok(prun(['cp', join(host, 'tree'), 'job:/']));
  assert.is(ok(sh('$P cp job:/tree/sub/g - | tar -xO')).stdout, 'g\n');
  // The overlay was mounted in a mount namespace of its own: the host sees rootfs/ empty.
  const list = JSON.parse(ok(prun(['ps', '-a', '--format', 'json'])).stdout) as Array<{ Id: string; Names: string[] }>;
  const id = list.find((c) => c.Names.includes('job'))!.Id;
  assert.equal(readdirSync(join(root, 'containers', id, 'rootfs')), []);
});

test('a named volume of a stopped container receives what is copied to its path', () => {
  ok(prun(['create', '--name', 'withvol', '-v', 'cpvol:/data', 'busybox', 'cat', '/data/h']));
  ok(prun(['cp', join(host, 'h'), 'withvol:/data/']));
  assert.is(readFileSync(join(root, 'volumes/cpvol/_data/h'), 'utf8'), 'host\n');
  assert.is(ok(prun(['start', '-a', 'withvol'])).stdout, 'host\n');
});

test('failures: one line naming the path, exit 125, nothing copied', () => {
  oneLineError(prun(['cp', 'web:/nope', join(host, 'x')]), /^Error: "\/nope" could not be found on container web: no such file or directory$/m);
  oneLineError(prun(['cp', join(host, 'nope'), 'web:/x']), /could not be found on the host: no such file or directory/);
  oneLineError(prun(['cp', 'web:/d/a', join(host, 'nodir/x')]), /"[^"]*nodir\/x" could not be found on the host/);
  oneLineError(prun(['cp', 'web:/d/a', `${join(host, 'a')}/`]), /could not be found on the host: not a directory/);
  oneLineError(prun(['cp', 'web:/d/a', `${join(host, 'newdir')}/`]), /could not be found on the host: no such file or directory/);
  oneLineError(prun(['cp', 'web:/d', join(host, 'a')]), /destination must be a directory when copying a directory/);
  oneLineError(prun(['cp', join(host, 'tree'), 'web:/d/a']), /destination must be a directory when copying a directory/);
  oneLineError(prun(['cp', join(host, 'h'), 'web:/nodir/h']), /"\/nodir\/h" could not be found on container web/);
  oneLineError(prun(['cp', join(host, 'h'), 'web:/d/a/']), /"\/d\/a\/" could not be found on container web: not a directory/);
  oneLineError(prun(['cp', 'web:/d/a/x', join(host, 'x')]), /not a directory/);
  oneLineError(prun(['cp', 'nosuch:/d', join(host, 'x')]), /no container with name or ID "nosuch" found/);
  oneLineError(prun(['cp', join(host, 'h'), join(host, 'h9')]), /one of SRC and DEST must be CONTAINER:PATH/);
  oneLineError(prun(['cp', '-', '-']), /cannot both be "-"/);
  oneLineError(prun(['cp', 'web:/d/a']), /Missing 1 required arg/);
  assert.ok(!existsSync(join(host, 'x')) && !existsSync(join(host, 'h9')));
  // A destination the user may not write: tar's reason.
  mkdirSync(join(host, 'ro'));
  chmodSync(join(host, 'ro'), 0o555);
  oneLineError(prun(['cp', 'web:/d/a', join(host, 'ro')]), /copying web:\/d\/a to .*ro failed: .*Permission denied/);
});

test('cleanup', () => {
  ok(prun(['rm', '-f', '-a']));
});

test.run();
