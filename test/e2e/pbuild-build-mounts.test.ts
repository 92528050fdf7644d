// pbuild build's RUN beyond a plain command: --mount (secret, cache, bind, tmpfs), --network,
// #! heredoc scripts, and the build's --secret and --network flags; what a mount brings never
// lands in the image.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir, makeContext } from './helpers.ts';

let root = '';
const pbuild = (args: string[]) => run('pbuild', ['--root', root, ...args]);
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);


test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-build-mounts');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('--secret: readable by RUN --mount=type=secret, absent from the image and its history', () => {
  const secretFile = join(tempDir('pkit-secret'), 'token');
  writeFileSync(secretFile, 's3cr3t-value');
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN --mount=type=secret,id=token cat /run/secrets/token > /seen-len; wc -c < /run/secrets/token > /len\n' });
  ok(pbuild(['build', '-q', '--secret', `id=token,src=${secretFile}`, '-t', 'withsecret', ctx]));
  assert.is(ok(prun(['run', '--rm', 'withsecret', 'sh', '-c', 'cat /len; test -e /run/secrets/token || echo no-secret-file'])).stdout.replace(/ /g, ''), '12\nno-secret-file\n');
  const history = ok(prun(['image', 'inspect', 'withsecret'])).stdout;
  assert.not.match(history, /s3cr3t/);
  const required = makeContext({ Containerfile: 'FROM busybox\nRUN --mount=type=secret,id=missing,required=true true\n' });
  const r = pbuild(['build', '-q', required]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /missing/);
});

test('RUN --mount=type=cache persists between builds and stays out of the image', () => {
  const cf = 'FROM busybox\nARG N\nRUN --mount=type=cache,target=/var/cache/app sh -c "echo $N >> /var/cache/app/runs; cat /var/cache/app/runs > /runs"\n';
  const ctx = makeContext({ Containerfile: cf });
  ok(pbuild(['build', '-q', '--build-arg', 'N=1', '-t', 'cache1', ctx]));
  ok(pbuild(['build', '-q', '--build-arg', 'N=2', '-t', 'cache2', ctx]));
  assert.is(ok(prun(['run', '--rm', 'cache2', 'cat', '/runs'])).stdout, '1\n2\n');
  assert.is(ok(prun(['run', '--rm', 'cache2', 'sh', '-c', 'ls /var/cache/app 2>/dev/null | wc -l'])).stdout.trim(), '0');
});

test('RUN --mount=type=bind from the context: read-only, and its content is in the cache key', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/v > /v\n', 'data/v': 'one\n' });
  ok(pbuild(['build', '-q', '-t', 'bind1', ctx]));
  assert.is(ok(prun(['run', '--rm', 'bind1', 'sh', '-c', 'cat /v; test -e /mnt/data/v || echo unmounted'])).stdout, 'one\nunmounted\n');
  const same = ok(pbuild(['build', '-t', 'bind1', ctx]));
  assert.match(same.stdout, /Using cache/);
  writeFileSync(join(ctx, 'data/v'), 'two\n');
  const changed = ok(pbuild(['build', '-t', 'bind1', ctx]));
  assert.not.match(changed.stdout, /Using cache/, 'the bound files changed: the RUN runs again');
  assert.is(ok(prun(['run', '--rm', 'bind1', 'cat', '/v'])).stdout, 'two\n');
  const rw = makeContext({ Containerfile: 'FROM busybox\nRUN --mount=type=bind,source=.,target=/ctx touch /ctx/new\n' });
  assert.is.not(pbuild(['build', '-q', rw]).code, 0, 'a read-only bind refuses writes');
});

test('#! heredoc scripts, RUN --network=none and the build\'s --network', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN <<EOF\n#!/bin/sh\necho "script as $0" > /script-out\nEOF\nRUN --network=none sh -c "ls /sys/class/net > /nets"\n' });
  ok(pbuild(['build', '-q', '-t', 'scripted', ctx]));
  assert.match(ok(prun(['run', '--rm', 'scripted', 'cat', '/script-out'])).stdout, /^script as /);
  assert.is(ok(prun(['run', '--rm', 'scripted', 'cat', '/nets'])).stdout, 'lo\n');
  const net = makeContext({ Containerfile: 'FROM busybox\nRUN ls /sys/class/net > /nets\n' });
  ok(pbuild(['build', '-q', '--network', 'none', '-t', 'nonet', net]));
  assert.is(ok(prun(['run', '--rm', 'nonet', 'cat', '/nets'])).stdout, 'lo\n');
  ok(pbuild(['build', '-q', '-t', 'defnet', net]));
  assert.match(ok(prun(['run', '--rm', 'defnet', 'cat', '/nets'])).stdout, /tap0/, 'slirp4netns by default, as podman build');
  oneLineError(pbuild(['build', '--secret', 'id=x', net]), /secret/);
});

test.run();
