// prun pull against the test registries, driven through the built CLI as a user would: podman's
// output, short-name resolution through registries.conf, credentials, platforms, other
// transports, and a second pull that downloads nothing but the manifest (counted by a proxy).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AUTH_PASS, AUTH_REGISTRY, AUTH_USER, FIXTURE, REGISTRY, binPath, ok, oneLineError, requireBuild, run, tempDir, type Run } from './helpers.ts';
import { finishLayout, hostArch, putImage, putIndex } from './image-layout.ts';

const id = randomBytes(4).toString('hex');
const repo = (name: string) => `${REGISTRY}/e2e-pull-${id}/${name}`;
const NOTLS = '--tls-verify=false';
const srcRoot = tempDir('pkit-pull-src');
const prun = (root: string, args: string[], env?: Record<string, string | undefined>) => run('prun', ['--root', root, ...args], env ? { env } : {});
const pcopy = (args: string[]) => run('pcopy', ['--root', srcRoot, ...args]);
const HEX64 = /^[a-f0-9]{64}$/;

let imageId = '';

/** Image names (sorted) of the store, from images --format json. */
function names(root: string): string[] {
  const rows = JSON.parse(ok(prun(root, ['images', '--format', 'json'])).stdout) as { Names: string[] }[];
  return rows.flatMap((r) => r.Names).sort();
}

function inspect(root: string, image: string): Record<string, unknown> {
  return (JSON.parse(ok(prun(root, ['image', 'inspect', image]), 'image inspect').stdout) as Record<string, unknown>[])[0]!;
}

/** A registries.conf in a temp dir; returns the env that makes prun read it. */
function registriesConf(text: string): Record<string, string> {
  const file = join(tempDir('pkit-regconf'), 'registries.conf');
  writeFileSync(file, text);
  return { CONTAINERS_REGISTRIES_CONF: file };
}

const insecure = (host: string) => `[[registry]]\nlocation = "${host}"\ninsecure = true\n`;

