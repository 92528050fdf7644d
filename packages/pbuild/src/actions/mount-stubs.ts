// Mount points a RUN's mounts need and the image lacks: pkit-runtime creates them in the
// container's root filesystem, so in its overlay upper dir, where `commit` would find them.
// planStubs() finds, before the run, what the runtime will create (resolving symlinks as it
// does, through the layer stack); removeStubs() takes it out of the upper dir again after the
// run, so the committed diff holds no trace of the mounts:
// - a created directory goes when it is empty (the mount covered it, so the command could not
//   write into it), a created file when it is still an empty regular file; one the command
//   wrote around stays, with what it holds;
// - a directory the overlay copied up from a lower layer to make a mount point in it goes too
//   when it is empty again, not opaque, and still has the lower layer's mode and owner;
// - a created path that was whited out before (the command of an earlier run deleted it) gets
//   its whiteout back;
// - a directory that stays (it was in the upper dir before, or the command wrote in it) gets the
//   mtime it had: before the run when it holds the same names as then (the command added or
//   removed nothing there), else the mtime the command left.
// Everything is decided from reads first; the changes are made as this user, and when a
// directory of another owner refuses that (a copied-up /home/app of uid 1000), the rest are
// made as root of the container's user namespace.
import { lstatSync, readdirSync, rmdirSync, unlinkSync, utimesSync, type BigIntStats } from 'node:fs';
import { join, posix } from 'node:path';
import { isOpaqueDir, lookupInLayers } from '@pkit/storage/layers/overlay-lookup';
import { native } from '@pkit/storage/native';
import { execInUserNamespace, type UsernsMappings } from '@pkit/runtime/userns';

export interface MountPoint {
  /** Absolute path in the container. */
  path: string;
  /** The mount is a file (bind of a file): the runtime makes an empty file, not a directory. */
  file: boolean;
}

interface Created {
  path: string;
  file: boolean;
  /** A whiteout was at this path in the upper dir before the run. */
  whiteout: boolean;
}

interface Ancestor {
  path: string;
  /** Before the run: whether the upper dir had it, with its mtime and names then. */
  inUpper: boolean;
  mtimeNs?: bigint;
  names?: string[];
  /** Mode and owner of the lower layer's directory (what a copy-up keeps). */
  lower?: { mode: number; uid: number; gid: number };
}

export interface StubPlan {
  upper: string;
  created: Created[];
  ancestors: Ancestor[];
}

const parts = (p: string) => p.split('/').filter((c) => c !== '');
const depth = (p: string) => parts(p).length;

