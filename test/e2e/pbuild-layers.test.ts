// pbuild build, one image per step: the layers and history it records, the step cache, FROM
// scratch, the output format, annotations, reproducible builds (--timestamp,
// SOURCE_DATE_EPOCH), and the files of the result (owners, modes, links, deletions).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, binPath, ok, requireBuild, run, tempDir, makeContext } from './helpers.ts';

let root = '';
const pbuild = (args: string[], env?: Record<string, string>) => run('pbuild', ['--root', root, ...args], env ? { env } : {});
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);


interface Inspected {
  Id: string;
  Parent: string;
  RootFS: { Layers: string[] };
  History: Array<{ created_by?: string; empty_layer?: boolean; comment?: string; created?: string }>;
  Config: { Env?: string[]; Labels?: Record<string, string>; Shell?: string[]; Healthcheck?: unknown; WorkingDir?: string };
  Annotations?: Record<string, string>;
  ManifestType: string;
  Created: string;
}

const inspect = (name: string) => (JSON.parse(ok(prun(['image', 'inspect', name])).stdout) as Inspected[])[0]!;
const lastLine = (out: string) => out.trim().split('\n').at(-1)!;
const hits = (out: string) => (out.match(/--> Using cache/g) ?? []).length;

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-layers');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

const STEPS = 'FROM busybox\nENV A=1\nRUN echo made > /made\nCOPY f.txt /f.txt\nLABEL k=v\n';

test('each filesystem step is a layer; metadata steps are empty_layer history entries', () => {
  const base = inspect('busybox');
  const ctx = makeContext({ Containerfile: STEPS, 'f.txt': 'one\n' });
  const r = ok(pbuild(['build', '-t', 'steps', ctx]));
  // every step but the last prints its intermediate image, as buildah
  assert.is((r.stdout.match(/^--> [0-9a-f]{11}$/gm) ?? []).length, 4, r.stdout);
  const img = inspect('steps');
  assert.is(img.RootFS.Layers.length, base.RootFS.Layers.length + 2, 'RUN and COPY add one layer each');
  const mine = img.History.slice(base.History.length);
  assert.equal(mine.map((h) => h.empty_layer === true), [true, false, false, true]);
  assert.is(mine[0]!.created_by, '/bin/sh -c #(nop) ENV A=1');
  assert.is(mine[1]!.created_by, '/bin/sh -c echo made > /made');
  assert.match(mine[2]!.created_by!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/f\.txt $/);
  assert.is(mine[0]!.comment, 'FROM localhost/busybox:latest');
  assert.match(mine[1]!.comment!, /^FROM [0-9a-f]{12}$/);
  assert.ok(img.Parent.length === 64, 'the parent is the previous step\'s image');
  assert.is(inspect(img.Parent).Config.Labels?.['k'], undefined, 'the parent is the image before LABEL');
  assert.is(ok(prun(['run', '--rm', 'steps', 'cat', '/made', '/f.txt'])).stdout, 'made\none\n');
});

test('the step cache: a changed file rebuilds its COPY and what follows, nothing before', () => {
  const ctx = makeContext({ Containerfile: STEPS, 'f.txt': 'one\n', 'other.txt': 'not read\n' });
  ok(pbuild(['build', '-t', 'cache1', ctx]));
  const same = ok(pbuild(['build', '-t', 'cache1', ctx]));
  assert.is(hits(same.stdout), 4, same.stdout);
  writeFileSync(join(ctx, 'f.txt'), 'two\n');
  const changed = ok(pbuild(['build', '-t', 'cache1', ctx]));
  assert.is(hits(changed.stdout), 2, 'ENV and RUN come from the cache');
  assert.match(changed.stdout, /STEP 4\/5: COPY f.txt \/f.txt\n--> [0-9a-f]{11}\n/, 'COPY ran again');
  assert.is(ok(prun(['run', '--rm', 'cache1', 'cat', '/f.txt'])).stdout, 'two\n');
  const args = ok(pbuild(['build', '-t', 'cache2', '--build-arg', 'UNUSED=1', makeContext({ Containerfile: 'FROM busybox\nARG V=a\nRUN echo $V > /v\n' })]));
  assert.is(hits(args.stdout), 0);
  const ctx2 = makeContext({ Containerfile: 'FROM busybox\nARG V=a\nRUN echo $V > /v\n' });
  ok(pbuild(['build', '-t', 'cache3', ctx2]));
  const otherArg = ok(pbuild(['build', '-t', 'cache3', '--build-arg', 'V=b', ctx2]));
  assert.is(hits(otherArg.stdout), 0, 'another ARG value: ARG and RUN run again');
  assert.is(ok(prun(['run', '--rm', 'cache3', 'cat', '/v'])).stdout, 'b\n');
});

