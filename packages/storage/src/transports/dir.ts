// `dir:DIR`, skopeo's directory transport, matching what skopeo writes:
//   DIR/manifest.json            the top-level manifest (or index) bytes, unchanged
//   DIR/version                  exactly "Directory Transport Version: 1.1\n"
//   DIR/<hex>                    each blob (config, layer), named by its digest's hex part alone
//   DIR/<hex>.manifest.json      each image manifest of an index copied with --all
// One image per directory. The whole reference after `dir:` is the path (colons included).
//
// Destination: an existing directory must be empty or already a dir: image (it has the version
// file); a new one is created (and removed again by `close` without `commit`). Blobs are written
// to `.pkit-tmp-*` files in DIR and renamed to their name once verified. `commit` writes
// manifest.json and version (temp + rename), then removes the files of a previous image that the
// new one does not use, so until commit the old image stays readable.
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { digestOf, parseDigest, type Digest } from '../digest.ts';
import { DigestMismatchError, NotFoundError, StoreError, isErrno } from '../errors.ts';
import { atomicWriteFile, fsyncDir, isFileOfSize } from '../fsutil.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../media-types.ts';
import type { Descriptor } from '../oci-types.ts';
import { MAX_MANIFEST_BYTES, parseManifestBytes } from '../validate.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob, TransportOptions } from './types.ts';
import { writeVerifiedFile } from '../verified-file.ts';

/** The exact content of `DIR/version` that skopeo writes and checks. */
export const DIR_VERSION = 'Directory Transport Version: 1.1\n';
const VERSION_PREFIX = 'Directory Transport Version: 1.';
const TMP_PREFIX = '.pkit-tmp-';
const CODE = 'PKIT_BAD_DIR';

/** Parses the part after `dir:`: the whole string is the directory. */
export function parseDirSpec(spec: string): { path: string } {
  if (spec === '') throw new StoreError('invalid reference "dir:": the path is empty; use dir:DIR', 'PKIT_BAD_REFERENCE');
  return { path: spec };
}

function blobFile(dir: string, digest: Digest): string {
  return join(dir, parseDigest(digest).hex);
}

function manifestFile(dir: string, digest: Digest): string {
  return join(dir, `${parseDigest(digest).hex}.manifest.json`);
}

async function readCapped(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.size > MAX_MANIFEST_BYTES) throw new StoreError(`${path}: ${st.size} bytes is larger than the limit of ${MAX_MANIFEST_BYTES} bytes`, 'PKIT_BAD_MANIFEST');
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

