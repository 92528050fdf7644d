// pkit-runtime's own failures: one line "pkit-runtime: <what>: <strerror>", exit 125, no
// state left behind; cgroup limits are enforced or refused, never dropped; the build names
// the Debian package of a missing library.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, nextId, REPO, runContainer, runSync, runtimes, work } from './bundle.ts';

const pkit = runtimes()[0]!;
const stateRoot = join(work, 'state-pkit');
const leftovers = () => (existsSync(stateRoot) ? readdirSync(stateRoot) : []);

test('no config.json: 125 and a one-line message', () => {
  const dir = mkdtempSync(join(work, 'empty-'));
  const r = runSync(pkit, ['run', '--bundle', dir, nextId()]);
  assert.is(r.status, 125);
  const err = r.stderr.toString();
  assert.match(err, /^pkit-runtime: cannot read .*config\.json/);
  assert.is(err.trim().split('\n').length, 1);
});

test('a wrong type in config.json names the field', () => {
  const b = bundle({ args: ['true'], mutate: (c) => { c.process.noNewPrivileges = 'yes'; } });
  const r = runSync(pkit, ['run', '--bundle', b, nextId()]);
  assert.is(r.status, 125);
  assert.match(r.stderr.toString(), /^pkit-runtime: config: process\.noNewPrivileges: expected a boolean\n$/);
});

test('a failing mount inside the container: 125 with the strerror, state removed', () => {
  const before = leftovers();
  const b = bundle({ args: ['true'], mutate: (c) => { c.mounts.push({ destination: '/mnt/x', type: 'bind', source: '/no/such/dir', options: ['rbind'] }); } });
  const r = runContainer(pkit, { args: ['true'], mutate: () => {} });
  assert.is(r.status, 0, r.stderr);
  const r2 = runSync(pkit, ['run', '--bundle', b, nextId()]);
  assert.is(r2.status, 125);
  assert.match(r2.stderr.toString(), /^pkit-runtime: mount \/mnt\/x: source \/no\/such\/dir: No such file or directory\n$/);
  assert.equal(leftovers(), before);
});

test('an unmapped user: setuid fails with 125', () => {
  const b = bundle({ args: ['true'], mutate: (c) => { c.process.user = { uid: 4242, gid: 0 }; } });
  const r = runSync(pkit, ['run', '--bundle', b, nextId()]);
  assert.is(r.status, 125);
  assert.match(r.stderr.toString(), /^pkit-runtime: setuid 4242: Invalid argument\n$/);
});

test('state/kill/delete of an unknown container: 125', () => {
  for (const verb of [['state', 'nope'], ['kill', 'nope'], ['delete', 'nope'], ['start', 'nope']]) {
    const r = runSync(pkit, verb);
    assert.is(r.status, 125, verb.join(' '));
    assert.match(r.stderr.toString(), /pkit-runtime: container nope does not exist/);
  }
});

test('cgroup limits: enforced where a writable cgroup exists, else refused naming the controller', () => {
  const r = runContainer(pkit, {
    args: ['sh', '-c', 'cat /proc/self/cgroup'],
    mutate: (c) => { c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 100 } }; },
  });
  if (r.status === 0) return; // a delegated cgroup: the limits were applied
  assert.is(r.status, 125);
  assert.match(r.stderr, /^pkit-runtime: cgroups: .*(memory|pids).*(writable|delegate)/);
  assert.is(r.stderr.trim().split('\n').length, 1);
});

test('no resources asked: cgroups are not touched (runs on any host layout)', () => {
  const r = runContainer(pkit, { args: ['true'], mutate: (c) => { c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] }; } });
  assert.is(r.status, 0, r.stderr);
});

test('build: a missing library header names the Debian package', () => {
  // A fake compiler that fails like cc does without libseccomp-dev.
  const fake = join(work, 'fake-cc');
  writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "x.c:1:10: fatal error: seccomp.h: No such file or directory" >&2\nexit 1\n');
  chmodSync(fake, 0o755);
  const out = mkdtempSync(join(work, 'build-'));
  const r = spawnSync(process.execPath, [join(REPO, 'native/build-helper.mjs')], {
    encoding: 'utf8', env: { ...process.env, CC: fake, PKIT_NATIVE_BUILD_DIR: out },
  });
  assert.is(r.status, 1);
  assert.match(r.stderr, /native build: missing header seccomp\.h: install the Debian package libseccomp-dev/);
  assert.not.ok(existsSync(join(out, 'pkit-runtime')));
});

test.run();
