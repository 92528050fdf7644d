// Starting an OCI runtime on a bundle: pkit's own helper (native/build/Release/pkit-runtime)
// when it is built, else crun. Both speak the same CLI for what is used here:
// `RUNTIME [--root DIR] run --bundle DIR ID`, `kill ID SIGNAL`, `delete [--force] ID`.
import { accessSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, delimiter, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { StoreError } from '@pkit/storage/errors';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { execFileResult } from './exec-file.ts';

export type RuntimeKind = 'pkit-runtime' | 'crun' | 'other';

export interface RuntimeBinary {
  path: string;
  kind: RuntimeKind;
}

/** No runtime to start containers with; a StoreError so the CLIs print it as one line. */
export class RuntimeNotFoundError extends StoreError {
  override name = 'RuntimeNotFoundError';
  constructor(message = 'pkit-runtime not built: run pnpm install; or install crun') {
    super(message, 'PKIT_RUNTIME_NOT_FOUND');
  }
}

/** Where the native helper is built inside this repository. */
export const HELPER_PATH = fileURLToPath(new URL('../../../native/build/Release/pkit-runtime', import.meta.url));

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on $PATH (like `command -v`), or undefined. */
export function findInPath(name: string, pathEnv: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export function runtimeKind(path: string): RuntimeKind {
  const name = basename(path);
  if (name === 'pkit-runtime') return 'pkit-runtime';
  if (name === 'crun') return 'crun';
  return 'other';
}

export interface RuntimeBinaryOptions {
  /** An explicit runtime (`--runtime`): a path, or a name looked up on $PATH. */
  runtime?: string;
  /** Default: process.env. PKIT_RUNTIME there is used like `runtime`. */
  env?: NodeJS.ProcessEnv;
  /** The helper's location (tests). */
  helperPath?: string;
}

/**
 * Finds the runtime to start: an explicit one (option, then $PKIT_RUNTIME), else the native
 * helper when it is built, else crun from $PATH. Throws RuntimeNotFoundError otherwise.
 */
export function runtimeBinary(opts: RuntimeBinaryOptions = {}): RuntimeBinary {
  const env = opts.env ?? process.env;
  const explicit = opts.runtime ?? (env.PKIT_RUNTIME || undefined);
  if (explicit !== undefined) {
    const path = explicit.includes('/') ? explicit : findInPath(explicit, env.PATH ?? '');
    if (path === undefined || !isExecutable(path)) {
      throw new RuntimeNotFoundError(`runtime ${explicit} not found or not executable`);
    }
    return { path, kind: runtimeKind(path) };
  }
  const helper = opts.helperPath ?? HELPER_PATH;
  if (isExecutable(helper)) return { path: helper, kind: 'pkit-runtime' };
  const crun = findInPath('crun', env.PATH ?? '');
  if (crun) return { path: crun, kind: 'crun' };
  throw new RuntimeNotFoundError();
}

type StdioItem = 'inherit' | 'pipe' | 'ignore' | number | Readable | Writable;

export interface RunContainerOptions {
  runtime: RuntimeBinary;
  /** The bundle directory (config.json inside). */
  bundle: string;
  id: string;
  /** The runtime's state directory (`--root`); default: the runtime's own. */
  root?: string;
  /** 'inherit' (default), 'pipe', or per stream [stdin, stdout, stderr]. */
  stdio?: 'inherit' | 'pipe' | 'ignore' | [StdioItem, StdioItem, StdioItem];
  /**
   * crun's cgroup manager. Default: 'disabled' when the bundle asks for no resource limits,
   * else crun's own default. Ignored for other runtimes.
   */
  cgroupManager?: 'disabled' | 'cgroupfs' | 'systemd';
  /** Environment of the runtime process; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Signals received by this process that are passed on to the runtime (which passes them to the container). */
  forwardSignals?: NodeJS.Signals[];
  /**
   * A terminal process that gets no input from ours (podman's -t without -i): pkit-runtime's
   * `run --no-stdin` leaves our terminal as it is and reads nothing from it.
   */
  noStdin?: boolean;
}

export interface RunResult {
  /** The container's exit code, podman-style: 128+N for a signal; 125/126/127 for runtime errors. */
  exitCode: number;
  /** The runtime's own error message, when it failed rather than the container. */
  runtimeError?: string;
}

export interface RunningContainer {
  /** The runtime process (its stdio streams are set when piped). */
  child: ChildProcess;
  /** Resolves when the runtime exits; never rejects for a non-zero exit. */
  result: Promise<RunResult>;
}

const DEFAULT_FORWARD: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function bundleHasResources(bundle: string): boolean {
  try {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { linux?: { resources?: object } };
    return spec.linux?.resources !== undefined && Object.keys(spec.linux.resources).length > 0;
  } catch {
    return false; // the runtime reports the unreadable bundle itself
  }
}

/** The runtime's global options before the command. */
export function globalArgs(opts: Pick<RunContainerOptions, 'runtime' | 'root' | 'cgroupManager'>, extra: { log?: string; hasResources?: boolean } = {}): string[] {
  const args: string[] = [];
  if (opts.root !== undefined) args.push('--root', opts.root);
  if (opts.runtime.kind === 'crun') {
    const manager = opts.cgroupManager ?? (extra.hasResources ? undefined : 'disabled');
    if (manager) args.push(`--cgroup-manager=${manager}`);
    if (extra.log) args.push(`--log=${extra.log}`, '--log-format=json');
  }
  return args;
}

/**
 * Maps a runtime's failure to podman's codes: 127 command not found, 126 not executable,
 * 125 any other runtime error. `messages` are the runtime's error lines.
 */
export function classifyRuntimeError(messages: string[]): number {
  const text = messages.join('\n');
  if (/executable file .* not found|exec: .*: not found|No such file or directory/.test(text) && /exec/i.test(text)) return 127;
  if (/Permission denied/.test(text) && /exec/i.test(text)) return 126;
  return 125;
}

function readCrunLog(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; level?: string };
      if (rec.level === 'error' && rec.msg) out.push(rec.msg);
    } catch {
      out.push(line);
    }
  }
  return out;
}