test('FROM scratch: an image of only what the build put there', () => {
  const ctx = makeContext({ Containerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "from scratch"]\n' });
  copyFileSync('/bin/busybox', join(ctx, 'busybox'));
  ok(pbuild(['build', '-t', 'tiny', ctx]));
  const img = inspect('tiny');
  assert.is(img.RootFS.Layers.length, 1);
  assert.is(img.History.length, 2);
  assert.is(ok(prun(['run', '--rm', '--network', 'none', 'tiny'])).stdout, 'from scratch\n');
});

test('--timestamp and SOURCE_DATE_EPOCH: the same inputs give the same image; file times are the timestamp', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN echo $RANDOM > /r && touch /t\nENV X=1\n' });
  const a = lastLine(ok(pbuild(['build', '--no-cache', '--timestamp', '1000000000', '-t', 'repro', ctx])).stdout);
  const b = lastLine(ok(pbuild(['build', '--no-cache', '-t', 'repro2', ctx], { SOURCE_DATE_EPOCH: '1000000000' })).stdout);
  // $RANDOM differs between the runs, so compare what is reproducible: the same RUN output
  const fixed = makeContext({ Containerfile: 'FROM busybox\nRUN echo same > /s && touch /t\nENV X=1\n' });
  const c = lastLine(ok(pbuild(['build', '--no-cache', '--timestamp', '1000000000', '-t', 'repro3', fixed])).stdout);
  const d = lastLine(ok(pbuild(['build', '--no-cache', '-t', 'repro4', fixed], { SOURCE_DATE_EPOCH: '1000000000' })).stdout);
  assert.is(c, d, 'same inputs, same image ID');
  assert.is.not(a, b, 'different RUN output, different image');
  assert.is(inspect('repro3').Created, '2001-09-09T01:46:40.000Z');
  assert.is(ok(prun(['run', '--rm', 'repro3', 'stat', '-c', '%Y', '/t', '/s'])).stdout, '1000000000\n1000000000\n');
  const e = lastLine(ok(pbuild(['build', '--no-cache', '-t', 'repro5', fixed])).stdout);
  assert.is.not(e, c, 'without a timestamp the created time differs');
});

