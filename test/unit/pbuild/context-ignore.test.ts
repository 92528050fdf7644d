// .containerignore/.dockerignore: docker's reading of the file, its matching (Go's
// filepath.Match per segment, `**`, parents, `!` and the last match deciding), when a walker
// may skip a directory, and which file a context uses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PathMatcher, excludeMatcher, findIgnoreFile, loadIgnore, parseIgnoreText } from '../../../packages/pbuild/src/context/ignore.ts';
import { compileGlob } from '../../../packages/pbuild/src/context/glob-pattern.ts';

const m = (...patterns: string[]) => new PathMatcher(patterns);

test('file text: comments only at column 0, trimmed, cleaned, leading / dropped (after ! too), BOM and CRLF', () => {
  const text = '\uFEFF# comment\n  # not a comment\n\n  ./a/b/  \r\n/abs\n!/neg\n! spaced\n//x//y/\nc/../d\n/\n**/*.go\r\n';
  assert.equal(parseIgnoreText(text), ['# not a comment', 'a/b', 'abs', '!neg', '!spaced', 'x/y', 'd', '/', '**/*.go']);
});

const CASES: Array<[string[], string, boolean]> = [
  // plain names: the path and everything below it
  [['src'], 'src', true],
  [['src'], 'src/a/b.c', true],
  [['src'], 'srcx', false],
  [['src'], 'lib/src', false],
  // * and ? stay within a segment; dot files are matched like any other
  [['*.go'], 'main.go', true],
  [['*.go'], 'cmd/main.go', false],
  [['*.go'], '.hidden.go', true],
  [['*/*.c'], 'include/rootless.c', true],
  [['*/*.c'], 'a/b/c.c', false],
  [['?.txt'], 'a.txt', true],
  [['?.txt'], 'ab.txt', false],
  // ** any number of segments, none too
  [['**/*.go'], 'main.go', true],
  [['**/*.go'], 'a/b/c/main.go', true],
  [['**/output*'], 'x/y/output.log', true],
  [['**/output*'], 'x/y/output/inner', true],
  [['a/**'], 'a/x/y', true],
  [['a/**/z'], 'a/z', true],
  [['a/**/z'], 'a/b/c/z', true],
  [['**'], 'anything/at/all', true],
  // classes and escapes; regexp characters are literal
  [['[a-c]*'], 'beta', true],
  [['[a-c]*'], 'delta', false],
  [['[^a-c]*'], 'delta', true],
  [['arr[[]0].txt'], 'arr[0].txt', true],
  [['a\\*b'], 'a*b', true],
  [['a\\*b'], 'axb', false],
  [['a+b.(c)'], 'a+b.(c)', true],
  [['a.b'], 'axb', false],
  [['x{1,2}'], 'x1', false],
  // negations: the last matching pattern decides
  [['*.md', '!README.md'], 'README.md', false],
  [['*.md', '!README.md'], 'CHANGES.md', true],
  [['*.md', '!README.md', 'README.md'], 'README.md', true],
  [['dir', '!dir/keep'], 'dir/keep', false],
  [['dir', '!dir/keep'], 'dir/keep/inner', false],
  [['dir', '!dir/keep'], 'dir/other', true],
  [['!dir/keep', 'dir'], 'dir/keep', true],
  [['**/*.log', '!important/*.log'], 'important/a.log', false],
  [['**/*.log', '!important/*.log'], 'other/a.log', true],
  // a pattern of . or / excludes nothing
  [['.'], 'a', false],
  [['/'], 'a', false],
];

test('matching: docker\'s table', () => {
  for (const [patterns, path, want] of CASES) {
    assert.is(m(...patterns).excluded(path), want, `${JSON.stringify(patterns)} on ${path}`);
  }
});

test('matching: paths given with ./ or a trailing / are the same paths; the root is never excluded', () => {
  const x = m('a/b', '**');
  assert.ok(m('a/b').excluded('./a/b/'));
  assert.not.ok(x.excluded(''));
  assert.not.ok(x.excluded('.'));
});

