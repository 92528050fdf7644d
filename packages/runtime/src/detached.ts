// Detached containers: `pkit-runtime run --detach` (native/helper/monitor.c) returns once the
// container runs and leaves a monitor that logs its output in podman's k8s-file format and
// records the exit code in <root>/<id>/exit and <exitDir>/<id>. crun has no monitor of its own
// (podman pairs it with conmon), so only the helper is accepted here.
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { StoreError } from '@pkit/storage/errors';
import { execFileResult } from './exec-file.ts';
import { deleteContainer, globalArgs, killContainer, runtimeBinary } from './run.ts';
import type { RuntimeBinary } from './run.ts';

/** A runtime failure, one line (the CLIs print `message` alone). */
export class DetachedError extends StoreError {
  override name = 'DetachedError';
  constructor(message: string, code = 'PKIT_RUNTIME') {
    super(message, code);
  }
}

export interface StartDetachedOptions {
  /** A RuntimeBinary, or a path/name as for runtimeBinary({runtime}); default: runtimeBinary(). */
  runtime?: RuntimeBinary | string;
  /** The runtime's state directory (`--root`). */
  root: string;
  bundle: string;
  id: string;
  /** The k8s-file log (appended to). */
  logPath: string;
  /** The exit code is written to `<exitDir>/<id>` (created by the monitor when missing). */
  exitDir: string;
  /** Environment of the runtime process; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface DetachedHandle {
  id: string;
  /** The container's init process (host pid). */
  pid: number;
  /** The monitor process. */
  monitorPid: number;
  logPath: string;
  /** `<exitDir>/<id>`: holds the exit code once the container exited (survives delete()). */
  exitFile: string;
  /** Resolves with the exit code (128+N for a signal) once the monitor recorded it. */
  wait(): Promise<number>;
  /** `kill ID SIGNAL`; 'KILL', 'SIGKILL' and '9' all work. */
  kill(signal?: string): Promise<void>;
  /** `delete ID` (`--force` kills a running one first); an unknown id is not an error. */
  delete(opts?: { force?: boolean }): Promise<void>;
}

/** One line of a runtime's stderr (its last non-empty line), for a one-line error. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

function readExitCode(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (text === '') return undefined; // being written
  const n = Number(text);
  if (!Number.isInteger(n)) throw new DetachedError(`${file}: not an exit code: ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `file` with a backoff (5ms doubling to 200ms) until it holds an exit code. */
