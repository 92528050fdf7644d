// One directory of an image as an overlay of only the layers holding it
// (packages/pbuild/src/actions/layer-stack.ts), and the `#!` line of a heredoc script.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../../packages/storage/src/native.ts';
import { dirStack } from '../../../packages/pbuild/src/actions/layer-stack.ts';
import { shebang } from '../../../packages/pbuild/src/actions/run-mounts.ts';

const work = mkdtempSync(join(tmpdir(), 'pkit-layer-stack-'));
/** Layer directories L0 (bottom) .. L3 (top), each made from a list of dirs and files. */
function layer(name: string, dirs: string[], files: string[] = []): string {
  const root = join(work, name);
  mkdirSync(root, { recursive: true });
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  for (const f of files) writeFileSync(join(root, f), f);
  return root;
}
const opaque = (p: string) => native().lsetxattr(p, 'user.overlay.opaque', Buffer.from('y'));
const whiteout = (p: string) => native().mknod(p, 0o020000, 0, 0);

const L0 = layer('L0', ['etc/ssl', 'usr/lib'], ['etc/passwd']);
const L1 = layer('L1', ['etc'], ['etc/group']);
const L2 = layer('L2', ['usr']);
const L3 = layer('L3', ['etc/ssl']);
opaque(join(L3, 'etc/ssl'));
whiteout(join(L2, 'usr/lib'));
const TOP_FIRST = [L3, L2, L1, L0];

test('every layer holding the directory, top first; layers without it are skipped', () => {
  assert.equal(dirStack(TOP_FIRST, '/etc'), [join(L3, 'etc'), join(L1, 'etc'), join(L0, 'etc')]);
  assert.equal(dirStack(TOP_FIRST, '/'), TOP_FIRST);
});

test('an opaque directory ends the stack', () => {
  assert.equal(dirStack(TOP_FIRST, '/etc/ssl'), [join(L3, 'etc/ssl')]);
});

test('a whiteout (or a file) at the path ends the stack', () => {
  assert.equal(dirStack(TOP_FIRST, '/usr/lib'), []);
  const f = layer('F', [], ['x']);
  assert.equal(dirStack([f, L0], '/x'), []);
});

test('an opaque parent ends the stack below its layer', () => {
  const top = layer('P', ['etc/ssl']);
  opaque(join(top, 'etc'));
  assert.equal(dirStack([top, ...TOP_FIRST], '/etc/ssl'), [join(top, 'etc/ssl')]);
});

test('shebang: the interpreter and its arguments from the first line', () => {
  assert.is(shebang('#!/bin/sh\necho hi\n'), '/bin/sh');
  assert.is(shebang('#! /usr/bin/env python3 -u\nprint(1)\n'), '/usr/bin/env python3 -u');
  assert.is(shebang('echo no\n'), '');
});

test('cleanup', () => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
