// The OCI image layout transport, `oci:DIR[:REF]` (image-spec image-layout.md): an `oci-layout`
// file, `index.json` naming the images, and content-addressed `blobs/<alg>/<hex>`.
//
// References are parsed as skopeo does: the path runs up to the first ':', the rest is an optional
// name stored as the `org.opencontainers.image.ref.name` annotation of an index.json entry
// (`@N`, the Nth entry, is accepted for sources as newer containers/image does).
//
// Destination contract, on top of types.ts:
// - Blobs are written to a scratch directory inside the layout (`.pkit/tmp/<token>/`, guarded by a
//   flock so a crashed writer's debris is removed by the next one) and renamed into `blobs/`
//   only after their stream ended without error and the digest matched.
// - `commit` re-reads index.json and writes it back (temp + rename) under an exclusive flock on
//   `.pkit/index.lock`, so several processes may commit into one layout and every entry survives.
//   The new entry takes the name from any other entry (that entry stays, unnamed), and replaces
//   an unnamed entry of the same digest, as skopeo does.
// - Blobs are never removed (another image may share them); `close` without `commit` removes
//   only this writer's scratch files.
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { digestOf, parseDigest, type Digest } from '../digest.ts';
import { DigestMismatchError, NotFoundError, StoreError, isErrno } from '../errors.ts';
import { atomicWriteFile, fsyncDir, readdirOrEmpty, isFileOfSize } from '../fsutil.ts';
import { withLock } from '../lock.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../media-types.ts';
import type { Descriptor } from '../oci-types.ts';
import { ScratchArea, cleanAbandonedScratch } from '../tmp.ts';
import { MAX_MANIFEST_BYTES, parseManifestBytes, validateDescriptor } from '../validate.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob, TransportOptions } from './types.ts';
import { writeVerifiedFile } from '../verified-file.ts';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const OCI_LAYOUT_VERSION = '1.0.0';
const OCI_LAYOUT_BYTES = `{"imageLayoutVersion":"${OCI_LAYOUT_VERSION}"}`;
/** Our private corner of a layout: the commit lock and writers' scratch directories. */
const PRIVATE_DIR = '.pkit';

const SPEC_CODE = 'PKIT_BAD_REFERENCE';
const LAYOUT_CODE = 'PKIT_BAD_LAYOUT';

// ---------------------------------------------------------------------------------------------
// References

/** `DIR[:REF]` of an `oci:` or `oci-archive:` reference, split. */
export interface LayoutSpec {
  /** The directory (oci) or file (oci-archive), as written. */
  path: string;
  /** The image name inside the layout (annotation org.opencontainers.image.ref.name). */
  ref?: string;
  /** `@N`: the Nth entry of index.json (sources only). */
  sourceIndex?: number;
}

// The annotation's grammar as containers/image checks it: components of letters and digits
// joined by one of - . _ : @ + or "--", and components joined by '/'.
const REF_COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_RE = new RegExp(`^${REF_COMPONENT}(?:/${REF_COMPONENT})*$`);

/** True when `ref` is a valid image name for an OCI layout index. */
export function isValidLayoutRef(ref: string): boolean {
  return REF_RE.test(ref);
}

/**
 * Parses the part after `oci:` (or `oci-archive:`): the path up to the first ':', then an
 * optional image name or `@N`. Throws a StoreError naming the problem.
 */
export function parseLayoutSpec(spec: string, transport = 'oci'): LayoutSpec {
  const colon = spec.indexOf(':');
  const path = colon === -1 ? spec : spec.slice(0, colon);
  const ref = colon === -1 ? '' : spec.slice(colon + 1);
  const what = transport === 'oci' ? 'DIR' : 'FILE';
  if (path === '') {
    throw new StoreError(`invalid reference "${transport}:${spec}": the path is empty; use ${transport}:${what}[:NAME]`, SPEC_CODE);
  }
  if (ref === '') return { path };
  if (ref.startsWith('@')) {
    const n = ref.slice(1);
    if (!/^(0|[1-9][0-9]{0,8})$/.test(n)) {
      throw new StoreError(`invalid reference "${transport}:${spec}": "${ref}" must be @ followed by an index.json entry number (e.g. @0)`, SPEC_CODE);
    }
    return { path, sourceIndex: Number(n) };
  }
  if (!isValidLayoutRef(ref)) {
    throw new StoreError(
      `invalid reference "${transport}:${spec}": image name "${ref}" must be letters and digits separated by one of - . _ : @ + or --, in components joined by /`,
      SPEC_CODE,
    );
  }
  return { path, ref };
}