function parseAs(bytes: Buffer, name: string, what: string, digest: Digest): ManifestBlob {
  try {
    return { bytes, mediaType: parseManifestBytes(bytes).mediaType, digest };
  } catch (err) {
    if (err instanceof StoreError) throw new StoreError(`${name}: ${what}: ${err.message.replace(/^manifest: /, '')}`, err.code);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Source

class DirSource implements ImageSource {
  readonly name: string;
  readonly dir: string;
  readonly top: ManifestBlob;

  constructor(name: string, dir: string, top: ManifestBlob) {
    this.name = name;
    this.dir = dir;
    this.top = top;
  }

  async manifest(digest?: Digest): Promise<ManifestBlob> {
    if (digest === undefined || digest === this.top.digest) return this.top;
    const path = manifestFile(this.dir, digest);
    const bytes = await readCapped(path).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${this.name}: manifest ${digest} is not in the directory (no ${parseDigest(digest).hex}.manifest.json)`);
      throw err;
    });
    const actual = digestOf(bytes, parseDigest(digest).algorithm);
    if (actual !== digest) throw new DigestMismatchError(`${this.name}: manifest ${digest}: content hashes to ${actual}`);
    return parseAs(bytes, this.name, `manifest ${digest}`, digest);
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const path = blobFile(this.dir, desc.digest);
    const fh = await open(path, 'r').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${this.name}: blob ${desc.digest} is missing from the directory (no file ${parseDigest(desc.digest).hex})`);
      throw err;
    });
    try {
      const st = await fh.stat();
      if (st.size !== desc.size) {
        throw new DigestMismatchError(`${this.name}: blob ${desc.digest} has ${st.size} bytes in the directory, but the manifest says ${desc.size}`);
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    return fh.createReadStream();
  }

  async close(): Promise<void> {}
}

/** Opens `dir:DIR` (spec = the part after `dir:`) as an image source. */
export async function openDirSource(spec: string, _opts: TransportOptions = {}): Promise<ImageSource> {
  const name = `dir:${spec}`;
  const dir = resolve(parseDirSpec(spec).path);
  const version = await readFile(join(dir, 'version'), 'utf8').catch((err: unknown) => {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw err;
  });
  if (version !== undefined && !version.startsWith(VERSION_PREFIX)) {
    throw new StoreError(`${name}: unsupported directory format ${JSON.stringify(version.trim())}: expected "${DIR_VERSION.trim()}"`, CODE);
  }
  const bytes = await readCapped(join(dir, 'manifest.json')).catch((err: unknown) => {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
    throw new NotFoundError(`${name}: not an image directory: ${dir} has no manifest.json`);
  });
  return new DirSource(name, dir, parseAs(bytes, name, 'manifest.json', digestOf(bytes)));
}

// ---------------------------------------------------------------------------------------------
// Destination

class DirDestination implements ImageDestination {
  readonly name: string;
  readonly manifestTypes: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST];
  readonly acceptsIndex = true;
  readonly dir: string;
  /** Whether this destination made the directory (removed again if nothing is committed). */
  private readonly created: boolean;
  private readonly temps = new Set<string>();
  private committed = false;
  private closed = false;

  constructor(name: string, dir: string, created: boolean) {
    this.name = name;
    this.dir = dir;
    this.created = created;
  }

  private tempPath(): string {
    const p = join(this.dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    this.temps.add(p);
    return p;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return isFileOfSize(blobFile(this.dir, desc.digest), desc.size);
  }

  async putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    this.checkOpen();
    const tmp = this.tempPath();
    try {
      const { digest, size } = await writeVerifiedFile(stream, tmp, blob, `${this.name}: blob`);
      await rename(tmp, blobFile(this.dir, digest));
      this.temps.delete(tmp);
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      this.temps.delete(tmp);
      throw err;
    }
  }

  private async writeFile(path: string, data: string | Uint8Array): Promise<void> {
    const tmp = this.tempPath();
    try {
      await atomicWriteFile(path, data, tmp);
    } finally {
      this.temps.delete(tmp);
    }
  }

  private checkManifest(m: ManifestBlob): void {
    const actual = digestOf(m.bytes, parseDigest(m.digest).algorithm);
    if (actual !== m.digest) throw new DigestMismatchError(`${this.name}: manifest ${m.digest}: content hashes to ${actual}`);
  }

  async putManifest(manifest: ManifestBlob): Promise<void> {
    this.checkOpen();
    this.checkManifest(manifest);
    await this.writeFile(manifestFile(this.dir, manifest.digest), manifest.bytes);
  }

  async commit(top: ManifestBlob): Promise<void> {
    this.checkOpen();
    if (this.committed) throw new Error(`${this.name}: commit called twice`);
    this.checkManifest(top);
    fsyncDir(this.dir);
    await this.writeFile(join(this.dir, 'manifest.json'), top.bytes);
    await this.writeFile(join(this.dir, 'version'), DIR_VERSION);
    this.committed = true;
    await this.removeUnused(top);
  }

  /** Deletes files of a previous image (and stale temp files) that `top` does not use. */
  private async removeUnused(top: ManifestBlob): Promise<void> {
    const keep = new Set(['manifest.json', 'version']);
    const addManifest = (m: { config?: Descriptor; layers?: Descriptor[] }) => {
      if (m.config) keep.add(parseDigest(m.config.digest).hex);
      for (const l of m.layers ?? []) keep.add(parseDigest(l.digest).hex);
    };
    const parsed = parseManifestBytes(top.bytes, top.mediaType);
    if (parsed.kind === 'manifest') {
      addManifest(parsed.value);
    } else {
      for (const child of parsed.value.manifests) {
        const file = `${parseDigest(child.digest).hex}.manifest.json`;
        keep.add(file);
        try {
          const p = parseManifestBytes(await readCapped(join(this.dir, file)));
          if (p.kind === 'manifest') addManifest(p.value);
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err; // an index copied without its images
        }
      }
    }
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isFile() || keep.has(entry.name)) continue;
      if (entry.name.startsWith(TMP_PREFIX) && this.temps.has(join(this.dir, entry.name))) continue;
      await rm(join(this.dir, entry.name), { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.committed && this.created) {
      await rm(this.dir, { recursive: true, force: true });
      return;
    }
    for (const t of this.temps) await rm(t, { force: true });
    this.temps.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`${this.name}: destination used after close`);
  }
}

/**
 * Opens `dir:DIR` (spec = the part after `dir:`) as a destination. DIR must be new, empty, or
 * an image directory already (its image is replaced at commit).
 */
export async function openDirDestination(spec: string, _opts: TransportOptions = {}): Promise<ImageDestination> {
  const name = `dir:${spec}`;
  const dir = resolve(parseDirSpec(spec).path);
  const st = await stat(dir).catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  });
  if (!st) {
    await mkdir(dir, { recursive: true });
    return new DirDestination(name, dir, true);
  }
  if (!st.isDirectory()) throw new StoreError(`${name}: ${dir} exists and is not a directory`, CODE);
  const entries = await readdir(dir);
  if (entries.length > 0) {
    const version = await readFile(join(dir, 'version'), 'utf8').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (version === undefined || !version.startsWith(VERSION_PREFIX)) {
      throw new StoreError(`${name}: ${dir} is not empty and not an image directory (no version file): choose a new or empty directory`, CODE);
    }
  }
  return new DirDestination(name, dir, false);
}
