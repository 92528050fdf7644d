// The layer apply worker: a small program that applies one layer with applyLayerTar in its own
// process, so that the rootless store can run it as root inside a user namespace (Node cannot
// enter one itself; `pkit-runtime userns-exec` starts this worker there). As root it gives files
// the tar's owners; see docs/storage.md "The user namespace shell".
//
//   node apply-worker.ts [--expected-digest DIGEST [--expected-size N]] DIR
//
// Protocol: the layer bytes (gzip, zstd or plain tar) on stdin; DIR must exist (and should be
// empty). Success: exit 0 and one JSON line on stdout,
//   {"diffID":"sha256:…","size":N,"digest":"sha256:…","inputSize":N}
// Failure: exit 1 and one JSON line on stderr, {"error":MESSAGE,"name":NAME,"code":CODE}, from
// which parseApplyWorkerResult rebuilds the StoreError the in-process call would have thrown.
//
// This module is the worker's code and the caller's side (argv, result parsing); the program
// itself is apply-worker-main.ts, which bundles emit as an entry file of their own.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DigestMismatchError, LayerSecurityError, StoreError } from '../errors.ts';
import { isDigest, type Digest } from '../digest.ts';
import { applyLayerTar, type ApplyOptions, type ApplyResult } from './apply.ts';
import { lastLine, reportedWorkerError, reportWorkerError, workerDied } from './worker-protocol.ts';

/** The worker program in the sources, for `node APPLY_WORKER ...` (a bundle has its own copy). */
export const APPLY_WORKER: string = fileURLToPath(new URL('./apply-worker-main.ts', import.meta.url));

/** The worker's arguments (after the script path) for applying into `dir`. */
export function applyWorkerArgs(dir: string, opts: ApplyOptions = {}): string[] {
  const args: string[] = [];
  if (opts.expected) {
    args.push('--expected-digest', opts.expected.digest);
    if (opts.expected.size !== undefined) args.push('--expected-size', String(opts.expected.size));
  }
  args.push('--', dir);
  return args;
}

function isResult(v: unknown): v is ApplyResult {
  const r = v as ApplyResult;
  return (
    typeof r === 'object' && r !== null &&
    typeof r.diffID === 'string' && isDigest(r.diffID) &&
    typeof r.digest === 'string' && isDigest(r.digest) &&
    Number.isSafeInteger(r.size) && Number.isSafeInteger(r.inputSize)
  );
}

/**
 * The caller's side: the worker's exit code and output -> its ApplyResult, or throws the
 * StoreError it reported (DigestMismatchError and LayerSecurityError keep their class). A
 * worker that died without its JSON line (killed, node missing, the user namespace shell
 * failing) gives a StoreError with code PKIT_LAYER_WORKER carrying its stderr.
 */
export function parseApplyWorkerResult(exitCode: number, stdout: string, stderr: string): ApplyResult {
  if (exitCode === 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(lastLine(stdout));
    } catch {
      parsed = undefined;
    }
    if (isResult(parsed)) {
      return { diffID: parsed.diffID, size: parsed.size, digest: parsed.digest, inputSize: parsed.inputSize };
    }
    throw new StoreError(`layer apply worker: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`, 'PKIT_LAYER_WORKER');
  }
  const reported = reportedWorkerError(stderr);
  if (reported) {
    if (reported.name === 'DigestMismatchError') throw new DigestMismatchError(reported.error);
    if (reported.name === 'LayerSecurityError') throw new LayerSecurityError(reported.error);
    throw new StoreError(reported.error, reported.code ?? 'PKIT_LAYER_APPLY');
  }
  throw workerDied('apply', exitCode, stderr);
}

function usage(message: string): never {
  throw new StoreError(`apply-worker: ${message} (usage: apply-worker.ts [--expected-digest D [--expected-size N]] DIR)`, 'PKIT_USAGE');
}

function parseArgs(argv: string[]): { dir: string; opts: ApplyOptions } {
  let digest: string | undefined;
  let size: number | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--expected-digest' || a === '--expected-size') {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      if (a === '--expected-digest') {
        if (!isDigest(v)) usage(`--expected-digest: not a digest: ${v}`);
        digest = v;
      } else {
        if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) usage(`--expected-size: not a size: ${v}`);
        size = Number(v);
      }
      continue;
    }
    if (a.startsWith('-') && a !== '-') usage(`unknown option ${a}`);
    rest.push(a);
  }
  if (rest.length !== 1) usage('expected one directory');
  if (size !== undefined && digest === undefined) usage('--expected-size needs --expected-digest');
  const opts: ApplyOptions = digest ? { expected: { digest: digest as Digest, ...(size !== undefined ? { size } : {}) } } : {};
  return { dir: rest[0]!, opts };
}

/** The worker's whole run: apply stdin into the directory argv names, report as above. */
export async function runApplyWorker(argv: string[]): Promise<void> {
  try {
    const { dir, opts } = parseArgs(argv);
    let st;
    try {
      st = statSync(dir);
    } catch (err) {
      throw new StoreError(`apply-worker: ${dir}: ${(err as Error).message}`, 'PKIT_LAYER_APPLY');
    }
    if (!st.isDirectory()) throw new StoreError(`apply-worker: ${dir} is not a directory`, 'PKIT_LAYER_APPLY');
    const r = await applyLayerTar(process.stdin, dir, opts);
    const line = JSON.stringify({ diffID: r.diffID, size: r.size, digest: r.digest, inputSize: r.inputSize });
    await new Promise<void>((resolve, reject) => process.stdout.write(`${line}\n`, (e) => (e ? reject(e) : resolve())));
    process.exitCode = 0;
  } catch (err) {
    reportWorkerError(err);
    process.exitCode = 1;
    // stdin may still be open (the input was refused midway): do not wait for its end
    process.stdin.destroy();
  }
}

