// `docker-archive:FILE[:REF]`: the `docker save` / `docker load` tar, read and written as skopeo
// does. REF is a docker reference naming the image inside (name:tag; a destination records it in
// RepoTags and `repositories`), or `@N` for the N-th image of a source.
//
// The archive: `manifest.json` = [{Config, RepoTags, Layers}] with paths inside the tar, the config
// file and one tar per layer. Written like skopeo: `<hex>.tar` per layer (hex of the uncompressed
// digest = diffID), `<hex>.json` for the config, a legacy `<id>/{layer.tar -> ../<hex>.tar,
// VERSION, json}` directory per layer, then `manifest.json` and (when tagged) `repositories`.
//
// Source: the image is presented as a Docker schema 2 manifest whose layer digests are the sha256
// of each layer file as stored (gzip-compressed layer files get the gzip media type). Those
// digests must be in the manifest before any blob is read, so opening hashes the layer files once:
// for a regular file, from an index of tar entry offsets built by reading only the headers, and
// later blob reads are positional reads of that range (no extraction); a pipe, FIFO or other
// non-seekable FILE, or a compressed archive, is extracted once into a private temp dir (hashing
// on the way).
//
// Destination: layers arrive uncompressed (requiredCompression 'none') and are staged in a private
// temp dir; commit streams the tar to FILE (a regular file through a temp file next to it and a
// rename, replacing any old one; /dev/stdout, FIFOs and devices directly).
import { randomBytes } from 'node:crypto';
import { createWriteStream, fsyncSync, openSync, closeSync, constants as FS } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { Readable, Writable, pipeline as pipelineCb } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { extract as tarExtract, pack as tarPack, type Headers, type Pack } from 'tar-stream';
import tarHeaders from 'tar-stream/headers.js';
import { HashingStream, digestOf, parseDigest, type Digest } from '../digest.ts';
import { NotFoundError, StoreError, isErrno } from '../errors.ts';
import { fsyncDir } from '../fsutil.ts';
import { DOCKER_CONFIG, DOCKER_LAYER_TAR, DOCKER_LAYER_TAR_GZIP, DOCKER_MANIFEST, layerCompression } from '../media-types.ts';
import type { Descriptor, DockerManifest } from '../oci-types.ts';
import { formatReference, parseReference, type Reference } from '../reference.ts';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifestBytes } from '../validate.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob, TransportOptions } from './types.ts';
import { writeVerifiedFile } from '../verified-file.ts';

const CODE = 'PKIT_BAD_ARCHIVE';
const BLOCK = 512;
const CHUNK = 256 * 1024;
/** Largest PAX or GNU long-name record accepted in the archive's own headers. */
const MAX_META_RECORD = 1 << 20;
/** Symlinks followed when resolving a path inside the archive. */
const MAX_LINKS = 16;

// ---------------------------------------------------------------------------------------------
// The reference

export interface DockerArchiveSpec {
  /** The archive file. */
  path: string;
  /** The image inside, by tag (always tagged: a bare name gets `latest`). */
  ref?: Reference;
  /** The image inside, by position in manifest.json (sources only). */
  index?: number;
}

/** Parses `FILE[:REF]` (what follows `docker-archive:`). FILE cannot contain ':'. */
export function parseDockerArchiveSpec(spec: string): DockerArchiveSpec {
  const colon = spec.indexOf(':');
  const path = colon === -1 ? spec : spec.slice(0, colon);
  if (path === '') throw new StoreError(`invalid reference "docker-archive:${spec}": expected docker-archive:FILE[:NAME[:TAG]|:@N]`, 'PKIT_BAD_REFERENCE');
  if (colon === -1) return { path };
  const rest = spec.slice(colon + 1);
  if (rest.startsWith('@')) {
    if (!/^\d+$/.test(rest.slice(1))) {
      throw new StoreError(`invalid reference "docker-archive:${spec}": "${rest}" is not @N, the position of an image in the archive (from 0)`, 'PKIT_BAD_REFERENCE');
    }
    return { path, index: Number(rest.slice(1)) };
  }
  let ref: Reference;
  try {
    ref = parseReference(rest);
  } catch (err) {
    throw new StoreError(`invalid reference "docker-archive:${spec}": ${(err as Error).message}`, 'PKIT_BAD_REFERENCE');
  }
  if (ref.digest !== undefined) {
    throw new StoreError(`invalid reference "docker-archive:${spec}": a docker archive names images by tag, not by digest`, 'PKIT_BAD_REFERENCE');
  }
  return { path, ref };
}

