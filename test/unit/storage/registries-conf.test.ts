import { test } from 'uvu';
import { throwsStoreError } from './helpers.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { NotFoundError } from '../../../packages/storage/src/errors.ts';
import {
  findRegistry,
  isBlocked,
  isInsecure,
  loadRegistriesConf,
  parseRegistriesConfText,
  resolveShortName,
  rewriteReference,
  type RegistriesConf,
  type RegistriesConfOptions,
} from '../../../packages/storage/src/registries-conf.ts';

const roots: string[] = [];

interface Layout {
  root: string;
  home: string;
  system: string;
  systemDir: string;
  user: string;
  userDir: string;
  opts: (env?: Record<string, string>) => RegistriesConfOptions;
  write: (path: string, text: string) => string;
}

function layout(): Layout {
  const root = mkdtempSync(join(tmpdir(), 'pkit-regconf-'));
  roots.push(root);
  const home = join(root, 'home');
  const system = join(root, 'etc', 'containers', 'registries.conf');
  const user = join(home, '.config', 'containers', 'registries.conf');
  return {
    root,
    home,
    system,
    systemDir: join(dirname(system), 'registries.conf.d'),
    user,
    userDir: join(dirname(user), 'registries.conf.d'),
    opts: (env = {}) => ({ env, home, systemConfPath: system }),
    write: (path, text) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
  };
}

function conf(text: string): RegistriesConf {
  const l = layout();
  l.write(l.system, text);
  return loadRegistriesConf(l.opts());
}


test.after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

// ------------------------------------------------------------------ locations

test('no files at all: empty config, permissive mode', () => {
  const l = layout();
  const c = loadRegistriesConf(l.opts());
  assert.equal(c.files, []);
  assert.is(c.mainPath, l.system);
  assert.equal(c.unqualifiedSearchRegistries, []);
  assert.is(c.shortNameMode, 'permissive');
  assert.equal(c.registries, []);
});

test('system file, then system drop-ins in lexical order, then user drop-ins', () => {
  const l = layout();
  l.write(l.system, 'unqualified-search-registries = ["a.io"]\nshort-name-mode = "enforcing"\n[aliases]\n"x" = "a.io/x"\n');
  l.write(join(l.systemDir, '20-b.conf'), 'unqualified-search-registries = ["b.io"]\n');
  l.write(join(l.systemDir, '10-a.conf'), '[aliases]\n"x" = "ten.io/x"\n"y" = "ten.io/y"\n');
  l.write(join(l.systemDir, 'ignored.txt'), 'this is = = not toml');
  mkdirSync(join(l.systemDir, 'dir.conf'), { recursive: true });
  l.write(join(l.userDir, '00-user.conf'), '[aliases]\n"y" = "user.io/y"\n');
  const c = loadRegistriesConf(l.opts());
  assert.equal(c.files, [l.system, join(l.systemDir, '10-a.conf'), join(l.systemDir, '20-b.conf'), join(l.userDir, '00-user.conf')]);
  assert.equal(c.unqualifiedSearchRegistries, ['b.io']);
  assert.is(c.unqualifiedSearchRegistriesFile, join(l.systemDir, '20-b.conf'));
  assert.is(c.shortNameMode, 'enforcing');
  assert.equal(c.aliases.x, { value: 'ten.io/x', file: join(l.systemDir, '10-a.conf') });
  assert.equal(c.aliases.y, { value: 'user.io/y', file: join(l.userDir, '00-user.conf') });
});

test('a user registries.conf replaces the system file and its drop-ins', () => {
  const l = layout();
  l.write(l.system, 'unqualified-search-registries = ["system.io"]\n');
  l.write(join(l.systemDir, 'a.conf'), 'short-name-mode = "disabled"\n');
  l.write(l.user, 'unqualified-search-registries = ["user.io"]\n');
  l.write(join(l.userDir, 'b.conf'), '[aliases]\n"z" = "user.io/z"\n');
  const c = loadRegistriesConf(l.opts());
  assert.equal(c.files, [l.user, join(l.userDir, 'b.conf')]);
  assert.is(c.mainPath, l.user);
  assert.equal(c.unqualifiedSearchRegistries, ['user.io']);
  assert.is(c.shortNameMode, 'permissive');
});

test('XDG_CONFIG_HOME moves the user file', () => {
  const l = layout();
  const xdg = join(l.root, 'xdg');
  l.write(join(xdg, 'containers', 'registries.conf'), 'unqualified-search-registries = ["xdg.io"]\n');
  l.write(l.user, 'unqualified-search-registries = ["home.io"]\n');
  assert.equal(loadRegistriesConf(l.opts({ XDG_CONFIG_HOME: xdg })).unqualifiedSearchRegistries, ['xdg.io']);
  // a relative XDG_CONFIG_HOME is ignored, as the XDG spec says
  assert.equal(loadRegistriesConf(l.opts({ XDG_CONFIG_HOME: 'rel' })).unqualifiedSearchRegistries, ['home.io']);
});

