// What a Containerfile RUN needs beyond its command, through `pbuild run` (--mount, --secret,
// --network, --contextdir) as the unprivileged test user: cache, secret, tmpfs and bind mounts,
// and a `#!` heredoc script (run-mounts.ts's runStep, in this process). Whatever a mount brings
// must leave no trace: the container's upper dir (what commit turns into the layer) is the same
// after those runs as before, and the committed image has none of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveStorePaths } from '../../packages/storage/src/paths.ts';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
let ctx = '';
let secretFile = '';
const SECRET = 'hunter2-e2e-secret';
const pbuild = (args: string[], env?: Record<string, string>) => run('pbuild', ['--root', root, ...args], env ? { env } : {});
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);

function containerId(name: string): string {
  return (JSON.parse(ok(pbuild(['inspect', name])).stdout) as { ContainerID: string }).ContainerID;
}

/** The upper dir as commit would read it: path, type, mode, owner, size and whole-second mtime. */
function snapshot(name: string): string[] {
  const upper = join(root, 'containers', containerId(name), 'upper');
  const out: string[] = [];
  const walk = (rel: string) => {
    const st = lstatSync(join(upper, rel));
    out.push(`${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '-' : st.size} ${Math.floor(st.mtimeMs / 1000)}`);
    if (st.isDirectory()) for (const n of readdirSync(join(upper, rel)).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return out;
}

/** Whether `text` is in any file under `dir` (grep exits 1 when it is nowhere). */
function foundUnder(dir: string, text: string): boolean {
  try {
    execFileSync('grep', ['-rqF', text, dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('setup: busybox, a build context and a secret file', () => {
  requireBuild();
  root = tempDir('pkit-run-mounts');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
  ctx = tempDir('pkit-run-mounts-ctx');
  writeFileSync(join(ctx, 'hello.txt'), 'hello from the context\n');
  mkdirSync(join(ctx, 'sub'));
  writeFileSync(join(ctx, 'sub', 'inner.txt'), 'inner\n');
  symlinkSync('/etc', join(ctx, 'escape'));
  secretFile = join(tempDir('pkit-run-mounts-secret'), 'token');
  writeFileSync(secretFile, SECRET);
});

test('a cache mount keeps its files across runs and containers, and is never in the image', () => {
  const a = ok(pbuild(['from', '--name', 'cache-a', 'busybox'])).stdout.trim();
  ok(pbuild(['run', a, 'true']));
  const before = snapshot(a);
  assert.is(ok(pbuild(['run', '--mount', 'type=cache,target=/var/cache/pkg', a, '--', 'sh', '-c', 'echo one >> /var/cache/pkg/log; cat /var/cache/pkg/log'])).stdout, 'one\n');
  assert.is(ok(pbuild(['run', '--mount', 'type=cache,target=/var/cache/pkg', a, '--', 'sh', '-c', 'echo two >> /var/cache/pkg/log; cat /var/cache/pkg/log'])).stdout, 'one\ntwo\n');
  // another container, the same id (its default: the target)
  const b = ok(pbuild(['from', '--name', 'cache-b', 'busybox'])).stdout.trim();
  assert.is(ok(pbuild(['run', '--mount', 'type=cache,target=/var/cache/pkg', b, 'cat', '/var/cache/pkg/log'])).stdout, 'one\ntwo\n');
  // an id of its own is another cache
  assert.is(pbuild(['run', '--mount', 'type=cache,id=other,target=/var/cache/pkg', b, 'cat', '/var/cache/pkg/log']).code, 1);
  assert.equal(snapshot(a), before, 'the upper dir is as before the cache runs');
  ok(pbuild(['commit', a, 'cached']));
  assert.is(ok(prun(['run', '--rm', 'cached', 'sh', '-c', 'ls /var/cache; test -e /var/cache/pkg || echo no-cache-dir'])).stdout, 'no-cache-dir\n');
  ok(pbuild(['rm', a]));
  ok(pbuild(['rm', b]));
});

test('cache mount options: a new cache gets mode and uid:gid; sharing=locked and private work', () => {
  const c = ok(pbuild(['from', '--name', 'cache-opts', 'busybox'])).stdout.trim();
  const r = ok(pbuild(['run', '--mount', 'type=cache,id=owned,target=/c,mode=0750,uid=1000,gid=1000', c, 'stat', '-c', '%a %u:%g', '/c']));
  assert.is(r.stdout, '750 1000:1000\n');
  ok(pbuild(['run', '--mount', 'type=cache,id=lk,target=/c,sharing=locked', c, 'sh', '-c', 'echo l > /c/f']));
  assert.is(ok(pbuild(['run', '--mount', 'type=cache,id=lk,target=/c,sharing=private', c, 'cat', '/c/f'])).stdout, 'l\n');
  ok(pbuild(['rm', c]));
});

test('a secret is readable in the run, from a file or a variable, and nowhere in the layer, the image or the store', () => {
  const c = ok(pbuild(['from', '--name', 'secret', 'busybox'])).stdout.trim();
  ok(pbuild(['run', c, 'true']));
  const before = snapshot(c);
  const r = ok(pbuild(['run', '--secret', `id=tok,src=${secretFile}`, '--mount', 'type=secret,id=tok', c, '--', 'sh', '-c', 'cat /run/secrets/tok; echo; stat -c "%a %u:%g" /run/secrets/tok']));
  assert.is(r.stdout, `${SECRET}\n400 0:0\n`);
  // type=env, a target of its own, another owner and mode, and env= on the mount
  const e = ok(pbuild(['run', '--secret', 'id=tok,env=PKIT_E2E_TOKEN', '--mount', 'type=secret,id=tok,target=/opt/s/token,uid=1000,mode=0440', '--mount', 'type=secret,id=tok,env=TOKEN_VAR', c, '--',
    'sh', '-c', 'cat /opt/s/token; echo; stat -c "%a %u" /opt/s/token; echo "$TOKEN_VAR"'], { PKIT_E2E_TOKEN: 'from-the-env' }));
  assert.is(e.stdout, 'from-the-env\n440 1000\nfrom-the-env\n');
  assert.equal(snapshot(c), before, 'the upper dir is as before the secret runs (no /run/secrets, no /opt/s)');
  assert.not.ok(foundUnder(join(root, 'containers', containerId(c)), SECRET), 'the container dir has no copy of the secret');
  ok(pbuild(['commit', c, 'with-secret']));
  assert.is(ok(prun(['run', '--rm', 'with-secret', 'sh', '-c', 'test -e /run/secrets || test -e /opt/s || echo clean'])).stdout, 'clean\n');
  assert.not.ok(foundUnder(root, SECRET), 'no blob, layer or file of the store holds the secret');
  const left = readdirSync(join(resolveStorePaths({ root }).runRoot, 'pbuild-secrets')).filter((n) => n.startsWith(containerId(c).slice(0, 12)));
  assert.equal(left, [], 'the private copies are gone');
  ok(pbuild(['rm', c]));
});

test('secrets: a missing one skips the mount, required=true fails; --secret errors are one line', () => {
  const c = ok(pbuild(['from', '--name', 'secret-missing', 'busybox'])).stdout.trim();
  assert.is(ok(pbuild(['run', '--mount', 'type=secret,id=nope', c, '--', 'sh', '-c', 'test -e /run/secrets/nope || echo skipped'])).stdout, 'skipped\n');
  oneLineError(pbuild(['run', '--mount', 'type=secret,id=nope,required=true', c, 'true']), /secret required but no secret with id nope found/);
  oneLineError(pbuild(['run', '--secret', 'src=/x', c, 'true']), /incorrect secret flag format/);
  oneLineError(pbuild(['run', '--secret', `id=x,src=${join(ctx, 'nothere')}`, c, 'true']), /no such file/);
  ok(pbuild(['rm', c]));
});

test('tmpfs: its size, and what is written there stays out of the layer', () => {
  const c = ok(pbuild(['from', '--name', 'tmpfs', 'busybox'])).stdout.trim();
  ok(pbuild(['run', c, 'true']));
  const before = snapshot(c);
  const r = ok(pbuild(['run', '--mount', 'type=tmpfs,target=/scratch/t,size=1048576', c, '--', 'sh', '-c', 'echo x > /scratch/t/f; df -k /scratch/t | tail -1']));
  assert.match(r.stdout, /^tmpfs\s+1024\s/);
  assert.equal(snapshot(c), before);
  ok(pbuild(['rm', c]));
});

test('bind from the context: read-only by default; rw writes are thrown away; a file; no way out of the context', () => {
  const c = ok(pbuild(['from', '--name', 'bind', 'busybox'])).stdout.trim();
  ok(pbuild(['run', c, 'true']));
  const before = snapshot(c);
  const ro = pbuild(['run', '--contextdir', ctx, '--mount', 'type=bind,target=/ctx', c, '--', 'sh', '-c', 'cat /ctx/hello.txt /ctx/sub/inner.txt; touch /ctx/new']);
  assert.is(ro.code, 1);
  assert.is(ro.stdout, 'hello from the context\ninner\n');
  assert.match(ro.stderr, /Read-only file system/);
  ok(pbuild(['run', '--contextdir', ctx, '--mount', 'type=bind,source=sub,target=/src,rw', c, '--', 'sh', '-c', 'echo changed > /src/inner.txt; touch /src/new']));
  assert.is(readFileSync(join(ctx, 'sub', 'inner.txt'), 'utf8'), 'inner\n', 'the context is untouched');
  assert.not.ok(existsSync(join(ctx, 'sub', 'new')));
  assert.is(ok(pbuild(['run', '--contextdir', ctx, '--mount', 'type=bind,source=hello.txt,target=/etc/hello', c, 'cat', '/etc/hello'])).stdout, 'hello from the context\n');
  ok(pbuild(['run', '--contextdir', ctx, '--mount', 'type=bind,source=hello.txt,target=/etc/hello,rw', c, 'sh', '-c', 'echo bye > /etc/hello']));
  assert.is(readFileSync(join(ctx, 'hello.txt'), 'utf8'), 'hello from the context\n');
  assert.equal(snapshot(c), before, 'no mount point left (/ctx, /src, /etc/hello)');
  oneLineError(pbuild(['run', '--contextdir', ctx, '--mount', 'type=bind,source=escape,target=/x', c, 'true']), /leads out of the build context/);
  // `..` stops at the context's root, as in a build
  assert.match(ok(pbuild(['run', '--contextdir', ctx, '--mount', 'type=bind,source=../..,target=/x', c, 'ls', '/x'])).stdout, /hello\.txt/);
  ok(pbuild(['rm', c]));
});

test('bind from an image: one of its directories, read-only', () => {
  const c = ok(pbuild(['from', '--name', 'bind-image', 'busybox'])).stdout.trim();
  const r = pbuild(['run', '--mount', 'type=bind,from=busybox,source=/etc,target=/img', c, '--', 'sh', '-c', 'head -1 /img/passwd; touch /img/x']);
  assert.is(r.stdout, 'root:x:0:0:root:/root:/bin/sh\n');
  assert.match(r.stderr, /Read-only file system/);
  // rw: writable, into a throwaway upper dir; the image's layers are untouched
  assert.is(ok(pbuild(['run', '--mount', 'type=bind,from=busybox,source=/etc,target=/img,rw', c, '--', 'sh', '-c', 'echo w > /img/added; cat /img/added'])).stdout, 'w\n');
  assert.is(pbuild(['run', '--mount', 'type=bind,from=busybox,source=/etc,target=/img', c, 'test', '-e', '/img/added']).code, 1);
  // a file of the image
  assert.match(ok(pbuild(['run', '--mount', 'type=bind,from=busybox,source=/etc/passwd,target=/p', c, 'head', '-1', '/p'])).stdout, /^root:/);
  oneLineError(pbuild(['run', '--mount', 'type=bind,from=busybox,source=/nope,target=/img', c, 'true']), /\/nope does not exist in busybox/);
  ok(pbuild(['rm', c]));
});

test('mount points under a directory of another owner go too (removed in the user namespace)', () => {
  const c = ok(pbuild(['from', '--name', 'owned', 'busybox'])).stdout.trim();
  ok(pbuild(['run', c, '--', 'sh', '-c', 'mkdir -p /home/app && chown 1000:1000 /home/app && chmod 755 /home/app']));
  const before = snapshot(c);
  ok(pbuild(['run', '--mount', 'type=cache,id=app-cache,target=/home/app/.cache', c, 'touch', '/home/app/.cache/x']));
  assert.equal(snapshot(c), before);
  ok(pbuild(['rm', c]));
});

test('--network: none has only lo; default is the container\'s slirp4netns (tap0); host is the host\'s', () => {
  const c = ok(pbuild(['from', '--name', 'net', 'busybox'])).stdout.trim();
  assert.is(ok(pbuild(['run', '--network', 'none', c, 'ls', '/sys/class/net'])).stdout, 'lo\n');
  assert.match(ok(pbuild(['run', c, 'ls', '/sys/class/net'])).stdout, /tap0/);
  const host = readdirSync('/sys/class/net').sort().join('\n');
  assert.is(ok(pbuild(['run', '--network', 'host', c, 'ls', '-1', '/sys/class/net'])).stdout.trim(), host);
  oneLineError(pbuild(['run', '--network', 'bridge', c, 'true']), /expected default, none or host/);
  ok(pbuild(['rm', c]));
});

test('a #! heredoc script runs from /dev/pipes by its interpreter, and leaves nothing behind', async () => {
  const c = ok(pbuild(['from', '--name', 'heredoc', 'busybox'])).stdout.trim();
  ok(pbuild(['run', c, 'true']));
  const before = snapshot(c);
  const { parseContainerfile, runArgv } = await import('../../packages/pbuild/src/containerfile/index.ts');
  const { runStep } = await import('../../packages/pbuild/src/actions/run-mounts.ts');
  const { findWorking, openStore } = await import('../../packages/pbuild/src/actions/working.ts');
  const { parseMount } = await import('../../packages/pbuild/src/containerfile/mounts.ts');
  const cf = parseContainerfile('FROM busybox\nRUN <<EOF\n#!/bin/sh -e\necho "$0 ran" > /out/result\nEOF\n', { file: 'Containerfile' });
  const instr = cf.stages[0]!.instructions[0]!;
  assert.is(instr.kind, 'RUN');
  const { argv, script } = runArgv(instr as never, ['/bin/sh', '-c']);
  assert.ok(script);
  const store = openStore(root);
  try {
    const mounts = [parseMount('type=cache,id=heredoc-out,target=/out')];
    const code = await runStep(store, await findWorking(store, c), { argv, mounts, ...(script ? { script } : {}) });
    assert.is(code, 0);
  } finally {
    store.close();
  }
  assert.is(ok(pbuild(['run', '--mount', 'type=cache,id=heredoc-out,target=/out', c, 'cat', '/out/result'])).stdout, '/dev/pipes/EOF ran\n');
  assert.equal(snapshot(c), before, 'no /dev/pipes, no /out');
  ok(pbuild(['rm', c]));
});

test.run();
