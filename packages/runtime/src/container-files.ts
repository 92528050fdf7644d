// A container's files, reached from outside as its root user (prun cp, pbuild copy/add): the
// container side script (container-files-script.ts) run where it sees the container's root.
// - running (a host pid given): `nsenter -t PID -U` joins only the container's user namespace
//   (uid 0 there, the mount namespace stays the host's) and the root filesystem is
//   /proc/PID/root, with the container's volumes and bind mounts as it sees them;
// - created or exited: a new user namespace with the container's mappings
//   (runInUserNamespace) whose private mount namespace gets the container's overlay on
//   <containerDir>/rootfs and its bind mounts; they vanish with the process.
// As root on the host with no user namespace in the spec, the script runs directly (with
// `unshare --mount` for the stopped case).
import { spawn, type ChildProcess, type StdioNull, type StdioPipe } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { Stream } from 'node:stream';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import type { Store } from '@pkit/storage/store';
import { CONTAINER_FILES_SCRIPT } from './container-files-script.ts';
import type { IDMapping, Spec } from './oci-spec.ts';
import { runInUserNamespace } from './userns.ts';
import { readContainerSpec } from './bundle.ts';

export { readContainerSpec };

type StdioItem = StdioPipe | StdioNull | 'inherit' | number | Stream;

export interface ScriptProcess {
  child: ChildProcess;
  exitCode: Promise<number>;
}

export interface ContainerFs {
  rec: ContainerRecord;
  spec: Spec;
  /** The container's process user (what `prun cp` gives files copied in). */
  user: { uid: number; gid: number };
  /** The working directory relative container paths start from. */
  cwd: string;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  /** Runs the script's OP with ARGS; stdio as given ([stdin, stdout, stderr]). */
  run(op: string, args: string[], stdio: StdioItem[]): ScriptProcess;
}

export interface ContainerFilesOptions {
  /** The pkit-runtime binary (userns-exec). */
  helper: string;
  /** The host pid of the running container's init; undefined: the container is not running. */
  pid?: number;
}


function hasUserns(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'user') && (spec.linux?.uidMappings?.length ?? 0) > 0;
}

function overlayMount(spec: Spec) {
  const overlay = spec.mounts?.[0];
  if (overlay?.destination !== '/' || overlay.type !== 'overlay') {
    throw new StoreError('the container has no overlay root filesystem: cannot reach its files while it is stopped', 'PKIT_CONTAINER');
  }
  return overlay;
}

/** The overlay root's directories: upper, and the lower ones top first (the image's layers). */
export function overlayDirs(spec: Spec): { upper: string; lower: string[] } {
  const opts = overlayMount(spec).options ?? [];
  const value = (key: string) => opts.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1) ?? '';
  return { upper: value('upperdir'), lower: value('lowerdir').split(':').filter(Boolean) };
}

/** The script's leading arguments for a stopped container: overlay options and bind mounts. */
function mountArgs(spec: Spec): string[] {
  const overlay = overlayMount(spec);
  const binds: string[] = [];
  let n = 0;
  for (const m of spec.mounts!.slice(1)) {
    const opts = m.options ?? [];
    const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (!bind || !m.source) continue;
    binds.push(m.destination, m.source, `${opts.includes('rbind') ? 'r' : ''}${opts.includes('ro') ? 'o' : ''}`);
    n++;
  }
  return [(overlay.options ?? []).join(','), String(n), ...binds];
}

/** A child's exit code; 128+N when it died of signal N. Rejects when it cannot be started. */
export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  });
}

