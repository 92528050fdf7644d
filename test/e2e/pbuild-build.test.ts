// pbuild build: Containerfiles built as the unprivileged test user, checked through prun (the
// image's files, owners and config), with podman build's output and exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AUTH_PASS, AUTH_REGISTRY, AUTH_USER, FIXTURE, REGISTRY, ok, oneLineError, requireBuild, run, start, tempDir, makeContext } from './helpers.ts';
import { finishLayout, hostArch, putImage, putIndex } from './image-layout.ts';

let root = '';
const pbuild = (args: string[], input?: string) => run('pbuild', ['--root', root, ...args], input === undefined ? {} : { input });
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);


const MULTI = `ARG BASE=busybox
FROM $BASE AS builder
ARG GREETING=hello
WORKDIR /src
COPY app.txt ./
RUN echo "$GREETING from build" > out.txt && cat app.txt >> out.txt && mkdir -p /data && chown 1000:1000 /data

FROM busybox
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY --from=builder /src/out.txt .
COPY <<EOF /app/note.txt
inline note
EOF
RUN rm /bin/vi && mkdir /owned && chown nobody:nogroup /owned
LABEL org.example.name="demo app"
EXPOSE 8080
USER nobody
CMD ["cat", "/app/out.txt"]
`;

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-build');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('a multi-stage build: STEP lines, COMMIT, the tag, and the image ID last', () => {
  const ctx = makeContext({ Containerfile: MULTI, 'app.txt': 'app content\n' });
  const r = ok(pbuild(['build', '-t', 'app', '--build-arg', 'GREETING=hi', ctx]));
  const lines = r.stdout.trim().split('\n');
  // podman's lines for a build of several stages: [stage/stages] STEP step/steps
  assert.is(lines[0], '[1/2] STEP 1/5: FROM $BASE AS builder');
  assert.ok(lines.includes('[1/2] STEP 5/5: RUN echo "$GREETING from build" > out.txt && cat app.txt >> out.txt && mkdir -p /data && chown 1000:1000 /data'), r.stdout);
  assert.ok(lines.includes('[2/2] STEP 1/10: FROM busybox'), r.stdout);
  assert.ok(lines.includes('[2/2] COMMIT app'), r.stdout);
  assert.ok(lines.includes('Successfully tagged localhost/app:latest'), r.stdout);
  assert.match(lines.at(-1)!, /^[0-9a-f]{64}$/);
});

test('the built image runs under prun with its files, owners, deletions and config', () => {
  assert.is(ok(prun(['run', '--rm', 'app'])).stdout, 'hi from build\napp content\n');
  const r = ok(prun(['run', '--rm', 'app', 'sh', '-c', 'id -u; pwd; cat note.txt; echo $APP_HOME; stat -c %u:%g /owned; test -e /bin/vi || echo vi-gone']));
  assert.is(r.stdout, '65534\n/app\ninline note\n/app\n65534:65534\nvi-gone\n');
  const [img] = JSON.parse(ok(prun(['image', 'inspect', 'app'])).stdout) as Array<{ Config: { Labels: Record<string, string>; ExposedPorts: Record<string, unknown>; User: string; WorkingDir: string } }>;
  assert.is(img!.Config.Labels['org.example.name'], 'demo app');
  assert.ok('8080/tcp' in img!.Config.ExposedPorts);
  assert.is(img!.Config.User, 'nobody');
  assert.is(img!.Config.WorkingDir, '/app');
  assert.is(ok(pbuild(['containers', '-q'])).stdout, '', 'no working container is left');
});

test('--target builds only up to a stage; -q prints only the ID; --iidfile; -f and Dockerfile', () => {
  const ctx = makeContext({ Dockerfile: MULTI, 'app.txt': 'x\n' });
  const r = ok(pbuild(['build', '-q', '--target', 'builder', '-t', 'stage1', '--iidfile', join(ctx, 'iid'), ctx]));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.is(readFileSync(join(ctx, 'iid'), 'utf8'), `sha256:${r.stdout.trim()}`);
  assert.is(ok(prun(['run', '--rm', 'stage1', 'cat', '/src/out.txt'])).stdout, 'hello from build\nx\n');
  const other = makeContext({ 'build/my.Containerfile': 'FROM busybox\nRUN echo custom > /c\n' });
  ok(pbuild(['bud', '-q', '-t', 'custom', '-f', join(other, 'build/my.Containerfile'), other]));
  assert.is(ok(prun(['run', '--rm', 'custom', 'cat', '/c'])).stdout, 'custom\n');
});

