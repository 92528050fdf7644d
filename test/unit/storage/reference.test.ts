import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import {
  familiarName,
  formatReference,
  isShortName,
  normalizeName,
  parseReference,
  referenceName,
  splitReference,
} from '../../../packages/storage/src/reference.ts';

const D = digestOf('x');

function bad(s: string, expected: string): void {
  try {
    splitReference(s);
  } catch (err) {
    assert.instance(err, StoreError);
    assert.is((err as StoreError).code, 'PKIT_BAD_REFERENCE');
    const msg = (err as Error).message;
    assert.ok(msg.includes(expected), `message ${JSON.stringify(msg)} should include ${JSON.stringify(expected)}`);
    assert.not.match(msg, /\n/);
    return;
  }
  assert.unreachable(`"${s}" should be rejected`);
}

test('splitReference: short names', () => {
  assert.equal(splitReference('busybox'), { repository: 'busybox' });
  assert.equal(splitReference('busybox:1.36'), { repository: 'busybox', tag: '1.36' });
  assert.equal(splitReference('library/busybox'), { repository: 'library/busybox' });
  // no dot, colon or localhost: the first component is a path component
  assert.equal(splitReference('registry/repo/image'), { repository: 'registry/repo/image' });
  assert.equal(splitReference('localhost'), { repository: 'localhost' });
  assert.equal(splitReference(`busybox@${D}`), { repository: 'busybox', digest: D });
});

test('splitReference: registries', () => {
  assert.equal(splitReference('quay.io/podman/hello:latest'), { registry: 'quay.io', repository: 'podman/hello', tag: 'latest' });
  assert.equal(splitReference('localhost/app'), { registry: 'localhost', repository: 'app' });
  assert.equal(splitReference('localhost:5000/app:v1'), { registry: 'localhost:5000', repository: 'app', tag: 'v1' });
  assert.equal(splitReference('myhost:5000/a/b'), { registry: 'myhost:5000', repository: 'a/b' });
  assert.equal(splitReference('10.0.0.1:5000/a'), { registry: '10.0.0.1:5000', repository: 'a' });
  assert.equal(splitReference('[::1]:5000/a'), { registry: '[::1]:5000', repository: 'a' });
  assert.equal(splitReference('Example.COM/a'), { registry: 'Example.COM', repository: 'a' });
  assert.equal(splitReference(`reg.io/a/b:t@${D}`), { registry: 'reg.io', repository: 'a/b', tag: 't', digest: D });
});