/**
 * Starts `RUNTIME run --bundle DIR ID` with the given stdio. SIGINT/SIGTERM/SIGHUP received
 * by this process meanwhile go to the runtime, which passes them to the container; the
 * handlers are removed when the runtime exits.
 */
export function startContainer(opts: RunContainerOptions): RunningContainer {
  const isCrun = opts.runtime.kind === 'crun';
  // crun reports its errors (also those from inside the container before exec) here too.
  const log = isCrun ? join(opts.bundle, `.pkit-${opts.id}-${randomBytes(4).toString('hex')}.log`) : undefined;
  const args = [
    ...globalArgs(opts, { ...(log ? { log } : {}), hasResources: bundleHasResources(opts.bundle) }),
    'run',
    ...(opts.noStdin && !isCrun ? ['--no-stdin'] : []),
    '--bundle',
    opts.bundle,
    opts.id,
  ];
  const stdio = opts.stdio ?? 'inherit';
  // Plain spawn: this is on every `prun run`.
  const child = spawn(opts.runtime.path, args, {
    stdio: (Array.isArray(stdio) ? stdio : [stdio, stdio, stdio]) as StdioOptions,
    ...(opts.env ? { env: opts.env } : {}),
  });
  const forward = opts.forwardSignals ?? DEFAULT_FORWARD;
  // A forwarded signal goes to the runtime, which passes it on; the container decides how long
  // it takes (never a SIGKILL of the runtime after a delay: that would orphan the container).
  const handlers = forward.map((sig) => {
    const h = () => {
      child.kill(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const result = new Promise<RunResult>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    child.once('close', (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      try {
        if (spawnError) {
          resolve({ exitCode: 125, runtimeError: `cannot start ${opts.runtime.path}: ${spawnError.message}` });
          return;
        }
        if (signal) {
          // The runtime itself died of a signal: report it as the container's, as a shell would.
          resolve({ exitCode: 128 + (osConstants.signals[signal] ?? 0) });
          return;
        }
        const exitCode = code ?? 125;
        if (exitCode !== 0 && log) {
          const errors = readCrunLog(log);
          if (errors.length) {
            resolve({ exitCode: classifyRuntimeError(errors), runtimeError: errors.join('\n') });
            return;
          }
        }
        resolve({ exitCode });
      } finally {
        if (log) rmSync(log, { force: true });
      }
    });
  });
  return { child, result };
}

/** Runs a container to completion and returns its exit code (see RunResult). */
export async function runContainer(opts: RunContainerOptions): Promise<RunResult> {
  return startContainer(opts).result;
}

/** `RUNTIME kill ID SIGNAL`. */
export async function killContainer(runtime: RuntimeBinary, id: string, signal: string = 'SIGTERM', root?: string): Promise<void> {
  const r = await execFileResult(runtime.path, [...globalArgs({ runtime, root }), 'kill', id, signal]);
  if (r.exitCode !== 0) throw new Error(`${basename(runtime.path)} kill ${id} ${signal}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
}

/** `RUNTIME delete [--force] ID`; a container the runtime does not know is not an error. */
export async function deleteContainer(runtime: RuntimeBinary, id: string, opts: { root?: string; force?: boolean } = {}): Promise<void> {
  const args = [...globalArgs({ runtime, root: opts.root }), 'delete', ...(opts.force ? ['--force'] : []), id];
  const r = await execFileResult(runtime.path, args);
  if (r.exitCode !== 0 && !/does not exist|not found|No such file/i.test(String(r.stderr))) {
    throw new Error(`${basename(runtime.path)} delete ${id}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
  }
}
