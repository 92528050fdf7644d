// `pbuild build -`: the context from stdin (context/stdin-context.ts): a tar archive, compressed
// in any of the four ways (told by content), or a Containerfile alone; escapes refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { stdinContext } from '../../../packages/pbuild/src/context/stdin-context.ts';

let src = '';
let plainTar: Buffer;

/** A stream giving `data` in small pieces, as a pipe would. */
function chunked(data: Buffer, size = 100): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => '',
    (e: Error) => e.message,
  );
}

/** The tar made by python's tarfile with members as given (names and links tar itself would not write). */
function craftedTar(members: Array<[string, 'file' | 'symlink' | 'hardlink', string]>): Buffer {
  const script = `
import io, sys, tarfile, json
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    for name, kind, arg in json.loads(sys.argv[1]):
        ti = tarfile.TarInfo(name)
        if kind == 'symlink':
            ti.type = tarfile.SYMTYPE; ti.linkname = arg; t.addfile(ti)
        elif kind == 'hardlink':
            ti.type = tarfile.LNKTYPE; ti.linkname = arg; t.addfile(ti)
        else:
            data = arg.encode(); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
sys.stdout.buffer.write(buf.getvalue())`;
  return execFileSync('python3', ['-c', script, JSON.stringify(members)], { maxBuffer: 1 << 24 });
}

test.before(() => {
  src = mkdtempSync(join(tmpdir(), 'pkit-stdin-src-'));
  mkdirSync(join(src, 'app', 'bin'), { recursive: true });
  writeFileSync(join(src, 'Containerfile'), 'FROM busybox\nCOPY app /app\n');
  writeFileSync(join(src, 'app', 'bin', 'run'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(src, 'app', 'data'), 'x'.repeat(100_000));
  plainTar = execFileSync('tar', ['-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 24 });
});

test.after(() => rmSync(src, { recursive: true, force: true }));

test('a tar archive on stdin is the context: files, modes, a private dir that cleanup removes', async () => {
  const c = await stdinContext(chunked(plainTar));
  try {
    assert.is(c.kind, 'archive');
    assert.is(readFileSync(join(c.dir, 'Containerfile'), 'utf8'), 'FROM busybox\nCOPY app /app\n');
    assert.is(statSync(join(c.dir, 'app', 'bin', 'run')).mode & 0o777, 0o755);
    assert.is(statSync(join(c.dir, 'app', 'data')).size, 100_000);
    assert.is(statSync(c.dir).mode & 0o777, 0o700);
  } finally {
    c.cleanup();
  }
  assert.not.ok(existsSync(c.dir));
});

test('compressed archives, told by their content: gzip, bzip2, xz, zstd', async () => {
  for (const tool of ['gzip', 'bzip2', 'xz', 'zstd']) {
    const packed = execFileSync(tool, ['-c'], { input: plainTar, maxBuffer: 1 << 24 });
    const c = await stdinContext(chunked(packed, 37));
    try {
      assert.is(c.kind, 'archive', tool);
      assert.is(readFileSync(join(c.dir, 'app', 'bin', 'run'), 'utf8'), '#!/bin/sh\necho hi\n', tool);
    } finally {
      c.cleanup();
    }
  }
});

test('anything else is the Containerfile alone, written as Dockerfile (as buildah), however small', async () => {
  for (const text of ['FROM busybox\nRUN echo hi\n', 'FROM x\n', `FROM busybox\n${'# padding\n'.repeat(200)}`]) {
    const c = await stdinContext(chunked(Buffer.from(text), 7));
    try {
      assert.is(c.kind, 'containerfile');
      assert.is(readFileSync(join(c.dir, 'Dockerfile'), 'utf8'), text);
      assert.is(statSync(join(c.dir, 'Dockerfile')).mode & 0o777, 0o600);
    } finally {
      c.cleanup();
    }
  }
});

test('nothing on stdin, a compressed stream that is no tar, a broken tar: one-line errors, nothing left', async () => {
  assert.match(await errorOf(stdinContext(Readable.from([]))), /nothing came on stdin/);
  const gz = execFileSync('gzip', ['-c'], { input: 'FROM busybox\n' });
  assert.match(await errorOf(stdinContext(chunked(gz))), /^build context "-": the gzip stream on stdin is not a tar archive$/);
  const gzTar = execFileSync('gzip', ['-c'], { input: plainTar });
  assert.match(await errorOf(stdinContext(chunked(gzTar.subarray(0, gzTar.length - 20)))), /^cannot extract the build context from stdin: .*(unexpected end of file|unexpected EOF)/i);
  assert.match(await errorOf(stdinContext(chunked(plainTar.subarray(0, plainTar.length - 60_000)))), /^cannot extract the build context from stdin: /);
});

test('escapes are refused: .. members, writing through a symbolic link, hard links out', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'pkit-stdin-out-'));
  try {
    const cases: Array<Array<[string, 'file' | 'symlink' | 'hardlink', string]>> = [
      [['../escaped', 'file', 'x']],
      [['a', 'symlink', outside], ['a/escaped', 'file', 'x']],
      [['b', 'symlink', '../../../..' + outside], ['b/escaped', 'file', 'x']],
      [['h', 'hardlink', join(outside, 'victim')]],
    ];
    writeFileSync(join(outside, 'victim'), 'v');
    for (const members of cases) {
      assert.match(await errorOf(stdinContext(chunked(craftedTar(members)))), /^cannot extract the build context from stdin: /, JSON.stringify(members));
      assert.not.ok(existsSync(join(outside, 'escaped')));
    }
    assert.is(readFileSync(join(outside, 'victim'), 'utf8'), 'v');
    // an absolute name lands inside, and a link that stays a link is fine
    const c = await stdinContext(chunked(craftedTar([['/abs/f', 'file', 'in'], ['l', 'symlink', '/etc/passwd']])));
    try {
      assert.is(readFileSync(join(c.dir, 'abs', 'f'), 'utf8'), 'in');
      assert.ok(lstatSync(join(c.dir, 'l')).isSymbolicLink());
      assert.is(readlinkSync(join(c.dir, 'l')), '/etc/passwd');
    } finally {
      c.cleanup();
    }
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test.run();