test('--format docker keeps SHELL and HEALTHCHECK; oci (the default) drops them; --annotation', () => {
  const cf = 'FROM busybox\nSHELL ["/bin/sh", "-ec"]\nHEALTHCHECK CMD true\nRUN echo $0 > /shell-arg\n';
  const ctx = makeContext({ Containerfile: cf });
  ok(pbuild(['build', '--format', 'docker', '-t', 'fmt-docker', ctx]));
  const d = inspect('fmt-docker');
  assert.is(d.ManifestType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(d.Config.Shell, ['/bin/sh', '-ec']);
  assert.ok(d.Config.Healthcheck);
  ok(pbuild(['build', '--annotation', 'org.example.note=hello', '-t', 'fmt-oci', ctx]));
  const o = inspect('fmt-oci');
  assert.is(o.ManifestType, 'application/vnd.oci.image.manifest.v1+json');
  assert.is(o.Config.Shell, undefined);
  assert.is(o.Annotations?.['org.example.note'], 'hello');
  // as buildah: the manifest names the base image (OCI format only)
  assert.is(o.Annotations?.['org.opencontainers.image.base.name'], 'localhost/busybox:latest');
  assert.is(o.Annotations?.['org.opencontainers.image.base.digest'], (inspect('busybox') as Inspected & { Digest: string }).Digest);
  assert.is(d.Annotations?.['org.opencontainers.image.base.name'], undefined);
  assert.is(ok(prun(['run', '--rm', 'fmt-oci', 'cat', '/shell-arg'])).stdout, '/bin/sh\n', 'SHELL still ran the RUN');
});

test('ONBUILD: a child build runs its base image\'s triggers first, as steps, and does not pass them on', () => {
  ok(pbuild(['build', '--format', 'docker', '-t', 'obparent', makeContext({ Containerfile: 'FROM busybox\nONBUILD RUN echo triggered > /trig\nONBUILD ENV T=1\n' })]));
  assert.ok(ok(prun(['run', '--rm', 'obparent', 'sh', '-c', 'test -e /trig || echo no-trig-yet'])).stdout.includes('no-trig-yet'));
  const r = ok(pbuild(['build', '--format', 'docker', '-t', 'obchild', makeContext({ Containerfile: 'FROM obparent\nRUN cat /trig\n' })]));
  assert.match(r.stdout, /STEP 1\/2: FROM obparent\nSTEP 2\/4: RUN echo triggered > \/trig\n--> [0-9a-f]{11}\nSTEP 3\/4: ENV T=1\n[^]*STEP 4\/4: RUN cat \/trig\ntriggered\n/);
  const child = inspect('obchild') as Inspected & { Config: { OnBuild?: string[] } };
  assert.ok(!child.Config.OnBuild?.length, 'the triggers are not inherited');
  assert.ok(child.Config.Env?.includes('T=1'));
});

test('--layers=false: each stage is committed once, with a history entry per step', () => {
  const base = inspect('busybox');
  const ctx = makeContext({ Containerfile: 'FROM busybox AS a\nRUN echo a > /a\nENV X=1\nFROM busybox\nCOPY --from=a /a /a\nRUN echo b > /b\n' });
  const r = ok(pbuild(['build', '--layers=false', '-t', 'nolayers', ctx]));
  assert.not.match(r.stdout, /^--> [0-9a-f]{11}$\n\[2\/2\] STEP 1/m, 'no image per step');
  assert.match(r.stdout, /\[1\/2\] STEP 3\/3: ENV X=1\n\[2\/2\] STEP 1\/3: FROM busybox\n/);
  const img = inspect('nolayers');
  assert.is(img.RootFS.Layers.length, base.RootFS.Layers.length + 1);
  assert.is(img.History.length, base.History.length + 2);
  assert.is(ok(prun(['run', '--rm', 'nolayers', 'cat', '/a', '/b'])).stdout, 'a\nb\n');
  assert.not.match(ok(pbuild(['build', '--layers=false', '-t', 'nolayers', ctx])).stdout, /Using cache/);
});

test('--squash: the last stage\'s steps are one layer over its base, with a history entry each', () => {
  const base = inspect('busybox');
  const ctx = makeContext({ Containerfile: STEPS, 'f.txt': 'squashed\n' });
  ok(pbuild(['build', '--squash', '-t', 'squashed', ctx]));
  const img = inspect('squashed');
  assert.is(img.RootFS.Layers.length, base.RootFS.Layers.length + 1);
  const mine = img.History.slice(base.History.length);
  assert.equal(mine.map((h) => h.empty_layer === true), [true, true, true, false]);
  assert.is(ok(prun(['run', '--rm', 'squashed', 'cat', '/made', '/f.txt'])).stdout, 'made\nsquashed\n');
  assert.is(img.Config.Labels?.['k'], 'v');
});

test('intermediate images: kept by image prune while their image exists; rmi removes them with it', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nENV STEP=1\nRUN echo one > /one\nENV STEP=2\n', 'f.txt': '' });
  ok(pbuild(['build', '-t', 'chain', ctx]));
  const chain: string[] = [];
  for (let id = inspect('chain').Parent; id && id !== inspect('busybox').Id; id = inspect(id).Parent) chain.push(id);
  assert.is(chain.length, 2, 'two intermediate images under the tagged one');
  const listed = (args: string[]) => ok(prun(['images', '-q', '--no-trunc', ...args])).stdout;
  for (const id of chain) {
    assert.not.ok(listed([]).includes(id), 'prun images hides intermediate images, as podman');
    assert.ok(listed(['-a']).includes(id), 'and shows them with -a');
  }
  ok(prun(['image', 'prune', '-f']));
  for (const id of chain) assert.is(prun(['image', 'inspect', id]).code, 0, 'an intermediate image with a child is not dangling');
  const r = ok(prun(['rmi', 'chain']));
  assert.is(r.stdout.split('\n').filter((l) => l.startsWith('Deleted: ')).length, 3, r.stdout);
  for (const id of chain) assert.is.not(prun(['image', 'inspect', id]).code, 0, 'removed with the image');
  assert.is(prun(['image', 'inspect', 'busybox']).code, 0, 'the named base stays');
});