test('CONTAINERS_REGISTRIES_CONF is exclusive', () => {
  const l = layout();
  l.write(l.system, 'unqualified-search-registries = ["system.io"]\n');
  l.write(l.user, 'unqualified-search-registries = ["user.io"]\n');
  l.write(join(l.userDir, 'x.conf'), '[aliases]\n"q" = "user.io/q"\n');
  const own = l.write(join(l.root, 'own.conf'), 'unqualified-search-registries = ["own.io"]\n');
  l.write(join(l.root, 'registries.conf.d', 'x.conf'), 'short-name-mode = "disabled"\n');
  const c = loadRegistriesConf(l.opts({ CONTAINERS_REGISTRIES_CONF: own }));
  assert.equal(c.files, [own]);
  assert.equal(c.unqualifiedSearchRegistries, ['own.io']);
  assert.equal(c.aliases, {});
  assert.is(c.shortNameMode, 'permissive');
  throwsStoreError(() => loadRegistriesConf(l.opts({ CONTAINERS_REGISTRIES_CONF: join(l.root, 'missing.conf') })), 'missing.conf (from $CONTAINERS_REGISTRIES_CONF) does not exist', NotFoundError);
});

test('malformed TOML names the file and line', () => {
  const l = layout();
  l.write(l.system, 'unqualified-search-registries = ["a.io"]\n\nprefix = "x" location = "y"\n');
  throwsStoreError(() => loadRegistriesConf(l.opts()), new RegExp(`^${l.system.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: invalid TOML: `));
  const m = layout();
  m.write(join(m.systemDir, '50-bad.conf'), 'a = "unterminated\n');
  throwsStoreError(() => loadRegistriesConf(m.opts()), /50-bad\.conf:1:\d+: invalid TOML/);
});

// ------------------------------------------------------------------ [[registry]]

test('[[registry]] entries, mirrors and wildcard prefixes', () => {
  const c = conf(`
[[registry]]
prefix = "example.com/foo"
location = "internal.example.net/bar"
insecure = true

[[registry.mirror]]
location = "mirror-1.example.com"
insecure = true
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "mirror-2.example.com/"

[[registry]]
location = "example.com"
blocked = true

[[registry]]
prefix = "*.internal.corp"
insecure = true
`);
  assert.is(c.registries.length, 3);
  const r0 = c.registries[0]!;
  assert.is(r0.prefix, 'example.com/foo');
  assert.is(r0.location, 'internal.example.net/bar');
  assert.ok(r0.insecure);
  assert.not.ok(r0.blocked);
  assert.equal(r0.mirrors, [
    { location: 'mirror-1.example.com', insecure: true, pullFromMirror: 'digest-only' },
    { location: 'mirror-2.example.com', insecure: false },
  ]);
  assert.is(c.registries[1]!.prefix, 'example.com');
  assert.is(c.registries[2]!.location, '');

  assert.is(findRegistry(c, 'example.com/foo/img:1'), r0);
  assert.is(findRegistry(c, 'example.com/foo'), r0);
  assert.is(findRegistry(c, 'example.com/foobar/img')!.prefix, 'example.com');
  assert.is(findRegistry(c, 'example.com/other')!.prefix, 'example.com');
  assert.is(findRegistry(c, 'example.com:5000/x')!.prefix, 'example.com'); // containers/image quirk
  assert.is(findRegistry(c, 'a.internal.corp/x')!.prefix, '*.internal.corp');
  assert.is(findRegistry(c, 'a.b.internal.corp:5000/x')!.prefix, '*.internal.corp');
  assert.is(findRegistry(c, 'internal.corp/x'), undefined);
  assert.is(findRegistry(c, 'evil.com/a.internal.corp/x'), undefined);
  assert.is(findRegistry(c, 'quay.io/x'), undefined);

  assert.is(rewriteReference(r0, 'example.com/foo/img:1'), 'internal.example.net/bar/img:1');
  assert.is(rewriteReference(c.registries[2], 'a.internal.corp/x'), 'a.internal.corp/x');
  assert.is(rewriteReference(undefined, 'quay.io/x'), 'quay.io/x');

  assert.ok(isBlocked(c, 'example.com/other:1'));
  assert.not.ok(isBlocked(c, 'example.com/foo/x'));
});

