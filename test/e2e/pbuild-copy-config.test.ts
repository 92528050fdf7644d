// pbuild copy, add, config and inspect (buildah's verbs) through the built CLIs as the test
// user: where files land and who owns them, archives told by content, URLs, the image config
// as run and commit use it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
let src = '';
let ctr = '';
let server: ChildProcess | undefined;
let port = 0;
const pbuild = (args: string[]) => run('pbuild', ['--root', root, ...args]);
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);
const inCtr = (script: string) => ok(pbuild(['run', ctr, '--', 'sh', '-c', script]), script).stdout;

test('setup: busybox, a working container, a source tree, an http server', async () => {
  requireBuild();
  root = tempDir('pkit-pbcopy');
  src = tempDir('pkit-pbcopy-src');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
  ctr = ok(pbuild(['from', 'busybox'])).stdout.trim();
  mkdirSync(join(src, 'd', 'sub'), { recursive: true });
  writeFileSync(join(src, 'd', 'a.txt'), 'a\n');
  writeFileSync(join(src, 'd', 'sub', 'b'), 'b\n');
  writeFileSync(join(src, 't.txt'), 't\n');
  writeFileSync(join(src, 'u.txt'), 'u\n');
  symlinkSync('t.txt', join(src, 'link'));
  // archives whose names say nothing of what they are
  mkdirSync(join(src, 'payload', 'inner'), { recursive: true });
  writeFileSync(join(src, 'payload', 'inner', 'p'), 'p\n');
  execFileSync('tar', ['-C', join(src, 'payload'), '-czf', join(src, 'archive.bin'), '--owner=:7', '--group=:8', 'inner']);
  execFileSync('tar', ['-C', join(src, 'payload'), '-cJf', join(src, 'archive.tar.gz'), 'inner']);
  writeFileSync(join(src, 'notatar.gz'), execFileSync('gzip', ['-c', join(src, 't.txt')]));
  // In its own process: the CLIs run synchronously here, so this one could not answer them.
  const serve = `const body = require('zlib').gzipSync('t\\n');
require('http').createServer((q, s) => { if (q.url === '/files/tool.tar.gz') s.end(body); else { s.statusCode = 404; s.end(); } })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  server = spawn(process.execPath, ['-e', serve], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = (await once(server.stdout!, 'data')) as [Buffer];
  port = Number(first.toString().trim());
  assert.ok(port > 0, 'test http server');
});

test('copy: a directory\'s contents, a file under its name or a new one, 0:0, prints a digest', () => {
  const r = ok(run('pbuild', ['--root', root, 'copy', ctr, join(src, 'd'), '/newdir']));
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  ok(pbuild(['copy', '-q', ctr, join(src, 't.txt'), '/etc/']));
  ok(pbuild(['copy', '-q', ctr, join(src, 't.txt'), '/renamed']));
  ok(pbuild(['copy', '-q', ctr, join(src, 'link'), '/opt/']));
  const out = inCtr('cd /newdir && find . | sort; stat -c "%n %u:%g %a" /newdir/a.txt /newdir/sub /etc/t.txt /renamed; cat /renamed; ls -l /opt/link | cut -c1');
  assert.is(out, '.\n./a.txt\n./sub\n./sub/b\n/newdir/a.txt 0:0 644\n/newdir/sub 0:0 755\n/etc/t.txt 0:0 644\n/renamed 0:0 644\nt\n-\n');
});

test('copy: relative DEST from the working dir, --chown names from the container, --chmod, made parents', () => {
  ok(pbuild(['config', '--workingdir', '/w', ctr]));
  ok(pbuild(['copy', '-q', '--chown', 'nobody:nogroup', '--chmod', '600', ctr, join(src, 't.txt'), 'sub/rel']));
  assert.is(inCtr('stat -c "%n %u:%g %a" /w /w/sub /w/sub/rel'), '/w 65534:65534 755\n/w/sub 65534:65534 755\n/w/sub/rel 65534:65534 600\n');
  oneLineError(pbuild(['copy', '--chown', 'nosuchuser', ctr, join(src, 't.txt'), '/x']), /nosuchuser/);
  oneLineError(pbuild(['copy', '--chmod', 'u+x', ctr, join(src, 't.txt'), '/x']), /--chmod/);
});

test('copy: globs and several sources make DEST a directory; a missing SRC is named', () => {
  ok(pbuild(['copy', '-q', ctr, join(src, '*.txt'), '/globbed']));
  ok(pbuild(['copy', '-q', ctr, join(src, 't.txt'), join(src, 'd'), '/several']));
  assert.is(inCtr('ls /globbed; echo; ls /several'), 't.txt\nu.txt\n\na.txt\nsub\nt.txt\n');
  oneLineError(pbuild(['copy', ctr, join(src, 'nosuch'), '/x']), /nosuch.*no such file or directory/);
  oneLineError(pbuild(['copy', ctr, join(src, '*.none'), '/x']), /\*\.none/);
  oneLineError(pbuild(['copy', ctr, join(src, 'd'), '/renamed']), /not a directory|is a file/);
});

test('copy --from another working container', () => {
  const other = ok(pbuild(['from', 'busybox'])).stdout.trim();
  ok(pbuild(['run', other, '--', 'sh', '-c', 'mkdir -p /out && echo from-other > /out/f']));
  ok(pbuild(['copy', '-q', '--from', other, ctr, '/out', '/fromother']));
  assert.is(inCtr('cat /fromother/f'), 'from-other\n');
  ok(pbuild(['rm', other]));
});

test('add: tars told by content (gzip named .bin keeps its owners, xz named .gz), other files copied as they are', () => {
  ok(pbuild(['add', '-q', ctr, join(src, 'archive.bin'), '/x1']));
  ok(pbuild(['add', '-q', ctr, join(src, 'archive.tar.gz'), '/x2/']));
  ok(pbuild(['add', '-q', ctr, join(src, 'notatar.gz'), '/x3/']));
  ok(pbuild(['add', '-q', '--chown', '5:6', ctr, join(src, 'archive.bin'), '/x4']));
  const out = inCtr('cat /x1/inner/p /x2/inner/p; stat -c "%u:%g" /x1/inner/p /x4/inner /x4/inner/p; ls /x3');
  assert.is(out, 'p\np\n7:8\n5:6\n5:6\nnotatar.gz\n');
  // copy never extracts
  ok(pbuild(['copy', '-q', ctr, join(src, 'archive.bin'), '/x5/']));
  assert.is(inCtr('ls /x5'), 'archive.bin\n');
});

test('add: a URL is downloaded (0600, not extracted); a failed download is one line', () => {
  ok(pbuild(['add', '-q', ctr, `http://127.0.0.1:${port}/files/tool.tar.gz`, '/dl/']));
  assert.is(inCtr('stat -c "%n %u:%g %a" /dl/tool.tar.gz'), '/dl/tool.tar.gz 0:0 600\n');
  oneLineError(pbuild(['add', ctr, `http://127.0.0.1:${port}/missing`, '/dl/']), /404/);
});

