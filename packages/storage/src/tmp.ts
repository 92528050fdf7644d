// The store's scratch area. Each process gets one directory `tmp/<token>/` guarded by an
// exclusive flock on `tmp/<token>.lock` for as long as the process lives. Every blob and layer is
// built there and renamed into place only when complete, so a crash leaves debris only in tmp/,
// and a directory whose lock nobody holds is debris by definition: the next open removes it.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { removeTree } from './fsutil.ts';
import { FileLock } from './lock.ts';

export class ScratchArea {
  private token: { dir: string; lock: FileLock } | undefined;
  private seq = 0;

  readonly tmpRoot: string;

  constructor(tmpRoot: string) {
    this.tmpRoot = tmpRoot;
  }

  /** A fresh path (not created) inside this process's scratch directory. */
  path(label: string): string {
    return join(this.dir(), `${label}-${++this.seq}-${randomBytes(4).toString('hex')}`);
  }

  dir(): string {
    if (!this.token) {
      mkdirSync(this.tmpRoot, { recursive: true, mode: 0o700 });
      const name = `${process.pid}-${randomBytes(6).toString('hex')}`;
      const lock = FileLock.tryAcquire(join(this.tmpRoot, `${name}.lock`));
      if (!lock) throw new Error(`scratch token ${name} already locked`);
      const dir = join(this.tmpRoot, name);
      mkdirSync(dir, { mode: 0o700 });
      this.token = { dir, lock };
    }
    return this.token.dir;
  }

  /** Removes this process's scratch directory; the lock goes last. */
  close(): void {
    if (!this.token) return;
    removeTree(this.token.dir);
    rmSync(this.token.lock.path, { force: true });
    this.token.lock.release();
    this.token = undefined;
  }
}

/**
 * Removes scratch directories of processes that are gone. Returns the names removed.
 * A live writer holds its lock, so it is never touched.
 */
export function cleanAbandonedScratch(tmpRoot: string): string[] {
  let names: string[];
  try {
    names = readdirSync(tmpRoot);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const locks = new Set(names.filter((n) => n.endsWith('.lock')).map((n) => n.slice(0, -5)));
  for (const token of locks) {
    const lock = FileLock.tryAcquire(join(tmpRoot, `${token}.lock`));
    if (!lock) continue; // its owner is alive
    try {
      removeTree(join(tmpRoot, token));
      rmSync(lock.path, { force: true });
      removed.push(token);
    } finally {
      lock.release();
    }
  }
  // A directory with no lock file lost it to an earlier cleaner mid-way: debris too.
  for (const name of names) {
    if (name.endsWith('.lock') || locks.has(name)) continue;
    if (existsSync(join(tmpRoot, `${name}.lock`))) continue; // its lock appeared after readdir
    removeTree(join(tmpRoot, name));
    removed.push(name);
  }
  return removed;
}
