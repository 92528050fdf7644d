// A copy killed mid-way leaves nothing new under the destination's name, and rerunning it
// completes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawTarHeader } from '../unit/storage/tar-fixtures.ts';
import { REGISTRY, ok, requireBuild, run, start, tempDir } from './helpers.ts';

/** Sizes of the files being written in a store's scratch area. */
function scratchBytes(root: string): number {
  const tmp = join(root, 'tmp');
  if (!existsSync(tmp)) return 0;
  let n = 0;
  for (const e of readdirSync(tmp, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && !e.name.endsWith('.lock')) {
      try {
        n += statSync(join(e.parentPath, e.name)).size;
      } catch {
        // renamed away meanwhile
      }
    }
  }
  return n;
}

test('SIGKILL during a pull into the local store: no image under the name; a rerun completes', async () => {
  requireBuild();
  // A 48 MB layer of random bytes (gzip cannot shrink it), pushed once.
  const seed = tempDir('pkit-kill-seed');
  const tar = join(seed, 'big.tar');
  const size = 48 << 20;
  const header = rawTarHeader('big.bin', size);
  writeFileSync(tar, Buffer.concat([header, randomBytes(size), Buffer.alloc(1024)]));
  const seedRoot = tempDir('pkit-kill-store');
  ok(run('prun', ['--root', seedRoot, 'import', tar, 'big:1']), 'import');
  const ref = `docker://${REGISTRY}/kill-${randomBytes(4).toString('hex')}/big:1`;
  ok(run('pcopy', ['--root', seedRoot, 'copy', '-q', '--dest-tls-verify=false', 'local:big:1', ref]), 'push');

  const root = tempDir('pkit-kill-dst');
  const copy = start('pcopy', ['--root', root, 'copy', '-q', '--src-tls-verify=false', ref, 'local:pulled:1']);
  const deadline = Date.now() + 30_000;
  while (scratchBytes(root) < 1 << 20) {
    assert.ok(Date.now() < deadline, `the copy never started writing: ${copy.stderr()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  copy.child.kill('SIGKILL');
  await copy.done;
  const names = join(root, 'names');
  assert.equal(existsSync(names) ? readdirSync(names) : [], [], 'nothing is named after the kill');
  assert.is(run('prun', ['--root', root, 'images', '-q']).stdout, '');

  ok(run('pcopy', ['--root', root, 'copy', '-q', '--src-tls-verify=false', ref, 'local:pulled:1']), 'rerun');
  assert.match(run('prun', ['--root', root, 'images']).stdout, /localhost\/pulled\s+1/);
  assert.equal(readdirSync(join(root, 'tmp')).filter((n) => !n.endsWith('.lock')).flatMap((t) => readdirSync(join(root, 'tmp', t))), [], 'the dead copy\'s debris is gone');
});

test.run();
