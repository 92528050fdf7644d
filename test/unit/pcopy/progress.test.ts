import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyProgress } from '../../../packages/pcopy/src/progress.ts';

const desc = (n: number, size: number) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as `sha256:${string}`, size });

function fakeOut(tty: boolean) {
  let text = '';
  return { out: { isTTY: tty, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream, text: () => text };
}

test('not a terminal: skopeo\'s lines, one per step', () => {
  const f = fakeOut(false);
  const p = copyProgress(false, f.out);
  p.begin();
  p.blobStart!(desc(1, 10), 'blob');
  p.blobBytes?.(desc(1, 10), 10);
  p.blobDone?.(desc(1, 10), 'blob');
  p.blobSkipped!(desc(2, 10), 'blob');
  p.manifest!();
  assert.is(
    f.text(),
    `Getting image source signatures\nCopying blob ${desc(1, 10).digest}\nCopying blob ${desc(2, 10).digest} skipped: already exists\nWriting manifest to image destination\n`,
  );
});

test('a terminal: a bar per blob, redrawn in place, ending in done', () => {
  const f = fakeOut(true);
  const p = copyProgress(false, f.out);
  p.begin();
  p.blobStart!(desc(1, 2048), 'blob');
  p.blobBytes!(desc(1, 2048), 1024);
  p.blobDone!(desc(1, 2048), 'blob');
  p.manifest!();
  const t = f.text();
  assert.match(t, /Copying blob 111111111111 \[\s+\] 0B \/ 2\.0KiB 0%/);
  assert.match(t, /\x1b\[1A\x1b\[2KCopying blob 111111111111 \[=+>\] 2\.0KiB \/ 2\.0KiB done\n/);
  assert.ok(t.endsWith('Writing manifest to image destination\n'));
});

test('-q prints nothing', () => {
  const f = fakeOut(true);
  const p = copyProgress(true, f.out);
  p.begin();
  p.blobStart?.(desc(1, 1), 'blob');
  assert.is(f.text(), '');
});

test.run();
