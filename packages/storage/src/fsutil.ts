// File primitives every store write goes through: write to a temp path, fsync, rename.
import { closeSync, fsyncSync, openSync, constants as C } from 'node:fs';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from './errors.ts';

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

export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
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
