// What pbuild build reads from its context: .containerignore/.dockerignore with `!`
// re-includes (or --ignorefile), COPY --exclude and --parents, a context tar on stdin, and a
// step cache that looks only at the files a step reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir, makeContext } from './helpers.ts';

let root = '';
const pbuild = (args: string[], input?: Buffer | string) => run('pbuild', ['--root', root, ...args], input === undefined ? {} : { input });
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);


const listing = (image: string, dir: string) => ok(prun(['run', '--rm', image, 'find', dir, '-type', 'f'])).stdout.trim().split('\n').sort();

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-build-ctx');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('.containerignore: excluded files are not copied; ! brings one back; .dockerignore when there is no .containerignore', () => {
  const files = {
    Containerfile: 'FROM busybox\nCOPY . /app\n',
    'src/main.c': 'int main;\n',
    'build/out.o': 'obj\n',
    'build/keep.txt': 'kept\n',
    'notes.md': 'notes\n',
  };
  const ctx = makeContext({ ...files, '.containerignore': '# generated\nbuild\n!build/keep.txt\n*.md\n', '.dockerignore': 'src\n' });
  ok(pbuild(['build', '-q', '-t', 'ign1', ctx]));
  assert.equal(listing('ign1', '/app'), ['/app/.containerignore', '/app/.dockerignore', '/app/Containerfile', '/app/build/keep.txt', '/app/src/main.c']);
  const docker = makeContext({ ...files, '.dockerignore': 'src\nnotes.md\n' });
  ok(pbuild(['build', '-q', '-t', 'ign2', docker]));
  assert.equal(listing('ign2', '/app'), ['/app/.dockerignore', '/app/Containerfile', '/app/build/keep.txt', '/app/build/out.o']);
  const alt = join(tempDir('pkit-ign'), 'my.ignore');
  writeFileSync(alt, 'build\nsrc\n');
  ok(pbuild(['build', '-q', '--ignorefile', alt, '-t', 'ign3', docker]));
  assert.equal(listing('ign3', '/app'), ['/app/.dockerignore', '/app/Containerfile', '/app/notes.md']);
  oneLineError(pbuild(['build', '-q', '--ignorefile', '/nonexistent/ignore', docker]), /ignore/);
  const only = makeContext({ Containerfile: 'FROM busybox\nCOPY secret.key /k\n', 'secret.key': 'k', '.containerignore': '*.key\n' });
  const r = pbuild(['build', '-q', only]);
  assert.is(r.code, 125, 'an excluded SRC is a missing one');
});

test('COPY --exclude and --parents', () => {
  const ctx = makeContext({
    Containerfile: 'FROM busybox\nCOPY --exclude=*.log --exclude=tmp logs/ /logs/\nCOPY --parents pkg/a/x.txt pkg/b/y.txt /tree/\n',
    'logs/app.txt': 'a', 'logs/app.log': 'b', 'logs/tmp/t.txt': 'c',
    'pkg/a/x.txt': 'x', 'pkg/b/y.txt': 'y',
  });
  ok(pbuild(['build', '-q', '-t', 'excl', ctx]));
  assert.equal(listing('excl', '/logs'), ['/logs/app.txt']);
  assert.equal(listing('excl', '/tree'), ['/tree/pkg/a/x.txt', '/tree/pkg/b/y.txt']);
});

test('the cache looks at the files a step reads: a change elsewhere keeps it, a change to them does not', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nCOPY a.txt /a\nCOPY b.txt /b\n', 'a.txt': 'a1', 'b.txt': 'b1', 'unread.txt': 'u1', 'ignored.tmp': 'i1', '.containerignore': '*.tmp\n' });
  ok(pbuild(['build', '-q', '-t', 'sel', ctx]));
  writeFileSync(join(ctx, 'unread.txt'), 'u2');
  writeFileSync(join(ctx, 'ignored.tmp'), 'i2');
  assert.is((ok(pbuild(['build', '-t', 'sel', ctx])).stdout.match(/Using cache/g) ?? []).length, 2, 'unread and ignored files changed: both COPYs cached');
  writeFileSync(join(ctx, 'b.txt'), 'b2');
  const r = ok(pbuild(['build', '-t', 'sel', ctx]));
  assert.is((r.stdout.match(/Using cache/g) ?? []).length, 1, 'b.txt changed: the COPY of a.txt still cached');
  assert.is(ok(prun(['run', '--rm', 'sel', 'cat', '/a', '/b'])).stdout, 'a1b2');
});

test('pbuild build -: the context as a tar (or a lone Containerfile) on stdin', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nCOPY data.txt /data.txt\n', 'data.txt': 'from stdin tar\n' });
  const tar = spawnSync('tar', ['-cz', '-C', ctx, '.']).stdout;
  ok(pbuild(['build', '-q', '-t', 'stdintar', '-'], tar));
  assert.is(ok(prun(['run', '--rm', 'stdintar', 'cat', '/data.txt'])).stdout, 'from stdin tar\n');
  ok(pbuild(['build', '-q', '-t', 'stdincf', '-'], 'FROM busybox\nRUN echo lone > /lone\n'));
  assert.is(ok(prun(['run', '--rm', 'stdincf', 'cat', '/lone'])).stdout, 'lone\n');
  oneLineError(pbuild(['build', '-f', '-', '-'], 'FROM busybox\n'), /stdin/);
});

test.run();
