// What pbuild copy and add read from the host: --contextdir with its .containerignore /
// .dockerignore (and --ignorefile), --exclude, --parents, add --checksum (a local file and a
// download), --link accepted. Through the built CLI as the test user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
let ctx = '';
let ctr = '';
let server: ChildProcess | undefined;
let port = 0;
const pbuild = (args: string[]) => run('pbuild', ['--root', root, ...args]);
const inCtr = (script: string) => ok(pbuild(['run', ctr, '--', 'sh', '-c', script]), script).stdout;
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const TOOL = 'tool body\n';

function put(rel: string, content = `${rel}\n`): void {
  mkdirSync(join(ctx, rel, '..'), { recursive: true });
  writeFileSync(join(ctx, rel), content);
}

test('setup: busybox, a working container, a context, an http server', async () => {
  requireBuild();
  root = tempDir('pkit-pbctx');
  ctx = tempDir('pkit-pbctx-src');
  ok(run('prun', ['--root', root, 'import', FIXTURE, 'busybox']), 'import');
  ctr = ok(pbuild(['from', 'busybox'])).stdout.trim();
  for (const f of ['a.txt', 'b.txt', 'app/main.go', 'app/README.md', 'app/docs/guide.md', 'app/docs/logo.png', 'build/out.bin', 'build/keep/k.txt', 'x/y/a.txt', 'x/y/b.txt', 'x/secret1', 'x/secret2']) put(f);
  // *.txt is for the top directory only (docker's semantics): x/y/a.txt stays
  put('.dockerignore', '# build output\nbuild\n!build/keep\n*.txt\n!b.txt\n**/secret*\n');
  put('other.ignore', 'app/docs\n');
  const serve = `require('http').createServer((q, s) => { if (q.url === '/tool') s.end(${JSON.stringify(TOOL)}); else { s.statusCode = 404; s.end(); } })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  server = spawn(process.execPath, ['-e', serve], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = (await once(server.stdout!, 'data')) as [Buffer];
  port = Number(first.toString().trim());
  assert.ok(port > 0, 'test http server');
});

test('copy --contextdir: SRC from the context, its .dockerignore applied (! brings files back), the ignore file itself copied', () => {
  ok(pbuild(['copy', '-q', '--contextdir', ctx, ctr, '.', '/all/']));
  const out = inCtr('cd /all && find . | sort');
  assert.is(out, ['.', './.dockerignore', './app', './app/README.md', './app/docs', './app/docs/guide.md', './app/docs/logo.png', './app/main.go',
    './b.txt', './build', './build/keep', './build/keep/k.txt', './other.ignore', './x', './x/y', './x/y/a.txt', './x/y/b.txt'].join('\n') + '\n');
  // an absolute path in the context is taken as it is, / alone is the context's root
  ok(pbuild(['copy', '-q', '--contextdir', ctx, ctr, join(ctx, 'b.txt'), '/b.txt', '/abs/']));
  assert.is(inCtr('ls /abs'), 'b.txt\n');
});

test('copy --contextdir: an excluded SRC, or a glob matching only excluded files, fails as a missing file', () => {
  oneLineError(pbuild(['copy', '--contextdir', ctx, ctr, 'a.txt', '/x/']), /"a\.txt": no such file or directory \(excluded by .*\.dockerignore\)/);
  oneLineError(pbuild(['copy', '--contextdir', ctx, ctr, 'x/secret*', '/x/']), /"x\/secret\*": no such file or directory/);
  oneLineError(pbuild(['copy', '--contextdir', ctx, ctr, 'build/out.bin', '/x/']), /excluded/);
  oneLineError(pbuild(['copy', '--contextdir', ctx, ctr, '../outside', '/x/']), /outside the build context/);
  // a .containerignore wins over the .dockerignore
  put('.containerignore', 'b.txt\n');
  try {
    ok(pbuild(['copy', '-q', '--contextdir', ctx, ctr, 'a.txt', 'x/y/a.txt', '/ci/']));
    oneLineError(pbuild(['copy', '--contextdir', ctx, ctr, 'b.txt', '/x/']), /"b\.txt".*excluded by .*\.containerignore/);
  } finally {
    rmSync(join(ctx, '.containerignore'));
  }
  assert.is(inCtr('ls /ci'), 'a.txt\n');
});

test('copy --ignorefile: another file, which needs --contextdir; without --contextdir nothing is ignored', () => {
  ok(pbuild(['copy', '-q', '--contextdir', ctx, '--ignorefile', join(ctx, 'other.ignore'), ctr, 'app', '/ig/']));
  assert.is(inCtr('cd /ig && find . | sort'), '.\n./README.md\n./main.go\n');
  oneLineError(pbuild(['copy', '--ignorefile', join(ctx, 'other.ignore'), ctr, 'app', '/x/']), /--ignorefile needs --contextdir/);
  ok(pbuild(['copy', '-q', ctr, join(ctx, 'build'), '/noctx/']));
  assert.is(inCtr('cd /noctx && find . | sort'), '.\n./keep\n./keep/k.txt\n./out.bin\n');
});

test('copy --exclude: paths as they land under DEST, several patterns, ! re-includes; a file SRC excluded by name', () => {
  ok(pbuild(['copy', '-q', '--exclude', '**/*.md', '--exclude', 'docs/logo.png', ctr, join(ctx, 'app'), '/ex1/']));
  assert.is(inCtr('cd /ex1 && find . | sort'), '.\n./docs\n./main.go\n');
  ok(pbuild(['copy', '-q', '--exclude=docs', '--exclude=!docs/guide.md', ctr, join(ctx, 'app'), '/ex2/']));
  assert.is(inCtr('cd /ex2 && find . | sort'), '.\n./README.md\n./docs\n./docs/guide.md\n./main.go\n');
  ok(pbuild(['copy', '-q', '--exclude', 'a.*', ctr, join(ctx, 'x/y/*'), '/ex3/']));
  assert.is(inCtr('ls /ex3'), 'b.txt\n');
  oneLineError(pbuild(['copy', '--exclude', '*.txt', ctr, join(ctx, 'a.txt'), '/x/']), /"[^"]*a\.txt": no such file or directory \(excluded by --exclude\)/);
  oneLineError(pbuild(['copy', '--exclude', 'a[', ctr, join(ctx, 'a.txt'), '/x/']), /--exclude: bad pattern "a\["/);
});

test('copy --parents: each source keeps its path from the context, or from a /./ pivot; DEST is a directory', () => {
  ok(pbuild(['copy', '-q', '--parents', '--contextdir', ctx, ctr, 'x/y/b.txt', 'app/docs', '/par']));
  assert.is(inCtr('cd /par && find . | sort'), '.\n./app\n./app/docs\n./app/docs/guide.md\n./app/docs/logo.png\n./x\n./x/y\n./x/y/b.txt\n');
  ok(pbuild(['copy', '-q', '--parents', '--chown', '7:8', ctr, `${ctx}/x/./y/a.txt`, '/piv/']));
  assert.is(inCtr('stat -c "%n %u:%g" /piv/y /piv/y/a.txt'), '/piv/y 7:8\n/piv/y/a.txt 7:8\n');
  // add has no --parents (as buildah)
  assert.is(pbuild(['add', '--parents', ctr, join(ctx, 'b.txt'), '/x/']).code, 125);
});

test('add --checksum: a local file that matches is added; a mismatch is one line naming both digests, nothing added', () => {
  const good = sha256('b.txt\n');
  ok(pbuild(['add', '-q', '--checksum', `sha256:${good}`, ctr, join(ctx, 'b.txt'), '/ck/']));
  assert.is(inCtr('cat /ck/b.txt'), 'b.txt\n');
  const wrong = sha256('something else');
  const r = pbuild(['add', '--checksum', `sha256:${wrong}`, ctr, join(ctx, 'a.txt'), '/ck2/']);
  oneLineError(r, new RegExp(`checksum mismatch for .*a\\.txt.*: expected sha256:${wrong}, got sha256:${sha256('a.txt\n')}`));
  assert.is(inCtr('ls -d /ck2 2>/dev/null || echo absent'), 'absent\n');
  oneLineError(pbuild(['add', '--checksum', 'md5:abc', ctr, join(ctx, 'a.txt'), '/x/']), /invalid --checksum "md5:abc"/);
  oneLineError(pbuild(['add', '--checksum', `sha256:${good}`, ctr, join(ctx, 'a.txt'), join(ctx, 'b.txt'), '/x/']), /--checksum needs exactly one source/);
  oneLineError(pbuild(['add', '--checksum', `sha256:${good}`, ctr, join(ctx, 'app'), '/x/']), /--checksum needs a file/);
  assert.is(pbuild(['copy', '--checksum', `sha256:${good}`, ctr, join(ctx, 'b.txt'), '/x/']).code, 125, 'copy has no --checksum');
});

test('add --checksum: a download is checked before it reaches the container', () => {
  ok(pbuild(['add', '-q', '--checksum', `sha256:${sha256(TOOL)}`, ctr, `http://127.0.0.1:${port}/tool`, '/dl/']));
  assert.is(inCtr('cat /dl/tool'), TOOL);
  const wrong = sha256('x');
  oneLineError(pbuild(['add', '--checksum', `sha256:${wrong}`, ctr, `http://127.0.0.1:${port}/tool`, '/dl2/']),
    new RegExp(`checksum mismatch for http://127\\.0\\.0\\.1:${port}/tool: expected sha256:${wrong}, got sha256:${sha256(TOOL)}`));
  assert.is(inCtr('ls -d /dl2 2>/dev/null || echo absent'), 'absent\n');
});

test('--link is accepted by copy and add: the files land as without it', () => {
  ok(pbuild(['copy', '-q', '--link', ctr, join(ctx, 'b.txt'), '/ln/']));
  ok(pbuild(['add', '-q', '--link', ctr, join(ctx, 'a.txt'), '/ln/']));
  assert.is(inCtr('ls /ln'), 'a.txt\nb.txt\n');
});

test('cleanup', () => {
  if (server?.pid) process.kill(server.pid);
  ok(pbuild(['rm', ctr]));
  rmSync(ctx, { recursive: true, force: true });
});

test.run();
