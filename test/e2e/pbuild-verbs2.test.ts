// pbuild's pull, rmi, rename, version, info, inspect (--type image, --format) and containers
// (--all, --json, --format, ...): buildah 1.28's verbs, driven through the built CLIs as the
// unprivileged test user, against the open test registry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { FIXTURE, REGISTRY, ok, oneLineError, requireBuild, run, tempDir, makeContext } from './helpers.ts';

const NOTLS = '--tls-verify=false';
const repo = `${REGISTRY}/pbuild-verbs2-${randomBytes(4).toString('hex')}/busybox`;
let root = '';
let pulled = ''; // a second store, filled by pull
let busyboxId = '';
const pbuild = (r: string, args: string[]) => run('pbuild', ['--root', r, ...args]);
const prun = (r: string, args: string[]) => run('prun', ['--root', r, ...args]);
const lines = (s: string) => s.trimEnd().split('\n').filter(Boolean);


test('setup: busybox imported, and pushed to the test registry as :1 and :2', () => {
  requireBuild();
  root = tempDir('pkit-verbs2');
  pulled = tempDir('pkit-verbs2-pull');
  busyboxId = ok(prun(root, ['import', FIXTURE, 'busybox']), 'import').stdout.trim();
  assert.match(busyboxId, /^[0-9a-f]{64}$/);
  for (const tag of ['1', '2']) ok(prun(root, ['push', NOTLS, 'busybox', `${repo}:${tag}`]), `push :${tag}`);
});

// --- pull ------------------------------------------------------------------------------------

test('pull: the image ID alone on stdout, progress on stderr; the image is stored by its name', () => {
  const r = ok(pbuild(pulled, ['pull', NOTLS, `${repo}:1`]));
  assert.is(r.stdout, `${busyboxId}\n`);
  assert.match(r.stderr, new RegExp(`^Trying to pull ${repo.replace(/[.]/g, '\\.')}:1\\.\\.\\.\n`));
  assert.match(r.stderr, /Copying blob sha256:[0-9a-f]{64}/);
  assert.match(r.stderr, /Writing manifest to image destination/);
  assert.is(ok(pbuild(pulled, ['images', '--format', '{{.Name}}:{{.Tag}}'])).stdout, `${repo}:1\n`);
});

test('pull --policy: missing (default) takes the stored image without the registry; always pulls; never only looks', () => {
  const again = ok(pbuild(pulled, ['pull', NOTLS, `${repo}:1`]));
  assert.is(again.stdout, `${busyboxId}\n`);
  assert.is(again.stderr, '', 'a stored image is not pulled again');
  // a registry that cannot answer (TLS on a plain-HTTP registry) is not asked with missing
  assert.is(ok(pbuild(pulled, ['pull', `${repo}:1`])).stdout, `${busyboxId}\n`);
  const always = ok(pbuild(pulled, ['pull', '--policy', 'always', NOTLS, `${repo}:1`]));
  assert.match(always.stderr, /Trying to pull/);
  assert.is(always.stdout, `${busyboxId}\n`);
  const quiet = ok(pbuild(pulled, ['pull', '-q', '--policy', 'always', NOTLS, `${repo}:1`]));
  assert.is(quiet.stderr, '');
  assert.is(quiet.stdout, `${busyboxId}\n`);
  assert.is(ok(pbuild(pulled, ['pull', '--policy', 'never', `${repo}:1`])).stdout, `${busyboxId}\n`);
  const never = pbuild(pulled, ['pull', '--policy', 'never', `${repo}:2`]);
  oneLineError(never, /image not known in the local store/);
  assert.is(never.stdout, '');
  // newer: a failed pull falls back to the stored image
  assert.is(ok(pbuild(pulled, ['pull', '--policy', 'newer', `${repo}:1`])).stdout, `${busyboxId}\n`);
  oneLineError(pbuild(pulled, ['pull', '--policy', 'sometimes', `${repo}:1`]), /--policy/);
});

