// The layer diff worker: a small program that writes the layer tar of an overlay upper
// directory (writeLayerTar) on its stdout, so that it can run as root inside the container's
// user namespace (`pkit-runtime userns-exec`, as the apply worker does): there it can read every
// file of a subordinate owner, and the owners it sees, and writes into the tar, are the
// container's own ids. See docs/storage.md "Committing an upper directory".
//
//   node diff-worker-main.ts [--timestamp SECONDS [--timestamp-mode clamp|set]] [--] DIR
//
// Protocol: success: exit 0, the tar on stdout and nothing else there. Failure: exit 1 and one
// JSON line on stderr, {"error":MESSAGE,"name":NAME,"code":CODE}, from which diffWorkerError
// rebuilds the StoreError (the tar on stdout is then incomplete: the caller discards it).
//
// This module is the worker's code and the caller's side (argv, errors); the program itself is
// diff-worker-main.ts, which bundles emit as an entry file of their own.
import { fileURLToPath } from 'node:url';
import { StoreError } from '../errors.ts';
import { writeLayerTar, type LayerTarOptions } from './diff.ts';
import { reportedWorkerError, reportWorkerError, workerDied } from './worker-protocol.ts';

/** The worker program in the sources, for `node DIFF_WORKER ...` (a bundle has its own copy). */
export const DIFF_WORKER: string = fileURLToPath(new URL('./diff-worker-main.ts', import.meta.url));

/** The worker's arguments (after the script path) for the layer of `dir`. */
export function diffWorkerArgs(dir: string, opts: LayerTarOptions = {}): string[] {
  const args: string[] = [];
  if (opts.timestamp !== undefined) {
    args.push('--timestamp', String(opts.timestamp));
    if (opts.timestampMode) args.push('--timestamp-mode', opts.timestampMode);
  }
  args.push('--', dir);
  return args;
}

/**
 * The caller's side: the StoreError a failed worker reported (exit code non-zero), or one with
 * code PKIT_LAYER_WORKER carrying its stderr when it died without its JSON line.
 */
export function diffWorkerError(exitCode: number, stderr: string): StoreError {
  const reported = reportedWorkerError(stderr);
  return reported ? new StoreError(reported.error, reported.code ?? 'PKIT_LAYER_DIFF') : workerDied('diff', exitCode, stderr);
}

function usage(message: string): never {
  throw new StoreError(`diff-worker: ${message} (usage: diff-worker.ts [--timestamp SECONDS [--timestamp-mode clamp|set]] DIR)`, 'PKIT_USAGE');
}

function parseArgs(argv: string[]): { dir: string; opts: LayerTarOptions } {
  const opts: LayerTarOptions = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--timestamp') {
      const v = argv[++i];
      if (v === undefined || !/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) usage(`--timestamp: not whole seconds: ${v ?? '(missing)'}`);
      opts.timestamp = Number(v);
      continue;
    }
    if (a === '--timestamp-mode') {
      const v = argv[++i];
      if (v !== 'clamp' && v !== 'set') usage(`--timestamp-mode: expected clamp or set, got ${v ?? '(missing)'}`);
      opts.timestampMode = v;
      continue;
    }
    if (a.startsWith('-') && a !== '-') usage(`unknown option ${a}`);
    rest.push(a);
  }
  if (rest.length !== 1) usage('expected one directory');
  if (opts.timestampMode && opts.timestamp === undefined) usage('--timestamp-mode needs --timestamp');
  return { dir: rest[0]!, opts };
}

/** The worker's whole run: the tar of the directory argv names on stdout, reported as above. */
export async function runDiffWorker(argv: string[]): Promise<void> {
  try {
    const { dir, opts } = parseArgs(argv);
    try {
      await writeLayerTar(dir, process.stdout, opts);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      // A file-system failure (its message names the path) or the output closing.
      throw new StoreError(`layer diff of ${dir}: ${err instanceof Error ? err.message : String(err)}`, 'PKIT_LAYER_DIFF');
    }
    process.exitCode = 0;
  } catch (err) {
    reportWorkerError(err);
    process.exitCode = 1;
  }
}