test('canSkipDir: only when no ! pattern could bring back something below', () => {
  assert.ok(m('build').canSkipDir('build'));
  assert.not.ok(m('build').canSkipDir('src'), 'not excluded at all');
  assert.not.ok(m('build', '!build/keep').canSkipDir('build'));
  assert.ok(m('build', '!other/keep').canSkipDir('build'));
  assert.ok(m('build', '!build/keep').canSkipDir('build/sub'), 'keep is no deeper than build/sub: it cannot match below it');
  assert.not.ok(m('build', '!build/*/x').canSkipDir('build/sub'));
  assert.not.ok(m('build', '!**/x').canSkipDir('build'));
  assert.not.ok(m('build', '!b*/**/x').canSkipDir('build/deep/er'));
  assert.ok(m('build', '!c*/**/x').canSkipDir('build'));
  assert.not.ok(m('a', '!a/[/]x').canSkipDir('a'), 'a class holding / is taken as possibly anywhere');
});

test('patterns: "!" alone and malformed classes are errors naming the file', () => {
  assert.throws(() => new PathMatcher(['!'], '/ctx/.dockerignore'), /\.dockerignore: illegal exclusion pattern "!"/);
  assert.throws(() => new PathMatcher(['a[b'], '/ctx/.dockerignore'), /\.dockerignore: bad pattern "a\[b"/);
  assert.throws(() => compileGlob('[]', false), /bad pattern/);
  assert.throws(() => compileGlob('[z-a]', false), /bad pattern/);
});

test('--exclude patterns: normalised like file lines, none means no matcher', () => {
  assert.is(excludeMatcher([]), undefined);
  assert.is(excludeMatcher(['  ']), undefined);
  const x = excludeMatcher(['/*.txt', '#x', '!keep.txt'])!;
  assert.equal(x.patterns, ['*.txt', '#x', '!keep.txt']);
  assert.ok(x.excluded('a.txt'));
  assert.ok(x.excluded('#x'));
  assert.not.ok(x.excluded('keep.txt'));
  assert.is(x.source, '--exclude');
});

test('which file: --ignorefile, <Containerfile>.containerignore/.dockerignore, then .containerignore, then .dockerignore', () => {
  const ctx = mkdtempSync(join(tmpdir(), 'pkit-ignore-'));
  try {
    assert.is(findIgnoreFile(ctx), undefined);
    assert.ok(loadIgnore(ctx).empty);
    writeFileSync(join(ctx, '.dockerignore'), 'from-docker\n');
    assert.equal(loadIgnore(ctx).patterns, ['from-docker']);
    writeFileSync(join(ctx, '.containerignore'), 'from-container\n');
    assert.equal(loadIgnore(ctx).patterns, ['from-container']);
    assert.is(loadIgnore(ctx).source, join(ctx, '.containerignore'));
    mkdirSync(join(ctx, 'cf'));
    writeFileSync(join(ctx, 'cf', 'Containerfile.dev.dockerignore'), 'per-file\n');
    assert.equal(loadIgnore(ctx, { containerfile: 'cf/Containerfile.dev' }).patterns, ['per-file']);
    assert.equal(loadIgnore(ctx, { containerfile: join(ctx, 'cf', 'Containerfile.dev') }).patterns, ['per-file']);
    assert.equal(loadIgnore(ctx, { containerfile: 'Containerfile' }).patterns, ['from-container']);
    writeFileSync(join(ctx, 'explicit'), 'x\n!y\n');
    assert.equal(loadIgnore(ctx, { ignoreFile: join(ctx, 'explicit'), containerfile: 'cf/Containerfile.dev' }).patterns, ['x', '!y']);
    assert.throws(() => loadIgnore(ctx, { ignoreFile: join(ctx, 'nosuch') }), /cannot read ignore file .*nosuch: no such file/);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});

test.run();