/** Shortcut for `parseLayoutSpec(spec, 'oci')`. */
export function parseOciSpec(spec: string): LayoutSpec {
  return parseLayoutSpec(spec, 'oci');
}

// ---------------------------------------------------------------------------------------------
// Reading a layout

const MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

interface IndexFile {
  schemaVersion: 2;
  manifests: Descriptor[];
  [key: string]: unknown;
}

function refName(d: Descriptor): string | undefined {
  const v = d.annotations?.[REF_NAME_ANNOTATION];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function prefixError(err: unknown, label: string, what: string): unknown {
  if (err instanceof StoreError) {
    const msg = err.message.replace(/^manifest: /, '');
    return new StoreError(`${label}: ${what}: ${msg}`, err.code);
  }
  return err;
}

/** Parses and validates index.json bytes; `label` names the layout in messages. */
export function parseIndexJson(bytes: Uint8Array, label: string): IndexFile {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new StoreError(`${label}: index.json: ${bytes.byteLength} bytes is larger than the limit of ${MAX_MANIFEST_BYTES} bytes`, LAYOUT_CODE);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new StoreError(`${label}: index.json is not valid JSON: ${(err as Error).message.split('\n')[0]}`, LAYOUT_CODE);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new StoreError(`${label}: index.json must be a JSON object`, LAYOUT_CODE);
  }
  const o = obj as Record<string, unknown>;
  if (o.schemaVersion !== 2) throw new StoreError(`${label}: index.json: schemaVersion must be 2, got ${JSON.stringify(o.schemaVersion)}`, LAYOUT_CODE);
  if (!Array.isArray(o.manifests)) throw new StoreError(`${label}: index.json: manifests must be an array`, LAYOUT_CODE);
  o.manifests.forEach((m, i) => {
    try {
      validateDescriptor(m, `manifests[${i}]`, 'index.json');
    } catch (err) {
      throw new StoreError(`${label}: ${(err as Error).message}`, LAYOUT_CODE);
    }
  });
  return o as IndexFile;
}

/** Reads an OCI layout directory: its index, manifests and blobs. Used by oci: and oci-archive:. */
export class OciLayoutReader {
  readonly dir: string;
  /** How messages name the layout (`oci:/path`). */
  readonly label: string;
  readonly index: IndexFile;

  private constructor(dir: string, label: string, index: IndexFile) {
    this.dir = dir;
    this.label = label;
    this.index = index;
  }

