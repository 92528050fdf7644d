// Shared test utilities for the storage tests: temp dirs, stores, child processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import { Store } from '../../../packages/storage/src/store.ts';

export function tempDir(label = 'pkit-test'): string {
  return mkdtempSync(join(tmpdir(), `${label}-`));
}

export function openTempStore(): { store: Store; root: string; cleanup: () => void } {
  const root = tempDir('pkit-store');
  const store = Store.open({ root, runRoot: join(root, 'run') });
  return { store, root, cleanup: () => { store.close(); rmSync(root, { recursive: true, force: true }); } };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const WORKERS = join(import.meta.dirname, 'workers');

/** Starts `node <worker>.ts args...`; the returned child can be killed mid-way. */
export function startWorker(worker: string, args: string[]) {
  const child = spawn(process.execPath, [join(WORKERS, `${worker}.ts`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<ChildResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => stdout };
}

export async function runWorker(worker: string, args: string[]): Promise<ChildResult> {
  return startWorker(worker, args).done;
}

/** Resolves once `pred()` holds, polling; rejects after `ms`. */
export async function waitFor(pred: () => boolean, ms = 10000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Asserts that `p` rejects with an error whose message matches `pattern`; returns the error. */
export async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof Error) || !pattern.test(err.message)) {
      throw new Error(`expected a rejection matching ${pattern}, got: ${err instanceof Error ? err.message : String(err)}`);
    }
    return err;
  }
  throw new Error(`expected a rejection matching ${pattern}, but it resolved`);
}

/** Asserts that `fn` throws a one-line StoreError (or `ctor`) whose message matches `expected`. */
export function throwsStoreError(fn: () => unknown, expected: RegExp | string, ctor: typeof StoreError = StoreError): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ctor);
    const msg = (err as Error).message;
    assert.not.match(msg, /\n/, 'one-line message');
    if (typeof expected === 'string') assert.ok(msg.includes(expected), `message ${JSON.stringify(msg)} should include ${JSON.stringify(expected)}`);
    else assert.match(msg, expected);
    return;
  }
  assert.unreachable('should have thrown');
}
