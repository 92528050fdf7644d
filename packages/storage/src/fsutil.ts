// File primitives every store write goes through: write to a temp path, fsync, rename.
import { chmodSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, rmSync, constants as C } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StoreError, isErrno } from './errors.ts';

/** fsync a directory so a rename inside it survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `tmpPath`, fsyncs it and renames it over `path`: readers see the old
 * content or the new, never a mix. `tmpPath` must be on the same filesystem as `path`.
 */
export async function atomicWriteFile(path: string, data: string | Uint8Array, tmpPath: string, mode = 0o644): Promise<void> {
  const fh = await open(tmpPath, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmpPath, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmpPath, path);
  } catch (err) {
    await rm(tmpPath, { force: true });
    throw err;
  }
  fsyncDir(dirname(path));
}

/** A JSON record, or undefined when absent; a corrupt one is an error naming the file. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new StoreError(`corrupt store record ${path}: ${(err as Error).message}; remove the file to drop the object it describes`, 'PKIT_CORRUPT');
  }
}

/** Removes a file; false when it was not there. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** A directory's entries; none when it does not exist yet. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/**
 * Removes a tree, also when it holds read-only directories (a layer keeps its tar modes, so a
 * 0555 /usr cannot be emptied by a plain user until it is made writable again).
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (err) {
    if (!isErrno(err, 'EACCES', 'EPERM')) throw err;
    makeDirsWritable(path);
    rmSync(path, { recursive: true, force: true });
  }
}

function makeDirsWritable(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) chmodSync(path, (st.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path)) makeDirsWritable(join(path, name));
}

/** Whether `path` is a regular file of exactly `size` bytes (a blob already in place). */
export async function isFileOfSize(path: string, size: number): Promise<boolean> {
  try {
    const st = await stat(path);
    return st.isFile() && st.size === size;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}
