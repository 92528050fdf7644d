// OCI bundles: a directory with config.json; the root filesystem is wherever spec.root.path
// points (the caller's: an overlay mount point, an extracted directory).
import { mkdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { StoreError } from '@pkit/storage/errors';
import { atomicWriteFile } from '@pkit/storage/fsutil';
import type { Store } from '@pkit/storage/store';
import type { Spec } from './oci-spec.ts';

export interface Bundle {
  dir: string;
  configPath: string;
  /** The root filesystem, absolute. */
  rootfs: string;
}

/**
 * Writes `spec` as `dir`/config.json, atomically (temp file, fsync, rename): a runtime reading
 * the bundle sees the old config or the new one. Creates `dir` (0700) when missing. The rootfs
 * is not created or checked here: it belongs to the caller.
 */
export async function writeBundle(dir: string, spec: Spec): Promise<Bundle> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const configPath = join(abs, 'config.json');
  const tmp = join(abs, `.config.json.${process.pid}.${randomBytes(4).toString('hex')}`);
  await atomicWriteFile(configPath, `${JSON.stringify(spec, null, 2)}\n`, tmp, 0o600);
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : join(abs, spec.root.path);
  return { dir: abs, configPath, rootfs };
}

/** A container's spec, as its bundle holds it (containers/<id>/config.json), read at once. */
export function readContainerSpec(store: Store, id: string): Spec {
  try {
    return JSON.parse(readFileSync(join(store.containers.containerDir(id), 'config.json'), 'utf8')) as Spec;
  } catch (err) {
    throw new StoreError(`container ${id} has no readable bundle (config.json): ${(err as Error).message}`, 'PKIT_CONTAINER');
  }
}

/** Reads a bundle's config.json. */
export async function readBundleSpec(dir: string): Promise<Spec> {
  const path = join(resolve(dir), 'config.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Spec;
  } catch (err) {
    throw new Error(`bundle ${dir}: cannot read config.json: ${(err as Error).message}`);
  }
}
