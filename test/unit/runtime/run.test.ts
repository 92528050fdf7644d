import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundleSpec, writeBundle } from '../../../packages/runtime/src/bundle.ts';
import {
  RuntimeNotFoundError,
  classifyRuntimeError,
  globalArgs,
  runtimeBinary,
  runtimeKind,
} from '../../../packages/runtime/src/run.ts';
import { buildSpec } from '../../../packages/runtime/src/spec.ts';
import { HOST, baseOptions } from './helpers.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pkit-runtime-test-'));
}

function fakeExe(dir: string, name: string): string {
  const p = join(dir, name);
  writeFileSync(p, '#!/bin/sh\nexit 0\n');
  chmodSync(p, 0o755);
  return p;
}

test('runtimeBinary: helper when built, else crun on PATH, else a clear error', () => {
  const dir = tmp();
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const helper = fakeExe(dir, 'pkit-runtime');
    const crun = fakeExe(bin, 'crun');
    assert.equal(runtimeBinary({ helperPath: helper, env: { PATH: bin } }), { path: helper, kind: 'pkit-runtime' });
    assert.equal(runtimeBinary({ helperPath: join(dir, 'missing'), env: { PATH: bin } }), { path: crun, kind: 'crun' });
    assert.throws(
      () => runtimeBinary({ helperPath: join(dir, 'missing'), env: { PATH: join(dir, 'empty') } }),
      (e: Error) => e instanceof RuntimeNotFoundError && e.message === 'pkit-runtime not built: run pnpm install; or install crun',
    );
    // Explicit choices: option, then PKIT_RUNTIME; names are looked up on PATH.
    assert.equal(runtimeBinary({ runtime: 'crun', helperPath: helper, env: { PATH: bin } }), { path: crun, kind: 'crun' });
    assert.equal(runtimeBinary({ helperPath: helper, env: { PATH: bin, PKIT_RUNTIME: crun } }), { path: crun, kind: 'crun' });
    assert.throws(() => runtimeBinary({ runtime: 'runc', env: { PATH: bin } }), /runtime runc not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runtimeKind and global args', () => {
  assert.is(runtimeKind('/x/pkit-runtime'), 'pkit-runtime');
  assert.is(runtimeKind('/usr/bin/crun'), 'crun');
  assert.is(runtimeKind('/usr/bin/runc'), 'other');
  const crun = { path: '/usr/bin/crun', kind: 'crun' as const };
  assert.equal(globalArgs({ runtime: crun, root: '/r' }), ['--root', '/r', '--cgroup-manager=disabled']);
  assert.equal(globalArgs({ runtime: crun }, { hasResources: true, log: '/l' }), ['--log=/l', '--log-format=json']);
  assert.equal(globalArgs({ runtime: crun, cgroupManager: 'systemd' }), ['--cgroup-manager=systemd']);
  assert.equal(globalArgs({ runtime: { path: '/h/pkit-runtime', kind: 'pkit-runtime' }, root: '/r' }, { log: '/l' }), ['--root', '/r']);
});

test('classifyRuntimeError: podman exit codes', () => {
  assert.is(classifyRuntimeError(['executable file `nope` not found in $PATH: No such file or directory']), 127);
  assert.is(classifyRuntimeError(['open executable: Permission denied']), 126);
  assert.is(classifyRuntimeError(['chdir `/x` failed: No such file or directory']), 125);
  assert.is(classifyRuntimeError(['mount `proc` to `/proc`: Operation not permitted']), 125);
});

test('writeBundle: config.json written atomically, no temp files left, readable back', async () => {
  const dir = tmp();
  try {
    const spec = buildSpec(undefined, baseOptions({ rootfs: 'rootfs' }), HOST);
    const b = await writeBundle(join(dir, 'bundle'), spec);
    assert.is(b.rootfs, join(dir, 'bundle', 'rootfs'));
    assert.equal(JSON.parse(readFileSync(b.configPath, 'utf8')), spec);
    assert.equal(await readBundleSpec(b.dir), spec);
    // Overwrite: still one file.
    await writeBundle(b.dir, { ...spec, hostname: 'again' });
    assert.is((await readBundleSpec(b.dir)).hostname, 'again');
    const { readdirSync } = await import('node:fs');
    assert.equal(readdirSync(b.dir), ['config.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
