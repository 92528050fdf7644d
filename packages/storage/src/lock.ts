// Cross-process locks: flock(2) on a lock file, through the native addon.
// flock locks belong to the open file description, so they vanish when the holder dies;
// nothing needs cleaning after a crash.
import { closeSync, fstatSync, openSync, statSync, constants as C } from 'node:fs';
import { native } from './native.ts';
import { isErrno } from './errors.ts';

export type LockMode = 'shared' | 'exclusive';

export class FileLock {
  readonly path: string;
  private fd: number | undefined;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Waits (without blocking the event loop) until the lock is granted. */
  static async acquire(path: string, mode: LockMode = 'exclusive'): Promise<FileLock> {
    for (;;) {
      const fd = openLockFile(path);
      try {
        await new Promise<void>((resolve, reject) =>
          native().flock(fd, mode === 'exclusive', (err) => (err ? reject(err) : resolve())),
        );
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      if (stillLinked(path, fd)) return new FileLock(path, fd);
      closeSync(fd); // someone removed the file while we waited: lock the new one
    }
  }

  /** Takes the lock if it is free right now; undefined when another process holds it. */
  static tryAcquire(path: string, mode: LockMode = 'exclusive'): FileLock | undefined {
    const fd = openLockFile(path);
    let taken = false;
    try {
      taken = native().tryFlock(fd, mode === 'exclusive');
    } finally {
      if (!taken) closeSync(fd);
    }
    if (!taken) return undefined;
    if (stillLinked(path, fd)) return new FileLock(path, fd);
    closeSync(fd);
    return FileLock.tryAcquire(path, mode);
  }

  release(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd); // closing the last fd drops the flock
    this.fd = undefined;
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
