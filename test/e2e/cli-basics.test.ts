// The CLI conventions of docs/cli.md, checked on the built bins as a user runs them:
// version, help, one-line errors with exit code 125, --root / PKIT_ROOT.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');
const CLIS = ['pbuild', 'prun', 'pcopy'] as const;
// Node from the repo first, as `pnpm run` sets it up: the bins start with `#!/usr/bin/env node`.
// The real node binary first: pnpm's .bin/node wrapper does not exec, so signals would miss the CLI.
const PATH = `${join(REPO, 'node_modules', 'node', 'bin')}:${join(REPO, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
const scratch = mkdtempSync(join(tmpdir(), 'pkit-cli-'));
const env: NodeJS.ProcessEnv = { ...process.env, PATH, XDG_CACHE_HOME: join(scratch, 'cache'), XDG_DATA_HOME: join(scratch, 'data') };
delete env.PKIT_ROOT;
delete env.DEBUG;

// Build once if a bundle is missing, so the test works right after `pnpm install`.
const missing = CLIS.filter((c) => !existsSync(join(REPO, 'packages', c, 'dist', `${c}.mjs`)));
if (missing.length) {
  const b = spawnSync('bash', [join(REPO, 'scripts', 'build.sh')], { cwd: REPO, env, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`no build of ${missing.join(', ')} and building failed: run \`pnpm run build\`\n${b.stderr}`);
}

function cli(name: string, args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(join(REPO, 'packages', name, 'bin', name), args, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  assert.is(r.code, 125, `exit code (stderr: ${r.stderr})`);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^Error: [^\n]+\n$/, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

for (const name of CLIS) {
  test(`${name} --version prints name/version platform node`, () => {
    const r = cli(name, ['--version']);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${name}/0\\.1\\.0 linux-[a-z0-9]+ node-v\\d+\\.\\d+\\.\\d+\\n$`));
    assert.is(r.stderr, '');
  });

  test(`${name} --help shows usage`, () => {
    const r = cli(name, ['--help']);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /USAGE/);
    assert.match(r.stdout, new RegExp(`\\$ ${name} \\[COMMAND\\]`));
  });

  test(`${name}: an unknown command is one line and 125`, () => {
    assertOneLineError(cli(name, ['no-such-command']), /unknown command "no-such-command"/);
  });

  test(`${name}: an unknown flag is one line and 125`, () => {
    assertOneLineError(cli(name, ['--no-such-flag']), /--no-such-flag/);
  });
}

test('prun --help lists its commands', () => {
  const r = cli('prun', ['--help']);
  assert.match(r.stdout, /COMMANDS\n(.*\n)*\s+info\s/);
});

test('prun info --root: the store paths, id mappings, cgroup version and network backends, as podman shapes them', () => {
  const root = join(scratch, 'x');
  const r = cli('prun', ['info', '--root', root, '--format', 'json']);
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as {
    store: { graphRoot: string; runRoot: string; graphDriverName: string };
    host: { cgroupVersion: string; idMappings: { uidmap: Array<{ container_id: number; host_id: number; size: number }> }; slirp4netns?: { executable: string } };
  };
  assert.is(info.store.graphRoot, root);
  assert.type(info.store.runRoot, 'string');
  assert.is(info.store.graphDriverName, 'overlay');
  assert.is(info.host.cgroupVersion, existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1');
  if (process.getuid?.() !== 0) assert.equal(info.host.idMappings.uidmap[0], { container_id: 0, host_id: process.getuid!(), size: 1 });
  assert.is(info.host.slirp4netns?.executable, '/usr/bin/slirp4netns');
  // the default output is YAML; a Go template picks one value
  const yaml = cli('prun', ['info', '--root', root]).stdout;
  assert.match(yaml, new RegExp(`^store:\\n(  .*\\n)*  graphRoot: ${root}\\n`, 'm'));
  assert.is(cli('prun', ['info', '--root', root, '--format', '{{.Store.GraphRoot}}']).stdout, `${root}\n`);
});

test('prun info takes the root from PKIT_ROOT, and --root wins over it', () => {
  const fromEnv = join(scratch, 'env-root');
  const graphRoot = (r: { stdout: string }) => (JSON.parse(r.stdout) as { store: { graphRoot: string } }).store.graphRoot;
  assert.is(graphRoot(cli('prun', ['info', '--format', 'json'], { PKIT_ROOT: fromEnv })), fromEnv);
  const fromFlag = join(scratch, 'flag-root');
  assert.is(graphRoot(cli('prun', ['info', '--format', 'json', '--root', fromFlag], { PKIT_ROOT: fromEnv })), fromFlag);
});

test('prun info without --root uses the per-user data dir', () => {
  if (process.getuid?.() === 0) return; // root uses /var/lib/pkit
  assert.is((JSON.parse(cli('prun', ['info', '--format', 'json']).stdout) as { store: { graphRoot: string } }).store.graphRoot, join(scratch, 'data', 'pkit'));
});

test('prun version: the table, JSON, and a Go template', () => {
  const r = cli('prun', ['version']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Version:\s+\d+\.\d+\.\d+\n/);
  assert.is((JSON.parse(cli('prun', ['version', '--format', 'json']).stdout) as { Client: { Os: string } }).Client.Os, 'linux');
  assert.match(cli('prun', ['version', '--format', '{{.Client.Version}}']).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('prun info: a flag error is one line and 125', () => {
  assertOneLineError(cli('prun', ['info', '--bogus']), /^Error: Nonexistent flag: --bogus/);
  assertOneLineError(cli('prun', ['info', '--root']), /--root/);
});

test('an unusable compile cache dir does not break the CLI', () => {
  const file = join(scratch, 'a-file');
  writeFileSync(file, '');
  const r = cli('prun', ['--version'], { XDG_CACHE_HOME: file }); // mkdir fails: ENOTDIR
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