test('pull --all-tags stores every tag and prints one ID; errors are one line with exit 125', () => {
  const r = ok(pbuild(pulled, ['pull', '-a', '-q', NOTLS, repo]));
  assert.is(r.stdout, `${busyboxId}\n`);
  assert.equal(lines(ok(pbuild(pulled, ['images', '--format', '{{.Tag}}'])).stdout).sort(), ['1', '2']);
  const missing = pbuild(pulled, ['pull', NOTLS, `${repo}:nosuchtag`]);
  oneLineError(missing, /manifest unknown/);
  assert.is(missing.stdout, '');
  oneLineError(pbuild(pulled, ['pull', '--platform', 'linux/arm64', '--arch', 'arm64', `${repo}:1`]), /--platform cannot be used with/);
});

// --- rmi -------------------------------------------------------------------------------------

test('rmi: one of several names is only untagged; by ID with several names needs -f; the last name removes the image', () => {
  const one = ok(pbuild(pulled, ['rmi', `${repo}:2`]));
  assert.is(one.stdout, `untagged: ${repo}:2\n`);
  ok(pbuild(pulled, ['tag', `${repo}:1`, 'other']));
  const byId = pbuild(pulled, ['rmi', busyboxId.slice(0, 12)]);
  oneLineError(byId, /by ID with more than one tag .*please force removal/);
  const last = ok(pbuild(pulled, ['rmi', 'other', `${repo}:1`]));
  assert.is(last.stdout, `untagged: localhost/other:latest\nuntagged: ${repo}:1\n${busyboxId}\n`, 'names first, then IDs, as buildah');
  assert.is(ok(pbuild(pulled, ['images', '-q'])).stdout, '');
});

test('rmi: a working container keeps its image unless -f, which removes it first; a bad name among good ones fails last', () => {
  ok(pbuild(pulled, ['pull', '-q', NOTLS, `${repo}:1`]));
  const c = ok(pbuild(pulled, ['from', `${repo}:1`])).stdout.trim();
  const refused = pbuild(pulled, ['rmi', `${repo}:1`]);
  oneLineError(refused, /image is in use by a container: remove the working container first \(pbuild rm\) or use pbuild rmi -f/);
  assert.ok(ok(pbuild(pulled, ['containers', '-q'])).stdout.length > 0);
  const forced = pbuild(pulled, ['rmi', '-f', `${repo}:1`, 'nothere']);
  assert.is(forced.code, 125);
  assert.is(forced.stdout, `untagged: ${repo}:1\n${busyboxId}\n`);
  assert.match(forced.stderr, /^Error: .*nothere/);
  assert.is(pbuild(pulled, ['inspect', '--type', 'container', c]).code, 125, 'the working container went first');
});

test('rmi: a container of prun is never removed by pbuild, even with -f', () => {
  ok(pbuild(pulled, ['pull', '-q', NOTLS, `${repo}:1`]));
  ok(prun(pulled, ['create', '--name', 'prunside', `${repo}:1`, 'true']));
  oneLineError(pbuild(pulled, ['rmi', '-f', `${repo}:1`]), /container "prunside" of prun: remove it first \(prun rm prunside\)/);
  assert.is(ok(pbuild(pulled, ['images', '-q'])).stdout, `${busyboxId.slice(0, 12)}\n`);
  ok(prun(pulled, ['rm', 'prunside']));
});