/** `docker.io/library/busybox:latest`: the form RepoTags use and tags are compared in. */
function repoTagOf(ref: Reference): string {
  return formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
}

function normalizedTag(tag: string): string | undefined {
  try {
    const ref = parseReference(tag);
    return ref.digest === undefined ? repoTagOf(ref) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the archive: an index of its entries, with random access to regular files

interface FileEntry {
  kind: 'file';
  name: string;
  size: number;
  /** Offset of the data in the archive file (seekable mode). */
  offset: number;
  /** The extracted copy (stream mode). */
  path?: string;
  digest?: Digest;
}

interface LinkEntry {
  kind: 'symlink' | 'hardlink';
  name: string;
  target: string;
}

type Entry = FileEntry | LinkEntry;

interface TarHeaderCodec {
  decode(buf: Buffer, filenameEncoding: string, allowUnknownFormat: boolean): (Headers & { size: number; linkname: string | null }) | null;
  decodePax(buf: Buffer): Record<string, string>;
  decodeLongPath(buf: Buffer, encoding: string): string;
}
const headers = tarHeaders as unknown as TarHeaderCodec;

/** A name inside the archive in one canonical form: no leading `/` or `./`, no `.` or `//`. */
function cleanName(name: string): string {
  const n = posix.normalize(`/${name}`).slice(1);
  return n.endsWith('/') ? n.slice(0, -1) : n;
}

type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Reads up to `n` bytes from the start of a stream; returns them and a stream of the whole. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      // Ended early (an error downstream): stop and destroy the input too.
      if (!done) await it.return?.();
    }
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

async function readExactlyAt(fh: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

function rangeStream(fh: FileHandle, start: number, length: number, what: string): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    let pos = start;
    let left = length;
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      if (bytesRead === 0) throw new StoreError(`${what}: the archive ended early (was it changed while being read?)`, CODE);
      yield bytesRead === n ? buf : buf.subarray(0, bytesRead);
      pos += bytesRead;
      left -= bytesRead;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

class Archive {
  readonly entries = new Map<string, Entry>();
  /** Set in seekable mode: positional reads of the archive itself. */
  private fh: FileHandle | undefined;
  /** Set in stream mode: where entries were extracted. */
  private tmp: string | undefined;
  readonly what: string;

  private constructor(what: string) {
    this.what = what;
  }

  /** Opens FILE: indexes a plain regular file in place, extracts anything else. */
  static async open(file: string, what: string): Promise<Archive> {
    const a = new Archive(what);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${what}: ${file} does not exist`);
      if (isErrno(err, 'EISDIR')) throw new StoreError(`${what}: ${file} is a directory, not an archive (for a directory of blobs use oci:DIR or dir:DIR)`, CODE);
      throw new StoreError(`${what}: cannot open ${file}: ${(err as Error).message}`, CODE);
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new StoreError(`${what}: ${file} is a directory, not an archive (for a directory of blobs use oci:DIR or dir:DIR)`, CODE);
      if (st.isFile()) {
        const head = Buffer.alloc(6);
        const n = await readExactlyAt(fh, head, 0);
        if (sniffCompression(head.subarray(0, n)) === 'none') {
          a.fh = fh;
          await a.index(st.size);
          return a;
        }
      }
      await a.extract(fh.createReadStream());
      await fh.close().catch(() => {}); // normally closed already by the stream
      return a;
    } catch (err) {
      await fh.close().catch(() => {});
      await a.close();
      throw err;
    }
  }

  /** Walks the tar headers of a seekable archive, reading no data but PAX/long-name records. */
  private async index(fileSize: number): Promise<void> {
    const fh = this.fh!;
    const block = Buffer.alloc(BLOCK);
    let off = 0;
    let pax: Record<string, string> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    const readRecord = async (pos: number, size: number, kind: string): Promise<Buffer> => {
      if (size > MAX_META_RECORD) throw new StoreError(`${this.what}: a ${kind} record of ${size} bytes is larger than the limit of ${MAX_META_RECORD}`, CODE);
      const buf = Buffer.alloc(size);
      if ((await readExactlyAt(fh, buf, pos)) !== size) throw this.truncated();
      return buf;
    };
    for (;;) {
      if (off + BLOCK > fileSize) {
        if (off === 0) throw new StoreError(`${this.what}: not a tar archive (the file is ${fileSize === 0 ? 'empty' : 'too short'})`, CODE);
        break; // no end-of-archive blocks: tolerated, as tar does
      }
      if ((await readExactlyAt(fh, block, off)) !== BLOCK) throw this.truncated();
      let h: ReturnType<TarHeaderCodec['decode']>;
      try {
        h = headers.decode(block, 'utf-8', true);
      } catch (err) {
        throw new StoreError(`${this.what}: not a valid tar archive at byte ${off}: ${(err as Error).message}`, CODE);
      }
      if (h === null) break; // end-of-archive block
      const dataOff = off + BLOCK;
      let size = h.size;
      if (h.type === 'pax-header' || h.type === 'pax-global-header' || h.type === 'gnu-long-path' || h.type === 'gnu-long-link-path') {
        const rec = await readRecord(dataOff, size, h.type);
        if (h.type === 'pax-header') pax = headers.decodePax(rec);
        else if (h.type === 'gnu-long-path') longName = headers.decodeLongPath(rec, 'utf-8');
        else if (h.type === 'gnu-long-link-path') longLink = headers.decodeLongPath(rec, 'utf-8');
        // Global PAX headers carry nothing a docker archive needs.
      } else {
        const name = cleanName(pax?.path ?? longName ?? h.name);
        const linkname = pax?.linkpath ?? longLink ?? h.linkname ?? '';
        if (pax?.size !== undefined) {
          size = Number(pax.size);
          if (!Number.isSafeInteger(size) || size < 0) throw new StoreError(`${this.what}: entry "${name}" has an invalid PAX size "${pax.size}"`, CODE);
        }
        if (h.type === 'file' || h.type === 'contiguous-file') {
          if (dataOff + size > fileSize) throw this.truncated();
          this.entries.set(name, { kind: 'file', name, size, offset: dataOff });
        } else if (h.type === 'symlink' || h.type === 'link') {
          this.entries.set(name, { kind: h.type === 'link' ? 'hardlink' : 'symlink', name, target: linkname });
        }
        pax = undefined;
        longName = undefined;
        longLink = undefined;
      }
      off = dataOff + Math.ceil(size / BLOCK) * BLOCK;
    }
  }

  private truncated(): StoreError {
    return new StoreError(`${this.what}: the archive is truncated`, CODE);
  }

  /** Extracts every regular file into a private temp dir, hashing each on the way. */
  private async extract(raw: Readable): Promise<void> {
    this.tmp = await mkdtemp(join(tmpdir(), 'pkit-docker-archive-'));
    const { head, stream } = await peek(raw, 6);
    const compression = sniffCompression(head);
    const stages: (Readable | Writable | NodeJS.ReadWriteStream)[] = [stream];
    if (compression === 'gzip') stages.push(createGunzip());
    else if (compression === 'zstd') stages.push(createZstdDecompress());
    else if (compression !== 'none') throw new StoreError(`${this.what}: the archive is ${compression}-compressed, which is not supported: decompress it first or use gzip`, CODE);
    if (head.length === 0) throw new StoreError(`${this.what}: not a tar archive (the input is empty)`, CODE);

    const ex = tarExtract();
    const dir = this.tmp;
    let n = 0;
    ex.on('entry', (h: Headers, entry: Readable, next: (err?: unknown) => void) => {
      const name = cleanName(h.name);
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const path = join(dir, `e${++n}`);
        const hash = new HashingStream();
        pipelineCb(entry, hash, createWriteStream(path, { flags: 'wx', mode: 0o600 }), (err) => {
          if (err) return next(err);
          this.entries.set(name, { kind: 'file', name, size: hash.size, offset: 0, path, digest: hash.digest });
          next();
        });
        return;
      }
      if (h.type === 'symlink' || h.type === 'link') {
        this.entries.set(name, { kind: h.type === 'link' ? 'hardlink' : 'symlink', name, target: h.linkname ?? '' });
      }
      entry.on('end', () => next());
      entry.resume();
    });
    stages.push(ex as unknown as Writable);
    try {
      await (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`${this.what}: reading the archive: ${(err as Error).message}`, CODE);
    }
  }

  /** The regular file at `name`, following symlinks (relative to the link) and hardlinks. */
  resolve(name: string): FileEntry | undefined {
    let cur = cleanName(name);
    for (let i = 0; i <= MAX_LINKS; i++) {
      const e = this.entries.get(cur);
      if (!e) return undefined;
      if (e.kind === 'file') return e;
      cur = e.kind === 'hardlink' || e.target.startsWith('/') ? cleanName(e.target) : cleanName(posix.join(posix.dirname(cur), e.target));
    }
    return undefined;
  }

  stream(e: FileEntry): Readable {
    if (e.path !== undefined) return Readable.from(streamFile(e.path), { objectMode: false });
    return rangeStream(this.fh!, e.offset, e.size, this.what);
  }

  async head(e: FileEntry, n: number): Promise<Buffer> {
    const buf = Buffer.alloc(Math.min(n, e.size));
    if (e.path !== undefined) {
      const fh = await open(e.path, 'r');
      try {
        return buf.subarray(0, await readExactlyAt(fh, buf, 0));
      } finally {
        await fh.close();
      }
    }
    return buf.subarray(0, await readExactlyAt(this.fh!, buf, e.offset));
  }

  async readAll(e: FileEntry, max: number): Promise<Buffer> {
    if (e.size > max) throw new StoreError(`${this.what}: ${e.name} is ${e.size} bytes, larger than the limit of ${max}`, CODE);
    if (e.path !== undefined) return readFile(e.path);
    const buf = Buffer.alloc(e.size);
    if ((await readExactlyAt(this.fh!, buf, e.offset)) !== e.size) throw this.truncated();
    return buf;
  }

  async digest(e: FileEntry): Promise<Digest> {
    if (e.digest === undefined) {
      const hash = new HashingStream();
      await pipeline(this.stream(e), hash, new Writable({ write: (_c, _e, cb) => cb() }));
      e.digest = hash.digest;
    }
    return e.digest;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await fh.close().catch(() => {});
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }
}

async function* streamFile(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) return;
      yield bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Source

interface ManifestItem {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseArchiveManifest(bytes: Buffer, what: string): ManifestItem[] {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new StoreError(`${what}: manifest.json is not valid JSON: ${(err as Error).message}`, CODE);
  }
  const bad = (m: string): never => {
    throw new StoreError(`${what}: manifest.json: ${m}`, CODE);
  };
  if (!Array.isArray(v)) bad('expected an array of images');
  return (v as unknown[]).map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) bad(`[${i}] must be an object`);
    const o = item as Record<string, unknown>;
    if (typeof o.Config !== 'string' || o.Config === '') bad(`[${i}].Config must be a file name`);
    if (!Array.isArray(o.Layers) || !o.Layers.every((l) => typeof l === 'string')) bad(`[${i}].Layers must be an array of file names`);
    const tags = o.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) bad(`[${i}].RepoTags must be an array of strings`);
    return { Config: o.Config as string, RepoTags: tags as string[], Layers: o.Layers as string[] };
  });
}

function listTags(items: ManifestItem[]): string {
  const all = items.flatMap((it, i) => (it.RepoTags.length ? it.RepoTags : [`@${i} (untagged)`]));
  return all.join(', ');
}

function chooseItem(items: ManifestItem[], spec: DockerArchiveSpec, what: string): ManifestItem {
  if (items.length === 0) throw new StoreError(`${what}: manifest.json lists no images`, CODE);
  if (spec.ref) {
    const want = repoTagOf(spec.ref);
    for (const item of items) {
      if (item.RepoTags.some((t) => normalizedTag(t) === want)) return item;
    }
    const has = items.some((it) => it.RepoTags.length > 0);
    throw new NotFoundError(`${what}: no image tagged ${want} in the archive; ${has ? `it has: ${listTags(items)}` : 'its images have no tags: use @N'}`);
  }
  if (spec.index !== undefined) {
    const item = items[spec.index];
    if (!item) throw new NotFoundError(`${what}: there is no image @${spec.index}: the archive holds ${items.length} image${items.length === 1 ? '' : 's'} (@0${items.length > 1 ? `..@${items.length - 1}` : ''})`);
    return item;
  }
  if (items.length > 1) {
    throw new StoreError(`${what}: the archive holds ${items.length} images; name one as docker-archive:FILE:NAME:TAG or docker-archive:FILE:@N (${listTags(items)})`, 'PKIT_AMBIGUOUS');
  }
  return items[0]!;
}

export async function openDockerArchiveSource(spec: string, _opts: TransportOptions = {}): Promise<ImageSource> {
  const what = `docker-archive:${spec}`;
  const parsed = parseDockerArchiveSpec(spec);
  const archive = await Archive.open(parsed.path, what);
  try {
    const mf = archive.resolve('manifest.json');
    if (!mf) {
      const oci = archive.entries.has('index.json') && archive.entries.has('oci-layout');
      throw new StoreError(`${what}: no manifest.json in the archive: not a "docker save" archive${oci ? ' (it is an OCI layout: use oci-archive:FILE)' : ''}`, CODE);
    }
    const item = chooseItem(parseArchiveManifest(await archive.readAll(mf, MAX_MANIFEST_BYTES), what), parsed, what);

    const configEntry = archive.resolve(item.Config);
    if (!configEntry) throw new StoreError(`${what}: the config file "${item.Config}" listed in manifest.json is missing from the archive`, CODE);
    const configBytes = await archive.readAll(configEntry, MAX_CONFIG_BYTES);
    let diffIDs: Digest[];
    try {
      diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
    } catch (err) {
      throw new StoreError(`${what}: ${item.Config}: ${(err as Error).message}`, (err as StoreError).code ?? CODE);
    }
    if (diffIDs.length !== item.Layers.length) {
      throw new StoreError(`${what}: manifest.json lists ${item.Layers.length} layers but the config ${diffIDs.length} (rootfs.diff_ids)`, CODE);
    }

    const layers: Descriptor[] = [];
    const byDigest = new Map<Digest, FileEntry>();
    for (const [i, path] of item.Layers.entries()) {
      const entry = archive.resolve(path);
      if (!entry) throw new StoreError(`${what}: the layer file "${path}" listed in manifest.json is missing from the archive`, CODE);
      const compression = sniffCompression(await archive.head(entry, 6));
      if (compression !== 'none' && compression !== 'gzip') {
        throw new StoreError(`${what}: layer "${path}" is ${compression}-compressed; a docker archive holds plain or gzip layers`, CODE);
      }
      const digest = await archive.digest(entry);
      if (compression === 'none' && digest !== diffIDs[i]) {
        throw new StoreError(`${what}: layer "${path}" hashes to ${digest}, but the config lists ${diffIDs[i]} (rootfs.diff_ids[${i}])`, 'PKIT_DIGEST_MISMATCH');
      }
      layers.push({ mediaType: compression === 'gzip' ? DOCKER_LAYER_TAR_GZIP : DOCKER_LAYER_TAR, digest, size: entry.size });
      byDigest.set(digest, entry);
    }
    const configDigest = digestOf(configBytes);
    const manifest: DockerManifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, digest: configDigest, size: configBytes.length },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    return new DockerArchiveSource(what, archive, { bytes, mediaType: DOCKER_MANIFEST, digest: digestOf(bytes) }, configDigest, configBytes, byDigest, item.RepoTags);
  } catch (err) {
    await archive.close();
    throw err;
  }
}

class DockerArchiveSource implements ImageSource {
  readonly name: string;
  private readonly archive: Archive;
  private readonly top: ManifestBlob;
  private readonly configDigest: Digest;
  private readonly configBytes: Buffer;
  private readonly layers: Map<Digest, FileEntry>;
  private readonly repoTags: string[];

  constructor(name: string, archive: Archive, top: ManifestBlob, configDigest: Digest, configBytes: Buffer, layers: Map<Digest, FileEntry>, repoTags: string[]) {
    this.name = name;
    this.archive = archive;
    this.top = top;
    this.configDigest = configDigest;
    this.configBytes = configBytes;
    this.layers = layers;
    this.repoTags = repoTags;
  }

  async manifest(digest?: Digest): Promise<ManifestBlob> {
    if (digest !== undefined && digest !== this.top.digest) {
      throw new NotFoundError(`${this.name}: manifest ${digest} is not in the archive (a docker archive holds single images)`);
    }
    return this.top;
  }

  async blob(desc: Descriptor): Promise<Readable> {
    if (desc.digest === this.configDigest) return Readable.from([this.configBytes]);
    const entry = this.layers.get(desc.digest);
    if (!entry) throw new NotFoundError(`${this.name}: blob ${desc.digest} is not part of the image`);
    return this.archive.stream(entry);
  }

  async tags(): Promise<string[]> {
    return [...this.repoTags];
  }

  async close(): Promise<void> {
    await this.archive.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Legacy layer metadata, computed as skopeo (containers/image) does so both write the same
// archive for the same image: per layer a v1 "image" id = sha256 of the JSON (sorted keys, as Go
// encodes a map) of {parent, layer_id: chainID, and for the top layer the config's architecture,
// config, container, container_config, created, docker_version, os}, values as in the config.

/** JSON text without insignificant whitespace, `<`, `>`, `&`, U+2028/2029 escaped (Go's Compact with HTML escaping). */
export function goCompactJson(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (ch === '<') out += '\\u003c';
    else if (ch === '>') out += '\\u003e';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '\u2028') out += '\\u2028';
    else if (ch === '\u2029') out += '\\u2029';
    else if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      continue;
    } else {
      out += ch;
      if (ch === '"') inString = true;
    }
  }
  return out;
}

/** The raw (compacted) JSON text of each member of a top-level object; the last of duplicates wins. */
function topLevelMembers(compact: string): Map<string, string> {
  const members = new Map<string, string>();
  let i = 1; // after '{'
  const endOfString = (from: number): number => {
    let j = from + 1;
    while (compact[j] !== '"') j += compact[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  while (i < compact.length && compact[i] !== '}') {
    const keyEnd = endOfString(i);
    const key = JSON.parse(compact.slice(i, keyEnd)) as string;
    let j = keyEnd + 1; // after ':'
    const start = j;
    let depth = 0;
    while (j < compact.length) {
      const c = compact[j]!;
      if (c === '"') {
        j = endOfString(j);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      j++;
    }
    members.set(key, compact.slice(start, j));
    i = compact[j] === ',' ? j + 1 : j;
  }
  return members;
}

function sortedObjectJson(members: Map<string, string>): string {
  const keys = [...members.keys()].sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${members.get(k)}`).join(',')}}`;
}

const TOP_LAYER_ATTRS = ['architecture', 'config', 'container', 'container_config', 'created', 'docker_version', 'os'];

export interface LegacyLayer {
  id: string;
  /** The layer file (`<hex>.tar`) the legacy directory's layer.tar points to. */
  layerFile: string;
  json: string;
}

/** The legacy `<id>/` directories for an image whose layers have the given (uncompressed) digests. */
export function legacyLayers(diffIDs: Digest[], configBytes: Uint8Array): LegacyLayer[] {
  const out: LegacyLayer[] = [];
  let chain: Digest | undefined;
  let parent: string | undefined;
  for (const [i, diffID] of diffIDs.entries()) {
    const m = new Map<string, string>();
    if (parent !== undefined) m.set('parent', JSON.stringify(parent));
    if (i === diffIDs.length - 1) {
      // The config is a validated JSON object.
      const raw = topLevelMembers(goCompactJson(Buffer.from(configBytes).toString('utf8').replace(/^\uFEFF/, '')));
      for (const attr of TOP_LAYER_ATTRS) m.set(attr, raw.get(attr) ?? 'null');
    }
    chain = chain === undefined ? diffID : digestOf(`${chain} ${diffID}`);
    m.set('layer_id', JSON.stringify(chain));
    const id = digestOf(sortedObjectJson(m)).slice('sha256:'.length);
    m.delete('layer_id');
    m.set('id', JSON.stringify(id));
    out.push({ id, layerFile: `${parseDigest(diffID).hex}.tar`, json: sortedObjectJson(m) });
    parent = id;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Destination

export async function openDockerArchiveDestination(spec: string, _opts: TransportOptions = {}): Promise<ImageDestination> {
  const what = `docker-archive:${spec}`;
  const parsed = parseDockerArchiveSpec(spec);
  if (parsed.index !== undefined) {
    throw new StoreError(`${what}: a destination cannot use @${parsed.index}; give NAME:TAG to tag the image, or nothing`, 'PKIT_BAD_REFERENCE');
  }
  const out = await outputKind(parsed.path, what);
  const dir = await mkdtemp(join(tmpdir(), 'pkit-docker-archive-'));
  return new DockerArchiveDestination(what, parsed.path, out, parsed.ref ? repoTagOf(parsed.ref) : undefined, parsed.ref, dir);
}

type OutputKind = 'replace' | 'direct';

/** 'direct' for /dev/stdout, FIFOs and devices; 'replace' for a regular file (new or existing). */
async function outputKind(path: string, what: string): Promise<OutputKind> {
  if (path.startsWith('/dev/') || path.startsWith('/proc/')) return 'direct';
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new StoreError(`${what}: ${path} is a directory; give a file name for the archive`, CODE);
    return st.isFile() ? 'replace' : 'direct';
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const parent = dirname(path);
  try {
    if (!(await stat(parent)).isDirectory()) throw new StoreError(`${what}: ${parent} is not a directory`, CODE);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${what}: directory ${parent} does not exist`);
    throw err;
  }
  return 'replace';
}

