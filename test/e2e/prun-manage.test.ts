// prun tag / rmi / ps / rm, driven through the built CLI as a user would (the runner runs the
// suite as the unprivileged test user).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

const prun = (root: string, args: string[]) => run('prun', ['--root', root, ...args]);
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/** A fresh store holding the fixture as localhost/bb:latest; returns the root and image id. */
function imported(): { root: string; id: string } {
  const root = tempDir();
  const id = ok(prun(root, ['import', FIXTURE, 'bb']), 'import').stdout.trim();
  return { root, id };
}

test('the built CLI and the fixture are there', () => {
  requireBuild();
  assert.ok(existsSync(FIXTURE), `fixture missing: ${FIXTURE} (run scripts/setup.sh)`);
});

test('tag adds names (short ones under localhost/); images shows both', () => {
  const { root, id } = imported();
  const t = ok(prun(root, ['tag', 'bb', 'other:1', 'quay.io/x/y:2']), 'tag');
  assert.is(t.stdout, '');
  const rows = JSON.parse(ok(prun(root, ['images', '--format', 'json'])).stdout);
  assert.is(rows.length, 1);
  assert.is(rows[0].Id, id);
  assert.equal(rows[0].Names, ['localhost/bb:latest', 'localhost/other:1', 'quay.io/x/y:2']);
  const table = ok(prun(root, ['images'])).stdout;
  assert.match(table, /localhost\/bb\s+latest/);
  assert.match(table, /localhost\/other\s+1/);
});

test('tag of an unknown image: one line, exit 125', () => {
  const { root } = imported();
  oneLineError(prun(root, ['tag', 'nosuch', 'x']), /nosuch/);
});

test('rmi of one of two names only untags; rmi of the last name deletes image and layers', () => {
  const { root, id } = imported();
  ok(prun(root, ['tag', 'bb', 'second']));
  const r1 = ok(prun(root, ['rmi', 'second']), 'rmi second');
  assert.is(r1.stdout, 'Untagged: localhost/second:latest\n');
  assert.equal(JSON.parse(prun(root, ['images', '--format', 'json']).stdout)[0].Names, ['localhost/bb:latest']);
  const r2 = ok(prun(root, ['rmi', 'bb']), 'rmi bb');
  assert.is(r2.stdout, `Untagged: localhost/bb:latest\nDeleted: ${id}\n`);
  assert.is(prun(root, ['images', '-q']).stdout, '');
  assert.equal(ls(join(root, 'layers')), []);
  assert.equal(ls(join(root, 'images')), []);
  assert.equal(ls(join(root, 'blobs', 'sha256')), []);
});

test('rmi of an unknown image: one line, exit 125', () => {
  const { root } = imported();
  oneLineError(prun(root, ['rmi', 'nosuch']), /nosuch/);
});

test('ps -a lists an exited container, ps does not; rm removes it; rmi -f removes a user container', () => {
  const { root, id } = imported();
  ok(prun(root, ['run', '--name', 'keep', 'bb', 'true']), 'run');
  const all = ok(prun(root, ['ps', '-a']), 'ps -a').stdout.trimEnd().split('\n');
  assert.match(all[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.is(all.length, 2);
  assert.match(all[1]!, /^[a-f0-9]{12}\s+bb\s+true\s+.*Exited \(0\).*\s+keep$/);
  const running = ok(prun(root, ['ps']), 'ps').stdout.trimEnd().split('\n');
  assert.is(running.length, 1);
  const json = JSON.parse(ok(prun(root, ['ps', '-a', '--format', 'json'])).stdout);
  assert.is(json.length, 1);
  assert.equal(json[0].Names, ['keep']);
  assert.is(json[0].State, 'exited');
  assert.is(json[0].Image, 'bb');
  assert.match(json[0].Id, /^[a-f0-9]{64}$/);
  assert.is(typeof json[0].Created, 'number');
  assert.is(prun(root, ['ps', '-aq']).stdout, `${json[0].Id.slice(0, 12)}\n`);

  // in use: refused without -f, image and container stay
  const refused = prun(root, ['rmi', 'bb']);
  oneLineError(refused, /image is in use by a container/);
  assert.is(refused.stdout, '');
  assert.is(prun(root, ['images', '-q']).stdout, `${id.slice(0, 12)}\n`);

  // rm by name prints the full id and removes the record and its directories
  const rm = ok(prun(root, ['rm', 'keep']), 'rm');
  assert.is(rm.stdout, `${json[0].Id}\n`);
  assert.is(prun(root, ['ps', '-aq']).stdout, '');
  assert.equal(ls(join(root, 'containers')), []);

  // again, removed by rmi -f
  ok(prun(root, ['run', '--name', 'keep', 'bb', 'true']), 'run 2');
  const forced = ok(prun(root, ['rmi', '-f', 'bb']), 'rmi -f');
  assert.is(forced.stdout, `Untagged: localhost/bb:latest\nDeleted: ${id}\n`);
  assert.is(prun(root, ['ps', '-aq']).stdout, '');
  assert.equal(ls(join(root, 'containers')), []);
  assert.is(prun(root, ['images', '-q']).stdout, '');
  assert.equal(ls(join(root, 'layers')), []);
});

test('rm of an unknown container: one line, exit 125', () => {
  const { root } = imported();
  const r = prun(root, ['rm', 'nosuch']);
  oneLineError(r, /^Error: no container with name or ID "nosuch" found$/m);
  assert.is(r.stderr.trim().split('\n').length, 1);
});

test.run();
