// The native build names what is missing instead of failing obscurely.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const NATIVE = join(import.meta.dirname, '../../../native');

function build(env: Record<string, string>, dir = NATIVE) {
  // pnpm's bin shims set NODE_PATH to the whole store, which would hide a missing dependency.
  const { NODE_PATH: _, ...base } = process.env;
  return spawnSync(process.execPath, [join(dir, 'build.mjs')], { encoding: 'utf8', env: { ...base, ...env } });
}

test('no C++ compiler: the message names the Debian package to install', () => {
  const r = build({ CXX: 'no-such-compiler-pkit' });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /no C\+\+ compiler \(no-such-compiler-pkit\) found: install the Debian package g\+\+/);
});

test('missing Node-API header packages: the message says to run pnpm install', () => {
  // A copy of native/ outside the workspace cannot resolve node-api-headers.
  const dir = mkdtempSync(join(tmpdir(), 'pkit-native-'));
  cpSync(join(NATIVE, 'build.mjs'), join(dir, 'build.mjs'));
  cpSync(join(NATIVE, 'addon'), join(dir, 'addon'), { recursive: true });
  const r = build({}, dir);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /the npm package node-api-headers is missing: run "pnpm install"/);
  assert.not.ok(existsSync(join(dir, 'build', 'Release', 'pkit.node')));
});

test('the build says where its headers come from and produces a loadable addon', () => {
  const out = mkdtempSync(join(tmpdir(), 'pkit-native-out-'));
  const r = build({ PKIT_NATIVE_BUILD_DIR: out });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /Node-API headers from .*node-api-headers.*include/);
  const addon = createRequire(import.meta.url)(join(out, 'pkit.node')) as Record<string, unknown>;
  for (const fn of ['tryFlock', 'mknod', 'lsetxattr', 'lgetxattr', 'llistxattr', 'syncfs']) {
    assert.type(addon[fn], 'function', fn);
  }
});

test.run();
