// The local store: one directory per object kind under the store root.
//
//   blobs/<alg>/<hex>          content-addressed blobs (manifests, configs, layer tars)
//   layers/<chain hex>/        unpacked layers: diff/ + layer.json
//   images/<id hex>.json       image records      names/<sha256(name)>.json   image names
//   containers/<id>/           container records  container-names/<name>.json
//   volumes/<name>/            named volumes: volume.json + _data/ (volumes.lock orders use and removal)
//   tmp/<token>/ + .lock       per-process scratch, removed when its owner is gone
//   store.lock                 shared by writers that add references, exclusive for gc and removal
//
// Readers take no lock: every record is replaced by atomic rename.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from './blob-store.ts';
import { ContainerStore } from './container-store.ts';
import { StoreError, isErrno } from './errors.ts';
import { ImageStore } from './image-store.ts';
import { LayerStore, type LayerStoreHooks } from './layer-store.ts';
import { FileLock, withLock } from './lock.ts';
import { resolveStorePaths, type PathOptions, type StorePaths } from './paths.ts';
import { ScratchArea, cleanAbandonedScratch } from './tmp.ts';
import { VolumeStore } from './volume-store.ts';

const STORE_VERSION = '1';

/**
 * Store.open's options: where the store is, and the hooks for layer work the calling process
 * cannot do itself (the rootless store gets them from @pkit/runtime's rootlessStoreHooks; see
 * docs/storage.md "The user namespace shell"). Without hooks, layers are applied and removed
 * in this process.
 */
export interface StoreOptions extends PathOptions, LayerStoreHooks {}

export class Store {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly images: ImageStore;
  readonly containers: ContainerStore;
  readonly volumes: VolumeStore;
  readonly scratch: ScratchArea;
  private readonly lockPath: string;

  readonly paths: StorePaths;

  private constructor(paths: StorePaths, hooks: LayerStoreHooks = {}) {
    this.paths = paths;
    const { root } = paths;
    this.scratch = new ScratchArea(join(root, 'tmp'));
    this.blobs = new BlobStore(join(root, 'blobs'), this.scratch);
    this.layers = new LayerStore(join(root, 'layers'), this.scratch, hooks);
    this.images = new ImageStore(join(root, 'images'), join(root, 'names'), this.scratch);
    this.containers = new ContainerStore(join(root, 'containers'), root, this.scratch);
    this.volumes = new VolumeStore(join(root, 'volumes'), join(root, 'volumes.lock'), this.scratch, () => this.containers.list(), hooks.treeRemover);
    this.lockPath = join(root, 'store.lock');
  }

  /**
   * Opens (creating if needed) the store and removes the scratch debris of dead processes,
   * so whatever a crash left half-done is gone before anything reads the store.
   */
  static open(opts: StoreOptions = {}): Store {
    const paths = resolveStorePaths(opts);
    const { root } = paths;
    try {
      mkdirSync(root, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(`cannot create the store at ${root}: ${(err as Error).message}; pass --root or set PKIT_ROOT to a writable directory`);
    }
    const versionFile = join(root, 'version');
    if (!existsSync(versionFile)) writeVersionFile(versionFile);
    const v = readFileSync(versionFile, 'utf8').trim();
    if (v !== STORE_VERSION) throw new StoreError(`store ${root} has format version "${v}"; this pkit reads version ${STORE_VERSION}`);
    try {
      cleanAbandonedScratch(join(root, 'tmp'));
    } catch (err) {
      // Debris never blocks the store: warn, and the next open tries again.
      process.stderr.write(`Warning: could not clean up ${join(root, 'tmp')}: ${(err as Error).message}\n`);
    }
    const hooks: LayerStoreHooks = {};
    if (opts.layerApplier) hooks.layerApplier = opts.layerApplier;
    if (opts.treeRemover) hooks.treeRemover = opts.treeRemover;
    return new Store(paths, hooks);
  }

  /**
   * Runs a change that adds objects and then references to them (pull, import, commit,
   * container create). Many can run at once; garbage collection waits for all of them, so it
   * never deletes a blob that a record is about to reference.
   */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath, 'shared', fn);
  }

  /** Takes the shared writer lock until the returned lock is released (a copy into the store). */
  beginWrite(): Promise<FileLock> {
    return FileLock.acquire(this.lockPath, 'shared');
  }

  /** Runs a change that removes objects (gc, image removal), alone. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath, 'exclusive', fn);
  }

  /** Releases this process's scratch directory. */
  close(): void {
    this.scratch.close();
  }
}

/**
 * Creates the version file whole or not at all: written aside, then linked into place, so a
 * crash or a second process opening a new store at the same time never sees it empty.
 */
function writeVersionFile(path: string): void {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${STORE_VERSION}\n`, { flush: true });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err; // another process made it first
  } finally {
    rmSync(tmp, { force: true });
  }
}
