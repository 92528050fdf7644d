// prun volume create / ls / inspect / exists / rm / prune through the built CLI, as the test
// user; outputs and failures as podman 4.3 gives them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../packages/storage/src/store.ts';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

const prun = (root: string, args: string[], input?: string) => run('prun', ['--root', root, ...args], input === undefined ? {} : { input });

test('the built CLI is there', () => {
  requireBuild();
});

test('create prints the name (a random one without NAME); ls shows podman\'s table, -q and json', () => {
  const root = tempDir();
  assert.is(prun(root, ['volume', 'ls']).stdout, '', 'no volumes: no output, not even a heading');
  const anon = ok(prun(root, ['volume', 'create'])).stdout.trim();
  assert.match(anon, /^[a-f0-9]{64}$/);
  assert.is(ok(prun(root, ['volume', 'create', 'myvol'])).stdout, 'myvol\n');
  assert.is(ok(prun(root, ['volume', 'create', '--label', 'a=b', '--label', 'c', '--opt', 'o=uid=1000', '--opt', 'type=tmpfs', 'lv'])).stdout, 'lv\n');
  const names = [anon, 'lv', 'myvol'].sort();
  assert.is(ok(prun(root, ['volume', 'ls'])).stdout, `DRIVER      VOLUME NAME\n${names.map((n) => `local       ${n}\n`).join('')}`);
  assert.is(ok(prun(root, ['volume', 'ls', '-q'])).stdout, names.map((n) => `${n}\n`).join(''));
  const json = JSON.parse(ok(prun(root, ['volume', 'ls', '--format', 'json'])).stdout);
  assert.equal(json.map((v: { Name: string }) => v.Name), names);
  const lv = json.find((v: { Name: string }) => v.Name === 'lv');
  assert.equal(lv.Labels, { a: 'b', c: '' });
  assert.equal(lv.Options, { o: 'uid=1000', type: 'tmpfs' });
  assert.is(lv.Driver, 'local');
  assert.is(lv.Scope, 'local');
  assert.is(lv.Mountpoint, join(root, 'volumes', 'lv', '_data'));
  assert.ok(statSync(lv.Mountpoint).isDirectory());
  assert.is(ok(prun(root, ['volume', 'ls', '--format', '{{.Name}}\\t{{.Labels}}'])).stdout.split('\n')[1], 'lv\tmap[a:b c:]');
});