test('rmi --prune removes dangling images only; rmi of a built image takes its intermediate images; --all empties the store', () => {
  const ctx = makeContext({ Containerfile: 'FROM busybox\nRUN echo one > /one\nENV STEP=2\n' });
  const first = ok(pbuild(root, ['build', '-q', '-t', 'built', ctx])).stdout.trim();
  const second = ok(pbuild(root, ['build', '-q', '--no-cache', '-t', 'built', ctx])).stdout.trim();
  assert.is.not(first, second);
  const all = () => ok(pbuild(root, ['images', '-a', '-q', '--no-trunc'])).stdout;
  assert.ok(all().includes(first), 'the image that lost its name is still there');
  const pruned = ok(pbuild(root, ['rmi', '--prune']));
  assert.ok(lines(pruned.stdout).includes(first), pruned.stdout);
  for (const l of lines(pruned.stdout)) assert.match(l, /^[0-9a-f]{64}$/);
  assert.not.ok(all().includes(first));
  assert.ok(all().includes(second), 'a named image stays');

  const r = ok(pbuild(root, ['rmi', 'built']));
  const out = lines(r.stdout);
  assert.is(out[0], 'untagged: localhost/built:latest');
  assert.is(out[1], second);
  assert.is(out.length, 3, `the image and its intermediate image (after RUN): ${r.stdout}`);
  assert.match(out[2]!, /^[0-9a-f]{64}$/);
  assert.is(ok(pbuild(root, ['images', '-a', '-q', '--no-trunc'])).stdout, `sha256:${busyboxId}\n`, 'the named base stays');

  oneLineError(pbuild(root, ['rmi']), /image name or ID must be specified/);
  oneLineError(pbuild(root, ['rmi', '-a', 'busybox']), /--all switch, you may not pass any images/);
  oneLineError(pbuild(root, ['rmi', '-a', '-p']), /--all switch, you may not use --prune/);
  oneLineError(pbuild(root, ['rmi', '-p', 'busybox']), /--prune switch, you may not pass any images/);
  const dir = tempDir('pkit-verbs2-all');
  const oneId = ok(prun(dir, ['import', FIXTURE, 'one'])).stdout.trim();
  ok(prun(dir, ['tag', 'one', 'two']));
  const everything = ok(pbuild(dir, ['rmi', '--all']));
  assert.is(everything.stdout, `untagged: localhost/one:latest\nuntagged: localhost/two:latest\n${oneId}\n`);
  assert.is(ok(pbuild(dir, ['rmi', '--all'])).stdout, '', 'nothing to remove is no error');
});

// --- rename, containers ---------------------------------------------------------------------

test('rename: a working container gets the new name; the same, a taken or a bad name, or a prun container, is refused', () => {
  const c = ok(pbuild(root, ['from', 'busybox'])).stdout.trim();
  const r = ok(pbuild(root, ['rename', c, 'renamed']));
  assert.is(r.stdout, '');
  assert.match(ok(pbuild(root, ['containers'])).stdout, /\brenamed\n$/);
  assert.is(ok(pbuild(root, ['run', 'renamed', '--', 'echo', 'still here'])).stdout, 'still here\n');
  assert.is(pbuild(root, ['inspect', '--type', 'container', c]).code, 125, 'the old name is free');
  oneLineError(pbuild(root, ['rename', 'renamed', 'renamed']), /already named "renamed"/);
  ok(prun(root, ['create', '--name', 'prunctr', 'busybox', 'true']));
  oneLineError(pbuild(root, ['rename', 'renamed', 'prunctr']), /already in use/);
  oneLineError(pbuild(root, ['rename', 'prunctr', 'x']), /container of prun/);
  oneLineError(pbuild(root, ['rename', 'renamed', 'bad name!']), /invalid container name/);
  oneLineError(pbuild(root, ['rename', 'nothere', 'x']), /nothere/);
});

test('containers: working ones only; --all adds prun\'s with an empty BUILDER; buildah\'s fixed columns', () => {
  const mine = lines(ok(pbuild(root, ['containers'])).stdout);
  assert.is(mine[0], 'CONTAINER ID  BUILDER  IMAGE ID     IMAGE NAME                       CONTAINER NAME');
  assert.is(mine.length, 2);
  assert.match(mine[1]!, new RegExp(`^[0-9a-f]{12}     \\*     ${busyboxId.slice(0, 12)} localhost/busybox:latest {9}renamed$`));
  const all = lines(ok(pbuild(root, ['containers', '-a', '-n'])).stdout);
  assert.is(all.length, 2);
  const prunRow = all.find((l) => l.endsWith(' prunctr'))!;
  assert.match(prunRow, new RegExp(`^[0-9a-f]{12} {11}${busyboxId.slice(0, 12)} localhost/busybox:latest`));
  const wide = lines(ok(pbuild(root, ['containers', '--notruncate'])).stdout);
  assert.match(wide[1]!, new RegExp(`^[0-9a-f]{64}    \\*     ${busyboxId} localhost/busybox:latest`));
  assert.is(wide[0]!.indexOf('BUILDER'), 65);
});