test('-f - reads the Containerfile from stdin; --label adds labels', () => {
  const ctx = makeContext({});
  ok(pbuild(['build', '-q', '-t', 'fromstdin', '--label', 'team=core', '-f', '-', ctx], 'FROM busybox\nENV X=1\n'));
  const [img] = JSON.parse(ok(prun(['image', 'inspect', 'fromstdin'])).stdout) as Array<{ Config: { Env: string[]; Labels: Record<string, string> } }>;
  assert.ok(img!.Config.Env.includes('X=1'));
  assert.is(img!.Config.Labels['team'], 'core');
});

test('the step cache: an unchanged rebuild reuses every step; a changed file rebuilds the COPY that reads it and what follows, nothing before', () => {
  const ctx = makeContext({
    Containerfile: 'FROM busybox AS base\nRUN echo base-$RANDOM > /base\n\nFROM base\nCOPY app.txt /app.txt\nRUN cat /base /app.txt > /both\n',
    'app.txt': 'one\n',
  });
  const first = ok(pbuild(['build', '-t', 'cached', ctx]));
  const id1 = first.stdout.trim().split('\n').at(-1)!;
  assert.not.match(first.stdout, /Using cache/);
  const again = ok(pbuild(['build', '-t', 'cached', ctx]));
  assert.is(again.stdout.trim().split('\n').at(-1), id1, 'same inputs, same image');
  assert.is((again.stdout.match(/--> Using cache/g) ?? []).length, 3, again.stdout);
  const base1 = ok(prun(['run', '--rm', 'cached', 'cat', '/base'])).stdout;
  writeFileSync(join(ctx, 'app.txt'), 'two\n');
  const changed = ok(pbuild(['build', '-t', 'cached', ctx]));
  assert.is((changed.stdout.match(/--> Using cache/g) ?? []).length, 1, 'the first stage\'s RUN reads no context: reused');
  assert.not.equal(changed.stdout.trim().split('\n').at(-1), id1);
  assert.is(ok(prun(['run', '--rm', 'cached', 'cat', '/both'])).stdout, `${base1}two\n`, 'the reused stage keeps its output');
  const nocache = ok(pbuild(['build', '--no-cache', '-t', 'cached', ctx]));
  assert.not.match(nocache.stdout, /Using cache/);
});

test('a failing RUN: podman\'s error line, its exit status, nothing tagged, no working container left', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN echo before; exit 3\n' });
  const r = pbuild(['build', '-t', 'broken', ctx]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /Error: building at STEP "RUN echo before; exit 3": while running runtime: exit status 3/);
  assert.match(r.stdout, /before/);
  assert.not.match(ok(prun(['images'])).stdout, /broken/);
  assert.is(ok(pbuild(['containers', '-q'])).stdout, '');
});

test('an interrupted build (SIGTERM during a RUN) stops the RUN, removes its working container and exits 143', async () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN echo started; sleep 60\n' });
  const b = start('pbuild', ['--root', root, 'build', '-t', 'interrupted', ctx]);
  let out = '';
  await new Promise<void>((resolve) => b.child.stdout.on('data', (d) => { out += d; if (out.includes('started')) resolve(); }));
  b.child.kill('SIGTERM');
  assert.is(await b.done, 143, b.stderr());
  assert.is(ok(pbuild(['containers', '-q'])).stdout, '', 'no working container is left');
  assert.not.match(ok(prun(['images'])).stdout, /interrupted/);
  const sleeping = spawnSync('pgrep', ['-u', String(process.getuid!()), '-f', 'sleep 60'], { encoding: 'utf8' });
  assert.is(sleeping.status, 1, `the RUN was stopped (pgrep found: ${sleeping.stdout}${sleeping.error ?? ''})`);
});

test('parallel builds into one store (CI jobs sharing a runner) all succeed and leave the store consistent', async () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nCOPY f /f\nRUN cat /f > /copy\n', f: 'shared\n' });
  const runs = [1, 2, 3].map((i) => start('pbuild', ['--root', root, 'build', '-q', '--no-cache', '-t', `par${i}`, ctx]));
  const codes = await Promise.all(runs.map((r) => r.done));
  assert.equal(codes, [0, 0, 0], runs.map((r) => r.stderr()).join('\n'));
  for (const i of [1, 2, 3]) assert.is(ok(prun(['run', '--rm', `par${i}`, 'cat', '/copy'])).stdout, 'shared\n');
  assert.is(ok(pbuild(['containers', '-q'])).stdout, '', 'no working container is left');
});