  /** Opens `dir`; a missing directory, oci-layout file or index.json is a clear error. */
  static async open(dir: string, label: string, where: string = dir): Promise<OciLayoutReader> {
    let layoutBytes: string;
    try {
      layoutBytes = await readFile(join(dir, 'oci-layout'), 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
      const exists = await stat(dir).then((s) => s.isDirectory(), () => false);
      throw new NotFoundError(
        exists ? `${label}: not an OCI image layout: ${where} has no oci-layout file` : `${label}: no OCI image layout at ${where}: directory not found`,
      );
    }
    checkLayoutFile(layoutBytes, label);
    let indexBytes: Buffer;
    try {
      indexBytes = await readFile(join(dir, 'index.json'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${label}: not an OCI image layout: ${where} has no index.json`);
      throw err;
    }
    return new OciLayoutReader(dir, label, parseIndexJson(indexBytes, label));
  }

  blobPath(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, 'blobs', algorithm, hex);
  }

  /**
   * The index.json entry for `ref` (by name), `sourceIndex` (by position), or the only entry.
   * Errors list what the layout has.
   */
  select(ref?: string, sourceIndex?: number): Descriptor {
    const entries = this.index.manifests;
    let found: Descriptor | undefined;
    if (sourceIndex !== undefined) {
      found = entries[sourceIndex];
      if (!found) throw new NotFoundError(`${this.label}: no entry @${sourceIndex}: index.json has ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
    } else if (ref !== undefined) {
      found = entries.find((d) => refName(d) === ref);
      if (!found) {
        const names = entries.map(refName).filter((n): n is string => n !== undefined);
        throw new NotFoundError(
          `${this.label}: no image named "${ref}" in the layout; ${names.length ? `it has: ${[...new Set(names)].join(', ')}` : 'it has no named images'}`,
        );
      }
    } else {
      if (entries.length === 0) throw new NotFoundError(`${this.label}: the layout holds no images`);
      if (entries.length > 1) {
        const choices = entries.map((d, i) => refName(d) ?? `@${i}`);
        throw new StoreError(`${this.label}: the layout holds ${entries.length} images: specify one of: ${choices.join(', ')}`, 'PKIT_AMBIGUOUS');
      }
      found = entries[0]!;
    }
    if (!MANIFEST_TYPES.includes(found.mediaType)) {
      throw new StoreError(`${this.label}: the entry ${found.digest} has media type "${found.mediaType}", which is not an image manifest or index`, LAYOUT_CODE);
    }
    return found;
  }

  /**
   * A manifest or index stored as a blob, verified against `digest` (and `size`). `mediaType`
   * is what the referring descriptor declared, when known.
   */
  async readManifest(digest: Digest, mediaType?: string, size?: number): Promise<ManifestBlob> {
    const { algorithm } = parseDigest(digest);
    const path = this.blobPath(digest);
    let bytes: Buffer;
    const fh = await open(path, 'r').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${this.label}: manifest ${digest} is missing from the layout (no ${this.relative(path)})`);
      throw err;
    });
    try {
      const st = await fh.stat();
      if (st.size > MAX_MANIFEST_BYTES) {
        throw new StoreError(`${this.label}: manifest ${digest}: ${st.size} bytes is larger than the limit of ${MAX_MANIFEST_BYTES} bytes`, 'PKIT_BAD_MANIFEST');
      }
      if (size !== undefined && st.size !== size) {
        throw new DigestMismatchError(`${this.label}: manifest ${digest} has ${st.size} bytes in the layout, but its descriptor says ${size}`);
      }
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
    const actual = digestOf(bytes, algorithm);
    if (actual !== digest) throw new DigestMismatchError(`${this.label}: manifest ${digest}: content hashes to ${actual}`);
    try {
      const parsed = parseManifestBytes(bytes, mediaType);
      return { bytes, mediaType: parsed.mediaType, digest };
    } catch (err) {
      throw prefixError(err, this.label, `manifest ${digest}`);
    }
  }

  /** A blob's bytes as a stream, after checking it exists with the descriptor's size. */
  async openBlob(desc: Descriptor): Promise<Readable> {
    const path = this.blobPath(desc.digest);
    const fh = await open(path, 'r').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${this.label}: blob ${desc.digest} is missing from the layout (no ${this.relative(path)})`);
      throw err;
    });
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new StoreError(`${this.label}: blob ${desc.digest}: ${this.relative(path)} is not a regular file`, LAYOUT_CODE);
      if (st.size !== desc.size) {
        throw new DigestMismatchError(`${this.label}: blob ${desc.digest} has ${st.size} bytes in the layout, but the manifest says ${desc.size}`);
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    return fh.createReadStream();
  }

  private relative(path: string): string {
    return path.startsWith(`${this.dir}/`) ? path.slice(this.dir.length + 1) : path;
  }
}

function checkLayoutFile(text: string, label: string): void {
  let version: unknown;
  try {
    version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    throw new StoreError(`${label}: oci-layout is not valid JSON`, LAYOUT_CODE);
  }
  if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) {
    throw new StoreError(`${label}: unsupported OCI layout version ${JSON.stringify(version)}: expected 1.x.y`, LAYOUT_CODE);
  }
}

/** An image in an OCI layout, as an ImageSource. `onClose` runs once on close (oci-archive: remove the extraction). */
export class OciLayoutSource implements ImageSource {
  readonly name: string;
  readonly reader: OciLayoutReader;
  readonly top: ManifestBlob;
  private onClose: (() => Promise<void>) | undefined;
  private readonly entry: Descriptor | undefined;

  constructor(name: string, reader: OciLayoutReader, top: ManifestBlob, onClose?: () => Promise<void>, entry?: Descriptor) {
    this.name = name;
    this.reader = reader;
    this.top = top;
    this.onClose = onClose;
    this.entry = entry;
  }

  /** Opens the image `spec` selects in the layout read by `reader`. */
  static async open(name: string, reader: OciLayoutReader, spec: LayoutSpec, onClose?: () => Promise<void>): Promise<OciLayoutSource> {
    const desc = reader.select(spec.ref, spec.sourceIndex);
    const top = await reader.readManifest(desc.digest, desc.mediaType, desc.size);
    return new OciLayoutSource(name, reader, top, onClose, desc);
  }

  refName(): string | undefined {
    return this.entry ? refName(this.entry) : undefined;
  }

  async manifest(digest?: Digest): Promise<ManifestBlob> {
    if (digest === undefined || digest === this.top.digest) return this.top;
    return this.reader.readManifest(digest);
  }