test('containers -q (full IDs), --json, --format (spaces make columns, "table" adds headings), --filter', () => {
  const json = JSON.parse(ok(pbuild(root, ['containers', '-a', '--json'])).stdout) as Array<Record<string, unknown>>;
  assert.equal(json.map((c) => [c['containername'], c['builder']]).sort(), [['prunctr', false], ['renamed', true]]);
  const w = json.find((c) => c['builder'])!;
  assert.equal(Object.keys(w), ['id', 'builder', 'imageid', 'imagename', 'containername']);
  assert.is(w['imageid'], busyboxId);
  assert.is(w['imagename'], 'localhost/busybox:latest');
  assert.is(ok(pbuild(root, ['containers', '-q'])).stdout, `${w['id']}\n`);
  assert.is(ok(pbuild(root, ['containers', '-a', '-q'])).stdout.trim().split('\n').length, 2);
  assert.is(ok(pbuild(tempDir('pkit-verbs2-empty'), ['containers', '--json'])).stdout, 'null\n');
  const f = ok(pbuild(root, ['containers', '-a', '--format', '{{.ContainerName}}|{{.Builder}}|{{.ImageID}}'])).stdout;
  assert.equal(lines(f).sort(), [`prunctr||${busyboxId}`, `renamed|   *|${busyboxId}`]);
  const t = lines(ok(pbuild(root, ['containers', '--format', 'table {{.ContainerName}} {{.ContainerID}}'])).stdout);
  assert.equal(t, ['CONTAINER NAME   CONTAINER ID', `renamed          ${w['id']}`]);
  assert.is(ok(pbuild(root, ['containers', '-a', '--filter', 'name=prun', '--format', '{{.ContainerName}}'])).stdout, 'prunctr\n');
  assert.is(ok(pbuild(root, ['containers', '-a', '--filter', 'ancestor=busybox', '-q'])).stdout.trim().split('\n').length, 2);
  assert.is(ok(pbuild(root, ['containers', '-a', '--filter', `id=${String(w['id']).slice(0, 6)}`, '-q'])).stdout, `${w['id']}\n`);
  oneLineError(pbuild(root, ['containers', '--filter', 'colour=red']), /invalid filter "colour"/);
  oneLineError(pbuild(root, ['containers', '-q', '--format', '{{.ContainerID}}']), /quiet and format are mutually exclusive/);
});

// --- inspect ---------------------------------------------------------------------------------

