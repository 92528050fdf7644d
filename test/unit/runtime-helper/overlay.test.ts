// pkit-runtime's overlay root (native/helper/mounts.c, top comment): a first mount
// {destination: "/", type: "overlay"} is mounted onto root.path inside the container's user
// and mount namespaces. The lower dirs are layer directories made by applyLayerTar (the
// overlay form of docs/storage.md). pkit-runtime only: crun has no such convention.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { applyLayerTar } from '../../../packages/storage/src/layers/apply.ts';
import { buildTar, dir, file } from '../storage/tar-fixtures.ts';
import { REPO, nextId, runSync, runtimes, bundle, work } from './bundle.ts';

const FIXTURE = process.env.PKIT_TEST_FIXTURE || join(REPO, 'test/bed/out/busybox-rootfs.tar');
const rt = runtimes().find((r) => r.name === 'pkit-runtime')!;

test('overlay root from two layer dirs: whiteout, opaque dir, lower binaries, writes go to upper', async () => {
  const base = join(work, 'overlay');
  const [l1, l2, upper, wd, root] = ['l1', 'l2', 'upper', 'work', 'root'].map((n) => join(base, n)) as [string, string, string, string, string];
  for (const d of [l1, l2, upper, wd, root]) mkdirSync(d, { recursive: true });

  await applyLayerTar(createReadStream(FIXTURE), l1);
  assert.ok(existsSync(join(l1, 'etc/hostname')), 'the busybox layer has /etc/hostname');
  // something in the lower /tmp for the opaque marker above it to hide
  mkdirSync(join(l1, 'tmp'), { recursive: true });
  writeFileSync(join(l1, 'tmp/old'), 'old\n');

  const tar = await buildTar([
    dir('etc/'), file('etc/added', 'added\n'), file('etc/.wh.hostname'),
    dir('tmp/', { mode: 0o1777 }), file('tmp/.wh..wh..opq'), file('tmp/fresh', 'fresh\n'),
  ]);
  await applyLayerTar(Readable.from([tar]), l2);

  const b = bundle({
    args: ['sh', '-c', [
      'cat /etc/added',
      'test -e /etc/hostname && echo hostname-present || echo hostname-gone',
      'ls -A /tmp',
      'echo via-lower-sh',
      'echo new > /newfile',
      'mount | grep " on / "',
    ].join('; ')],
    mutate: (c) => {
      c.root = { path: root, readonly: false };
      c.mounts.unshift({
        destination: '/', type: 'overlay', source: 'overlay',
        options: [`lowerdir=${l2}:${l1}`, `upperdir=${upper}`, `workdir=${wd}`, 'userxattr'],
      });
    },
  });
  const r = runSync(rt, ['run', '--bundle', b, nextId('ov')]);
  // the kernel leaves workdir/work mode 000: let the temp dir be removed
  if (existsSync(join(wd, 'work'))) chmodSync(join(wd, 'work'), 0o700);
  const stdout = r.stdout.toString(), stderr = r.stderr.toString();
  // A kernel refusing the overlay mount makes the run fail: shown here, never skipped.
  assert.is(r.status, 0, `pkit-runtime run failed (status ${r.status}): ${stderr}`);
  const lines = stdout.trim().split('\n');
  assert.is(lines[0], 'added');
  assert.is(lines[1], 'hostname-gone');
  assert.is(lines[2], 'fresh', 'the opaque /tmp hides the lower tmp/old');
  assert.is(lines[3], 'via-lower-sh');
  assert.match(lines[4] ?? '', /^overlay on \/ type overlay /);
  assert.is(lines.length, 5, stdout);

  assert.is(readFileSync(join(upper, 'newfile'), 'utf8'), 'new\n');
  assert.not.ok(existsSync(join(l1, 'newfile')));
  assert.not.ok(existsSync(join(l2, 'newfile')));
  assert.ok(existsSync(join(l1, 'etc/hostname')), 'the lower layer is untouched');
});

test.run();
