// Container lifecycle for prun: what a record's state really is, starting in the background
// under pkit-runtime's monitor, signals, stop (grace, then SIGKILL), wait and removal.
//
// Where the truth lives (docs/cli.md, "Containers"):
//   containers/<id>/container.json  the record; `state` is what prun last wrote
//   <runRoot>/runtime/<id>/         pkit-runtime's state while the runtime knows the container
//   <runRoot>/exits/<id>            the exit code, written by the monitor of a detached container
// A record that says "running" is checked against these (refresh): a detached container has
// exited once its exit file exists; a foreground one once the prun that runs it is gone.
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { type Store } from '@pkit/storage/store';
import { removeContainer } from '@pkit/runtime/container-run';
import { startDetached, waitForExitFile } from '@pkit/runtime/detached';
import { deleteContainer as runtimeDelete, killContainer as runtimeKill, runtimeBinary, type RuntimeBinary } from '@pkit/runtime/run';
import { helperPath } from './helper-path.ts';

export { helperPath };

/** What prun keeps in a record's `config` besides the run options. */
export interface ContainerMeta {
  /** The RunOptions the bundle was made from (minus rootfs and idmap). */
  run?: Record<string, unknown>;
  /** Remove the container once it exited (--rm). */
  autoRemove?: boolean;
  tty?: boolean;
  interactive?: boolean;
  detached?: boolean;
  /** The prun process that runs a foreground container. */
  ownerPid?: number;
  pid?: number;
  monitorPid?: number;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  stopSignal?: string;
  stopTimeout?: number;
  labels?: Record<string, string>;
  /** Named volumes the container uses (volume removal checks them). */
  volumes?: string[];
  /** Published ports, as given to the network layer. */
  ports?: unknown[];
  network?: string;
  /** The user's -u, for exec's default. */
  user?: string;
  /** Command as the image and flags made it (process.args). */
  command?: string[];
}

export function meta(rec: ContainerRecord): ContainerMeta {
  return (rec.config ?? {}) as ContainerMeta;
}

export interface Engine {
  store: Store;
  helper: string;
  runtime: RuntimeBinary;
  /** pkit-runtime's --root. */
  stateRoot: string;
  exitDir: string;
}

export function engine(store: Store): Engine {
  const helper = helperPath();
  const stateRoot = join(store.paths.runRoot, 'runtime');
  const exitDir = join(store.paths.runRoot, 'exits');
  mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
  mkdirSync(exitDir, { recursive: true, mode: 0o700 });
  return { store, helper, runtime: runtimeBinary({ helperPath: helper }), stateRoot, exitDir };
}

export function logPath(e: Engine, id: string): string {
  return join(e.store.containers.containerDir(id), 'ctr.log');
}

function exitFile(e: Engine, id: string): string {
  return join(e.exitDir, id);
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The init pid in pkit-runtime's state of a container, if it has one. */
function runtimeStatePid(e: Engine, id: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(join(e.stateRoot, id, 'state.json'), 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readExit(file: string): { code: number; at: string } | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text === '' || !/^-?\d+$/.test(text)) return undefined;
    return { code: Number(text), at: statSync(file).mtime.toISOString() };
  } catch {
    return undefined;
  }
}

/**
 * The record with its state brought up to date: a "running" container that has exited is
 * recorded as exited (with its code), its runtime state dropped, and removed when it was
 * started with --rm (then undefined is returned).
 */
export async function refresh(e: Engine, rec: ContainerRecord): Promise<ContainerRecord | undefined> {
  if (rec.state !== 'running') return rec;
  const m = meta(rec);
  let exit: { code: number; at: string } | undefined;
  if (m.detached) {
    exit = readExit(exitFile(e, rec.id));
    if (!exit && alive(m.monitorPid)) return rec;
    exit ??= { code: m.exitCode ?? 0, at: new Date().toISOString() };
  } else {
    if (alive(m.ownerPid)) return rec;
    // The foreground prun wrote the code itself unless it was killed; its runtime (and the
    // container) may outlive it, and then the container still runs.
    const now = await e.store.containers.get(rec.id);
    if (!now || now.state !== 'running') return now && refresh(e, now);
    if (alive(runtimeStatePid(e, rec.id))) return rec;
    exit = { code: m.exitCode ?? 137, at: new Date().toISOString() };
  }
  return finishExited(e, rec, exit.code, exit.at);
}

async function finishExited(e: Engine, rec: ContainerRecord, code: number, at: string): Promise<ContainerRecord | undefined> {
  await dropRuntimeState(e, rec);
  if (meta(rec).autoRemove) {
    await remove(e, rec);
    return undefined;
  }
  return e.store.containers.update(rec.id, { state: 'exited', config: { ...meta(rec), exitCode: code, finishedAt: at, pid: 0 } as Record<string, unknown> });
}

/**
 * All containers, refreshed (those auto-removed on the way are left out). pbuild's working
 * containers are not prun's to list, as podman ps leaves out buildah's.
 */
export async function listContainers(e: Engine): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  for (const rec of await e.store.containers.list()) {
    if (rec.config?.['builder'] === true) continue;
    const r = await refresh(e, rec);
    if (r) out.push(r);
  }
  return out;
}

/** A container by name, id or id prefix, refreshed. */
export async function findContainer(e: Engine, query: string): Promise<ContainerRecord> {
  const rec = await refresh(e, await e.store.containers.resolve(query));
  if (!rec) throw new StoreError(`no container with name or ID "${query}" found`, 'PKIT_NOT_FOUND');
  return rec;
}

