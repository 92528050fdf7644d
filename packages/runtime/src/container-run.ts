// A container from an image in the local store: its record, its directories and its bundle
// (`prun run`, first path). Layout of `containers/<id>/` (docs/storage.md):
//   container.json   the record (ContainerStore)
//   config.json      the bundle's OCI spec
//   rootfs/          an empty directory: the overlay root is mounted onto it by pkit-runtime
//   upper/ work/     the overlay's upper and work dirs: everything the container writes
// The root is an overlay of the image's layer dirs (top first) under `upper`, given to the
// runtime as the spec's *first* mount (destination "/", type "overlay"): pkit-runtime's
// convention, see native/helper/mounts.c. crun does not know it, so only pkit-runtime can run
// these bundles.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { removeTree } from '@pkit/storage/fsutil';
import { findImage } from '@pkit/storage/image-lookup';
import { type ImageConfig } from '@pkit/storage/oci-types';
import { type Store } from '@pkit/storage/store';
import { MAX_CONFIG_BYTES, parseImageConfig } from '@pkit/storage/validate';
import { writeBundle, type Bundle } from './bundle.ts';
import { hostFacts } from './host.ts';
import { computeIDMappings, currentIdmapHost, type IDMappings } from './idmap.ts';
import type { Mount, Spec } from './oci-spec.ts';
import { buildSpec, type HostFacts, type RunOptions } from './spec.ts';
import { removeAsUsernsRoot } from './userns.ts';

export interface CreateContainerOptions {
  /** What the user typed for the image (name, id or id prefix). */
  image: string;
  name?: string;
  /** Run options for buildSpec, without what this module fills in (rootfs, idmap). */
  run?: Omit<RunOptions, 'rootfs' | 'idmap'>;
  /** Default: computeIDMappings(currentIdmapHost()). */
  idmap?: IDMappings;
  /** Default: hostFacts(). */
  host?: HostFacts;
  /** More settings kept in the record's config (beside `run`). */
  meta?: Record<string, unknown>;
  /**
   * Called once the container's directory exists, before its spec is written: returns run
   * options that depend on it (files written there and bind-mounted, the user looked up in the
   * image's layers). Its `mounts` are added to those of `run`.
   */
  prepare?: (ctx: PrepareContext) => Promise<Partial<RunOptions>>;
}

export interface PrepareContext {
  record: ContainerRecord;
  dir: string;
  /** The image's layer directories, top layer first. */
  layerDirs: string[];
  image: ImageConfig;
}

export interface CreatedContainer {
  record: ContainerRecord;
  /** containers/<id>: also the bundle directory. */
  dir: string;
  bundle: Bundle;
  spec: Spec;
  idmap: IDMappings;
  image: ImageConfig;
}

/** The overlay options cannot quote these: a store path holding one is refused. */
function checkOverlayPath(p: string): string {
  if (/[,:\\]/.test(p)) {
    throw new StoreError(`store path ${p} contains ",", ":" or "\\", which overlay mount options cannot carry: use a --root without them`, 'PKIT_BAD_PATH');
  }
  return p;
}

/**
 * The overlay root mount (pkit-runtime's convention): lower dirs top layer first, as overlayfs
 * wants them; `userxattr` so the rootless kernel overlay works (Linux >= 5.11).
 */
export function overlayRootMount(lowerTopFirst: string[], upper: string, work: string): Mount {
  if (lowerTopFirst.length === 0) throw new Error('overlay root: no lower directory');
  return {
    destination: '/',
    type: 'overlay',
    source: 'overlay',
    options: [
      `lowerdir=${lowerTopFirst.map(checkOverlayPath).join(':')}`,
      `upperdir=${checkOverlayPath(upper)}`,
      `workdir=${checkOverlayPath(work)}`,
      'userxattr',
    ],
  };
}

/** An image's config, read from the store. */
export async function readImageConfig(store: Store, configDigest: ContainerRecord['image']): Promise<ImageConfig> {
  return parseImageConfig(await store.blobs.readBytes(configDigest, MAX_CONFIG_BYTES));
}

/**
 * Creates a container from a stored image: the record (its name claimed, PKIT_NAME_IN_USE when
 * taken), upper/work/rootfs dirs and the bundle. The spec is built before the record is made,
 * so a bad option leaves nothing behind; a failure after that removes the record again.
 */
export async function createContainer(store: Store, opts: CreateContainerOptions): Promise<CreatedContainer> {
  const image = await findImage(store, opts.image);
  const config = await readImageConfig(store, image.id);
  const idmap = opts.idmap ?? computeIDMappings(currentIdmapHost());
  const host = opts.host ?? hostFacts();
  const lower = [...image.layers].reverse().map((chain) => store.layers.diffDir(chain));
  // Built once up front with a placeholder root, so invalid options fail before any record.
  // (the image's User may be a name, resolved later by `prepare`: a placeholder user here)
  buildSpec(config, { user: { uid: 0, gid: 0 }, ...opts.run, rootfs: 'rootfs', idmap }, host);

  const record = await store.write(() =>
    store.containers.create({
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      image: image.id,
      imageName: opts.image,
      config: { ...opts.meta, run: opts.run ?? {} },
    }),
  );
  const dir = store.containers.containerDir(record.id);
  try {
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const rootfs = join(dir, 'rootfs');
    // The overlay root takes the upper dir's mode: 0755 as an image root is, or only root
    // could find anything in the container.
    await mkdir(upper, { mode: 0o755 });
    for (const d of [work, rootfs]) await mkdir(d, { mode: 0o700 });
    if (lower.length === 0) {
      // overlayfs needs a lower dir: an image without layers gets an empty one.
      const empty = join(dir, 'empty');
      await mkdir(empty, { mode: 0o755 });
      lower.push(empty);
    }
    const layerDirs = image.layers.length ? [...lower] : [];
    const extra = opts.prepare ? await opts.prepare({ record, dir, layerDirs, image: config }) : {};
    const mounts = [...(opts.run?.mounts ?? []), ...(extra.mounts ?? [])];
    const spec = buildSpec(config, { ...opts.run, ...extra, ...(mounts.length ? { mounts } : {}), rootfs, idmap }, host);
    spec.mounts = [overlayRootMount(lower, upper, work), ...(spec.mounts ?? [])];
    const bundle = await writeBundle(dir, spec);
    return { record, dir, bundle, spec, idmap, image: config };
  } catch (err) {
    await removeContainer(store, record.id).catch(() => {});
    throw err;
  }
}

/**
 * Removes a container's record and directories. The upper and work dirs may hold files of
 * subordinate owners, which the user cannot remove: those go through the user namespace
 * (removeAsUsernsRoot, with `helper` as the pkit-runtime binary) when a plain removal fails.
 */
export async function removeContainer(store: Store, id: string, opts: { idmap?: IDMappings; helper?: string } = {}): Promise<void> {
  const dir = store.containers.containerDir(id);
  const trees = ['upper', 'work'].map((d) => join(dir, d));
  try {
    for (const t of trees) removeTree(t);
  } catch {
    const idmap = opts.idmap ?? computeIDMappings(currentIdmapHost());
    await removeAsUsernsRoot(trees, { mappings: idmap, ...(opts.helper !== undefined ? { helper: opts.helper } : {}) });
  }
  await store.containers.remove(id);
}
