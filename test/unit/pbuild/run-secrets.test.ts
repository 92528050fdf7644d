// The build's --secret flag (packages/pbuild/src/actions/secrets.ts): podman build's syntax and
// buildah 1.28's errors, checked against podman build on this machine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSecret, parseSecrets } from '../../../packages/pbuild/src/actions/secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'pkit-secrets-'));
const file = join(dir, 'token.txt');
writeFileSync(file, 'hunter2');
mkdirSync(join(dir, 'adir'));
const ENV = { TOKEN: 'from-env', tok: 'named-like-the-id' };

function throws(value: string, pattern: RegExp): void {
  try {
    parseSecret(value, ENV, dir);
  } catch (err) {
    assert.match((err as Error).message, pattern);
    assert.is((err as { code?: string }).code, 'PKIT_BAD_INPUT');
    return;
  }
  assert.unreachable(`no error for ${value}`);
}

test('id and src: a file, made absolute against the current directory', () => {
  assert.equal(parseSecret('id=tok,src=token.txt', ENV, dir), { id: 'tok', type: 'file', source: file });
  assert.equal(parseSecret(`id=tok,src=${file},type=file`, ENV, dir), { id: 'tok', type: 'file', source: file });
});

test('env=VAR and type=env take a variable; src defaults to the id', () => {
  assert.equal(parseSecret('id=tok,env=TOKEN', ENV, dir), { id: 'tok', type: 'env', source: 'TOKEN' });
  assert.equal(parseSecret('id=tok,src=TOKEN,type=env', ENV, dir), { id: 'tok', type: 'env', source: 'TOKEN' });
  assert.equal(parseSecret('id=TOKEN,type=env', ENV, dir), { id: 'TOKEN', type: 'env', source: 'TOKEN' });
});

test('without type or src: env when a variable is named like the id (buildah), else a file of that name', () => {
  assert.equal(parseSecret('id=tok', ENV, dir), { id: 'tok', type: 'env', source: 'tok' });
  assert.equal(parseSecret('id=token.txt', ENV, dir), { id: 'token.txt', type: 'file', source: file });
});

test('an explicit src stays a file even when a variable is named like the id (buildah would read the variable)', () => {
  assert.equal(parseSecret('id=tok,src=token.txt', ENV, dir).type, 'file');
});

test('unknown keys are ignored, as buildah does', () => {
  assert.equal(parseSecret('id=tok,foo=bar,src=token.txt', ENV, dir).source, file);
});

test('errors: no id, a bad type, a missing or non-regular file, a field without =', () => {
  throws('src=token.txt', /incorrect secret flag format: should be --secret id=foo,src=bar/);
  throws('id=tok,type=bad', /invalid secret type, must be file or env/);
  throws('id=tok,src=nope.txt', new RegExp(`cannot read ${join(dir, 'nope.txt')}: no such file`));
  throws('id=tok,src=adir', /is not a regular file/);
  throws('id=tok,src', /"src" is not KEY=VALUE/);
});

test('parseSecrets: by id, a later value for the same id wins', () => {
  const m = parseSecrets(['id=a,env=TOKEN', 'id=b,src=token.txt', 'id=a,src=token.txt'], ENV, dir);
  assert.equal([...m.keys()], ['a', 'b']);
  assert.is(m.get('a')!.type, 'file');
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