test('findRegistry normalises docker.io names', () => {
  const c = conf('[[registry]]\nprefix = "docker.io/library/busybox"\nlocation = "mirror.local/busybox"\n');
  assert.is(findRegistry(c, 'docker.io/busybox:1')!.prefix, 'docker.io/library/busybox');
  assert.is(findRegistry(c, 'index.docker.io/library/busybox')!.prefix, 'docker.io/library/busybox');
  assert.is(rewriteReference(findRegistry(c, 'docker.io/busybox:1'), 'docker.io/busybox:1'), 'mirror.local/busybox:1');
  assert.is(findRegistry(c, 'docker.io/library/busyboxx'), undefined);
});

test('isInsecure by host', () => {
  const c = conf(`
[[registry]]
location = "insecure.local:5000"
insecure = true

[[registry]]
location = "secure.io"
[[registry.mirror]]
location = "mirror.local"
insecure = true
`);
  assert.ok(isInsecure(c, 'insecure.local:5000'));
  assert.not.ok(isInsecure(c, 'insecure.local:5001'));
  assert.not.ok(isInsecure(c, 'secure.io'));
  assert.ok(isInsecure(c, 'mirror.local'));
  assert.not.ok(isInsecure(c, 'other.io'));
});

test('later files override [[registry]] entries by prefix', () => {
  const l = layout();
  l.write(l.system, '[[registry]]\nlocation = "r.io"\ninsecure = true\n[[registry]]\nlocation = "s.io"\n');
  l.write(join(l.systemDir, 'x.conf'), '[[registry]]\nlocation = "r.io"\nblocked = true\n');
  const c = loadRegistriesConf(l.opts());
  assert.is(c.registries.length, 2);
  const r = findRegistry(c, 'r.io/a')!;
  assert.not.ok(r.insecure);
  assert.ok(r.blocked);
  assert.is(r.file, join(l.systemDir, 'x.conf'));
});

test('v1 format is converted; mixing v1 and v2 is an error', () => {
  const c = conf('[registries.search]\nregistries = ["docker.io", "quay.io"]\n[registries.insecure]\nregistries = ["local:5000"]\n[registries.block]\nregistries = ["bad.io"]\n');
  assert.equal(c.unqualifiedSearchRegistries, ['docker.io', 'quay.io']);
  assert.ok(isInsecure(c, 'local:5000'));
  assert.ok(isBlocked(c, 'bad.io/x'));
  throwsStoreError(() => conf('unqualified-search-registries = ["a.io"]\n[registries.search]\nregistries = ["b.io"]\n'), 'mixes the v1 [registries.*] tables with v2 keys');
});

test('invalid settings are reported with the file', () => {
  const f = '/x/registries.conf';
  const p = (t: string) => parseRegistriesConfText(t, f);
  throwsStoreError(() => p('short-name-mode = "strict"'), `${f}: short-name-mode "strict" must be "enforcing", "permissive" or "disabled"`);
  throwsStoreError(() => p('unqualified-search-registries = "docker.io"'), `${f}: unqualified-search-registries must be an array of strings`);
  throwsStoreError(() => p('unqualified-search-registries = ["https://docker.io"]'), 'URI schemes are not supported');
  throwsStoreError(() => p('unqualified-search-registries = ["myregistry"]'), 'unqualified-search-registries entry "myregistry" must be a registry host');
  throwsStoreError(() => p('[[registry]]\ninsecure = true'), `${f}: [[registry]] #1: neither prefix nor location is set`);
  throwsStoreError(() => p('[[registry]]\nlocation = "a.io"\ninsecure = "yes"'), '[[registry]] prefix "a.io" insecure must be true or false, got "yes"');
  throwsStoreError(() => p('[[registry]]\nlocation = "http://a.io"'), 'URI schemes are not supported');
  throwsStoreError(() => p('[[registry]]\nprefix = "a.io"\n'), '[[registry]] prefix "a.io": location must be set');
  throwsStoreError(() => p('[[registry]]\nprefix = "*.a.io/foo"\n'), 'a wildcard must be the first label');
  throwsStoreError(() => p('[[registry]]\nprefix = "a.*.io"\nlocation = "x.io"'), 'a wildcard must be the first label');
  throwsStoreError(() => p('[[registry]]\nlocation = "a.io"\n[[registry]]\nlocation = "a.io/"'), 'prefix "a.io" is defined more than once');
  throwsStoreError(() => p('[[registry]]\nprefix = "p.io"\nlocation = "a.io"\ninsecure = true\n[[registry]]\nlocation = "a.io"'), 'conflicting insecure settings');
  throwsStoreError(() => p('[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\ninsecure = true'), 'mirror #1.location is not set');
  throwsStoreError(() => p('[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "sometimes"'), 'pull-from-mirror "sometimes" must be');
  throwsStoreError(() => p('[[registry]]\nlocation = "a.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "all"'), 'cannot be used with mirror-by-digest-only');
  throwsStoreError(() => p('registry = "a.io"'), '"registry" must be an array of tables');
  throwsStoreError(() => p('[aliases]\n"Foo" = "a.io/foo"'), 'repository name must be lowercase');
  throwsStoreError(() => p('[aliases]\n"a.io/foo" = "a.io/foo"'), 'an alias must be a short name');
  throwsStoreError(() => p('[aliases]\n"foo:1" = "a.io/foo"'), 'an alias must not have a tag or digest');
  throwsStoreError(() => p('[aliases]\n"foo" = "foo/bar"'), '[aliases] "foo" = "foo/bar": the value must be fully qualified');
  throwsStoreError(() => p('[aliases]\n"foo" = 3'), '[aliases] "foo" must be a string, got 3');
});

