// What a COPY/ADD reads from the context (context/sources.ts) and the build cache's digest of it
// (context/sources-digest.ts): glob expansion as Go's, confinement, the ignore file, --exclude,
// --parents, the walk, and a digest that follows exactly the files read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PathMatcher, excludeMatcher } from '../../../packages/pbuild/src/context/ignore.ts';
import { expandGlob, expandHostSources, sourceEntries, type SourceFilters } from '../../../packages/pbuild/src/context/sources.ts';
import { sourcesDigest } from '../../../packages/pbuild/src/context/sources-digest.ts';

let ctx = '';
let outside = '';

function put(rel: string, content = rel): void {
  const p = join(ctx, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
}

test.before(() => {
  ctx = mkdtempSync(join(tmpdir(), 'pkit-ctx-'));
  outside = mkdtempSync(join(tmpdir(), 'pkit-ctx-outside-'));
  for (const f of ['a.txt', 'b.txt', '.hidden.txt', 'arr[0].txt', 'a-b/x.txt', 'a/x.txt', 'src/one.go', 'src/sub/two.go', 'src/sub/notes.md',
    'src/.cache/c', 'build/out.bin', 'build/keep/k.txt', 'build/drop/d.txt', 'x/y/a.txt', 'x/y/b.txt', 'docs/guide.md', 'docs/api/ref.md', 'docs/img/logo.png']) put(f);
  writeFileSync(join(outside, 'secret'), 'secret');
  symlinkSync('a.txt', join(ctx, 'link-in'));
  symlinkSync(join(outside, 'secret'), join(ctx, 'link-out'));
  symlinkSync('build', join(ctx, 'build-link'));
});

test.after(() => {
  rmSync(ctx, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

test('globs: Go\'s rules (dot files match *, classes, escapes), ** for any depth, Go\'s order', () => {
  assert.equal(expandGlob(ctx, '*.txt'), ['.hidden.txt', 'a.txt', 'arr[0].txt', 'b.txt']);
  assert.equal(expandGlob(ctx, 'arr[[]0].txt'), ['arr[0].txt']);
  assert.equal(expandGlob(ctx, '[ab].txt'), ['a.txt', 'b.txt']);
  assert.equal(expandGlob(ctx, 'a\\.txt'), ['a.txt']);
  // sorted per directory: a/ before a-b/ (not as whole strings)
  assert.equal(expandGlob(ctx, 'a*/x.txt'), ['a/x.txt', 'a-b/x.txt']);
  assert.equal(expandGlob(ctx, 'src/**/*.go'), ['src/one.go', 'src/sub/two.go']);
  assert.equal(expandGlob(ctx, '*/nosuch'), []);
  assert.equal(expandGlob(ctx, 'plain/no/glob'), ['plain/no/glob']);
});

test('expansion: a leading / is the context root; .. may not leave it; links may not lead out', () => {
  assert.equal(expandHostSources(['/a.txt', './x/../b.txt'], { contextDir: ctx }).map((i) => i.rel), ['a.txt', 'b.txt']);
  assert.throws(() => expandHostSources(['../x'], { contextDir: ctx }), /outside the build context/);
  assert.throws(() => expandHostSources(['link-out'], { contextDir: ctx }), /leads outside the build context/);
  const [link] = expandHostSources(['link-in'], { contextDir: ctx });
  assert.is(link!.name, 'link-in');
  assert.is(link!.real, join(ctx, 'a.txt'));
  assert.throws(() => expandHostSources(['nosuch'], { contextDir: ctx }), /"nosuch": no such file or directory$/);
  assert.throws(() => expandHostSources(['*.none'], { contextDir: ctx }), /"\*\.none": no such file or directory/);
  assert.equal(expandHostSources(['.'], { contextDir: ctx }).map((i) => [i.rel, i.isDir]), [['', true]]);
});

test('expansion: ignored items are left out; a SRC with nothing left fails as missing, naming the file', () => {
  const ignore = new PathMatcher(['*.txt', '!b.txt', 'build'], '/ctx/.dockerignore');
  assert.equal(expandHostSources(['*.txt'], { contextDir: ctx, ignore }).map((i) => i.rel), ['b.txt']);
  assert.throws(() => expandHostSources(['a.txt'], { contextDir: ctx, ignore }), /"a\.txt": no such file or directory \(excluded by \/ctx\/\.dockerignore\)/);
  assert.throws(() => expandHostSources(['build/out.bin'], { contextDir: ctx, ignore }), /excluded/);
  // a link to an excluded file is not a way around the ignore file
  assert.throws(() => expandHostSources(['link-in'], { contextDir: ctx, ignore }), /excluded/);
  assert.throws(() => expandHostSources(['build-link'], { contextDir: ctx, ignore }), /excluded/);
  // an excluded directory that may hold re-included files stays (its walk filters)
  const reinclude = new PathMatcher(['build', '!build/keep'], '.dockerignore');
  assert.equal(expandHostSources(['build'], { contextDir: ctx, ignore: reinclude }).map((i) => i.rel), ['build']);
});

test('expansion: --exclude speaks of the names under DEST; --parents keeps the path (from a /./ pivot when there is one)', () => {
  const exclude = excludeMatcher(['*.txt']);
  assert.equal(expandHostSources(['[ab]*'], { contextDir: ctx, exclude }).map((i) => i.rel), ['a', 'a-b', 'build', 'build-link']);
  assert.throws(() => expandHostSources(['a.txt'], { contextDir: ctx, exclude }), /\(excluded by --exclude\)/);
  // a directory source is never excluded by its own name: what is under it is
  assert.equal(expandHostSources(['x'], { contextDir: ctx, exclude: excludeMatcher(['x']) }).length, 1);
  const parents = expandHostSources(['./x/y/a.txt', 'x/./y/b.txt', 'docs'], { contextDir: ctx, parents: true });
  assert.equal(parents.map((i) => i.kept), ['x/y/a.txt', 'y/b.txt', 'docs']);
  // with --parents the kept path is what --exclude sees
  assert.throws(() => expandHostSources(['x/y/a.txt'], { contextDir: ctx, parents: true, exclude: excludeMatcher(['x/y']) }), /excluded/);
});

const walk = (src: string, filters: SourceFilters = {}) =>
  expandHostSources([src], { contextDir: ctx, ...filters }).flatMap((item) => [...sourceEntries(item, filters)].map((e) => e.member));

test('walk: a directory, depth first and sorted; excluded paths left out, skipped dirs not entered', () => {
  assert.equal(walk('src'), ['.', './.cache', './.cache/c', './one.go', './sub', './sub/notes.md', './sub/two.go']);
  assert.equal(walk('src', { ignore: new PathMatcher(['src/.cache', '**/*.md']) }), ['.', './one.go', './sub', './sub/two.go']);
  // --exclude relative to the source directory
  // (a directory whose files are all excluded is still made, as buildkit does)
  assert.equal(walk('docs', { exclude: excludeMatcher(['**/*.md']) }), ['.', './api', './img', './img/logo.png']);
  assert.equal(walk('docs', { exclude: excludeMatcher(['api', '*.md']) }), ['.', './img', './img/logo.png']);
  assert.equal(walk('docs', { exclude: excludeMatcher(['*.md']) }), ['.', './api', './api/ref.md', './img', './img/logo.png']);
  // a file source is its one entry, the file a link leads to
  assert.equal(walk('link-in'), ['a.txt']);
});

test('walk: an excluded directory comes back (before its child) only when a ! pattern brings a child back', () => {
  const ignore = new PathMatcher(['build', '!build/keep/k.txt']);
  const inBuild = (m: string) => m === './build' || m.startsWith('./build/');
  assert.equal(walk('.', { ignore }).filter(inBuild), ['./build', './build/keep', './build/keep/k.txt']);
  assert.equal(walk('build', { ignore }), ['.', './keep', './keep/k.txt']);
  const none = new PathMatcher(['build', '!build/nosuch']);
  assert.equal(walk('.', { ignore: none }).filter(inBuild), []);
});

test('walk: an unreadable directory fails the walk (a copy is never silently partial)', () => {
  if (process.getuid?.() === 0) return; // root reads it anyway
  const dir = join(ctx, 'locked');
  mkdirSync(join(dir, 'in'), { recursive: true });
  chmodSync(dir, 0o000);
  try {
    assert.throws(() => walk('locked'), /cannot read/);
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('digest: changes with a file the COPY reads (content, mode, a link\'s target), not with others', async () => {
  const d = (sources: string[], opts = {}) => sourcesDigest(ctx, sources, opts);
  const base = await d(['src', 'a.txt']);
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.is(await d(['src', 'a.txt']), base, 'stable');
  put('b.txt', 'changed');
  put('docs/guide.md', 'changed');
  assert.is(await d(['src', 'a.txt']), base, 'files the COPY does not read');
  put('src/sub/two.go', 'changed');
  const afterContent = await d(['src', 'a.txt']);
  assert.is.not(afterContent, base);
  chmodSync(join(ctx, 'src/one.go'), 0o755);
  const afterMode = await d(['src', 'a.txt']);
  assert.is.not(afterMode, afterContent);
  put('src/new.go', 'new');
  assert.is.not(await d(['src', 'a.txt']), afterMode, 'a new file under a directory source');
  // what the ignore file or --exclude leaves out does not count
  const ignore = new PathMatcher(['src/sub']);
  const ignored = await d(['src'], { ignore });
  put('src/sub/two.go', 'again');
  assert.is(await d(['src'], { ignore }), ignored);
  const excluded = await d(['docs'], { excludes: ['**/*.md'] });
  put('docs/api/ref.md', 'changed');
  assert.is(await d(['docs'], { excludes: ['**/*.md'] }), excluded);
  put('docs/img/logo.png', 'changed');
  assert.is.not(await d(['docs'], { excludes: ['**/*.md'] }), excluded);
  // a glob follows what it matches
  const globbed = await d(['*.txt']);
  put('c.txt', 'new match');
  assert.is.not(await d(['*.txt']), globbed);
  // ADD: URLs are not in the context
  assert.is(await d(['a.txt', 'https://example.com/x'], { add: true }), await d(['a.txt']));
  const err = await d(['nosuch']).then(() => undefined, (e: Error) => e);
  assert.match(err?.message ?? '', /"nosuch": no such file or directory/);
});

test('digest: a link inside a directory source counts by its target, a file source through a link by its content', async () => {
  mkdirSync(join(ctx, 'links'));
  symlinkSync('one', join(ctx, 'links', 'l'));
  const before = await sourcesDigest(ctx, ['links']);
  unlinkSync(join(ctx, 'links', 'l'));
  symlinkSync('two', join(ctx, 'links', 'l'));
  assert.is.not(await sourcesDigest(ctx, ['links']), before);
  const viaLink = await sourcesDigest(ctx, ['link-in']);
  put('a.txt', 'new content');
  assert.is.not(await sourcesDigest(ctx, ['link-in']), viaLink);
});

test.run();