  async blob(desc: Descriptor): Promise<Readable> {
    return this.reader.openBlob(desc);
  }

  async close(): Promise<void> {
    const fn = this.onClose;
    this.onClose = undefined;
    if (fn) await fn();
  }
}

/** Opens `oci:DIR[:REF]` (spec = the part after `oci:`) as an image source. */
export async function openOciSource(spec: string, _opts: TransportOptions = {}): Promise<ImageSource> {
  const parsed = parseOciSpec(spec);
  return ociLayoutReader(resolve(parsed.path), `oci:${spec}`, parsed);
}

// ---------------------------------------------------------------------------------------------
// Writing a layout

const DEST_TYPES: readonly string[] = [OCI_MANIFEST, OCI_INDEX];

/**
 * Writes into an OCI layout directory (created when missing). Used by oci: and oci-archive:.
 */
export class OciLayoutDestination implements ImageDestination {
  readonly compressesUncompressed = true;
  readonly name: string;
  readonly manifestTypes: readonly string[] = DEST_TYPES;
  readonly acceptsIndex = true;
  readonly dir: string;
  readonly ref: string | undefined;
  private readonly scratch: ScratchArea;
  private readonly lockPath: string;
  private readonly algDirs = new Set<string>();
  private seq = 0;
  private committed = false;
  private closed = false;

  private constructor(name: string, dir: string, ref: string | undefined) {
    this.name = name;
    this.dir = dir;
    this.ref = ref;
    this.scratch = new ScratchArea(join(dir, PRIVATE_DIR, 'tmp'));
    this.lockPath = join(dir, PRIVATE_DIR, 'index.lock');
  }

  /**
   * Opens (creating when missing) the layout at `dir`. An existing non-empty directory that is
   * not a layout is refused rather than written into.
   */
  static async open(name: string, dir: string, ref: string | undefined): Promise<OciLayoutDestination> {
    const st = await stat(dir).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (st && !st.isDirectory()) throw new StoreError(`${name}: ${dir} exists and is not a directory`, LAYOUT_CODE);
    // Checked once before creating anything (so a foreign directory gets no .pkit), and again
    // under the lock, where another writer cannot be half-way through creating the layout.
    if (st) await checkLayoutDir(dir, name);
    await mkdir(join(dir, PRIVATE_DIR), { recursive: true });
    const d = new OciLayoutDestination(name, dir, ref);
    try {
      await withLock(d.lockPath, 'exclusive', async () => {
        await checkLayoutDir(dir, name);
        await d.initLayout();
      });
    } catch (err) {
      d.scratch.close();
      throw err;
    }
    cleanAbandonedScratch(join(dir, PRIVATE_DIR, 'tmp'));
    return d;
  }

  /** Writes oci-layout, blobs/ and an empty index.json when missing (under the commit lock). */
  private async initLayout(): Promise<void> {
    await mkdir(join(this.dir, 'blobs'), { recursive: true });
    const tmp = this.scratch.path('init');
    const layoutPath = join(this.dir, 'oci-layout');
    if (!(await exists(layoutPath))) await atomicWriteFile(layoutPath, OCI_LAYOUT_BYTES, tmp);
    const indexPath = join(this.dir, 'index.json');
    if (!(await exists(indexPath))) await atomicWriteFile(indexPath, JSON.stringify({ schemaVersion: 2, manifests: [] }), tmp);
  }

