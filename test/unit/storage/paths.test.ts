import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { resolveStorePaths } from '../../../packages/storage/src/paths.ts';
import { tempDir } from './helpers.ts';

const uid = process.getuid!();

test('rootless defaults: XDG data home and an owned XDG runtime dir', () => {
  const run = tempDir('xdg-run');
  const p = resolveStorePaths({ uid: 1000, env: { HOME: '/home/u', XDG_RUNTIME_DIR: run } });
  assert.is(p.root, '/home/u/.local/share/pkit');
  // the runtime dir belongs to the test's uid, not 1000: so it is not used
  assert.is(p.runRoot, join(process.env.TMPDIR || '/tmp', 'pkit-run-1000'));
  // As root the rootless branch needs a non-zero owner: hand the dir to one.
  const owner = uid === 0 ? 1234 : uid;
  if (uid === 0) chownSync(run, owner, owner);
  const own = resolveStorePaths({ uid: owner, env: { HOME: '/home/u', XDG_DATA_HOME: '/data', XDG_RUNTIME_DIR: run } });
  assert.is(own.root, '/data/pkit');
  assert.is(own.runRoot, join(run, 'pkit'));
});

test('a missing XDG_RUNTIME_DIR falls back to a private temp dir', () => {
  const p = resolveStorePaths({ uid: 4242, env: { HOME: '/h', XDG_RUNTIME_DIR: '/nonexistent/run', TMPDIR: '/var/tmp' } });
  assert.is(p.runRoot, '/var/tmp/pkit-run-4242');
});

test('root defaults', () => {
  assert.equal(resolveStorePaths({ uid: 0, env: {} }), { root: '/var/lib/pkit', runRoot: '/run/pkit' });
});

test('--root beats PKIT_ROOT beats the default; PKIT_RUNROOT overrides the runtime dir', () => {
  assert.is(resolveStorePaths({ uid: 0, env: { PKIT_ROOT: '/env' } }).root, '/env');
  assert.is(resolveStorePaths({ uid: 0, root: '/flag', env: { PKIT_ROOT: '/env' } }).root, '/flag');
  assert.is(resolveStorePaths({ uid: 0, env: { PKIT_RUNROOT: '/r' } }).runRoot, '/r');
});

test.run();
