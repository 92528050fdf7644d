// Running the built CLIs as a user would, for the end-to-end tests.
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');
export const FIXTURE = process.env.PKIT_TEST_FIXTURE ?? join(REPO, 'test/bed/out/busybox-rootfs.tar');
export const REGISTRY = process.env.PKIT_TEST_REGISTRY ?? '127.0.0.1:5100';
export const AUTH_REGISTRY = process.env.PKIT_TEST_AUTH_REGISTRY ?? '127.0.0.1:5101';
export const AUTH_USER = process.env.PKIT_TEST_AUTH_USER ?? 'pkituser';
export const AUTH_PASS = process.env.PKIT_TEST_AUTH_PASS ?? 'pkitpass';
// Node from the repo first, as `pnpm run` sets it up: the bins start with `#!/usr/bin/env node`.
// The real node binary first: pnpm's .bin/node wrapper does not exec, so signals would miss the CLI.
const PATH = `${join(REPO, 'node_modules', 'node', 'bin')}:${join(REPO, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;

export type Cli = 'prun' | 'pcopy' | 'pbuild';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempDir(label = 'pkit-e2e'): string {
  return mkdtempSync(join(tmpdir(), `${label}-`));
}

/** A build context: a temp dir with these files (names may have directories). */
export function makeContext(files: Record<string, string>): string {
  const dir = tempDir('pkit-ctx');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export function binPath(cli: Cli): string {
  return join(REPO, 'packages', cli, 'bin', cli);
}

export function requireBuild(): void {
  for (const c of ['prun', 'pcopy', 'pbuild'] as const) {
    assert.ok(existsSync(join(REPO, 'packages', c, 'dist', `${c}.mjs`)), `no build of ${c}: run "pnpm run build"`);
  }
}

/** Runs a CLI to completion; `env` adds to (and may unset with undefined) the test's env. */
export function run(cli: Cli, args: string[], opts: { input?: Buffer | string; env?: Record<string, string | undefined> } = {}): Run {
  const r = spawnSync(binPath(cli), args, {
    input: opts.input,
    encoding: 'utf8',
    env: { ...process.env, PATH, ...opts.env },
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a shell pipeline (bash -o pipefail) with the CLIs on PATH-like variables $PRUN, $PCOPY. */
export function pipeline(script: string, env: Record<string, string> = {}): Run {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, PATH, PRUN: binPath('prun'), PCOPY: binPath('pcopy'), ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function ok(r: Run, what = 'command'): Run {
  assert.is(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** Exit 125 (or `code`), one line on stderr, no stack trace, matching `pattern`. */
export function oneLineError(r: Run, pattern: RegExp, code = 125): void {
  assert.is(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr.trimEnd().split('\n').at(-1)!, /^Error: /, `error line, got: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

/** Starts a command in the background (to be killed mid-way). */
export function start(cli: Cli, args: string[], env: Record<string, string> = {}) {
  const child = spawn(binPath(cli), args, { env: { ...process.env, PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, done, stderr: () => stderr };
}