interface StagedBlob {
  path: string;
  size: number;
}

class DockerArchiveDestination implements ImageDestination {
  readonly name: string;
  readonly manifestTypes: readonly string[] = [DOCKER_MANIFEST];
  readonly acceptsIndex = false;
  readonly requiredCompression = 'none' as const;
  private readonly file: string;
  private readonly output: OutputKind;
  private readonly repoTag: string | undefined;
  private readonly ref: Reference | undefined;
  private dir: string | undefined;
  private readonly blobs = new Map<Digest, StagedBlob>();
  private seq = 0;

  constructor(name: string, file: string, output: OutputKind, repoTag: string | undefined, ref: Reference | undefined, dir: string) {
    this.name = name;
    this.file = file;
    this.output = output;
    this.repoTag = repoTag;
    this.ref = ref;
    this.dir = dir;
  }

  private staging(): string {
    if (!this.dir) throw new StoreError(`${this.name}: the destination is closed`, 'PKIT_STORE');
    return this.dir;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    const compression = layerCompression(blob.mediaType);
    if (compression !== undefined && compression !== 'none') {
      stream.destroy();
      throw new StoreError(`${this.name}: a docker archive stores layers uncompressed, got a ${blob.mediaType} blob (the copy must decompress it)`, 'PKIT_CONVERSION');
    }
    const dir = this.staging();
    const incoming = join(dir, `incoming-${++this.seq}`);
    const { digest, size } = await writeVerifiedFile(stream, incoming, blob, `${this.name}: blob`, 0o600);
    const { algorithm, hex } = parseDigest(digest);
    const path = join(dir, `blob-${algorithm}-${hex}`);
    await rename(incoming, path);
    this.blobs.set(digest, { path, size });
    return { digest, size };
  }

