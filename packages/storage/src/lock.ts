// Cross-process locks: flock(2) on a lock file, through the native addon.
// flock locks belong to the open file description, so they vanish when the holder dies;
// nothing needs cleaning after a crash.
//
// Within one process, requests for the same path queue in memory and share one file
// descriptor: two descriptors of one file would block each other (flock locks are per open file
// description), and a blocking flock per waiter would tie up libuv's small thread pool, which
// the holder itself needs to finish its work. Waiting on other processes polls with a
// non-blocking flock and a short backoff instead.
import { closeSync, fstatSync, openSync, statSync, constants as C } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from './native.ts';
import { isErrno } from './errors.ts';

export type LockMode = 'shared' | 'exclusive';

interface Waiter {
  mode: LockMode;
  grant: () => void;
  fail: (err: unknown) => void;
}

/** This process's hold on one lock path. */
interface PathState {
  fd: number | undefined;
  mode: LockMode | undefined;
  holders: number;
  queue: Waiter[];
  /** An OS-level acquisition is under way for the head of the queue. */
  taking: boolean;
}

const states = new Map<string, PathState>();

export class FileLock {
  readonly path: string;
  private released = false;

  private constructor(path: string) {
    this.path = path;
  }

  /** Waits (without blocking the event loop or a pool thread) until the lock is granted. */
  static async acquire(path: string, mode: LockMode = 'exclusive'): Promise<FileLock> {
    const st = stateOf(path);
    if (st.queue.length === 0 && compatible(st, mode)) {
      if (st.holders > 0) {
        st.holders++;
        return new FileLock(path);
      }
    }
    await new Promise<void>((grant, fail) => {
      st.queue.push({ mode, grant, fail });
      void pump(path, st);
    });
    return new FileLock(path);
  }

  /** Takes the lock if it is free right now; undefined when another holder has it. */
  static tryAcquire(path: string, mode: LockMode = 'exclusive'): FileLock | undefined {
    const st = stateOf(path);
    if (st.queue.length > 0 || st.taking) return undefined;
    if (st.holders > 0) {
      if (!compatible(st, mode)) return undefined;
      st.holders++;
      return new FileLock(path);
    }
    const fd = tryLockFile(path, mode);
    if (fd === undefined) {
      if (st.holders === 0 && st.queue.length === 0) states.delete(path);
      return undefined;
    }
    st.fd = fd;
    st.mode = mode;
    st.holders = 1;
    return new FileLock(path);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const st = states.get(this.path);
    if (!st) return;
    st.holders--;
    if (st.holders > 0) return;
    if (st.fd !== undefined) closeSync(st.fd); // closing the last fd drops the flock
    st.fd = undefined;
    st.mode = undefined;
    if (st.queue.length === 0) states.delete(this.path);
    else void pump(this.path, st);
  }
}

export async function withLock<T>(path: string, mode: LockMode, fn: () => Promise<T> | T): Promise<T> {
  const lock = await FileLock.acquire(path, mode);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

function stateOf(path: string): PathState {
  let st = states.get(path);
  if (!st) {
    st = { fd: undefined, mode: undefined, holders: 0, queue: [], taking: false };
    states.set(path, st);
  }
  return st;
}

function compatible(st: PathState, mode: LockMode): boolean {
  return st.holders === 0 || (st.mode === 'shared' && mode === 'shared');
}

/** Grants the head of the queue (and the shared requests right behind a shared head). */
async function pump(path: string, st: PathState): Promise<void> {
  if (st.taking || st.holders > 0 || st.queue.length === 0) return;
  const head = st.queue[0]!;
  st.taking = true;
  let fd: number | undefined;
  try {
    for (let delay = 2; (fd = tryLockFile(path, head.mode)) === undefined; delay = Math.min(delay * 2, 50)) {
      await sleep(delay);
    }
  } catch (err) {
    st.taking = false;
    st.queue.shift();
    head.fail(err);
    void pump(path, st);
    return;
  }
  st.taking = false;
  st.fd = fd;
  st.mode = head.mode;
  const granted = head.mode === 'exclusive' ? [st.queue.shift()!] : takeShared(st);
  st.holders = granted.length;
  for (const w of granted) w.grant();
}

function takeShared(st: PathState): Waiter[] {
  const out: Waiter[] = [];
  while (st.queue.length > 0 && st.queue[0]!.mode === 'shared') out.push(st.queue.shift()!);
  return out;
}

/** One non-blocking attempt; the fd holding the lock, or undefined when another process has it. */
function tryLockFile(path: string, mode: LockMode): number | undefined {
  for (;;) {
    const fd = openLockFile(path);
    let taken = false;
    try {
      taken = native().tryFlock(fd, mode === 'exclusive');
    } finally {
      if (!taken) closeSync(fd);
    }
    if (!taken) return undefined;
    if (stillLinked(path, fd)) return fd;
    closeSync(fd); // a cleaner unlinked the file we locked: lock the new one
  }
}

// Node opens every fd with O_CLOEXEC, so no lock leaks into a spawned helper.
function openLockFile(path: string): number {
  return openSync(path, C.O_RDWR | C.O_CREAT, 0o600);
}

/** A lock on an inode that was unlinked (by a cleaner) protects nothing. */
function stillLinked(path: string, fd: number): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}