test('config: run sees env, user, working dir; inspect and commit carry the config', () => {
  ok(pbuild(['config', '--env', 'A=1', '--env', 'B=2', '--user', 'nobody', '--label', 'x=y', '--port', '80', '--volume', '/data',
    '--stop-signal', 'SIGINT', '--author', 'me', '--annotation', 'an=1', '--entrypoint', 'echo hi', '--cmd', 'ls -l', ctr]));
  ok(pbuild(['config', '--env', 'A-', '--workingdir', 'deeper', ctr]));
  assert.is(inCtr('pwd; id -u; echo "$A/$B/$HOME"'), '/w/deeper\n65534\n/2//nonexistent\n');
  const info = JSON.parse(ok(pbuild(['inspect', ctr])).stdout) as Record<string, any>;
  assert.is(info['Type'], 'buildah 0.0.1');
  assert.is(info['Container'], ctr);
  assert.match(info['FromImage'], /busybox/);
  assert.match(info['FromImageID'], /^[0-9a-f]{64}$/);
  const c = info['OCIv1'].config;
  assert.equal(c.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
  assert.equal(c.Cmd, ['ls', '-l']);
  assert.is(c.WorkingDir, '/w/deeper');
  assert.is(c.User, 'nobody');
  assert.ok(c.Env.includes('B=2') && !c.Env.some((e: string) => e.startsWith('A=')));
  assert.equal(c.Labels, { x: 'y' });
  assert.equal(Object.keys(c.ExposedPorts), ['80']);
  assert.equal(Object.keys(c.Volumes), ['/data']);
  assert.is(c.StopSignal, 'SIGINT');
  assert.is(info['OCIv1'].author, 'me');

  // (a numeric user for the image: prun run cannot start an image whose User is a name yet,
  // createContainer's up-front buildSpec refuses it)
  ok(pbuild(['config', '--user', '65534', ctr]));
  ok(pbuild(['commit', ctr, 'configured']));
  const img = (JSON.parse(ok(prun(['image', 'inspect', 'configured'])).stdout) as Array<Record<string, any>>)[0]!;
  assert.equal(img['Config'].Entrypoint, ['/bin/sh', '-c', 'echo hi']);
  assert.is(img['Config'].User, '65534');
  assert.is(img['Config'].WorkingDir, '/w/deeper');
  assert.is(img['Author'], 'me');
  assert.is(ok(prun(['run', '--rm', '--entrypoint', 'cat', 'configured', '/w/sub/rel'])).stdout, 't\n');
  oneLineError(pbuild(['config', '--env', '=x', ctr]), /name is empty/);
  oneLineError(pbuild(['config', '--stop-signal', 'SIGNOPE', ctr]), /stop signal/);
});

test('teardown', async () => {
  ok(pbuild(['rm', '--all']));
  if (server?.pid) process.kill(server.pid);
});

test.run();