  async putManifest(_manifest: ManifestBlob): Promise<void> {
    throw new StoreError(`${this.name}: a docker archive holds single images, not an index (copy one platform, without --all)`, 'PKIT_NO_INDEX');
  }

  private staged(desc: Descriptor, what: string): StagedBlob {
    const b = this.blobs.get(desc.digest);
    if (!b) throw new StoreError(`${this.name}: the ${what} ${desc.digest} was not stored before the manifest`, 'PKIT_STORE');
    return b;
  }

  async commit(top: ManifestBlob): Promise<void> {
    const parsed = parseManifestBytes(top.bytes, top.mediaType);
    if (parsed.kind !== 'manifest') throw new StoreError(`${this.name}: a docker archive holds single images, not an index`, 'PKIT_NO_INDEX');
    const manifest = parsed.value;
    const config = this.staged(manifest.config, 'config');
    if (config.size > MAX_CONFIG_BYTES) throw new StoreError(`${this.name}: the config is ${config.size} bytes, larger than the limit of ${MAX_CONFIG_BYTES}`, 'PKIT_BAD_CONFIG');
    const configBytes = await readFile(config.path);
    const diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
    if (diffIDs.length !== manifest.layers.length) {
      throw new StoreError(`${this.name}: the config lists ${diffIDs.length} layers but the manifest ${manifest.layers.length}`, 'PKIT_BAD_MANIFEST');
    }
    const layers = manifest.layers.map((l, i) => {
      const c = layerCompression(l.mediaType);
      if (c !== 'none') throw new StoreError(`${this.name}: layer ${l.digest} is ${c ?? `of unknown type ${l.mediaType}`}; a docker archive stores layers uncompressed`, 'PKIT_CONVERSION');
      if (l.digest !== diffIDs[i]) {
        throw new StoreError(`${this.name}: layer ${i} is ${l.digest} but the config lists ${diffIDs[i]} (rootfs.diff_ids[${i}]); an uncompressed layer's digest is its diffID`, 'PKIT_DIGEST_MISMATCH');
      }
      return { digest: l.digest, blob: this.staged(l, 'layer') };
    });

    const configName = `${parseDigest(manifest.config.digest).hex}.json`;
    const layerNames = layers.map((l) => `${parseDigest(l.digest).hex}.tar`);
    const legacy = legacyLayers(layers.map((l) => l.digest), configBytes);
    const item = { Config: configName, RepoTags: this.repoTag ? [this.repoTag] : [], Layers: layerNames };
    let repositories: string | undefined;
    if (this.ref && legacy.length > 0) {
      const repo = formatReference({ registry: this.ref.registry, repository: this.ref.repository });
      repositories = JSON.stringify({ [repo]: { [this.ref.tag!]: legacy.at(-1)!.id } });
    }

    const entries: TarItem[] = [];
    const written = new Set<string>();
    for (const [i, l] of layers.entries()) {
      if (written.has(layerNames[i]!)) continue;
      written.add(layerNames[i]!);
      entries.push({ name: layerNames[i]!, size: l.blob.size, path: l.blob.path });
    }
    entries.push({ name: configName, size: configBytes.length, data: configBytes });
    for (const l of legacy) {
      if (written.has(l.id)) continue;
      written.add(l.id);
      entries.push({ name: `${l.id}/layer.tar`, symlink: `../${l.layerFile}` });
      entries.push({ name: `${l.id}/VERSION`, data: Buffer.from('1.0') });
      entries.push({ name: `${l.id}/json`, data: Buffer.from(l.json) });
    }
    entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify([item])) });
    if (repositories !== undefined) entries.push({ name: 'repositories', data: Buffer.from(repositories) });

    if (this.output === 'direct') {
      // No O_TRUNC: a FIFO or device has nothing to truncate, and /dev/stdout redirected to a
      // file was truncated (or opened for appending) by the shell.
      const fh = await open(this.file, FS.O_WRONLY | FS.O_CREAT, 0o644);
      await writeTar(entries, fh.createWriteStream());
      return;
    }
    const tmp = join(dirname(this.file), `.${basename(this.file)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeTar(entries, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    fsyncDir(dirname(this.file));
  }

  async close(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

interface TarItem {
  name: string;
  size?: number;
  /** Content from a staged file (streamed). */
  path?: string;
  /** Small content in memory. */
  data?: Buffer;
  symlink?: string;
}

const EPOCH = new Date(0);

/** Streams the entries as a tar to `out`, headers as skopeo writes them (0444, root, mtime 0). */
async function writeTar(items: TarItem[], out: Writable): Promise<void> {
  const p: Pack = tarPack();
  const done = pipeline(p as unknown as Readable, out);
  // Keep the rejection handled while entries are still being added; awaited below.
  done.catch(() => {});
  try {
    for (const item of items) await addEntry(p, item);
    p.finalize();
  } catch (err) {
    p.destroy(err as Error);
    out.destroy();
    await done.catch(() => {});
    throw err;
  }
  await done;
}

function addEntry(p: Pack, item: TarItem): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    const base = { name: item.name, uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH };
    if (item.symlink !== undefined) {
      p.entry({ ...base, type: 'symlink', linkname: item.symlink, mode: 0o777 }, cb);
    } else if (item.data !== undefined) {
      p.entry({ ...base, type: 'file', mode: 0o444, size: item.data.length }, item.data, cb);
    } else {
      const sink = p.entry({ ...base, type: 'file', mode: 0o444, size: item.size! }, cb);
      pipelineCb(Readable.from(streamFile(item.path!), { objectMode: false }), sink as unknown as Writable, (err) => {
        if (err) reject(err);
      });
    }
  });
}
