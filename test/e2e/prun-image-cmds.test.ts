// prun's image commands besides pull: push, save, load, history, image inspect, image prune,
// the `image` aliases, system df and system prune; driven through the built CLI as a user would,
// against the test registries, with podman as the interoperability check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTar, dir, file } from '../unit/storage/tar-fixtures.ts';
import { AUTH_PASS, AUTH_REGISTRY, AUTH_USER, FIXTURE, REGISTRY, ok, oneLineError, pipeline, requireBuild, run, tempDir } from './helpers.ts';
import { finishLayout, putImage } from './image-layout.ts';

const id = randomBytes(4).toString('hex');
const repo = (name: string) => `${REGISTRY}/e2e-img-${id}/${name}`;
const NOTLS = '--tls-verify=false';
const HEX64 = /^[a-f0-9]{64}$/;
const prun = (root: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}) => run('prun', ['--root', root, ...args], opts);

/** A fresh store holding the fixture as localhost/bb:latest. */
function imported(): { root: string; imageId: string } {
  const root = tempDir();
  const imageId = ok(prun(root, ['import', '-q', FIXTURE, 'bb']), 'import').stdout.trim();
  return { root, imageId };
}

function imagesJson(root: string): { Id: string; Names: string[] }[] {
  return JSON.parse(ok(prun(root, ['images', '--format', 'json'])).stdout);
}