export async function waitForExitFile(file: string, opts: { timeoutMs?: number } = {}): Promise<number> {
  const end = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let delay = 5;
  for (;;) {
    const code = readExitCode(file);
    if (code !== undefined) return code;
    if (Date.now() > end) throw new DetachedError(`timed out waiting for ${file}`, 'PKIT_TIMEOUT');
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

function resolveRuntime(r: RuntimeBinary | string | undefined): RuntimeBinary {
  return typeof r === 'object' ? r : runtimeBinary(r === undefined ? {} : { runtime: r });
}

/**
 * `RUNTIME --root ROOT run --detach --log-path L --exit-dir D --pid-file … --monitor-pid-file …
 * --bundle B ID`: returns once the container runs. A runtime failure rejects with a one-line
 * DetachedError (`pkit-runtime run ID: <its message>`).
 */
export async function startDetached(opts: StartDetachedOptions): Promise<DetachedHandle> {
  const runtime = resolveRuntime(opts.runtime);
  const name = basename(runtime.path);
  if (runtime.kind === 'crun') {
    throw new DetachedError(`${name} has no monitor for detached containers: use pkit-runtime`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'pkit-detach-'));
  try {
    const pidFile = join(tmp, 'pid'), monitorPidFile = join(tmp, 'monitor-pid');
    const args = [
      ...globalArgs({ runtime, root: opts.root }),
      'run', '--detach',
      '--log-path', opts.logPath,
      '--exit-dir', opts.exitDir,
      '--pid-file', pidFile,
      '--monitor-pid-file', monitorPidFile,
      '--bundle', opts.bundle,
      opts.id,
    ];
    const r = await execFileResult(runtime.path, args, opts.env ? { env: opts.env } : {});
    if (r.exitCode !== 0) {
      const msg = oneLine(r.stderr) || (r.spawnError ? r.spawnError.message : r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
      throw new DetachedError(`${name} run ${opts.id}: ${msg}`);
    }
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const monitorPid = Number(readFileSync(monitorPidFile, 'utf8').trim());
    const exitFile = join(opts.exitDir, opts.id);
    let waiting: Promise<number> | undefined;
    return {
      id: opts.id,
      pid,
      monitorPid,
      logPath: opts.logPath,
      exitFile,
      wait: () => (waiting ??= waitForExitFile(exitFile)),
      kill: async (signal = 'SIGTERM') => {
        try {
          await killContainer(runtime, opts.id, signal, opts.root);
        } catch (e) {
          throw new DetachedError(oneLine((e as Error).message));
        }
      },
      delete: async (d = {}) => {
        try {
          await deleteContainer(runtime, opts.id, { root: opts.root, ...(d.force ? { force: true } : {}) });
        } catch (e) {
          throw new DetachedError(oneLine((e as Error).message));
        }
      },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface LogRecord {
  /** RFC3339Nano, UTC, as written (nanoseconds kept: a Date would drop them). */
  time: string;
  stream: 'stdout' | 'stderr';
  /** true for a piece of a line (P) whose rest follows in later records. */
  partial: boolean;
  text: string;
}

const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP]) (.*)$/s;

/** Parses one k8s-file line (without its newline); throws DetachedError when malformed. */
export function parseLogLine(line: string, where = 'log'): LogRecord {
  const m = RECORD.exec(line);
  if (!m) throw new DetachedError(`${where}: not a k8s-file record: ${JSON.stringify(line.slice(0, 80))}`, 'PKIT_LOG');
  return { time: m[1]!, stream: m[2] as LogRecord['stream'], partial: m[3] === 'P', text: m[4]! };
}

/** The records of a k8s-file log, in order. A missing file has none. */
export async function* readLog(path: string): AsyncIterable<LogRecord> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<boolean>((resolve, reject) => {
    stream.once('open', () => resolve(true));
    stream.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? resolve(false) : reject(e)));
  });
  if (!(await opened)) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line === '') continue;
      yield parseLogLine(line, `${path}:${n}`);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/**
 * The records of a k8s-file log as they are written: polls the file (50ms) and yields every
 * complete line, until `until` settles and the rest of the file has been read.
 * A trailing line without its newline yet is held back until it is complete.
 */
export async function* followLog(path: string, until: Promise<unknown>, opts: { intervalMs?: number } = {}): AsyncIterable<LogRecord> {
  let done = false;
  until.then(() => { done = true; }, () => { done = true; });
  const interval = opts.intervalMs ?? 50;
  let offset = 0, n = 0;
  let pending = Buffer.alloc(0);
  const buf = Buffer.alloc(65536);
  for (;;) {
    const last = done; // read once more after `until` settled
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (fd !== undefined) {
      try {
        for (;;) {
          const got = readSync(fd, buf, 0, buf.length, offset);
          if (got === 0) break;
          offset += got;
          pending = Buffer.concat([pending, buf.subarray(0, got)]);
          let nl: number;
          while ((nl = pending.indexOf(10)) >= 0) {
            const line = pending.subarray(0, nl).toString('utf8');
            pending = pending.subarray(nl + 1);
            n++;
            if (line !== '') yield parseLogLine(line, `${path}:${n}`);
          }
        }
      } finally {
        closeSync(fd);
      }
    }
    if (last) return;
    await sleep(interval);
  }
}

/** RFC3339Nano in UTC, as the monitor writes it (Date has milliseconds: the rest is zeros). */
function logTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * Writes a k8s-file log from output chunks, as the monitor does for detached containers:
 * one `F` record per complete line, a `P` record for the tail of a chunk without its newline.
 * Used by `prun run` in the foreground, which passes the output through and keeps the log.
 */
export class LogWriter {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'a', 0o600);
  }

  write(stream: LogRecord['stream'], chunk: Buffer): void {
    const time = logTime();
    let out = '';
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      out += `${time} ${stream} ${nl === -1 ? 'P' : 'F'} ${chunk.subarray(start, end).toString('utf8')}\n`;
      start = end + 1;
    }
    if (out) writeSync(this.fd, out);
  }

  close(): void {
    closeSync(this.fd);
  }
}