/** Starts a created or exited container under the monitor; returns the updated record. */
export async function startInBackground(e: Engine, rec: ContainerRecord): Promise<ContainerRecord> {
  if (rec.state === 'running') return rec;
  const dir = e.store.containers.containerDir(rec.id);
  await dropRuntimeState(e, rec);
  const h = await startDetached({
    runtime: e.runtime,
    root: e.stateRoot,
    bundle: dir,
    id: rec.id,
    logPath: logPath(e, rec.id),
    exitDir: e.exitDir,
  });
  const m: ContainerMeta = { ...meta(rec), detached: true, pid: h.pid, monitorPid: h.monitorPid, startedAt: new Date().toISOString() };
  delete m.exitCode;
  delete m.finishedAt;
  delete m.ownerPid;
  return e.store.containers.update(rec.id, { state: 'running', config: m as Record<string, unknown> });
}

export function isRunning(rec: ContainerRecord): boolean {
  return rec.state === 'running';
}

/** Sends a signal to a running container's init process (through pkit-runtime). */
export async function signalContainer(e: Engine, rec: ContainerRecord, signal: string): Promise<void> {
  if (!isRunning(rec)) throw new StoreError(`can only kill running containers. ${rec.id} is in state ${rec.state}: container state improper`, 'PKIT_STATE');
  try {
    await runtimeKill(e.runtime, rec.id, signal, e.stateRoot);
  } catch (err) {
    // It may have exited meanwhile: that is not a failure of kill.
    const now = await refresh(e, rec);
    if (now && isRunning(now)) throw new StoreError((err as Error).message.split('\n')[0]!, 'PKIT_RUNTIME');
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until the container is no longer running; undefined when `timeoutMs` passed first. */
export async function waitStopped(e: Engine, rec: ContainerRecord, timeoutMs = Infinity): Promise<ContainerRecord | undefined | 'timeout'> {
  const end = Date.now() + timeoutMs;
  if (meta(rec).detached && rec.state === 'running') {
    try {
      await waitForExitFile(exitFile(e, rec.id), { timeoutMs: Math.min(timeoutMs, 2 ** 31 - 1) });
    } catch (err) {
      if ((err as { code?: string }).code === 'PKIT_TIMEOUT') return 'timeout';
      throw err;
    }
  }
  let delay = 5;
  for (;;) {
    const now = await e.store.containers.get(rec.id);
    if (!now) return undefined;
    const r = await refresh(e, now);
    if (!r || !isRunning(r)) return r;
    if (Date.now() > end) return 'timeout';
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/** The signal `stop` sends: --stop-signal, else the image's StopSignal, else SIGTERM. */
export function stopSignalOf(rec: ContainerRecord): string {
  return meta(rec).stopSignal ?? 'SIGTERM';
}

/**
 * podman stop: the stop signal, `timeoutSec` of grace, then SIGKILL (with podman's warning).
 * Returns the record once stopped.
 */
export async function stopContainer(e: Engine, rec: ContainerRecord, timeoutSec?: number): Promise<ContainerRecord | undefined> {
  if (!isRunning(rec)) return rec;
  const grace = timeoutSec ?? meta(rec).stopTimeout ?? 10;
  const signal = stopSignalOf(rec);
  if (grace > 0) {
    await signalContainer(e, rec, signal);
    const r = await waitStopped(e, rec, grace * 1000);
    if (r !== 'timeout') return r;
    process.stderr.write(`WARN[${grace.toString().padStart(4, '0')}] StopSignal ${signal.replace(/^SIG/, '')} failed to stop container ${rec.name} in ${grace} seconds, resorting to SIGKILL\n`);
  }
  await signalContainer(e, rec, 'SIGKILL');
  const r = await waitStopped(e, rec);
  return r === 'timeout' ? undefined : r;
}

/**
 * Removes a container: a running one only with `force` (killed at once: podman's 10 s of grace
 * on `rm -f` is a known annoyance). The record stays until its files are gone.
 */
export async function removeRecord(e: Engine, rec: ContainerRecord, force: boolean, opts: { volumes?: boolean } = {}): Promise<void> {
  if (isRunning(rec)) {
    if (!force) {
      throw new StoreError(`cannot remove container ${rec.id} as it is running - running or paused containers cannot be removed without force: container state improper`, 'PKIT_STATE');
    }
    await signalContainer(e, rec, 'SIGKILL').catch(() => {});
    // --rm containers remove themselves once seen exited: then there is nothing left to do.
    const r = await waitStopped(e, rec, 10_000);
    if (r === undefined) return;
  }
  await remove(e, rec, opts);
}

/** The runtime's record of a detached container (a foreground run's goes with its runtime). */
async function dropRuntimeState(e: Engine, rec: ContainerRecord): Promise<void> {
  if (!meta(rec).detached) return;
  await runtimeDelete(e.runtime, rec.id, { root: e.stateRoot, force: true }).catch(() => {});
  rmSync(exitFile(e, rec.id), { force: true });
}

async function remove(e: Engine, rec: ContainerRecord, opts: { volumes?: boolean } = {}): Promise<void> {
  await dropRuntimeState(e, rec);
  await removeContainer(e.store, rec.id, { helper: e.helper });
  // --rm and `rm -v` take the container's anonymous volumes with it, as podman does.
  if (opts.volumes || meta(rec).autoRemove) {
    for (const name of meta(rec).volumes ?? []) {
      const v = await e.store.volumes.get(name).catch(() => undefined);
      if (v?.anonymous) await e.store.volumes.remove(name, { force: true }).catch(() => {});
    }
  }
}
