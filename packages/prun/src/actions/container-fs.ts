// A container's files, reached from outside as its root user: how `prun cp` runs its container
// side script (cp-script.ts).
// - running: `nsenter -t PID -U` joins only the container's user namespace (uid 0 there, the
//   mount namespace stays the host's) and the root filesystem is /proc/PID/root, with the
//   container's volumes and bind mounts as it sees them;
// - created or exited: a new user namespace with the container's mappings
//   (runInUserNamespace) whose private mount namespace gets the container's overlay on
//   <containerDir>/rootfs and its bind mounts; they vanish with the process.
// As root on the host with no user namespace in the spec, the script runs directly (with
// `unshare --mount` for the stopped case).
import { spawn, spawnSync, type ChildProcess, type StdioNull, type StdioPipe } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { Stream } from 'node:stream';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { type IDMapping, type Spec } from '@pkit/runtime/oci-spec';
import { globalArgs } from '@pkit/runtime/run';
import { runInUserNamespace } from '@pkit/runtime/userns';
import { CP_SCRIPT } from './cp-script.ts';
import { isRunning, meta, type Engine } from './containers.ts';

type StdioItem = StdioPipe | StdioNull | 'inherit' | number | Stream;

export interface ScriptProcess {
  child: ChildProcess;
  exitCode: Promise<number>;
}

export interface ContainerFs {
  rec: ContainerRecord;
  spec: Spec;
  /** The container's process user (what `cp` gives files copied in). */
  user: { uid: number; gid: number };
  /** The working directory relative container paths start from. */
  cwd: string;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  /** Runs the cp script's OP with ARGS; stdio as given ([stdin, stdout, stderr]). */
  run(op: string, args: string[], stdio: StdioItem[]): ScriptProcess;
}

export function readSpec(e: Engine, id: string): Spec {
  try {
    return JSON.parse(readFileSync(join(e.store.containers.containerDir(id), 'config.json'), 'utf8')) as Spec;
  } catch (err) {
    throw new StoreError(`container ${id} has no readable bundle (config.json): ${(err as Error).message}`, 'PKIT_CONTAINER');
  }
}

function hasUserns(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'user') && (spec.linux?.uidMappings?.length ?? 0) > 0;
}

/** The script's leading arguments for a stopped container: overlay options and bind mounts. */
function mountArgs(spec: Spec): string[] {
  const overlay = spec.mounts?.[0];
  if (overlay?.destination !== '/' || overlay.type !== 'overlay') {
    throw new StoreError('the container has no overlay root filesystem: cannot reach its files while it is stopped', 'PKIT_CONTAINER');
  }
  const binds: string[] = [];
  let n = 0;
  for (const m of spec.mounts.slice(1)) {
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

/**
 * The host pid of a running container's init: recorded for detached containers; a foreground
 * one is asked of pkit-runtime (its state).
 */
export function initPid(e: Engine, rec: ContainerRecord): number | undefined {
  const recorded = meta(rec).pid;
  if (recorded && recorded > 0) return recorded;
  const r = spawnSync(e.runtime.path, [...globalArgs({ runtime: e.runtime, root: e.stateRoot }), 'state', rec.id], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  try {
    const state = JSON.parse(r.stdout) as { pid?: number; status?: string };
    return state.status === 'running' && state.pid && state.pid > 0 ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

export function containerFs(e: Engine, rec: ContainerRecord): ContainerFs {
  const spec = readSpec(e, rec.id);
  const userns = hasUserns(spec);
  const running = isRunning(rec);
  const pid = running ? initPid(e, rec) : 0;
  if (running && !pid) throw new StoreError(`container ${rec.name} is running but its process was not found: try again once it has started or stopped`, 'PKIT_STATE');
  const root = running ? `/proc/${pid}/root` : join(e.store.containers.containerDir(rec.id), 'rootfs');
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
      const sh = ['sh', '-c', CP_SCRIPT, 'pkit-cp', root, ...lead, op, ...args];
      if (running) {
        const cmd = userns ? ['nsenter', '-t', String(pid), '-U', '--', ...sh] : sh;
        const child = spawn(cmd[0]!, cmd.slice(1), { stdio });
        return { child, exitCode: exitCodeOf(child) };
      }
      const cmd = userns ? sh : ['unshare', '--mount', '--propagation', 'private', ...sh];
      return runInUserNamespace(cmd, { mappings: { userns, uidMappings, gidMappings }, helper: e.helper, stdio });
    },
  };
}

/** The container id that a host id is seen as, through `maps` (undefined: not mapped). */
export function toContainerId(maps: IDMapping[], hostId: number): number | undefined {
  if (maps.length === 0) return hostId;
  const m = maps.find((x) => hostId >= x.hostID && hostId < x.hostID + x.size);
  return m ? m.containerID + (hostId - m.hostID) : undefined;
}