test('inspect --type image: buildah\'s fields, Config and Manifest as the stored JSON, OCIv1 and Docker views', () => {
  const img = JSON.parse(ok(pbuild(root, ['inspect', '--type', 'image', 'busybox'])).stdout) as Record<string, any>;
  assert.is(img['Type'], 'buildah 0.0.1');
  assert.is(img['FromImage'], 'localhost/busybox:latest');
  assert.is(img['FromImageID'], busyboxId);
  assert.match(img['FromImageDigest'], /^sha256:[0-9a-f]{64}$/);
  assert.is(img['Container'], '');
  assert.is(img['ContainerID'], '');
  const config = JSON.parse(img['Config']);
  assert.equal(img['OCIv1'].rootfs, config.rootfs);
  assert.is(img['OCIv1'].architecture, config.architecture);
  assert.is(JSON.parse(img['Manifest']).config.digest, `sha256:${busyboxId}`);
  assert.equal(Object.keys(img['Docker'].config).slice(0, 6), ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr']);
  assert.equal(img['Docker'].config.Env, config.config.Env);
  assert.equal(img['History'], config.history);
  // without --type, a name that is no working container is an image
  assert.is(JSON.parse(ok(pbuild(root, ['inspect', 'busybox'])).stdout)['FromImageID'], busyboxId);
  oneLineError(pbuild(root, ['inspect', '--type', 'container', 'busybox']), /no container with name or ID "busybox"/);
  oneLineError(pbuild(root, ['inspect', 'nothere']), /no working container or image "nothere"/);
  oneLineError(pbuild(root, ['inspect', '--type', 'image', 'nothere']), /nothere/);
  oneLineError(pbuild(root, ['inspect', '--type', 'volume', 'busybox']), /--type/);
});

test('inspect of a working container: Docker keeps what OCI cannot (Shell); --format takes Go templates', () => {
  ok(pbuild(root, ['config', '--shell', '/bin/sh -ec', '--env', 'GREETING=hi', '--cmd', 'echo hi', 'renamed']));
  const c = JSON.parse(ok(pbuild(root, ['inspect', 'renamed'])).stdout) as Record<string, any>;
  assert.is(c['Container'], 'renamed');
  assert.equal(c['Docker'].config.Shell, ['/bin/sh', '-ec']);
  assert.is(c['OCIv1'].config.Shell, undefined);
  assert.equal(c['Docker'].config.Cmd, ['echo', 'hi']);
  assert.equal(c['OCIv1'].config.Cmd, ['echo', 'hi']);
  assert.ok(Array.isArray(c['History']));
  const f = ok(pbuild(root, ['inspect', '--format', '{{.Container}} {{.FromImageID}} {{.OCIv1.Config.Env}}', 'renamed'])).stdout;
  assert.match(f, new RegExp(`^renamed ${busyboxId} \\[PATH=\\S+ GREETING=hi\\]\n$`));
  assert.is(ok(pbuild(root, ['inspect', '--type', 'image', '--format', '{{.FromImage}}', busyboxId.slice(0, 12)])).stdout, 'localhost/busybox:latest\n');
  oneLineError(pbuild(root, ['inspect', '--format', '{{.Container', 'renamed']), /template/);
});

// --- version, info ---------------------------------------------------------------------------

test('version: buildah\'s labels, and --json', () => {
  const r = ok(pbuild(root, ['version']));
  const text = lines(r.stdout);
  assert.equal(text.map((l) => l.slice(0, 17).trim()), ['Version:', 'Node Version:', 'Image Spec:', 'Runtime Spec:', 'Git Commit:', 'Built:', 'OS/Arch:', 'BuildPlatform:']);
  assert.match(text[0]!, /^Version: {9}\d+\.\d+\.\d+$/);
  const json = JSON.parse(ok(pbuild(root, ['version', '--json'])).stdout) as Record<string, string>;
  assert.equal(Object.keys(json), ['version', 'nodeVersion', 'imageSpec', 'runtimeSpec', 'gitCommit', 'built', 'osArch', 'buildPlatform']);
  assert.is(json['nodeVersion'], process.version);
  assert.match(json['osArch']!, /^linux\/\w+$/);
  assert.match(json['built']!, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
});

test('info: buildah\'s host and store sections for this store; --format and --debug', () => {
  const data = JSON.parse(ok(pbuild(root, ['info'])).stdout) as Record<string, any>;
  assert.equal(Object.keys(data), ['host', 'store']);
  const host = data['host'];
  assert.ok(['v1', 'v2'].includes(host.CgroupVersion));
  assert.is(host.os, 'linux');
  assert.is(host.rootless, true);
  assert.ok(host.MemTotal > 0 && host.cpus > 0);
  assert.match(host.uptime, /^\d+h \d+m \d+\.\d\ds \(Approximately \d+\.\d\d days\)$/);
  const store = data['store'];
  assert.is(store.GraphRoot, root);
  assert.is(store.GraphDriverName, 'overlay');
  assert.is(store.ImageStore.number, Number(ok(pbuild(root, ['images', '-a', '-q'])).stdout.trim().split('\n').length));
  assert.is(store.ContainerStore.number, 2, 'the working container and prun\'s');
  assert.is(ok(pbuild(root, ['info', '--format', '{{.store.GraphRoot}} {{.host.os}}'])).stdout, `${root} linux\n`);
  const version = (JSON.parse(ok(pbuild(root, ['version', '--json'])).stdout) as { version: string }).version;
  assert.is(JSON.parse(ok(pbuild(root, ['info', '-D'])).stdout)['debug']['pbuild version'], version);
});

test('cleanup: the containers go', () => {
  ok(pbuild(root, ['rm', 'renamed']));
  ok(prun(root, ['rm', 'prunctr']));
  assert.is(ok(pbuild(root, ['containers', '-a', '-q'])).stdout, '');
});

test.run();