test('--from replaces the first base; --env sets the image\'s env; unused --build-arg values are warned about', () => {
  ok(pbuild(['build', '-q', '-t', 'altbase', makeContext({ Containerfile: 'FROM busybox\nRUN echo alt > /alt\n' })]));
  const ctx = makeContext({ Containerfile: 'FROM nosuchimage\nARG USED\nRUN cat /alt\n' });
  const r = ok(pbuild(['build', '--from', 'altbase', '--env', 'E1=one', '--env', 'E2', '--build-arg', 'USED=1', '--build-arg', 'NOTUSED=2', '-t', 'fromflag', ctx], { E2: 'two' }));
  assert.match(r.stdout, /^alt$/m);
  assert.match(r.stdout, /^\[Warning\] one or more build args were not consumed: \[NOTUSED\]$/m);
  assert.is(ok(prun(['run', '--rm', 'fromflag', 'sh', '-c', 'echo $E1-$E2'])).stdout, 'one-two\n');
});

test('-o/--output: the image\'s files into a directory, a tar file, or a tar on stdout', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN mkdir /out && echo built > /out/artifact && ln -s artifact /out/link\n' });
  const dir = join(tempDir('pkit-out'), 'local');
  ok(pbuild(['build', '-q', '-o', dir, ctx]));
  assert.is(readFileSync(join(dir, 'out/artifact'), 'utf8'), 'built\n');
  assert.is(readlinkSync(join(dir, 'out/link')), 'artifact');
  assert.ok(existsSync(join(dir, 'bin/busybox')));
  const tarFile = join(tempDir('pkit-out'), 'img.tar');
  ok(pbuild(['build', '-q', '--output', `type=tar,dest=${tarFile}`, ctx]));
  assert.match(spawnSync('tar', ['-tvf', tarFile], { encoding: 'utf8' }).stdout, /^-\S+ 0\/0 .* out\/artifact$/m);
  const piped = spawnSync(binPath('pbuild'), ['--root', root, 'build', '-o', '-', ctx], { maxBuffer: 64 << 20 });
  assert.is(piped.status, 0, piped.stderr.toString());
  assert.match(piped.stderr.toString(), /STEP 1\/2/, 'progress on stderr');
  const listed = spawnSync('tar', ['-t'], { input: piped.stdout, encoding: 'utf8' });
  assert.ok(listed.stdout.split('\n').includes('out/artifact'), listed.stderr);
  assert.is(pbuild(['build', '-o', 'type=oci,dest=x', ctx]).code, 125);
});

test('--platform/--arch: the image\'s platform, and TARGETARCH for the Containerfile', () => {
  const ctx = makeContext({ Containerfile: 'FROM scratch\nARG TARGETARCH\nCOPY f.txt /f-$TARGETARCH\n', 'f.txt': 'x\n' });
  ok(pbuild(['build', '-q', '--platform', 'linux/arm64', '-t', 'armimg', ctx]));
  const img = inspect('armimg') as Inspected & { Architecture: string; Os: string };
  assert.is(img.Architecture, 'arm64');
  assert.is(img.Os, 'linux');
  ok(pbuild(['build', '-q', '--arch', 'arm', '-t', 'armv7', ctx]));
  assert.is((inspect('armv7') as Inspected & { Architecture: string }).Architecture, 'arm');
  const out = join(tempDir('pkit-out'), 'x');
  ok(pbuild(['build', '-q', '--arch', 'arm64', '-o', out, ctx]));
  assert.ok(existsSync(join(out, 'f-arm64')), 'TARGETARCH was arm64');
});

test('a last stage that is only FROM: its base, tagged; with --label a new image that has it', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\n' });
  const plain = lastLine(ok(pbuild(['build', '-t', 'bare', ctx])).stdout);
  assert.is(plain, inspect('busybox').Id, 'podman tags the base itself');
  const labelled = lastLine(ok(pbuild(['build', '--label', 'team=core', '-t', 'bare2', ctx])).stdout);
  assert.is.not(labelled, plain);
  assert.is(inspect('bare2').Config.Labels?.['team'], 'core');
  assert.is(inspect('busybox').Config.Labels?.['team'], undefined, 'the base is not changed');
});

