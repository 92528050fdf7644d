// prun import / images, driven through the built CLI as a user would (the runner runs the
// suite as the unprivileged test user).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, requireBuild, run, tempDir } from './helpers.ts';

const prun = (args: string[], opts: { input?: Buffer | string; root: string }) =>
  run('prun', ['--root', opts.root, ...args], opts.input === undefined ? {} : { input: opts.input });
const freshRoot = () => tempDir();

test('the built CLI and the fixture are there', () => {
  requireBuild();
  assert.ok(existsSync(FIXTURE), `fixture missing: ${FIXTURE} (run scripts/setup.sh)`);
});

test('import prints the image id; images lists it with repository, tag, short id and size', () => {
  const root = freshRoot();
  const imp = prun(['import', FIXTURE, 'busybox:demo'], { root });
  assert.is(imp.code, 0, imp.stderr);
  const id = imp.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ls = prun(['images'], { root });
  assert.is(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(lines[1]!, new RegExp(`^localhost/busybox\\s+demo\\s+${id.slice(0, 12)}\\s+.*ago\\s+[0-9.]+ MB$`));
  const q = prun(['images', '-q'], { root });
  assert.is(q.stdout, `${id.slice(0, 12)}\n`);
});

test('images --format json has podman\'s fields', () => {
  const root = freshRoot();
  const id = prun(['import', FIXTURE, 'localhost/bb:1'], { root }).stdout.trim();
  const rows = JSON.parse(prun(['images', '--format', 'json'], { root }).stdout);
  assert.is(rows.length, 1);
  assert.is(rows[0].Id, id);
  assert.equal(rows[0].Names, ['localhost/bb:1']);
  assert.ok(rows[0].Size > 1_000_000);
  assert.match(rows[0].Digest, /^sha256:[a-f0-9]{64}$/);
});

test('import from stdin with "-"', () => {
  const root = freshRoot();
  const r = prun(['import', '-', 'fromstdin'], { root, input: readFileSync(FIXTURE) });
  assert.is(r.code, 0, r.stderr);
  assert.match(prun(['images'], { root }).stdout, /localhost\/fromstdin\s+latest/);
});

test('import of a missing file: one line, exit 125, nothing stored', () => {
  const root = freshRoot();
  const r = prun(['import', '/nonexistent/rootfs.tar', 'x'], { root });
  assert.is(r.code, 125);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^Error: .*\/nonexistent\/rootfs\.tar/);
  assert.is(prun(['images', '-q'], { root }).stdout, '');
});

test('import of a corrupt tarball: one line, exit 125, no image, layer or blob left', () => {
  const root = freshRoot();
  const bad = join(freshRoot(), 'bad.tar');
  writeFileSync(bad, readFileSync(FIXTURE).subarray(0, 20000));
  const r = prun(['import', bad, 'broken'], { root });
  assert.is(r.code, 125);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.not.match(r.stderr, /\n\s+at /);
  assert.is(prun(['images', '-q'], { root }).stdout, '');
  for (const sub of ['layers', 'images', 'names']) {
    assert.equal(existsSync(join(root, sub)) ? readdirSync(join(root, sub)) : [], [], sub);
  }
  const blobs = join(root, 'blobs', 'sha256');
  assert.equal(existsSync(blobs) ? readdirSync(blobs) : [], []);
});

test('an invalid name is refused before anything is read', () => {
  const root = freshRoot();
  const r = prun(['import', FIXTURE, 'Not/Valid'], { root });
  assert.is(r.code, 125);
  assert.match(r.stderr, /^Error: invalid reference "Not\/Valid"/);
});

test('images NAME lists every tag of the repository; NAME:TAG only that one', () => {
  const root = freshRoot();
  prun(['import', FIXTURE, 'multi:1'], { root });
  prun(['import', FIXTURE, 'multi:2'], { root });
  prun(['import', FIXTURE, 'other:1'], { root });
  const all = prun(['images', 'multi', '--format', 'json'], { root });
  const names = JSON.parse(all.stdout).flatMap((i: { Names: string[] }) => i.Names).sort();
  assert.equal(names, ['localhost/multi:1', 'localhost/multi:2']);
  const one = JSON.parse(prun(['images', 'multi:2', '--format', 'json'], { root }).stdout);
  assert.equal(one.flatMap((i: { Names: string[] }) => i.Names), ['localhost/multi:2']);
});

test('images --format with a Go template, --filter reference= and dangling=', () => {
  const root = freshRoot();
  assert.is(prun(['import', FIXTURE, 'busybox'], { root }).code, 0);
  assert.is(prun(['tag', 'busybox', 'quay.io/team/tool:2'], { root }).code, 0);
  const lines = prun(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root }).stdout.trim().split('\n').sort();
  assert.equal(lines, ['localhost/busybox:latest', 'quay.io/team/tool:2']);
  assert.is(prun(['images', '--filter', 'reference=*/tool:*', '--format', '{{.Repository}}'], { root }).stdout, 'quay.io/team/tool\n');
  assert.is(prun(['images', '--filter', 'reference=busybox', '--format', '{{.Tag}}'], { root }).stdout, 'latest\n');
  assert.is(prun(['images', '--filter', 'dangling=true', '-q'], { root }).stdout, '');
  const bad = prun(['images', '--filter', 'color=red'], { root });
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /invalid filter/);
});

test('import of a directory or of a file that is no tar: one line naming it', () => {
  const root = freshRoot();
  const d = freshRoot();
  const r = prun(['import', d, 'x'], { root });
  assert.is(r.code, 125);
  assert.match(r.stderr, new RegExp(`^Error: ${d} is a directory: import takes a tarball`));
  const junk = join(d, 'junk.tar');
  writeFileSync(junk, 'this is not a tar archive, not at all '.repeat(40));
  const j = prun(['import', junk, 'x'], { root });
  assert.is(j.code, 125);
  assert.match(j.stderr, new RegExp(`^Error: ${junk}: not a valid layer tar archive`));
  assert.is(j.stderr.trim().split('\n').length, 1);
});

test.run();