// ------------------------------------------------------------------ short names

test('resolveShortName: fully-qualified names resolve to themselves', () => {
  const c = conf('');
  assert.equal(resolveShortName(c, 'quay.io/a/b:1'), [{ reference: 'quay.io/a/b:1', source: { kind: 'fully-qualified' } }]);
  assert.equal(resolveShortName(c, 'docker.io/busybox'), [{ reference: 'docker.io/library/busybox', source: { kind: 'fully-qualified' } }]);
  assert.equal(resolveShortName(c, 'localhost/app')[0]!.reference, 'localhost/app');
});

test('resolveShortName: alias wins over search registries', () => {
  const l = layout();
  l.write(l.system, 'unqualified-search-registries = ["quay.io", "docker.io"]\n');
  const dropin = l.write(join(l.systemDir, '00-shortnames.conf'), '[aliases]\n"fedora" = "registry.fedoraproject.org/fedora"\n"pinned" = "quay.io/x/pinned:v2"\n"hub" = "docker.io/ubuntu"\n');
  const c = loadRegistriesConf(l.opts());
  assert.equal(resolveShortName(c, 'fedora'), [
    { reference: 'registry.fedoraproject.org/fedora', source: { kind: 'alias', alias: 'fedora', file: dropin } },
  ]);
  assert.is(resolveShortName(c, 'fedora:39')[0]!.reference, 'registry.fedoraproject.org/fedora:39');
  assert.is(resolveShortName(c, 'pinned')[0]!.reference, 'quay.io/x/pinned:v2');
  assert.is(resolveShortName(c, 'pinned:v3')[0]!.reference, 'quay.io/x/pinned:v3');
  const d = `sha256:${'a'.repeat(64)}`;
  assert.is(resolveShortName(c, `pinned@${d}`)[0]!.reference, `quay.io/x/pinned@${d}`);
  assert.is(resolveShortName(c, 'hub')[0]!.reference, 'docker.io/library/ubuntu');
});

test('resolveShortName: search registries in order, docker.io gets library/', () => {
  const l = layout();
  l.write(l.system, 'unqualified-search-registries = ["quay.io", "docker.io", "localhost:5000"]\n');
  const c = loadRegistriesConf(l.opts());
  assert.equal(resolveShortName(c, 'busybox:1.36'), [
    { reference: 'quay.io/busybox:1.36', source: { kind: 'search', registry: 'quay.io', file: l.system } },
    { reference: 'docker.io/library/busybox:1.36', source: { kind: 'search', registry: 'docker.io', file: l.system } },
    { reference: 'localhost:5000/busybox:1.36', source: { kind: 'search', registry: 'localhost:5000', file: l.system } },
  ]);
  assert.equal(
    resolveShortName(c, 'foo/bar').map((x) => x.reference),
    ['quay.io/foo/bar', 'docker.io/foo/bar', 'localhost:5000/foo/bar'],
  );
});

test('resolveShortName: no alias and no search registries is an error naming the files', () => {
  const l = layout();
  l.write(l.system, 'short-name-mode = "enforcing"\n');
  const d = l.write(join(l.systemDir, 'a.conf'), '[aliases]\n"other" = "a.io/other"\n');
  const c = loadRegistriesConf(l.opts());
  throwsStoreError(
    () => resolveShortName(c, 'x'),
    `short-name "x" did not resolve to an alias and no unqualified-search registries are defined in "${l.system}, ${d}"`,
  );
  const empty = loadRegistriesConf(layout().opts());
  throwsStoreError(() => resolveShortName(empty, 'x:1'), /short-name "x:1" did not resolve to an alias and no unqualified-search registries are defined in ".*etc\/containers\/registries\.conf"/);
  throwsStoreError(() => resolveShortName(empty, 'Bad'), 'must be lowercase');
  // An explicitly empty list in a later file clears an earlier one.
  const m = layout();
  m.write(m.system, 'unqualified-search-registries = ["a.io"]\n');
  m.write(join(m.systemDir, 'z.conf'), 'unqualified-search-registries = []\n');
  throwsStoreError(() => resolveShortName(loadRegistriesConf(m.opts()), 'x'), 'no unqualified-search registries are defined');
});

test.run();