function readdirOr(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

function lstatBig(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * What the runtime will create for `points` in the merged view of `layersTopFirst` (the
 * container's upper dir first, then its image's layers).
 */
export async function planStubs(layersTopFirst: readonly string[], points: readonly MountPoint[]): Promise<StubPlan> {
  const upper = layersTopFirst[0]!;
  const created = new Map<string, Created>();
  const ancestors = new Map<string, Ancestor>();
  for (const point of points) {
    const comps = parts(posix.resolve('/', point.path));
    let resolved = '/';
    let missing: string[] = [];
    let blocked = false;
    for (let i = 0; i < comps.length; i++) {
      const entry = await lookupInLayers(layersTopFirst, posix.join(resolved, comps[i]!));
      if (!entry) {
        missing = comps.slice(i);
        break;
      }
      resolved = entry.path;
      // a file on the way: the runtime fails to mount, and creates nothing
      if (i < comps.length - 1 && !entry.stats.isDirectory()) blocked = true;
    }
    if (blocked || missing.length === 0) continue;
    let path = resolved;
    missing.forEach((name, i) => {
      path = posix.join(path, name);
      if (created.has(path)) return;
      const st = lstatBig(join(upper, path));
      created.set(path, { path, file: point.file && i === missing.length - 1, whiteout: st !== undefined && st.isCharacterDevice() && st.rdev === 0n });
    });
    for (let a = resolved; ; a = posix.dirname(a)) {
      if (ancestors.has(a)) {
        if (a === '/') break;
        continue;
      }
      const st = lstatBig(join(upper, a));
      if (st) {
        ancestors.set(a, { path: a, inUpper: true, mtimeNs: st.mtimeNs, names: readdirOr(join(upper, a)) });
      } else {
        const entry = await lookupInLayers(layersTopFirst, a);
        const s = entry?.stats;
        ancestors.set(a, { path: a, inUpper: false, ...(s ? { lower: { mode: s.mode, uid: s.uid, gid: s.gid } } : {}) });
      }
      if (a === '/') break;
    }
  }
  return { upper, created: [...created.values()], ancestors: [...ancestors.values()] };
}

export type StubOp =
  | { op: 'rmdir' | 'unlink' | 'whiteout'; path: string }
  | { op: 'times'; path: string; atimeNs: bigint; mtimeNs: bigint };

function isEmptyApartFrom(hostPath: string, containerPath: string, gone: Set<string>): boolean {
  try {
    return readdirSync(hostPath).every((n) => gone.has(posix.join(containerPath, n)));
  } catch {
    return false;
  }
}

/** The changes that undo the plan's stubs in the upper dir as it is after the run (reads only). */
export function stubOps(plan: StubPlan): StubOp[] {
  const host = (p: string) => join(plan.upper, p);
  const ops: StubOp[] = [];
  // removed (whited-out ones included), and gone: no longer an entry of their parent
  const removed = new Set<string>();
  const gone = new Set<string>();
  // the times after the run, before anything here changes them
  const after = new Map<string, BigIntStats>();
  for (const { path } of [...plan.ancestors, ...plan.created]) {
    const st = lstatBig(host(path));
    if (st) after.set(path, st);
  }
  // directories that lose a child here
  const touched = new Set<string>();
  const candidates: Array<{ path: string; created?: Created; ancestor?: Ancestor }> = [
    ...plan.created.map((c) => ({ path: c.path, created: c })),
    ...plan.ancestors.filter((a) => !a.inUpper).map((a) => ({ path: a.path, ancestor: a })),
  ].sort((x, y) => depth(y.path) - depth(x.path));
  for (const c of candidates) {
    const st = lstatBig(host(c.path));
    if (!st) {
      if (c.created) gone.add(c.path); // made elsewhere (inside another mount) or never made
      continue;
    }
    let remove = false;
    if (c.created) {
      if (st.isDirectory()) remove = isEmptyApartFrom(host(c.path), c.path, gone);
      else remove = c.created.file && st.isFile() && st.size === 0n;
    } else if (c.ancestor?.lower && st.isDirectory()) {
      const lower = c.ancestor.lower;
      remove =
        Number(st.mode) === lower.mode && Number(st.uid) === lower.uid && Number(st.gid) === lower.gid &&
        !isOpaqueDir(host(c.path)) && isEmptyApartFrom(host(c.path), c.path, gone);
    }
    if (!remove) continue;
    ops.push({ op: st.isDirectory() ? 'rmdir' : 'unlink', path: c.path });
    removed.add(c.path);
    if (c.created?.whiteout) ops.push({ op: 'whiteout', path: c.path });
    else gone.add(c.path);
    touched.add(posix.dirname(c.path));
  }
  // Directories that stay and lose a child here: the mtime they had before the run when they
  // will hold the same names as then, else the command's.
  const inUpper = new Map(plan.ancestors.filter((a) => a.inUpper).map((a) => [a.path, a]));
  for (const path of touched) {
    const now = after.get(path);
    if (now === undefined || removed.has(path)) continue;
    const before = inUpper.get(path);
    const names = readdirOr(host(path))?.filter((n) => !gone.has(posix.join(path, n)));
    const same = before?.names !== undefined && names !== undefined && names.length === before.names.length && names.every((n) => before.names!.includes(n));
    ops.push({ op: 'times', path, atimeNs: now.atimeNs, mtimeNs: same ? before!.mtimeNs! : now.mtimeNs });
  }
  return ops;
}

const isPermission = (err: unknown) => ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Seconds as utimes takes them (a Date would round to milliseconds). A double keeps about a
 * quarter microsecond here; the fraction is kept below 1 so the whole second, which is what a
 * layer records, never moves.
 */
const seconds = (ns: bigint) => Number(ns / 1_000_000_000n) + Math.min(Number(ns % 1_000_000_000n) / 1e9, 0.999999);

function applyOp(upper: string, op: StubOp): void {
  const p = join(upper, op.path);
  try {
    if (op.op === 'rmdir') rmdirSync(p);
    else if (op.op === 'unlink') unlinkSync(p);
    else if (op.op === 'whiteout') native().mknod(p, 0o020000, 0, 0);
    else if (op.op === 'times') utimesSync(p, seconds(op.atimeNs), seconds(op.mtimeNs));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // another process's change meanwhile, or a directory someone filled: leave it
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return;
    throw err;
  }
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const stamp = (ns: bigint) => `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;

/** The same changes as a shell script, for root of the user namespace. */
export function stubScript(upper: string, ops: readonly StubOp[]): string {
  return ops
    .map((op) => {
      const p = quote(op.path === '/' ? upper : join(upper, op.path));
      switch (op.op) {
        case 'rmdir': return `rmdir -- ${p} 2>/dev/null`;
        case 'unlink': return `rm -f -- ${p}`;
        case 'whiteout': return `mknod -- ${p} c 0 0`;
        case 'times': return `touch -h -m -d ${stamp(op.mtimeNs)} -- ${p}`;
      }
    })
    .map((line) => `${line} || true`)
    .join('\n');
}

export interface RemoveStubsOptions {
  /** The container's mappings and pkit-runtime, for what this user may not change. */
  mappings: UsernsMappings;
  helper: string;
}

/** Undoes the plan's stubs (see the top of this file); returns the problems, if any, as lines. */
export async function removeStubs(plan: StubPlan, opts: RemoveStubsOptions): Promise<string[]> {
  if (plan.created.length === 0) return [];
  const ops = stubOps(plan);
  for (let i = 0; i < ops.length; i++) {
    try {
      applyOp(plan.upper, ops[i]!);
    } catch (err) {
      if (!isPermission(err) || !opts.mappings.userns) return [`cannot remove the mount point ${ops[i]!.path} from the container: ${(err as Error).message}`];
      const r = await execInUserNamespace(['sh', '-c', stubScript(plan.upper, ops.slice(i))], { mappings: opts.mappings, helper: opts.helper });
      return r.exitCode === 0 && r.stderr.trim() === '' ? [] : [`cannot remove mount points from the container: ${r.stderr.trim().split('\n').join('; ') || `exit ${r.exitCode}`}`];
    }
  }
  return [];
}
