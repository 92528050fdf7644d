import { test } from 'uvu';
import { rejects } from './helpers.ts';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { parseDigest, isDigest, digestOf, HashingStream, VerifyingStream } from '../../../packages/storage/src/digest.ts';
import { DigestMismatchError, StoreError } from '../../../packages/storage/src/errors.ts';

const HELLO = digestOf('hello');

test('parseDigest accepts sha256 and sha512', () => {
  assert.equal(parseDigest(HELLO), { algorithm: 'sha256', hex: HELLO.slice(7) });
  const d512 = `sha512:${createHash('sha512').update('x').digest('hex')}`;
  assert.is(parseDigest(d512).algorithm, 'sha512');
});

test('parseDigest refuses malformed digests with a clear message', () => {
  for (const bad of ['', 'sha256', 'sha256:', 'sha256:abc', `sha256:${'A'.repeat(64)}`, `SHA256:${'a'.repeat(64)}`, `md5:${'a'.repeat(32)}`, `sha256:${'a'.repeat(65)}`]) {
    assert.throws(() => parseDigest(bad), (e: unknown) => e instanceof StoreError && /digest|algorithm/.test((e as Error).message), bad);
    assert.not.ok(isDigest(bad));
  }
});

test('unsupported algorithm names the algorithm', () => {
  assert.throws(() => parseDigest(`md5:${'a'.repeat(32)}`), /unsupported digest algorithm "md5"/);
});

const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });

test('HashingStream reports digest and size of what passed', async () => {
  const h = new HashingStream();
  await pipeline(Readable.from([Buffer.from('hel'), Buffer.from('lo')]), h, sink());
  assert.is(h.digest, HELLO);
  assert.is(h.size, 5);
});

test('VerifyingStream passes matching content', async () => {
  const v = new VerifyingStream({ digest: HELLO, size: 5 });
  await pipeline(Readable.from([Buffer.from('hello')]), v, sink());
  assert.is(v.size, 5);
});

test('VerifyingStream fails on a digest mismatch', async () => {
  const v = new VerifyingStream({ digest: HELLO });
  try {
    await pipeline(Readable.from([Buffer.from('hellO')]), v, sink());
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DigestMismatchError);
    assert.match((e as Error).message, /digest mismatch/);
  }
});

test('VerifyingStream fails as soon as the size is exceeded, before passing the excess on', async () => {
  const v = new VerifyingStream({ digest: HELLO, size: 5 });
  let passed = 0;
  const counting = new Writable({ write(c, _e, cb) { passed += c.length; cb(); } });
  await rejects(pipeline(Readable.from([Buffer.from('hello'), Buffer.from('world')]), v, counting), /size mismatch/);
  assert.ok(passed <= 5);
});

test('VerifyingStream fails on a short read', async () => {
  const v = new VerifyingStream({ digest: HELLO, size: 6 });
  await rejects(pipeline(Readable.from([Buffer.from('hello')]), v, sink()), /size mismatch, got 5 bytes, expected 6/);
});

test.run();