test('a base image missing from the store is pulled (--pull missing); --pull never refuses', () => {
  const ref = `${REGISTRY}/e2e-build-${process.pid}/base:1`;
  ok(prun(['push', '--tls-verify=false', 'busybox', ref]), 'push');
  const fresh = tempDir('pkit-build-pull');
  const ctx = makeContext({ Containerfile: `FROM ${ref}\nRUN echo pulled-base > /p\n` });
  const never = run('pbuild', ['--root', fresh, 'build', '--pull', 'never', '-t', 'x', ctx]);
  assert.is(never.code, 125);
  const r = run('pbuild', ['--root', fresh, 'build', '--tls-verify=false', '-t', 'frompull', ctx]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /Copying blob|Writing manifest/);
  assert.is(ok(run('prun', ['--root', fresh, 'run', '--rm', 'frompull', 'cat', '/p'])).stdout, 'pulled-base\n');
});

test('COPY --from an image not in the store: pulled, and an index resolves to the build\'s platform', () => {
  const layout = tempDir('pkit-multi');
  const other = hostArch() === 'arm64' ? 'amd64' : 'arm64';
  const marker = (text: string) => {
    const dir = tempDir('pkit-marker');
    writeFileSync(join(dir, 'which'), text);
    return spawnSync('tar', ['-c', '-C', dir, 'which']).stdout;
  };
  const here = putImage(layout, { layers: [marker('host\n')], architecture: hostArch() });
  const there = putImage(layout, { layers: [marker('other\n')], architecture: other });
  finishLayout(layout, putIndex(layout, [here, there]), 'multi');
  const ref = `${REGISTRY}/e2e-copyfrom-${process.pid}/multi:1`;
  ok(run('pcopy', ['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${ref}`]), 'push index');
  const ctx = makeContext({ Containerfile: `FROM busybox\nCOPY --from=${ref} /which /which\n` });
  ok(pbuild(['build', '-q', '--tls-verify=false', '-t', 'copyfrom', ctx]));
  assert.is(ok(prun(['run', '--rm', 'copyfrom', 'cat', '/which'])).stdout, 'host\n');
  const scratchCtx = makeContext({ Containerfile: `FROM scratch\nCOPY --from=${ref} /which /which\n` });
  const out = join(tempDir('pkit-out'), 'o');
  ok(pbuild(['build', '-q', '--tls-verify=false', '--pull', 'always', '--platform', `linux/${other}`, '-o', out, scratchCtx]));
  assert.is(readFileSync(join(out, 'which'), 'utf8'), 'other\n');
});

test('a base image behind a login: pbuild login then build --authfile; --creds; refused without either', () => {
  const ref = `${AUTH_REGISTRY}/e2e-build-auth-${process.pid}/base:1`;
  ok(prun(['push', '--tls-verify=false', '--creds', `${AUTH_USER}:${AUTH_PASS}`, 'busybox', ref]), 'push');
  const ctx = makeContext({ Containerfile: `FROM ${ref}\nRUN echo authed > /a\n` });
  const authfile = join(tempDir('pkit-auth'), 'auth.json');
  const fresh = () => tempDir('pkit-build-auth');
  const refused = run('pbuild', ['--root', fresh(), 'build', '--tls-verify=false', '--authfile', authfile, ctx]);
  assert.is(refused.code, 125, 'no credentials yet');
  ok(run('pbuild', ['login', '--tls-verify=false', '--authfile', authfile, '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: `${AUTH_PASS}\n` }), 'login');
  const root1 = fresh();
  ok(run('pbuild', ['--root', root1, 'build', '-q', '--tls-verify=false', '--authfile', authfile, '-t', 'authed', ctx]));
  assert.is(ok(run('prun', ['--root', root1, 'run', '--rm', 'authed', 'cat', '/a'])).stdout, 'authed\n');
  ok(run('pbuild', ['logout', '--authfile', authfile, AUTH_REGISTRY]), 'logout');
  ok(run('pbuild', ['--root', fresh(), 'build', '-q', '--tls-verify=false', '--creds', `${AUTH_USER}:${AUTH_PASS}`, ctx]), '--creds');
});

test('bad input: a parse error with file:line:col, no Containerfile, an unknown base image', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUNN echo\n' });
  oneLineError(pbuild(['build', ctx]), /Containerfile:2:1: unknown instruction "RUNN" \(did you mean RUN\?\)/);
  const empty = makeContext({});
  oneLineError(pbuild(['build', empty]), /no Containerfile or Dockerfile/);
  const nobase = makeContext({ Containerfile: 'FROM nosuchbase\n' });
  oneLineError(pbuild(['build', nobase]), /nosuchbase/);
});

test.run();