test('inspect: podman\'s JSON array; a missing volume fails after printing the others', () => {
  const root = tempDir();
  ok(prun(root, ['volume', 'create', 'one']));
  const r = ok(prun(root, ['volume', 'inspect', 'one']));
  assert.match(r.stdout, /^\[\n {5}\{\n {10}"Name": "one",\n/);
  const [v] = JSON.parse(r.stdout);
  assert.equal(Object.keys(v), ['Name', 'Driver', 'Mountpoint', 'CreatedAt', 'Labels', 'Scope', 'Options', 'MountCount', 'NeedsCopyUp', 'NeedsChown']);
  assert.ok(!Number.isNaN(Date.parse(v.CreatedAt)));
  assert.is(ok(prun(root, ['volume', 'inspect', '--format', '{{.Mountpoint}}', 'one'])).stdout, `${join(root, 'volumes/one/_data')}\n`);
  const bad = prun(root, ['volume', 'inspect', 'one', 'nope']);
  oneLineError(bad, /^Error: inspecting object: no such volume nope$/m);
  assert.equal(JSON.parse(bad.stdout).map((x: { Name: string }) => x.Name), ['one']);
  const none = prun(root, ['volume', 'inspect', 'nope']);
  assert.is(none.stdout, '[]\n');
  assert.is(none.code, 125);
});

test('exists: exit 0 or 1, nothing printed', () => {
  const root = tempDir();
  ok(prun(root, ['volume', 'create', 'here']));
  const yes = prun(root, ['volume', 'exists', 'here']);
  assert.equal([yes.code, yes.stdout, yes.stderr], [0, '', '']);
  const no = prun(root, ['volume', 'exists', 'nope']);
  assert.equal([no.code, no.stdout, no.stderr], [1, '', '']);
});

test('create failures: taken name, bad name, unknown option, bad label', () => {
  const root = tempDir();
  ok(prun(root, ['volume', 'create', 'dup']));
  oneLineError(prun(root, ['volume', 'create', 'dup']), /volume with name dup already exists: volume already exists/);
  assert.is(ok(prun(root, ['volume', 'create', '--ignore', 'dup'])).stdout, 'dup\n');
  oneLineError(prun(root, ['volume', 'create', 'bad name']), /invalid volume name "bad name": names must match \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]\*/);
  oneLineError(prun(root, ['volume', 'create', '.hidden']), /names must match/);
  oneLineError(prun(root, ['volume', 'create', '--opt', 'foo=bar', 'x']), /invalid mount option foo for driver 'local'/);
  oneLineError(prun(root, ['volume', 'create', '--label', '=x', 'x']), /invalid label format: "=x"/);
  oneLineError(prun(root, ['volume', 'create', '--driver', 'nfs', 'x']), /volume driver "nfs" is not supported/);
  assert.is(ok(prun(root, ['volume', 'ls', '-q'])).stdout, 'dup\n');
});

test('rm removes volume and data; a missing volume is exit 1 after removing the others', () => {
  const root = tempDir();
  ok(prun(root, ['volume', 'create', 'a']));
  ok(prun(root, ['volume', 'create', 'b']));
  writeFileSync(join(root, 'volumes/a/_data/file'), 'data');
  const r = prun(root, ['volume', 'rm', 'nope', 'a']);
  assert.is(r.code, 1);
  assert.is(r.stdout, 'a\n');
  assert.match(r.stderr, /^Error: no volume with name "nope" found: no such volume\n$/);
  assert.not.ok(existsSync(join(root, 'volumes/a')));
  assert.is(ok(prun(root, ['volume', 'rm', '--all'])).stdout, 'b\n');
  assert.equal(readdirSync(join(root, 'volumes')), []);
  oneLineError(prun(root, ['volume', 'rm']), /requires at least one NAME/);
});

/** A container record that uses `volumes` (what `prun create -v NAME:/path` records). */
async function containerUsing(root: string, volumes: string[]): Promise<string> {
  ok(run('prun', ['--root', root, 'import', FIXTURE, 'bb']), 'import');
  const store = Store.open({ root });
  try {
    const image = (await store.images.names()).find((n) => n.name === 'localhost/bb:latest')!;
    return (await store.containers.create({ image: image.id, imageName: 'bb', config: { volumes } })).id;
  } finally {
    store.close();
  }
}

test('rm of a volume in use: exit 2 naming the container; -f removes the container too', async () => {
  const root = tempDir();
  ok(prun(root, ['volume', 'create', 'used']));
  const id = await containerUsing(root, ['used']);
  const r = prun(root, ['volume', 'rm', 'used']);
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  assert.is(r.stderr, `Error: volume used is being used by the following container(s): ${id}: volume is being used\n`);
  assert.ok(existsSync(join(root, 'volumes/used/_data')));
  assert.is(ok(prun(root, ['volume', 'rm', '-f', 'used'])).stdout, 'used\n');
  assert.is(ok(prun(root, ['ps', '-aq'])).stdout, '');
  assert.not.ok(existsSync(join(root, 'volumes/used')));
});

test('prune -f removes only the volumes no container uses; without -f it asks', async () => {
  const root = tempDir();
  for (const n of ['used', 'free1', 'free2']) ok(prun(root, ['volume', 'create', n]));
  await containerUsing(root, ['used']);
  const asked = prun(root, ['volume', 'prune'], 'n\n');
  assert.is(asked.code, 0);
  assert.is(
    asked.stdout,
    'WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\nfree1\nfree2\nAre you sure you want to continue? [y/N] ',
  );
  assert.is(ok(prun(root, ['volume', 'ls', '-q'])).stdout, 'free1\nfree2\nused\n');
  assert.is(ok(prun(root, ['volume', 'prune', '-f'])).stdout, 'free1\nfree2\n');
  assert.is(ok(prun(root, ['volume', 'ls', '-q'])).stdout, 'used\n');
  assert.is(ok(prun(root, ['volume', 'prune', '-f'])).stdout, '');
  assert.is(ok(prun(root, ['volume', 'prune'], '')).stdout, 'WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\nNo dangling volumes found\n');
});

test.run();