  private blobPath(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, 'blobs', algorithm, hex);
  }

  private async ensureAlgDir(algorithm: string): Promise<string> {
    const dir = join(this.dir, 'blobs', algorithm);
    if (!this.algDirs.has(algorithm)) {
      await mkdir(dir, { recursive: true });
      this.algDirs.add(algorithm);
    }
    return dir;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return isFileOfSize(this.blobPath(desc.digest), desc.size);
  }

  async putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    this.checkOpen();
    const tmp = this.scratch.path(`blob${++this.seq}`);
    try {
      const { digest, size } = await writeVerifiedFile(stream, tmp, blob, `${this.name}: blob`);
      const { algorithm } = parseDigest(digest);
      await this.ensureAlgDir(algorithm);
      await rename(tmp, this.blobPath(digest));
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async putManifest(manifest: ManifestBlob): Promise<void> {
    this.checkOpen();
    if (!DEST_TYPES.includes(manifest.mediaType)) {
      throw new StoreError(
        `${this.name}: an OCI layout stores OCI manifests and indexes, not ${manifest.mediaType}: convert the image to OCI first`,
        'PKIT_UNSUPPORTED_MANIFEST',
      );
    }
    const { algorithm } = parseDigest(manifest.digest);
    const actual = digestOf(manifest.bytes, algorithm);
    if (actual !== manifest.digest) throw new DigestMismatchError(`${this.name}: manifest ${manifest.digest}: content hashes to ${actual}`);
    const path = this.blobPath(manifest.digest);
    if (await this.hasBlob({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length })) return;
    await this.ensureAlgDir(algorithm);
    await atomicWriteFile(path, manifest.bytes, this.scratch.path('manifest'));
  }

  async commit(top: ManifestBlob): Promise<void> {
    this.checkOpen();
    if (this.committed) throw new Error(`${this.name}: commit called twice`);
    await this.putManifest(top);
    for (const alg of this.algDirs) fsyncDir(join(this.dir, 'blobs', alg));
    const entry: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    if (this.ref !== undefined) entry.annotations = { [REF_NAME_ANNOTATION]: this.ref };
    await withLock(this.lockPath, 'exclusive', async () => {
      const indexPath = join(this.dir, 'index.json');
      let index: IndexFile;
      try {
        index = parseIndexJson(await readFile(indexPath), this.name);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) index = { schemaVersion: 2, manifests: [] };
        else if (err instanceof StoreError) throw new StoreError(`${err.message}; not overwriting it`, err.code);
        else throw err;
      }
      addIndexEntry(index, entry);
      await atomicWriteFile(indexPath, JSON.stringify(index), this.scratch.path('index'));
    });
    this.committed = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scratch.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`${this.name}: destination used after close`);
  }
}

/**
 * Adds `entry` to an index (in place), as containers/image does: a name moves to the new entry
 * (the old entries keep their place, unnamed), and an unnamed entry of the same digest is
 * replaced rather than duplicated.
 */
export function addIndexEntry(index: { manifests: Descriptor[] }, entry: Descriptor): void {
  const name = refName(entry);
  if (name !== undefined) {
    for (const m of index.manifests) {
      if (refName(m) === name) {
        const rest = { ...m.annotations };
        delete rest[REF_NAME_ANNOTATION];
        if (Object.keys(rest).length === 0) delete m.annotations;
        else m.annotations = rest;
      }
    }
  }
  const same = index.manifests.findIndex((m) => m.digest === entry.digest && refName(m) === undefined);
  if (same !== -1) index.manifests[same] = entry;
  else index.manifests.push(entry);
}

/** Files a layout (or one being created) may have at its top. */
const LAYOUT_ENTRIES = new Set([PRIVATE_DIR, 'blobs', 'oci-layout', 'index.json']);

/** Refuses a directory that is neither a layout (of a version we know) nor empty. */
async function checkLayoutDir(dir: string, name: string): Promise<void> {
  const layout = await readFile(join(dir, 'oci-layout'), 'utf8').catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  });
  if (layout !== undefined) {
    checkLayoutFile(layout, name);
    return;
  }
  if ((await readdirOrEmpty(dir)).some((n) => !LAYOUT_ENTRIES.has(n))) {
    throw new StoreError(`${name}: ${dir} is not empty and not an OCI image layout (no oci-layout file): choose a new or empty directory`, LAYOUT_CODE);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Opens `oci:DIR[:REF]` (spec = the part after `oci:`) as a destination; creates the layout when missing. */
export async function openOciDestination(spec: string, _opts: TransportOptions = {}): Promise<ImageDestination> {
  const parsed = parseOciSpec(spec);
  if (parsed.sourceIndex !== undefined) {
    throw new StoreError(`invalid destination "oci:${spec}": @${parsed.sourceIndex} selects an existing entry; name the image instead (oci:DIR:NAME)`, SPEC_CODE);
  }
  return OciLayoutDestination.open(`oci:${spec}`, resolve(parsed.path), parsed.ref);
}

/**
 * The read side for other transports (oci-archive): the image `spec` selects in the layout at
 * `dir`, as an ImageSource named `name`; `onClose` runs when the source is closed; `where`
 * names the layout's place in messages (default: `dir`).
 */
export async function ociLayoutReader(
  dir: string,
  name: string,
  spec: LayoutSpec,
  onClose?: () => Promise<void>,
  where: string = dir,
): Promise<OciLayoutSource> {
  const reader = await OciLayoutReader.open(dir, name, where);
  return OciLayoutSource.open(name, reader, spec, onClose);
}
