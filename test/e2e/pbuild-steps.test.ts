// pbuild's step-by-step verbs (buildah's from, run, commit, containers, rm), driven through the
// built CLIs as the unprivileged test user; the image they make runs under prun.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, REGISTRY, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
const pbuild = (args: string[]) => run('pbuild', ['--root', root, ...args]);
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);
let ctr = '';

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-steps');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('from prints the working container\'s name (buildah\'s IMAGE-working-container), then -1', () => {
  ctr = ok(pbuild(['from', 'busybox'])).stdout.trim();
  assert.is(ctr, 'busybox-working-container');
  const second = ok(pbuild(['from', 'busybox'])).stdout.trim();
  assert.is(second, 'busybox-working-container-1');
  const list = ok(pbuild(['containers'])).stdout;
  assert.match(list, /busybox-working-container\n/);
  assert.match(list, /busybox-working-container-1\n?$/);
  assert.is(ok(prun(['ps', '-aq'])).stdout, '', 'working containers are not prun\'s');
  ok(pbuild(['rm', second]));
});

test('run: the command\'s exit code, stdout and stderr; its own flags are not pbuild\'s', () => {
  const r = pbuild(['run', ctr, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.is(r.code, 3);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  ok(pbuild(['run', ctr, '--', 'sh', '-c', 'echo built > /greeting; mkdir -p /home/u; chown 1000:1000 /home/u; rm /bin/vi']));
  assert.is(ok(pbuild(['run', ctr, 'cat', '/greeting'])).stdout, 'built\n');
});

test('run --env, --user, --workingdir and -v (a host directory, read-write; :ro read-only)', () => {
  const c = ok(pbuild(['from', 'busybox'])).stdout.trim();
  const host = tempDir('pkit-run-vol');
  writeFileSync(join(host, 'in.txt'), 'from host\n');
  const r = ok(pbuild(['run', '--env', 'A=1', '-e', 'PATH=/bin', '--user', 'nobody', '--workingdir', '/tmp', c, '--', 'sh', '-c', 'echo "$A $PATH $(id -un) $(pwd)"']));
  assert.is(r.stdout, '1 /bin nobody /tmp\n');
  ok(pbuild(['run', '-v', `${host}:/data`, c, '--', 'sh', '-c', 'cat /data/in.txt > /data/out.txt']));
  assert.is(readFileSync(join(host, 'out.txt'), 'utf8'), 'from host\n', 'writes reach the host directory');
  const ro = pbuild(['run', '-v', `${host}:/data:ro`, c, '--', 'touch', '/data/nope']);
  assert.is.not(ro.code, 0);
  oneLineError(pbuild(['run', '-v', '/no/such/dir:/x', c, '--', 'true']), /does not exist on the host/);
  ok(pbuild(['rm', c]));
});

test('commit: a new image with one more layer; under prun it has the changes, owners and deletions', () => {
  const r0 = ok(pbuild(['commit', ctr, 'mine']));
  const id = r0.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(r0.stderr, /^Getting image source signatures\n(Copying blob sha256:[0-9a-f]{64}\n){2}Copying config sha256:[0-9a-f]{64}\nWriting manifest to image destination\nStoring signatures\n$/, 'buildah\'s progress on stderr');
  const r = ok(prun(['run', '--rm', 'mine', 'sh', '-c', 'cat /greeting; stat -c %u:%g /home/u; test -e /bin/vi || echo vi-gone']));
  assert.is(r.stdout, 'built\n1000:1000\nvi-gone\n');
  const img = (JSON.parse(ok(prun(['image', 'inspect', 'mine'])).stdout) as Array<{ RootFS: { Layers: string[] }; Annotations?: Record<string, string> }>)[0]!;
  assert.is(img.RootFS.Layers.length, 2);
  assert.is(img.Annotations?.['org.opencontainers.image.base.name'], 'localhost/busybox:latest', 'buildah names the base');
});

test('from scratch ("working-container"), commit --format docker --rm --iidfile; from pulls a missing image', () => {
  const c = ok(pbuild(['from', 'scratch'])).stdout.trim();
  assert.is(c, 'working-container');
  ok(pbuild(['copy', c, '/bin/busybox', '/bin/busybox']));
  ok(pbuild(['config', '--cmd', '/bin/busybox echo from-scratch', c]));
  const iid = join(tempDir('pkit-iid'), 'iid');
  const id = ok(pbuild(['commit', '--format', 'docker', '--rm', '--iidfile', iid, c, 'scratchy'])).stdout.trim();
  assert.is(readFileSync(iid, 'utf8'), `sha256:${id}`);
  assert.is(ok(pbuild(['containers', '-q'])).stdout.includes(c), false, '--rm removed the working container');
  const img = (JSON.parse(ok(prun(['image', 'inspect', 'scratchy'])).stdout) as Array<{ ManifestType: string; RootFS: { Layers: string[] } }>)[0]!;
  assert.is(img.ManifestType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.is(img.RootFS.Layers.length, 1);
  assert.is(ok(prun(['run', '--rm', '--network', 'none', 'scratchy'])).stdout, 'from-scratch\n');
  const ref = `${REGISTRY}/e2e-from-${process.pid}/bb:1`;
  ok(prun(['push', '--tls-verify=false', 'busybox', ref]), 'push');
  const fresh = tempDir('pkit-from-pull');
  const pulled = ok(run('pbuild', ['--root', fresh, 'from', '-q', '--tls-verify=false', ref])).stdout.trim();
  assert.is(pulled, 'bb-working-container');
  assert.is(ok(run('pbuild', ['--root', fresh, 'run', pulled, 'echo', 'ok'])).stdout, 'ok\n');
  ok(run('pbuild', ['--root', fresh, 'rm', pulled]));
});

test('failures: unknown image, a prun container, no command, unknown container', () => {
  oneLineError(pbuild(['from', 'nosuchimage']), /nosuchimage/);
  ok(prun(['create', '--name', 'plain', 'busybox', 'true']));
  oneLineError(pbuild(['run', 'plain', '--', 'true']), /not a working container/);
  oneLineError(pbuild(['run', ctr]), /needs a command/);
  oneLineError(pbuild(['commit', 'nosuch', 'x']), /nosuch/);
  ok(prun(['rm', 'plain']));
});

test('rm removes the working container; the committed image stays', () => {
  const r = ok(pbuild(['rm', ctr]));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.is(ok(pbuild(['containers', '-q'])).stdout, '');
  assert.match(ok(prun(['images'])).stdout, /localhost\/mine/);
});

test.run();