/** Entry names of a tar file. */
function tarList(path: string): string[] {
  const r = spawnSync('tar', ['tf', path], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

function tarRead(path: string, entry: string): string {
  const r = spawnSync('tar', ['xOf', path, entry], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

/** The manifest the registry holds for `ref` (host/repo:tag), as JSON. */
async function registryManifest(ref: string): Promise<{ mediaType: string; layers: { mediaType: string }[] }> {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  const res = await fetch(`http://${ref.slice(0, slash)}/v2/${ref.slice(slash + 1, colon)}/manifests/${ref.slice(colon + 1)}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  assert.is(res.status, 200, `GET manifest of ${ref}`);
  return (await res.json()) as { mediaType: string; layers: { mediaType: string }[] };
}

const PUSH_LINES = /^Getting image source signatures\n(Copying blob sha256:[a-f0-9]{64}( skipped: already exists)?\n)+Copying config sha256:[a-f0-9]{64}( skipped: already exists)?\nWriting manifest to image destination\nStoring signatures\n$/;

test('the built CLI and the fixture are there', () => {
  requireBuild();
  assert.ok(existsSync(FIXTURE), FIXTURE);
});

// --- push -----------------------------------------------------------------------------------

test('push IMAGE: to docker://IMAGE by default, podman\'s lines on stderr, nothing on stdout', async () => {
  const { root } = imported();
  const name = `${repo('bb')}:1`;
  ok(prun(root, ['tag', 'bb', name]));
  const r = ok(prun(root, ['push', NOTLS, name]), 'push');
  assert.is(r.stdout, '');
  assert.match(r.stderr, PUSH_LINES);
  const m = await registryManifest(name);
  assert.is(m.layers.length, 1);
});

test('push IMAGE DEST: without a transport it is a registry; docker:// works too; -q is silent', async () => {
  const { root } = imported();
  ok(prun(root, ['push', NOTLS, 'bb', `${repo('dest')}:1`]), 'push to DEST');
  const q = ok(prun(root, ['push', '-q', NOTLS, 'bb', `docker://${repo('dest')}:2`]), 'push -q docker://');
  assert.is(q.stderr, '');
  assert.is((await registryManifest(`${repo('dest')}:1`)).layers.length, 1);
  assert.is((await registryManifest(`${repo('dest')}:2`)).layers.length, 1);
  // image alias
  ok(prun(root, ['image', 'push', '-q', NOTLS, 'bb', `${repo('dest')}:3`]), 'image push');
  assert.is((await registryManifest(`${repo('dest')}:3`)).layers.length, 1);
});

test('push --format oci|v2s2 sets the manifest type; uncompressed layers go up gzip-compressed', async () => {
  // docker-archive keeps layers uncompressed: load one, so the store holds a plain tar layer
  const { root } = imported();
  const archive = join(tempDir('pkit-save'), 'bb.tar');
  ok(prun(root, ['save', '-q', '-o', archive, 'bb']), 'save');
  const other = tempDir();
  ok(prun(other, ['load', '-q', '-i', archive]), 'load');
  ok(prun(other, ['push', '-q', NOTLS, '--format', 'v2s2', 'bb', `${repo('fmt')}:v2s2`]), 'push v2s2');
  ok(prun(other, ['push', '-q', NOTLS, '--format', 'oci', 'bb', `${repo('fmt')}:oci`]), 'push oci');
  const v2 = await registryManifest(`${repo('fmt')}:v2s2`);
  assert.is(v2.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.is(v2.layers[0]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  const oci = await registryManifest(`${repo('fmt')}:oci`);
  assert.is(oci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.is(oci.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  // to a layout, uncompressed layers are gzipped too, as podman push and skopeo copy do
  const plain = tempDir('pkit-oci');
  const gz = tempDir('pkit-oci');
  ok(prun(other, ['push', '-q', 'bb', `oci:${plain}:x`]), 'push to oci');
  ok(prun(other, ['push', '-q', '--compression-format', 'gzip', 'bb', `oci:${gz}:x`]), 'push to oci gzip');
  const layerType = (layout: string) => {
    const idx = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const m = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
    return m.layers[0].mediaType as string;
  };
  assert.is(layerType(plain), 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.is(layerType(gz), 'application/vnd.oci.image.layer.v1.tar+gzip');
  oneLineError(prun(other, ['push', NOTLS, '--compression-format', 'zstd', 'bb', `${repo('fmt')}:zstd`]), /zstd is not supported yet/);
});

test('push to the auth registry: refused without credentials; --creds and --authfile work', async () => {
  const { root } = imported();
  const dst = `${AUTH_REGISTRY}/e2e-img-${id}/bb:1`;
  const empty = join(tempDir('pkit-auth'), 'auth.json');
  writeFileSync(empty, '{}');
  const refused = prun(root, ['push', NOTLS, '--authfile', empty, 'bb', dst]);
  oneLineError(refused, /authentication required for 127\.0\.0\.1:5101/);
  ok(prun(root, ['push', '-q', NOTLS, '--creds', `${AUTH_USER}:${AUTH_PASS}`, 'bb', dst]), 'push --creds');
  const authfile = join(tempDir('pkit-auth'), 'auth.json');
  writeFileSync(authfile, JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from(`${AUTH_USER}:${AUTH_PASS}`).toString('base64') } } }));
  ok(prun(root, ['push', '-q', NOTLS, '--authfile', authfile, 'bb', `${AUTH_REGISTRY}/e2e-img-${id}/bb:2`]), 'push --authfile');
});

test('push of an unknown image: one line, no progress; by ID without DEST: asks for DEST', () => {
  const { root, imageId } = imported();
  const r = prun(root, ['push', NOTLS, 'nosuch', `${repo('x')}:1`]);
  oneLineError(r, /image "nosuch" not found/);
  assert.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  oneLineError(prun(root, ['push', NOTLS, imageId.slice(0, 12)]), /was given by ID, which names no registry: give the DESTINATION/);
});

// --- save -----------------------------------------------------------------------------------

test('save: docker-archive by default, with the name asked for in RepoTags; podman\'s lines on stderr', () => {
  const { root, imageId } = imported();
  const out = join(tempDir('pkit-save'), 'bb.tar');
  const r = ok(prun(root, ['save', '-o', out, 'bb']), 'save');
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^Copying blob sha256:[a-f0-9]{64}\nCopying config sha256:[a-f0-9]{64}\nWriting manifest to image destination\nStoring signatures\n$/);
  const manifest = JSON.parse(tarRead(out, 'manifest.json'));
  assert.equal(manifest[0].RepoTags, ['localhost/bb:latest']);
  assert.is(manifest[0].Config, `${imageId}.json`);
  // by ID: no name recorded
  const byId = join(tempDir('pkit-save'), 'id.tar');
  ok(prun(root, ['save', '-q', '-o', byId, imageId.slice(0, 12)]), 'save by id');
  assert.equal(JSON.parse(tarRead(byId, 'manifest.json'))[0].RepoTags, []);
});

test('save --format oci-archive, oci-dir, docker-dir', () => {
  const { root } = imported();
  const work = tempDir('pkit-save');
  ok(prun(root, ['save', '-q', '--format', 'oci-archive', '-o', join(work, 'o.tar'), 'bb']), 'oci-archive');
  assert.ok(tarList(join(work, 'o.tar')).includes('oci-layout'));
  assert.is(JSON.parse(tarRead(join(work, 'o.tar'), 'index.json')).manifests[0].annotations['org.opencontainers.image.ref.name'], 'localhost/bb:latest');
  ok(prun(root, ['save', '-q', '--format', 'oci-dir', '-o', join(work, 'odir'), 'bb']), 'oci-dir');
  assert.ok(existsSync(join(work, 'odir', 'index.json')) && existsSync(join(work, 'odir', 'oci-layout')));
  ok(prun(root, ['save', '-q', '--format', 'docker-dir', '-o', join(work, 'ddir'), 'bb']), 'docker-dir');
  assert.ok(readdirSync(join(work, 'ddir')).includes('manifest.json'));
  oneLineError(prun(root, ['save', '--format', 'oci-dir', 'bb']), /writes a directory: give it with -o DIR/);
});

test('save to stdout when it is not a terminal (nothing else on stdout or stderr); a terminal is refused', () => {
  const { root } = imported();
  const r = pipeline(`"$PRUN" --root ${root} save bb | tar t`);
  ok(r, 'save | tar t');
  assert.ok(r.stdout.split('\n').includes('manifest.json'), r.stdout);
  assert.is(r.stderr, '');
  // script(1) gives the command a terminal as stdout
  const tty = spawnSync('script', ['-qec', `${join(process.cwd(), 'packages/prun/bin/prun')} --root ${root} save bb`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
  assert.is(tty.status, 125, tty.stdout);
  assert.match(tty.stdout, /Error: refusing to save to terminal\. Use -o flag or redirect/);
});

test('save of an unknown image, and of two images: one-line errors', () => {
  const { root } = imported();
  oneLineError(prun(root, ['save', '-o', join(tempDir(), 'x.tar'), 'nosuch']), /image "nosuch" not found/);
  oneLineError(prun(root, ['save', '-o', join(tempDir(), 'x.tar'), 'bb', 'bb']), /takes one image \(got 2\)/);
});

// --- load -----------------------------------------------------------------------------------

test('save then load into a fresh store: same image ID, "Loaded image: NAME" on stdout', () => {
  const { root, imageId } = imported();
  const work = tempDir('pkit-save');
  ok(prun(root, ['save', '-q', '-o', join(work, 'd.tar'), 'bb']));
  const fresh = tempDir();
  const r = ok(prun(fresh, ['load', '-i', join(work, 'd.tar')]), 'load');
  assert.is(r.stdout, 'Loaded image: localhost/bb:latest\n');
  assert.match(r.stderr, /^Getting image source signatures\n.*Storing signatures\n$/s);
  assert.equal(imagesJson(fresh).map((i) => [i.Id, i.Names]), [[imageId, ['localhost/bb:latest']]]);
});

test('load from stdin tells an oci-archive from a docker-archive; -q; an untagged archive loads as sha256:ID', () => {
  const { root, imageId } = imported();
  const work = tempDir('pkit-save');
  ok(prun(root, ['tag', 'bb', 'quay.io/e2e/other:7']));
  ok(prun(root, ['save', '-q', '--format', 'oci-archive', '-o', join(work, 'o.tar'), 'quay.io/e2e/other:7']));
  ok(prun(root, ['save', '-q', '-o', join(work, 'id.tar'), imageId]));
  const fresh = tempDir();
  const r = pipeline(`"$PRUN" --root ${fresh} load -q < ${join(work, 'o.tar')}`);
  ok(r, 'load oci-archive from stdin');
  assert.is(r.stdout, 'Loaded image: quay.io/e2e/other:7\n');
  assert.is(r.stderr, '');
  const other = tempDir();
  assert.is(ok(prun(other, ['image', 'load', '-q', '-i', join(work, 'id.tar')]), 'image load untagged').stdout, `Loaded image: sha256:${imageId}\n`);
  assert.equal(imagesJson(other).map((i) => i.Names), [[]]);
});

test('load of a bad archive, a missing file, or a terminal: one-line errors, nothing stored', () => {
  const root = tempDir();
  const bad = join(tempDir(), 'bad.tar');
  writeFileSync(bad, 'this is not an archive\n');
  oneLineError(prun(root, ['load', '-i', bad]), /bad\.tar: payload does not match any of the supported image formats: docker-archive: .*; oci-archive: /);
  oneLineError(prun(root, ['load'], { input: 'garbage' }), /^Error: stdin: payload does not match any of the supported image formats/m);
  oneLineError(prun(root, ['load', '-i', join(root, 'missing.tar')]), /missing\.tar: no such file/);
  const tty = spawnSync('script', ['-qec', `${join(process.cwd(), 'packages/prun/bin/prun')} --root ${root} load`, '/dev/null'], { encoding: 'utf8', input: '', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
  assert.is(tty.status, 125, tty.stdout);
  assert.match(tty.stdout, /Error: cannot read from terminal, use command-line redirection or the --input flag/);
  assert.equal(imagesJson(root), []);
});

test('interop: podman loads what prun saves with the same image ID, and prun loads what podman saves', () => {
  const { root, imageId } = imported();
  const name = `localhost/pkit-e2e-${id}:1`;
  ok(prun(root, ['tag', 'bb', name]));
  const work = tempDir('pkit-interop');
  ok(prun(root, ['save', '-q', '-o', join(work, 'ours.tar'), name]));
  // podman in a store of its own: the user's default one may be in use by anything else
  const podmanDir = tempDir('pkit-podman');
  const podman = (args: string[]) =>
    spawnSync('podman', ['--root', join(podmanDir, 'storage'), '--runroot', join(podmanDir, 'run'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8' });
  try {
    const load = podman(['load', '-q', '-i', join(work, 'ours.tar')]);
    assert.is(load.status, 0, load.stderr);
    assert.match(load.stdout, new RegExp(`Loaded image: ${name}`));
    const podmanId = podman(['image', 'inspect', '--format', '{{.Id}}', name]);
    assert.is(podmanId.stdout.trim(), imageId);
    const save = podman(['save', '-q', '--format', 'oci-archive', '-o', join(work, 'theirs.tar'), name]);
    assert.is(save.status, 0, save.stderr);
    const fresh = tempDir();
    assert.is(ok(prun(fresh, ['load', '-q', '-i', join(work, 'theirs.tar')]), 'load podman archive').stdout, `Loaded image: ${name}\n`);
    assert.equal(imagesJson(fresh).map((i) => i.Id), [imageId]);
  } finally {
    // its files belong to subordinate ids: only its user namespace can remove them
    podman(['unshare', 'rm', '-rf', join(podmanDir, 'storage'), join(podmanDir, 'run')]);
    rmSync(podmanDir, { recursive: true, force: true });
  }
});

// --- history --------------------------------------------------------------------------------

/** A store holding a two-layer image with an empty-layer history entry on top, as localhost/layered:1. */
async function layered(): Promise<{ root: string; imageId: string }> {
  const layout = tempDir('pkit-layout');
  const second = await buildTar([dir('app'), file('app/hello.txt', 'hello\n')]);
  const long = `/bin/sh -c echo ${'x'.repeat(60)}`;
  finishLayout(
    layout,
    putImage(layout, {
      layers: [readFileSync(FIXTURE), second],
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs /' },
        { created: '2024-01-02T00:00:00Z', created_by: long, comment: 'the app' },
        { created: '2024-01-03T00:00:00Z', created_by: 'CMD ["sh"]', empty_layer: true },
      ],
    }),
    'layered',
  );
  const root = tempDir();
  ok(run('pcopy', ['--root', root, 'copy', '-q', `oci:${layout}:layered`, 'local:layered:1']), 'copy the layout into the store');
  const imageId = ok(prun(root, ['images', '-q', '--no-trunc'])).stdout.trim().replace(/^sha256:/, '');
  return { root, imageId };
}

test('history: podman\'s table, newest first; the top entry has the image ID, the others <missing>', async () => {
  const { root, imageId } = await layered();
  const lines = ok(prun(root, ['history', 'layered:1']), 'history').stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.is(lines.length, 4);
  assert.match(lines[1]!, new RegExp(`^${imageId.slice(0, 12)}\\s+.* ago\\s+CMD \\["sh"\\]\\s+0 B$`));
  assert.match(lines[2]!, /^<missing>\s+.* ago\s+\/bin\/sh -c echo x+\.\.\.\s+\d+(\.\d+)? kB\s+the app$/);
  assert.match(lines[3]!, /^<missing>\s+.* ago\s+ADD rootfs \/\s+2\.13 MB$/);
  assert.is(lines[2]!.match(/\/bin\/sh -c echo x+\.\.\./)![0].length, 45, 'CREATED BY cut to 45 characters');
});

test('history --no-trunc, -q, --format json; image history; unknown image', async () => {
  const { root, imageId } = await layered();
  const full = ok(prun(root, ['history', '--no-trunc', 'layered:1'])).stdout;
  assert.match(full, new RegExp(`^${imageId}\\s`, 'm'));
  assert.match(full, /echo x{60}/);
  assert.is(ok(prun(root, ['image', 'history', '-q', 'layered:1'])).stdout, `${imageId.slice(0, 12)}\n<missing>\n<missing>\n`);
  const json = JSON.parse(ok(prun(root, ['history', '--format', 'json', 'layered:1'])).stdout);
  assert.is(json.length, 3);
  assert.is(json[0].id, imageId);
  assert.is(json[0].size, 0);
  assert.is(json[0].CreatedBy, 'CMD ["sh"]');
  assert.is(json[0].Created, '2024-01-03T00:00:00Z');
  assert.is(json[1].comment, 'the app');
  assert.ok(json[2].size > 2_000_000);
  oneLineError(prun(root, ['history', 'nosuch']), /image "nosuch" not found/);
});

// --- image inspect --------------------------------------------------------------------------

test('image inspect: podman\'s fields; several images; an unknown one is an error after the JSON', async () => {
  const { root, imageId } = await layered();
  ok(prun(root, ['import', '-q', FIXTURE, 'bb']));
  const [img] = JSON.parse(ok(prun(root, ['image', 'inspect', 'layered:1']), 'inspect').stdout);
  assert.is(img.Id, imageId);
  assert.match(img.Digest, /^sha256:[a-f0-9]{64}$/);
  assert.equal(img.RepoTags, ['localhost/layered:1']);
  assert.equal(img.RepoDigests, [`localhost/layered@${img.Digest}`]);
  assert.is(img.Created, '2024-01-01T00:00:00Z');
  assert.equal(img.Config, { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] });
  assert.is(img.Os, 'linux');
  assert.ok(typeof img.Architecture === 'string' && img.Architecture !== '');
  assert.is(img.RootFS.Type, 'layers');
  assert.is(img.RootFS.Layers.length, 2);
  assert.is(img.History.length, 3);
  assert.ok(img.Size > 2_000_000);
  assert.is(img.Labels, null);
  assert.is(img.ManifestType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok(existsSync(join(img.GraphDriver.Data.UpperDir, 'app', 'hello.txt')));
  const two = JSON.parse(ok(prun(root, ['image', 'inspect', 'layered:1', 'bb'])).stdout);
  assert.equal(two.map((i: { RepoTags: string[] }) => i.RepoTags), [['localhost/layered:1'], ['localhost/bb:latest']]);
  const partial = prun(root, ['image', 'inspect', 'nosuch', 'bb']);
  oneLineError(partial, /image "nosuch" not found/);
  assert.equal(JSON.parse(partial.stdout).map((i: { RepoTags: string[] }) => i.RepoTags), [['localhost/bb:latest']]);
});

// --- image prune, system df, system prune -----------------------------------------------------

/** A store with localhost/bb:latest and a dangling image (an untagged archive loaded). */
async function withDangling(): Promise<{ root: string; bbId: string; danglingId: string }> {
  const { root, imageId: bbId } = imported();
  const { root: other, imageId: layeredId } = await layered();
  const archive = join(tempDir('pkit-save'), 'untagged.tar');
  ok(prun(other, ['save', '-q', '-o', archive, layeredId]));
  ok(prun(root, ['load', '-q', '-i', archive]), 'load untagged');
  return { root, bbId, danglingId: layeredId };
}

test('image prune -f removes dangling images only and prints their IDs; -a also unused named ones', async () => {
  const { root, bbId, danglingId } = await withDangling();
  assert.is(ok(prun(root, ['image', 'prune', '-f']), 'prune').stdout, `${danglingId}\n`);
  assert.equal(imagesJson(root).map((i) => i.Id), [bbId]);
  assert.is(ok(prun(root, ['image', 'prune', '-f'])).stdout, '');
  assert.is(ok(prun(root, ['image', 'prune', '-a', '-f'])).stdout, `${bbId}\n`);
  assert.equal(imagesJson(root), []);
  assert.equal(readdirSync(join(root, 'layers')), []);
});

test('image prune asks first: "y" on stdin prunes, "n" keeps, no answer is an error', async () => {
  const { root, danglingId } = await withDangling();
  const no = ok(prun(root, ['image', 'prune'], { input: 'n\n' }), 'prune n');
  assert.is(no.stdout, '');
  assert.match(no.stderr, /WARNING! This command removes all dangling images\.\nAre you sure you want to continue\? \[y\/N\] /);
  assert.is(imagesJson(root).length, 2);
  oneLineError(prun(root, ['image', 'prune'], { input: '' }), /no answer on stdin: pass -f/);
  assert.is(ok(prun(root, ['image', 'prune'], { input: 'y\n' }), 'prune y').stdout, `${danglingId}\n`);
});

test('image ls, list, rm, tag are images, rmi and tag', () => {
  const { root, imageId } = imported();
  assert.is(ok(prun(root, ['image', 'ls'])).stdout, ok(prun(root, ['images'])).stdout);
  assert.is(ok(prun(root, ['image', 'list', '-q'])).stdout, `${imageId.slice(0, 12)}\n`);
  ok(prun(root, ['image', 'tag', 'bb', 'second:2']));
  assert.equal(imagesJson(root)[0]!.Names, ['localhost/bb:latest', 'localhost/second:2']);
  assert.is(ok(prun(root, ['image', 'rm', 'second:2'])).stdout, 'Untagged: localhost/second:2\n');
  ok(prun(root, ['image', 'pull', '-q', `oci-archive:${saveOci(root)}`]), 'image pull');
});

function saveOci(root: string): string {
  const out = join(tempDir('pkit-save'), 'o.tar');
  ok(prun(root, ['image', 'save', '-q', '--format', 'oci-archive', '-o', out, 'bb']), 'image save');
  return out;
}

test('system df: podman\'s table of images, containers and volumes; --format json', () => {
  const { root } = imported();
  const lines = ok(prun(root, ['system', 'df']), 'df').stdout.trimEnd().split('\n');
  assert.equal(lines.map((l) => l.split(/\s{2,}/)), [
    ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
    ['Images', '1', '0', '2.13MB', '2.13MB (100%)'],
    ['Containers', '0', '0', '0B', '0B (0%)'],
    ['Local Volumes', '0', '0', '0B', '0B (0%)'],
  ]);
  const json = JSON.parse(ok(prun(root, ['system', 'df', '--format', 'json'])).stdout);
  assert.is(json[0].Type, 'Images');
  assert.is(json[0].Total, 1);
  assert.ok(json[0].RawSize > 2_000_000);
  assert.is(json[0].RawReclaimable, json[0].RawSize);
  assert.is(json[1].Type, 'Containers');
});

test('system df counts an exited container and the image it uses as active; system prune -f removes both kinds', async () => {
  const { root, bbId, danglingId } = await withDangling();
  ok(prun(root, ['run', '--name', 'done', 'bb', 'true']), 'run');
  const cid = ok(prun(root, ['ps', '-aq', '--no-trunc'])).stdout.trim();
  assert.match(cid, HEX64);
  const df = JSON.parse(ok(prun(root, ['system', 'df', '--format', 'json'])).stdout);
  assert.equal([df[0].Total, df[0].Active, df[1].Total, df[1].Active], [2, 1, 1, 0]);
  assert.ok(df[0].RawReclaimable < df[0].RawSize, 'the image in use is not reclaimable');

  oneLineError(prun(root, ['system', 'prune'], { input: '' }), /no answer on stdin/);
  const r = ok(prun(root, ['system', 'prune', '-f']), 'system prune');
  assert.match(r.stdout, new RegExp(`^Deleted Containers\\n${cid}\\nDeleted Images\\n${danglingId}\\nTotal reclaimed space: \\d+(\\.\\d+)?[kM]B\\n$`));
  assert.equal(imagesJson(root).map((i) => i.Id), [bbId]);
  assert.is(ok(prun(root, ['ps', '-aq'])).stdout, '');
  assert.is(ok(prun(root, ['system', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
  assert.is(ok(prun(root, ['system', 'prune', '-a', '-f'])).stdout, `Deleted Images\n${bbId}\nTotal reclaimed space: 2.13MB\n`);
  assert.equal(imagesJson(root), []);
});

test('system df counts volumes; system prune removes unused ones only with --volumes', () => {
  const { root } = imported();
  ok(prun(root, ['volume', 'create', 'e2evol']), 'volume create');
  writeFileSync(join(root, 'volumes', 'e2evol', '_data', 'data.bin'), Buffer.alloc(5000));
  const df = JSON.parse(ok(prun(root, ['system', 'df', '--format', 'json'])).stdout);
  assert.equal([df[2].Type, df[2].Total, df[2].Active, df[2].RawSize, df[2].Reclaimable], ['Local Volumes', 1, 0, 5000, '5kB (100%)']);
  assert.is(ok(prun(root, ['system', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
  const r = ok(prun(root, ['system', 'prune', '-f', '--volumes'], { input: '' }), 'prune --volumes');
  assert.is(r.stdout, 'Deleted Volumes\ne2evol\nTotal reclaimed space: 5kB\n');
  assert.is(ok(prun(root, ['volume', 'ls', '-q'])).stdout, '');
});

test.run();