test('--label: one LABEL step per label at the end, as podman build prints and caches them; values taken as written', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nENV HOME=/root\nRUN true\n' });
  const r = ok(pbuild(['build', '--label', 'a=b', '--label', 'odd=$HOME "q" \\x', '-t', 'labelled', ctx]));
  assert.match(r.stdout, /STEP 1\/5: FROM busybox\n[^]*STEP 4\/5: LABEL "a"="b"\n--> [0-9a-f]{11}\nSTEP 5\/5: LABEL "odd"="\\\$HOME \\"q\\" \\\\x"\nCOMMIT labelled\n/);
  const labels = inspect('labelled').Config.Labels!;
  assert.is(labels['a'], 'b');
  assert.is(labels['odd'], '$HOME "q" \\x');
  assert.is(hits(ok(pbuild(['build', '--label', 'a=b', '--label', 'odd=$HOME "q" \\x', '-t', 'labelled', ctx])).stdout), 4);
});

test('USER by name: RUN after it runs as that user, also in a child build; an unknown one is a one-line error', () => {
  ok(pbuild(['build', '-q', '-t', 'usernamed', makeContext({ Containerfile: 'FROM busybox\nUSER nobody\nRUN id -un > /tmp/who\n' })]));
  assert.is(ok(prun(['run', '--rm', 'usernamed', 'cat', '/tmp/who'])).stdout, 'nobody\n');
  ok(pbuild(['build', '-q', '-t', 'userchild', makeContext({ Containerfile: 'FROM usernamed\nRUN id -un > /tmp/who2\n' })]));
  assert.is(ok(prun(['run', '--rm', 'userchild', 'cat', '/tmp/who2'])).stdout, 'nobody\n');
  const r = pbuild(['build', '-q', makeContext({ Containerfile: 'FROM busybox\nUSER nosuchuser\nRUN id\n' })]);
  assert.is(r.code, 125);
  assert.is(r.stderr, 'Error: unable to find user nosuchuser: no matching entries in passwd file\n');
  assert.is(ok(pbuild(['containers', '-q'])).stdout, '', 'no working container is left');
});

test('a heredoc whose name is not a plain file name is refused; nothing is written outside', () => {
  const victim = join(tempDir('pkit-victim'), 'pwned');
  const ctx = makeContext({ Containerfile: `FROM busybox\nCOPY <<../../../../..${victim} /x\nhello\n../../../../..${victim}\n` });
  const r = pbuild(['build', '-q', ctx]);
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /not a plain file name/);
  assert.not.ok(existsSync(victim));
});

test('--build-arg-file: NAME=VALUE lines; --build-arg wins', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nARG A\nARG B\nRUN echo $A-$B > /ab\n', 'args.conf': '# build args\nA=from-file\n\nB=file-b\n' });
  ok(pbuild(['build', '-t', 'argfile', '--build-arg-file', join(ctx, 'args.conf'), '--build-arg', 'B=flag', ctx]));
  assert.is(ok(prun(['run', '--rm', 'argfile', 'cat', '/ab'])).stdout, 'from-file-flag\n');
});

test('the files of a built image: owners, modes, symlinks, hardlinks, deletions, a WORKDIR made at run', () => {
  const cf = [
    'FROM busybox',
    'RUN mkdir -p /data/sub && echo x > /data/file && chown -R 1000:100 /data && chmod 4755 /data/file && chmod 1777 /data/sub',
    'RUN ln -s /data/file /link && ln /data/file /hard && rm /bin/vi && rm -r /data/sub',
    'WORKDIR /made/by/workdir',
  ].join('\n');
  ok(pbuild(['build', '-t', 'files', makeContext({ Containerfile: cf })]));
  const out = ok(prun(['run', '--rm', 'files', 'sh', '-c', 'pwd; stat -c "%n %u:%g %a %h" /data/file; stat -c "%n %u:%g %a" /data; readlink /link; stat -c %i /hard /data/file | uniq | wc -l; test -e /bin/vi || echo vi-gone; test -e /data/sub || echo sub-gone'])).stdout;
  assert.is(out, '/made/by/workdir\n/data/file 1000:100 4755 2\n/data 1000:100 755\n/data/file\n1\nvi-gone\nsub-gone\n');
});

test.run();
