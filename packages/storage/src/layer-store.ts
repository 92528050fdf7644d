// Unpacked layers: `layers/<chainID hex>/` holding `diff/` (the layer's files, ready to be an
// overlay lower dir) and `layer.json`. A layer directory is built in scratch and renamed into
// place only when complete and flushed, so a layer that is visible is whole.
import { existsSync, openSync, closeSync, constants as C } from 'node:fs';
import { mkdir, rename, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Stream } from 'node:stream';
import { digestOf, parseDigest, type Digest, type Expected } from './digest.ts';
import { NotFoundError, StoreError, isErrno } from './errors.ts';
import { fsyncDir, readdirOrEmpty, removeTree } from './fsutil.ts';
import type { ApplyResult } from './layers/apply.ts';
import { native } from './native.ts';
import type { ScratchArea } from './tmp.ts';

/**
 * Applies one layer (gzip, zstd or plain tar bytes on `input`) into the existing directory `dir`,
 * as applyLayerTar does; the store's hook for applying elsewhere than in this process (the
 * rootless store runs the apply worker as root inside a user namespace, so files get the tar's
 * owners). Must consume or fail on `input`, and verify `expected` like applyLayerTar.
 */
export type LayerApplier = (input: Readable, dir: string, expected?: Expected) => Promise<ApplyResult>;

/** Removes a whole tree (missing is not an error); the hook for trees the user cannot remove itself. */
export type TreeRemover = (path: string) => Promise<void>;

export interface LayerStoreHooks {
  /** Default: applyLayerTar in this process. */
  layerApplier?: LayerApplier | undefined;
  /** Default: removeTree in this process. */
  treeRemover?: TreeRemover | undefined;
}

export interface LayerRecord {
  chainID: Digest;
  diffID: Digest;
  parent?: Digest;
  /** Uncompressed size of the layer tar. */
  size: number;
  created: string;
}

export interface AppliedLayer extends LayerRecord {
  /** Digest and size of the bytes that were applied (compressed or not). */
  inputDigest: Digest;
  inputSize: number;
}

/** ChainID per the image-spec: the diffID for a base layer, else sha256(parent + " " + diffID). */
export function chainID(parent: Digest | undefined, diffID: Digest): Digest {
  return parent ? digestOf(`${parent} ${diffID}`) : diffID;
}

/** The chainIDs of a stack of diffIDs, bottom first. */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) out.push(chainID(out.at(-1), d));
  return out;
}

export class LayerStore {
  readonly dir: string;
  private readonly scratch: ScratchArea;
  private readonly hooks: LayerStoreHooks;

  constructor(dir: string, scratch: ScratchArea, hooks: LayerStoreHooks = {}) {
    this.dir = dir;
    this.scratch = scratch;
    this.hooks = hooks;
  }

  /** Removes a layer directory (or its scratch), through the treeRemover hook when set. */
  private async removeLayerTree(path: string): Promise<void> {
    if (this.hooks.treeRemover) await this.hooks.treeRemover(path);
    else removeTree(path);
  }

  layerDir(chain: Digest): string {
    return join(this.dir, parseDigest(chain).hex);
  }

  /** The directory to use as an overlay lower dir. */
  diffDir(chain: Digest): string {
    return join(this.layerDir(chain), 'diff');
  }

  has(chain: Digest): boolean {
    return existsSync(join(this.layerDir(chain), 'layer.json'));
  }

  async get(chain: Digest): Promise<LayerRecord> {
    try {
      return JSON.parse(await readFile(join(this.layerDir(chain), 'layer.json'), 'utf8')) as LayerRecord;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`layer ${chain} not found in the store`);
      throw err;
    }
  }

  async list(): Promise<Digest[]> {
    return (await readdirOrEmpty(this.dir)).map((hex) => `sha256:${hex}` as Digest);
  }

  /**
   * Unpacks a layer tar (gzip, zstd or plain) on top of `parent`. With `expected`, the input
   * bytes are verified and a mismatch leaves nothing. If another process committed the same
   * chainID meanwhile, its layer is kept and this one discarded.
   */
  async apply(input: Readable | NodeJS.ReadableStream, parent: Digest | undefined, expected?: Expected): Promise<AppliedLayer> {
    if (parent && !this.has(parent)) throw new NotFoundError(`parent layer ${parent} not found in the store`);
    const work = this.scratch.path('layer');
    await mkdir(join(work, 'diff'), { recursive: true });
    try {
      let result: ApplyResult;
      if (this.hooks.layerApplier) {
        const stream = input instanceof Stream ? (input as Readable) : new Readable().wrap(input);
        result = await this.hooks.layerApplier(stream, join(work, 'diff'), expected);
      } else {
        // Loaded on first use: commands that never unpack a layer do not pay for the tar code.
        const { applyLayerTar } = await import('./layers/apply.ts');
        result = await applyLayerTar(input, join(work, 'diff'), expected ? { expected } : {});
      }
      const record: LayerRecord = {
        chainID: chainID(parent, result.diffID),
        diffID: result.diffID,
        ...(parent ? { parent } : {}),
        size: result.size,
        created: new Date().toISOString(),
      };
      await writeFile(join(work, 'layer.json'), JSON.stringify(record));
      flushFilesystem(work);
      await this.commit(work, record.chainID);
      return { ...record, inputDigest: result.digest, inputSize: result.inputSize };
    } catch (err) {
      await this.removeLayerTree(work);
      throw err;
    }
  }

  private async commit(work: string, chain: Digest): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const final = this.layerDir(chain);
    try {
      await rename(work, final);
      fsyncDir(this.dir);
    } catch (err) {
      if (!isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw err;
      await this.removeLayerTree(work); // identical content already committed
    }
  }

  /** Removes a layer; first renamed out of sight, so no half-deleted layer is ever visible. */
  async delete(chain: Digest): Promise<boolean> {
    const doomed = this.scratch.path('deleted-layer');
    try {
      await rename(this.layerDir(chain), doomed);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
    await this.removeLayerTree(doomed);
    return true;
  }
}

/** One syncfs for a whole unpacked layer instead of an fsync per file. */
function flushFilesystem(path: string): void {
  const fd = openSync(path, C.O_RDONLY | C.O_DIRECTORY);
  try {
    native().syncfs(fd);
  } catch (err) {
    throw new StoreError(`flushing ${path} failed: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
