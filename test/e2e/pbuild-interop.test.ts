// Interoperability of what pbuild builds: the image runs under prun, and under podman once
// pcopy has moved it (through an OCI archive and through the test registry), with the same
// files, owners and config. podman gets a store of its own, so nothing else's is touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, REGISTRY, ok, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
let podmanDir = '';
const pbuild = (args: string[]) => run('pbuild', ['--root', root, ...args]);
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);
const pcopy = (args: string[]) => run('pcopy', args);
const podman = (args: string[]) =>
  spawnSync('podman', ['--root', join(podmanDir, 'storage'), '--runroot', join(podmanDir, 'run'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8', timeout: 120_000 });

const CONTAINERFILE = `FROM busybox
RUN mkdir /srv && echo served > /srv/index.html && chown -R 1000:1000 /srv && ln -s /srv/index.html /index
COPY --chmod=0750 tool.sh /usr/local/bin/tool
ENV GREETING=interop
USER 1000
WORKDIR /srv
CMD ["/usr/local/bin/tool"]
`;

const CHECK = ['sh', '-c', 'id -u; pwd; /usr/local/bin/tool; cat /index; stat -c "%u:%g %a" /srv/index.html /usr/local/bin/tool'];
const EXPECTED = '1000\n/srv\nhello interop\nserved\n1000:1000 644\n0:0 750\n';

test('setup: import busybox, build the image', () => {
  requireBuild();
  root = tempDir('pkit-interop');
  podmanDir = tempDir('pkit-interop-podman');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
  const ctx = tempDir('pkit-ctx');
  writeFileSync(join(ctx, 'Containerfile'), CONTAINERFILE);
  writeFileSync(join(ctx, 'tool.sh'), '#!/bin/sh\necho hello $GREETING\n');
  ok(pbuild(['build', '-q', '-t', 'interop', ctx]), 'build');
});

test('the image runs under prun', () => {
  assert.is(ok(prun(['run', '--rm', 'interop'])).stdout, 'hello interop\n');
  assert.is(ok(prun(['run', '--rm', 'interop', ...CHECK])).stdout, EXPECTED);
});

test('pcopy to an OCI archive: podman loads it and runs it with the same files and config', () => {
  const archive = join(podmanDir, 'interop.tar');
  ok(pcopy(['--root', root, 'copy', '-q', 'local:interop', `oci-archive:${archive}:localhost/interop:latest`]));
  const load = podman(['load', '-q', '-i', archive]);
  assert.is(load.status, 0, load.stderr);
  const r = podman(['run', '--rm', '--network', 'none', 'localhost/interop:latest', ...CHECK]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, EXPECTED);
});

test('pcopy to a registry: podman pulls it and runs its CMD', () => {
  const ref = `${REGISTRY}/e2e-interop-${process.pid}/app:1`;
  ok(pcopy(['--root', root, 'copy', '-q', '--dest-tls-verify=false', 'local:interop', `docker://${ref}`]));
  const pull = podman(['pull', '-q', '--tls-verify=false', ref]);
  assert.is(pull.status, 0, pull.stderr);
  const r = podman(['run', '--rm', '--network', 'none', ref]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'hello interop\n');
});

// podman's files belong to subordinate ids: only its user namespace can remove them.
test.after(() => {
  if (!podmanDir) return;
  podman(['unshare', 'rm', '-rf', join(podmanDir, 'storage'), join(podmanDir, 'run')]);
  rmSync(podmanDir, { recursive: true, force: true });
});

test.run();