test('splitReference: path component separators', () => {
  for (const ok of ['a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'a1.b2-c3__d4', '0']) {
    assert.equal(splitReference(ok).repository, ok);
  }
  bad('a___b', 'invalid repository path component "a___b"');
  bad('a..b', 'invalid repository path component');
  bad('-a', 'invalid repository path component');
  bad('a-', 'invalid repository path component');
  bad('_a', 'invalid repository path component');
  bad('a._b', 'invalid repository path component');
});

test('splitReference: tags', () => {
  assert.is(splitReference('a:V1.2_x-y').tag, 'V1.2_x-y');
  assert.is(splitReference(`a:${'t'.repeat(128)}`).tag!.length, 128);
  bad(`a:${'t'.repeat(129)}`, 'invalid tag');
  bad('a:.x', 'invalid tag ".x"');
  bad('a:-x', 'invalid tag "-x"');
  bad('a:', 'invalid tag ""');
  bad('a:b:c', 'invalid repository path component "a:b"');
});

test('splitReference: errors', () => {
  bad('', 'invalid reference "": empty reference');
  bad('Foo', 'invalid reference "Foo": repository name must be lowercase (did you mean "foo"?)');
  bad('quay.io/Podman/Hello', 'repository name must be lowercase (did you mean "quay.io/podman/hello"?)');
  bad('a b', 'contains whitespace');
  bad('a//b', 'empty path component');
  bad('a/', 'empty path component');
  bad('/a', 'empty path component');
  bad(':tag', 'missing repository name');
  bad(`@${D}`, 'missing repository name');
  bad('a@sha256:abc', 'invalid reference "a@sha256:abc": invalid sha256 digest');
  bad('a@', 'invalid reference "a@"');
  bad(`a@${D}@${D}`, 'invalid reference');
  bad('exa_mple.com/a', 'invalid registry "exa_mple.com"');
  bad('host:port/a', 'invalid registry "host:port"');
  bad('-bad.com/a', 'invalid registry');
  bad('[zz]:5000/a', 'invalid registry');
  bad('a/b/' + 'c'.repeat(260), 'longer than the maximum of 255');
  bad('a'.repeat(64).replace(/a/g, 'f'), 'cannot be a 64-character hexadecimal string');
  bad('a/b!', 'invalid repository path component "b!"');
});

test('length limit counts the whole name', () => {
  const name = `example.com/${'a'.repeat(243)}`; // 255
  assert.is(splitReference(name).repository.length, 243);
  bad(`${name}a`, 'longer than the maximum');
});

test('parseReference normalises to docker.io and adds latest', () => {
  assert.equal(parseReference('busybox'), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
  assert.equal(parseReference('foo/bar:1'), { registry: 'docker.io', repository: 'foo/bar', tag: '1' });
  assert.equal(parseReference('docker.io/x'), { registry: 'docker.io', repository: 'library/x', tag: 'latest' });
  assert.equal(parseReference('index.docker.io/x/y'), { registry: 'docker.io', repository: 'x/y', tag: 'latest' });
  assert.equal(parseReference('index.docker.io/ubuntu:22.04'), { registry: 'docker.io', repository: 'library/ubuntu', tag: '22.04' });
  assert.equal(parseReference(`quay.io/a/b@${D}`), { registry: 'quay.io', repository: 'a/b', digest: D });
  assert.equal(parseReference('quay.io/a'), { registry: 'quay.io', repository: 'a', tag: 'latest' });
  assert.equal(parseReference('localhost/app', { defaultTag: false }), { registry: 'localhost', repository: 'app' });
  assert.throws(() => parseReference('UPPER'), /must be lowercase/);
  assert.equal(normalizeName(undefined, 'x'), { registry: 'docker.io', repository: 'library/x' });
});

test('formatReference and referenceName', () => {
  assert.is(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
  assert.is(formatReference(parseReference(`a.io/b:t@${D}`)), `a.io/b:t@${D}`);
  assert.is(formatReference({ repository: 'busybox', tag: '1' }), 'busybox:1');
  assert.is(referenceName(parseReference('busybox:1')), 'docker.io/library/busybox');
  for (const s of ['quay.io/a/b:1', `localhost:5000/x@${D}`, 'docker.io/library/busybox:latest', '[::1]:5000/a:b']) {
    assert.is(formatReference(parseReference(s)), s);
  }
});

test('familiarName', () => {
  assert.is(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.is(familiarName(parseReference('busybox')), 'busybox:latest');
  assert.is(familiarName('docker.io/foo/bar:1'), 'foo/bar:1');
  assert.is(familiarName('docker.io/library/foo/bar'), 'library/foo/bar');
  assert.is(familiarName('quay.io/a/b:1'), 'quay.io/a/b:1');
  assert.is(familiarName(`index.docker.io/library/alpine@${D}`), `alpine@${D}`);
});

test('isShortName', () => {
  assert.ok(isShortName('busybox'));
  assert.ok(isShortName('library/busybox:1'));
  assert.ok(isShortName('registry/repo/image'));
  assert.not.ok(isShortName('docker.io/busybox'));
  assert.not.ok(isShortName('localhost/app'));
  assert.not.ok(isShortName('host:5000/app'));
  assert.not.ok(isShortName('Invalid'));
  assert.not.ok(isShortName(''));
});

test.run();
