// How the layer workers (apply-worker, diff-worker: programs run as root of a user namespace)
// report a failure to the process that started them: one JSON line on stderr,
// {"error":MESSAGE,"name":NAME,"code":CODE}, and a non-zero exit. The caller reads the last
// stderr line back; a worker that died without writing it is reported with its stderr's end.
import { StoreError } from '../errors.ts';

export interface WorkerError {
  error: string;
  name?: string;
  code?: string;
}

/** The last line of `text` that is not blank. */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

/** The worker's side: writes `err` as its last stderr line. */
export function reportWorkerError(err: unknown): void {
  const e = err as Partial<StoreError>;
  const out: WorkerError = { error: e instanceof Error ? (e.message ?? String(err)) : String(err) };
  if (typeof e.name === 'string') out.name = e.name;
  if (typeof e.code === 'string') out.code = e.code;
  process.stderr.write(`${JSON.stringify(out)}\n`);
}

/** The caller's side: what the worker reported, if its last stderr line is such a report. */
export function reportedWorkerError(stderr: string): WorkerError | undefined {
  try {
    const v = JSON.parse(lastLine(stderr)) as WorkerError;
    return typeof v === 'object' && v !== null && typeof v.error === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A worker that died without a report: its exit and the end of its stderr. */
export function workerDied(what: string, exitCode: number, stderr: string): StoreError {
  const text = stderr.split('\n').filter((l) => l.trim() !== '').slice(-5).join('; ');
  return new StoreError(`layer ${what} worker failed (exit ${exitCode})${text ? `: ${text}` : ''}`, 'PKIT_LAYER_WORKER');
}