test('setup: the fixture image in the open and the auth registry, tags 1 and 2', () => {
  requireBuild();
  imageId = ok(prun(srcRoot, ['import', FIXTURE, 'bb']), 'import').stdout.trim();
  assert.match(imageId, HEX64);
  for (const dst of [`${repo('bb')}:1`, `${repo('bb')}:2`]) ok(pcopy(['copy', '-q', '--dest-tls-verify=false', 'local:bb', `docker://${dst}`]), `push ${dst}`);
  ok(pcopy(['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `${AUTH_USER}:${AUTH_PASS}`, 'local:bb', `docker://${AUTH_REGISTRY}/e2e-pull-${id}/bb:1`]), 'push auth');
});

test('pull by full name: podman\'s progress lines on stderr, the full image ID on stdout', () => {
  const root = tempDir();
  const r = ok(prun(root, ['pull', NOTLS, `${repo('bb')}:1`]), 'pull');
  assert.is(r.stdout, `${imageId}\n`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines[0], `Trying to pull ${repo('bb')}:1...`);
  assert.is(lines[1], 'Getting image source signatures');
  assert.ok(lines.some((l) => /^Copying blob sha256:[a-f0-9]{64}$/.test(l)), r.stderr);
  assert.ok(lines.includes(`Copying config sha256:${imageId}`), r.stderr);
  assert.is(lines.at(-2), 'Writing manifest to image destination');
  assert.is(lines.at(-1), 'Storing signatures');
  assert.equal(names(root), [`${repo('bb')}:1`]);
  // the layer is unpacked in the store
  const upper = (inspect(root, `${repo('bb')}:1`)['GraphDriver'] as { Data: { UpperDir: string } }).Data.UpperDir;
  assert.ok(existsSync(join(upper, 'bin', 'busybox')), upper);
});

test('pull -q: the ID only, nothing on stderr', () => {
  const r = ok(prun(tempDir(), ['pull', '-q', NOTLS, `${repo('bb')}:1`]), 'pull -q');
  assert.is(r.stdout, `${imageId}\n`);
  assert.is(r.stderr, '');
});

test('pull of an unknown image: one line naming it, exit 125, nothing stored', () => {
  const root = tempDir();
  const r = prun(root, ['pull', NOTLS, `${repo('nosuch')}:1`]);
  oneLineError(r, /nosuch:1: manifest unknown/);
  assert.is(r.stdout, '');
  assert.equal(names(root), []);
});

// --- a second pull moves only the manifest ------------------------------------------------

/** A proxy in front of the open registry that counts the requests it forwards. */
async function countingProxy(): Promise<{ host: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = request({ host: '127.0.0.1', port: Number(REGISTRY.split(':')[1]), method: req.method, path: req.url, headers: { ...req.headers, host: REGISTRY } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('clientError', (_err, socket) => socket.destroy()); // the client's TLS attempt first
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs prun without blocking this process (the proxy runs in it). */
function prunAsync(root: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(binPath('prun'), ['--root', root, ...args], { env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a second pull of the same image downloads no blob, only the manifest', async () => {
  const proxy = await countingProxy();
  try {
    const root = tempDir();
    const ref = `${proxy.host}/e2e-pull-${id}/bb:1`;
    const blobGets = () => proxy.seen.filter((s) => /^GET \/v2\/.+\/blobs\/sha256:/.test(s));
    const manifestGets = () => proxy.seen.filter((s) => /^GET \/v2\/.+\/manifests\//.test(s));
    const first = await prunAsync(root, ['pull', NOTLS, ref]);
    assert.is(first.code, 0, first.stderr);
    assert.is(first.stdout, `${imageId}\n`);
    assert.is(blobGets().length, 2, `the first pull fetches the layer and the config: ${proxy.seen.join(', ')}`);
    proxy.seen.length = 0;
    const second = await prunAsync(root, ['pull', NOTLS, ref]);
    assert.is(second.code, 0, second.stderr);
    assert.is(second.stdout, `${imageId}\n`);
    assert.equal(blobGets(), [], `no blob GET on the second pull: ${proxy.seen.join(', ')}`);
    assert.is(manifestGets().length, 1, proxy.seen.join(', '));
    assert.match(second.stderr, /Copying blob sha256:[a-f0-9]{64} skipped: already exists/);
  } finally {
    await proxy.close();
  }
});

// --- short names ----------------------------------------------------------------------------

test('a short name resolves through unqualified-search registries', () => {
  const root = tempDir();
  const env = registriesConf(`unqualified-search-registries = ["${REGISTRY}"]\n${insecure(REGISTRY)}`);
  const r = ok(prun(root, ['pull', `e2e-pull-${id}/bb:1`], env), 'pull short');
  assert.is(r.stdout, `${imageId}\n`);
  assert.match(r.stderr, new RegExp(`^Resolving "e2e-pull-${id}/bb" using unqualified-search registries \\(${env.CONTAINERS_REGISTRIES_CONF}\\)\\nTrying to pull ${repo('bb')}:1\\.\\.\\.\\n`));
  assert.equal(names(root), [`${repo('bb')}:1`]);
});

test('an unknown short name: one line listing every reference tried, and why each failed', () => {
  const root = tempDir();
  const env = registriesConf(`unqualified-search-registries = ["${REGISTRY}", "127.0.0.1:5199"]\nshort-name-mode = "permissive"\n${insecure(REGISTRY)}${insecure('127.0.0.1:5199')}`);
  const r = prun(root, ['pull', `e2e-pull-${id}/nosuch`], env);
  oneLineError(r, new RegExp(`image "e2e-pull-${id}/nosuch" could not be pulled: tried ${repo('nosuch')}:latest \\(manifest unknown\\), 127\\.0\\.0\\.1:5199/e2e-pull-${id}/nosuch:latest \\(.*connection refused\\)`));
  assert.match(r.stderr, /Trying to pull 127\.0\.0\.1:5199\//);
});

test('an ambiguous short name (enforcing mode, two search registries): an error listing both, nothing pulled', () => {
  const root = tempDir();
  const env = registriesConf(`unqualified-search-registries = ["${REGISTRY}", "127.0.0.1:5199"]\nshort-name-mode = "enforcing"\n${insecure(REGISTRY)}`);
  const r = prun(root, ['pull', `e2e-pull-${id}/bb:1`], env);
  oneLineError(r, new RegExp(`short name "e2e-pull-${id}/bb:1" is ambiguous: it may be ${repo('bb')}:1 or 127\\.0\\.0\\.1:5199/e2e-pull-${id}/bb:1`));
  assert.not.match(r.stderr, /Trying to pull/);
  assert.equal(names(root), []);
});

test('a short name with neither alias nor search registries: the error names the file', () => {
  const env = registriesConf('');
  oneLineError(prun(tempDir(), ['pull', 'nosuchshort'], env), new RegExp(`short-name "nosuchshort" did not resolve to an alias and no unqualified-search registries are defined in "${env.CONTAINERS_REGISTRIES_CONF}"`));
});

test('a short-name alias', () => {
  const root = tempDir();
  const env = registriesConf(`[aliases]\n"e2ebox${id}" = "${repo('bb')}"\n${insecure(REGISTRY)}`);
  const r = ok(prun(root, ['pull', `e2ebox${id}:2`], env), 'pull alias');
  assert.match(r.stderr, new RegExp(`^Resolved "e2ebox${id}" as an alias \\(${env.CONTAINERS_REGISTRIES_CONF}\\)\\nTrying to pull ${repo('bb')}:2\\.\\.\\.`));
  assert.equal(names(root), [`${repo('bb')}:2`]);
  oneLineError(prun(root, ['pull', `e2ebox${id}:nosuch`], env), new RegExp(`image "e2ebox${id}:nosuch" could not be pulled: tried ${repo('bb')}:nosuch \\(manifest unknown\\)`));
});

// --- credentials ----------------------------------------------------------------------------

test('the auth registry: refused without credentials; --creds and --authfile work', () => {
  const ref = `${AUTH_REGISTRY}/e2e-pull-${id}/bb:1`;
  const root = tempDir();
  // no auth file of the user's is read: an empty one
  const empty = join(tempDir('pkit-auth'), 'auth.json');
  writeFileSync(empty, '{}');
  oneLineError(prun(root, ['pull', NOTLS, '--authfile', empty, ref]), /authentication required/);
  assert.equal(names(root), []);
  ok(prun(root, ['pull', '-q', NOTLS, '--creds', `${AUTH_USER}:${AUTH_PASS}`, ref]), 'pull --creds');
  assert.equal(names(root), [ref]);
  const authfile = join(tempDir('pkit-auth'), 'auth.json');
  writeFileSync(authfile, JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from(`${AUTH_USER}:${AUTH_PASS}`).toString('base64') } } }));
  const other = tempDir();
  assert.is(ok(prun(other, ['pull', '-q', NOTLS, '--authfile', authfile, ref]), 'pull --authfile').stdout, `${imageId}\n`);
  oneLineError(prun(tempDir(), ['pull', NOTLS, '--creds', `${AUTH_USER}:wrong`, ref]), /authentication|unauthorized|denied/i);
});

test('prun login stores the credentials where pull finds them; logout removes them', () => {
  const ref = `${AUTH_REGISTRY}/e2e-pull-${id}/bb:1`;
  const authfile = join(tempDir('pkit-login'), 'auth.json');
  const r = run('prun', ['login', NOTLS, '--authfile', authfile, '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: `${AUTH_PASS}\n` });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'Login Succeeded!\n');
  ok(prun(tempDir(), ['pull', '-q', NOTLS, '--authfile', authfile, ref]), 'pull after login');
  ok(run('prun', ['logout', '--authfile', authfile, AUTH_REGISTRY]), 'logout');
  oneLineError(prun(tempDir(), ['pull', NOTLS, '--authfile', authfile, ref]), /authentication required/);
  const bad = run('prun', ['login', NOTLS, '--authfile', authfile, '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: 'wrong\n' });
  assert.is(bad.code, 125);
});

// --- platforms ------------------------------------------------------------------------------

test('--platform, --arch and --os pick an image of a multi-arch index', () => {
  const layout = tempDir('pkit-multi');
  const tar = readFileSync(FIXTURE);
  const other = hostArch() === 'arm64' ? 'amd64' : 'arm64';
  const here = putImage(layout, { layers: [tar], architecture: hostArch() });
  const there = putImage(layout, { layers: [tar], architecture: other });
  finishLayout(layout, putIndex(layout, [here, there]), 'multi');
  ok(pcopy(['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${repo('multi')}:1`]), 'push index');
  const arch = (root: string) => inspect(root, `${repo('multi')}:1`)['Architecture'];

  const plain = tempDir();
  ok(prun(plain, ['pull', '-q', NOTLS, `${repo('multi')}:1`]), 'pull');
  assert.is(arch(plain), hostArch());
  for (const flags of [['--platform', `linux/${other}`], ['--arch', other], ['--os', 'linux', '--arch', other]]) {
    const root = tempDir();
    ok(prun(root, ['pull', '-q', NOTLS, ...flags, `${repo('multi')}:1`]), `pull ${flags.join(' ')}`);
    assert.is(arch(root), other, flags.join(' '));
  }
  oneLineError(prun(tempDir(), ['pull', NOTLS, '--platform', 'linux/s390x', `${repo('multi')}:1`]), /no image for linux\/s390x/);
  oneLineError(prun(tempDir(), ['pull', NOTLS, '--platform', 'linux', `${repo('multi')}:1`]), /invalid platform "linux": expected OS\/ARCH/);
});

// --- --all-tags -----------------------------------------------------------------------------

test('--all-tags pulls every tag of the repository; a tag with it is refused', () => {
  const root = tempDir();
  const r = ok(prun(root, ['pull', '--all-tags', NOTLS, repo('bb')]), 'pull --all-tags');
  assert.is(r.stdout, `${imageId}\n${imageId}\n`);
  assert.equal(names(root), [`${repo('bb')}:1`, `${repo('bb')}:2`]);
  oneLineError(prun(tempDir(), ['pull', '-a', NOTLS, `${repo('bb')}:1`]), /--all-tags takes a repository without a tag/);
});

// --- other transports -----------------------------------------------------------------------

test('transport references: docker://, oci-archive:, docker-archive:, oci:, dir:, named as podman names them', () => {
  const work = tempDir('pkit-pull-transports');
  const ociArchive = join(work, 'img-oci.tar');
  const dockerArchive = join(work, 'img-docker.tar');
  // a lowercase path: podman names an oci: pull localhost/<path>, which must be a valid name
  const layout = `/tmp/pkit-e2e-layout-${id}`;
  mkdirSync(layout, { recursive: true });
  const dir = join(work, 'dir');
  ok(pcopy(['copy', '-q', 'local:bb', `oci-archive:${ociArchive}:e2e-ref`]));
  ok(pcopy(['copy', '-q', 'local:bb', `docker-archive:${dockerArchive}:e2e/box:3`]));
  ok(pcopy(['copy', '-q', 'local:bb', `oci:${layout}:v1`]));
  ok(pcopy(['copy', '-q', 'local:bb', `dir:${dir}`]));
  const cases: [string, string[]][] = [
    [`docker://${repo('bb')}:1`, [`${repo('bb')}:1`]],
    [`oci-archive:${ociArchive}`, ['localhost/e2e-ref:latest']],
    [`docker-archive:${dockerArchive}`, ['docker.io/e2e/box:3']],
    [`oci:${layout}:v1`, [`localhost${layout}:latest`]],
    [`dir:${dir}`, []],
  ];
  for (const [ref, want] of cases) {
    const root = tempDir();
    const r = ok(prun(root, ['pull', NOTLS, ref]), `pull ${ref}`);
    assert.is(r.stdout, `${imageId}\n`, ref);
    assert.match(r.stderr, /Writing manifest to image destination\nStoring signatures\n$/);
    assert.equal(names(root), want, ref);
    assert.is((JSON.parse(ok(prun(root, ['images', '--format', 'json'])).stdout) as unknown[]).length, 1, ref);
  }
  oneLineError(prun(tempDir(), ['pull', `oci-archive:${join(work, 'missing.tar')}`]), /missing\.tar/);
});

test('push then pull into a fresh store gives the same image', () => {
  const dst = `${repo('roundtrip')}:1`;
  ok(prun(srcRoot, ['push', '-q', NOTLS, 'bb', dst]), 'push');
  const root = tempDir();
  assert.is(ok(prun(root, ['pull', '-q', NOTLS, dst]), 'pull').stdout, `${imageId}\n`);
  const a = inspect(srcRoot, 'bb');
  const b = inspect(root, dst);
  assert.equal(b['RootFS'], a['RootFS']);
  assert.equal(b['Config'], a['Config']);
});

test.run();