/** The files of a container, running (`opts.pid`) or not. */
export function containerFiles(store: Store, rec: ContainerRecord, opts: ContainerFilesOptions): ContainerFs {
  const spec = readContainerSpec(store, rec.id);
  const userns = hasUserns(spec);
  const pid = opts.pid;
  const running = pid !== undefined;
  const root = running ? `/proc/${pid}/root` : join(store.containers.containerDir(rec.id), 'rootfs');
  const lead = running ? ['', '0'] : mountArgs(spec);
  const uidMappings = spec.linux?.uidMappings ?? [];
  const gidMappings = spec.linux?.gidMappings ?? [];
  return {
    rec,
    spec,
    user: { uid: spec.process?.user?.uid ?? 0, gid: spec.process?.user?.gid ?? 0 },
    cwd: spec.process?.cwd || '/',
    uidMappings,
    gidMappings,
    run(op, args, stdio) {
      const sh = ['sh', '-c', CONTAINER_FILES_SCRIPT, 'pkit-cp', root, ...lead, op, ...args];
      if (running) {
        const cmd = userns ? ['nsenter', '-t', String(pid), '-U', '--', ...sh] : sh;
        const child = spawn(cmd[0]!, cmd.slice(1), { stdio });
        return { child, exitCode: exitCodeOf(child) };
      }
      const cmd = userns ? sh : ['unshare', '--mount', '--propagation', 'private', ...sh];
      return runInUserNamespace(cmd, { mappings: { userns, uidMappings, gidMappings }, helper: opts.helper, stdio });
    },
  };
}

/** The container id that a host id is seen as, through `maps` (undefined: not mapped). */
export function toContainerId(maps: IDMapping[], hostId: number): number | undefined {
  if (maps.length === 0) return hostId;
  const m = maps.find((x) => hostId >= x.hostID && hostId < x.hostID + x.size);
  return m ? m.containerID + (hostId - m.hostID) : undefined;
}

/** Reads a child's stderr (bounded) for the error message. */
export function collectStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (text.length < 65536) text += c.toString('utf8');
  });
  return () => text;
}

/** The interesting lines of a failed step's stderr (tar's and the script's). */
export function reasons(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/Exiting with failure status|Error is not recoverable/.test(l))
    .map((l) => l.replace(/^pkit-cp: /, ''));
}

/** Runs OP to completion: its exit code, stdout and stderr. */
export async function runScript(fs: ContainerFs, op: string, args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const p = fs.run(op, args, ['ignore', 'pipe', 'pipe']);
  const chunks: Buffer[] = [];
  p.child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  const stderr = collectStderr(p.child);
  const code = await p.exitCode;
  return { code, stdout: Buffer.concat(chunks), stderr: stderr() };
}

export type PathKind = 'dir' | 'file' | 'missing';

/** The script's answer to stat or mkdir: exit code, the kind and resolved path when it is 0. */
export async function statPath(fs: ContainerFs, op: 'stat' | 'mkdir', args: string[]): Promise<{ code: number; kind: PathKind; resolved: string; stderr: string }> {
  const r = await runScript(fs, op, args);
  const [kind, resolved] = r.stdout.toString('utf8').split('\0');
  return { code: r.code, kind: (kind || 'missing') as PathKind, resolved: resolved || '/', stderr: r.stderr };
}

/** `tar ARGS` on the host. */
export function spawnTar(args: string[], stdio: ('ignore' | 'pipe' | 'inherit')[]): ScriptProcess {
  const child = spawn('tar', args, { stdio });
  const exitCode = exitCodeOf(child).catch((err: Error) => {
    throw new StoreError(`cannot run tar: ${err.message}: install GNU tar`, 'PKIT_CP');
  });
  return { child, exitCode };
}

/** A GNU tar --transform renaming the top entry `from` (and all below it) to `to`. */
export function renameTransform(from: string, to: string): string {
  if (/[\x00-\x1f]/.test(from + to)) throw new StoreError(`cannot copy a name with control characters: ${JSON.stringify(from === '.' ? to : from)}`, 'PKIT_BAD_INPUT');
  // Basic regular expression: each special character as a literal.
  const re = [...from].map((c) => (c === '^' ? '\\^' : '.*[$\\'.includes(c) ? `[${c}]` : c)).join('');
  const replacement = to.replace(/[\\&]/g, (c) => `\\${c}`);
  // \x01 as the delimiter (no control characters in names, checked above); S: not symlink targets.
  return `s\x01^${re}\\(/\\|$\\)\x01${replacement}\\1\x01S`;
}
