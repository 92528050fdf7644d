// The user namespace shell: commands run as root inside a user namespace with the rootless
// mapping podman would use, through `pkit-runtime userns-exec` (Node cannot unshare a user
// namespace itself: it is multithreaded). This is how the rootless store does what needs the
// subordinate ids: extracting a layer with many owners (execInUserNamespace running the apply
// worker of @pkit/storage, packages/storage/src/layers/apply-worker.ts) and removing trees that
// hold files of subordinate owners (removeAsUsernsRoot). See docs/storage.md "The user
// namespace shell".
//
// As root on the host there is no user namespace (computeIDMappings gives userns: false): the
// command is started directly, and it already has every id.
import { spawn, type ChildProcess, type StdioNull, type StdioPipe } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Readable, Stream } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError } from '@pkit/storage/errors';
import { computeIDMappings, currentIdmapHost, type IDMappings } from './idmap.ts';
import type { IDMapping } from './oci-spec.ts';
import { HELPER_PATH, RuntimeNotFoundError } from './run.ts';

/** What runInUserNamespace needs of an IDMappings. */
export type UsernsMappings = Pick<IDMappings, 'userns' | 'uidMappings' | 'gidMappings'>;

type StdioItem = StdioPipe | StdioNull | 'inherit' | number | Stream;

export interface UsernsOptions {
  /** Default: podman's rootless mapping for the calling user (computeIDMappings(currentIdmapHost())). */
  mappings?: UsernsMappings;
  /** The pkit-runtime binary; default: the one built in this repository (HELPER_PATH). */
  helper?: string;
  /**
   * 'inherit' (default), 'pipe', 'ignore', or one entry per fd: [stdin, stdout, stderr, fd3, ...].
   * Entries after the third are passed on to the command as fds 3.. (`--preserve-fds`).
   */
  stdio?: 'inherit' | 'pipe' | 'ignore' | StdioItem[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface UsernsProcess {
  /** The helper process (or, as root, the command itself); its stdio streams are set when piped. */
  child: ChildProcess;
  /**
   * The command's exit code, 128+N when it died of signal N; 125 when the helper failed (its
   * message is one "pkit-runtime: ..." line on the child's stderr), 126/127 when the command
   * cannot be executed / is not found. Rejects only when the helper cannot be started.
   */
  exitCode: Promise<number>;
}

/** `[{containerID: 0, hostID: 1001, size: 1}, ...]` -> "0:1001:1,...". */
export function formatMappings(maps: IDMapping[]): string {
  return maps.map((m) => `${m.containerID}:${m.hostID}:${m.size}`).join(',');
}

/** The helper's arguments for running `cmd` with `mappings`, fds 3..3+preserveFds-1 passed on. */
export function usernsExecArgs(cmd: string[], mappings: UsernsMappings, preserveFds = 0): string[] {
  const args = ['userns-exec'];
  if (mappings.uidMappings.length) args.push('--uid-map', formatMappings(mappings.uidMappings));
  if (mappings.gidMappings.length) args.push('--gid-map', formatMappings(mappings.gidMappings));
  if (preserveFds > 0) args.push('--preserve-fds', String(preserveFds));
  args.push('--', ...cmd);
  return args;
}

function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number | undefined>)[signal] ?? 0;
}

function helperPath(opts: UsernsOptions): string {
  const path = opts.helper ?? HELPER_PATH;
  try {
    accessSync(path, fsConstants.X_OK);
  } catch {
    throw new RuntimeNotFoundError(`pkit-runtime not found at ${path}: build it with "node native/build-helper.mjs" (pnpm install does)`);
  }
  return path;
}

/**
 * Starts `cmd` as root (uid 0, gid 0) in a new user namespace (and mount namespace) with
 * `opts.mappings`. Without a user namespace to make (root on the host), `cmd` runs directly.
 */
export function runInUserNamespace(cmd: string[], opts: UsernsOptions = {}): UsernsProcess {
  if (cmd.length === 0) throw new Error('runInUserNamespace: empty command');
  const mappings = opts.mappings ?? computeIDMappings(currentIdmapHost());
  const stdio = opts.stdio ?? 'inherit';
  const list: StdioItem[] = Array.isArray(stdio) ? [...stdio] : [stdio, stdio, stdio];
  while (list.length < 3) list.push('inherit');
  const extra = list.length - 3;
  const [file, args] = mappings.userns
    ? [helperPath(opts), usernsExecArgs(cmd, mappings, extra)]
    : [cmd[0]!, cmd.slice(1)];
  const child = spawn(file, args, {
    stdio: list,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  const exitCode = new Promise<number>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolvePromise(code ?? (signal ? 128 + signalNumber(signal) : 125));
    });
  });
  return { child, exitCode };
}

function collect(stream: Readable | null): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

export interface UsernsOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` in the user namespace with `input` (bytes or a stream) on its stdin, and
 * collects stdout and stderr. Never rejects for a non-zero exit; rejects with the input
 * stream's own error when the input failed (after the command has ended: it saw its stdin
 * end early), since that is the cause of whatever the command says.
 */
export async function execInUserNamespace(
  cmd: string[],
  opts: Omit<UsernsOptions, 'stdio'> & { input?: Buffer | string | Readable } = {},
): Promise<UsernsOutput> {
  const { input, ...rest } = opts;
  const p = runInUserNamespace(cmd, { ...rest, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const out = collect(p.child.stdout);
  const err = collect(p.child.stderr);
  let inputError: unknown;
  let fed: Promise<unknown> = Promise.resolve();
  if (input !== undefined && p.child.stdin) {
    const stdin = p.child.stdin;
    // EPIPE when the command stops reading early: its exit code and stderr tell why.
    stdin.on('error', () => {});
    if (typeof input === 'string' || Buffer.isBuffer(input)) {
      stdin.end(input);
    } else {
      input.once('error', (e) => (inputError ??= e));
      fed = pipeline(input, stdin).catch(() => {});
    }
  }
  const [exitCode, stdout, stderr] = await Promise.all([p.exitCode, out, err, fed]);
  if (inputError !== undefined) throw inputError;
  return { exitCode, stdout, stderr };
}

/**
 * Removes `paths` (files or whole trees) as root inside the user namespace: how the rootless
 * store removes layers and containers that hold files of subordinate owners, which the user
 * cannot remove itself. Paths are made absolute; "/" is refused; `rm` does not cross into
 * other file systems (a mount left inside a tree is an error, never followed). Missing paths
 * are not an error. Throws a StoreError (PKIT_REMOVE) with rm's message on failure.
 */
export async function removeAsUsernsRoot(paths: string[], opts: Omit<UsernsOptions, 'stdio'> = {}): Promise<void> {
  if (paths.length === 0) return;
  const abs = paths.map((p) => {
    if (p === '') throw new StoreError('removeAsUsernsRoot: empty path', 'PKIT_REMOVE');
    const a = isAbsolute(p) ? resolve(p) : resolve(opts.cwd ?? process.cwd(), p);
    if (a === '/') throw new StoreError('removeAsUsernsRoot: refusing to remove /', 'PKIT_REMOVE');
    return a;
  });
  const r = await execInUserNamespace(['rm', '-rf', '--one-file-system', '--', ...abs], opts);
  if (r.exitCode !== 0) {
    const msg = r.stderr.trim().split('\n').slice(0, 5).join('; ');
    throw new StoreError(`removing ${abs.join(', ')} in the user namespace failed (exit ${r.exitCode})${msg ? `: ${msg}` : ''}`, 'PKIT_REMOVE');
  }
}
