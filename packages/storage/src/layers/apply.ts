// Applies one OCI/Docker layer tar to an empty directory that becomes an overlay lower (or
// upper) dir, in one streaming pass: input digest, decompression, diffID and extraction.
//
// Contract:
// - `dir` must exist and should be empty. On any rejection its content is undefined and the
//   caller discards it; on success it is the layer in the on-disk form of overlayfs mounted
//   with `userxattr`: whiteouts are 0:0 character devices, opaque dirs carry
//   `user.overlay.opaque=y`, no `.wh.` name is ever written.
// - Nothing outside `dir` is created, followed or overwritten: names are cleaned lexically
//   (absolute names are taken relative to `dir`, `..` climbing out is refused), every parent
//   component of an entry is a real directory (checked with lstat, or known because this
//   extraction created it; we own `dir`, so nothing changes it behind our back), and the last
//   component is created with calls that never follow a symlink (O_EXCL|O_NOFOLLOW, mkdir,
//   symlink, link, mknod) and replaced, never written through, when something is there.
// - Ownership: as uid 0 (root, or root in a user namespace) files get the tar's uid/gid;
//   otherwise they stay the caller's. The same code runs unchanged inside a user namespace.
// - Directory modes and times are applied after all entries, deepest first, so a 0555 dir
//   can receive its children while extracting.
import {
  closeSync,
  constants as C,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  chmodSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
  writevSync,
  type Stats,
} from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { resolve } from 'node:path';
import { Readable, Transform, type PassThrough, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipelineCb } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { extract as tarExtract, type Headers } from 'tar-stream';
// The very module object extract.js reads decodePax from (also inside a bundle): see keepRawXattrs.
import tarHeaders from 'tar-stream/headers.js';
import { HashingStream, VerifyingStream, parseDigest, type Digest } from '../digest.ts';
import { LayerSecurityError, StoreError, isErrno } from '../errors.ts';
import { native } from '../native.ts';

export interface ApplyOptions {
  /** Digest (and size) of the bytes as given, i.e. compressed; a mismatch rejects with DigestMismatchError. */
  expected?: { digest: Digest; size?: number };
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Uncompressed bytes. */
  size: number;
  /** sha256 of the input bytes (as given). */
  digest: Digest;
  inputSize: number;
}

/** Files up to this size are collected in memory and written with one writev. */
const SMALL_FILE = 1 << 20;
const ZLIB_CHUNK = 128 * 1024;
/** How much decompressed output may wait for extraction, so inflating overlaps with writing. */
const ZLIB_AHEAD = 1 << 20;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const AUFS_META_PREFIX = '.wh..wh.';
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const OPEN_NEW_FILE = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

type Compression = 'gzip' | 'zstd' | 'none';

/** Detects the compression by content; refuses the formats we cannot read. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) {
    throw new StoreError('layer is bzip2-compressed: unsupported, only gzip, zstd and uncompressed tar layers can be applied', 'PKIT_LAYER_FORMAT');
  }
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) {
    throw new StoreError('layer is xz-compressed: unsupported, only gzip, zstd and uncompressed tar layers can be applied', 'PKIT_LAYER_FORMAT');
  }
  return 'none';
}

/**
 * Pipeline stage: looks at the first bytes, then passes the stream through the right
 * decompressor. `onDetect` learns the compression before the first byte goes downstream.
 */
function decompressor(onDetect: (kind: Compression) => void) {
  return async function* decompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const it = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let len = 0;
    let ended = false;
    while (len < 6) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      len += r.value.length;
    }
    const first = Buffer.concat(head, len);
    const kind = detectCompression(first);
    onDetect(kind);
    async function* rest(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    }
    if (kind === 'none') {
      yield* rest();
      return;
    }
    const opts = { chunkSize: ZLIB_CHUNK, highWaterMark: ZLIB_AHEAD };
    const dec = kind === 'gzip' ? createGunzip(opts) : createZstdDecompress(opts);
    // Errors of either side surface when iterating `dec`.
    pipelineCb(Readable.from(rest(), { objectMode: false, highWaterMark: ZLIB_CHUNK }), dec, noop);
    yield* dec as AsyncIterable<Buffer>;
  };
}

/** Hashes the uncompressed tar; off for an uncompressed input, whose digest is the diffID. */
class DiffHasher extends Transform {
  enabled = true;
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.enabled) this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  /** Seconds; undefined for directories created implicitly as parents. */
  mtime?: number;
  atime?: number;
}

type Pax = Record<string, string> & { [RAW_XATTRS]?: Map<string, Buffer> };
type TarHeader = Headers & { pax?: Pax | null };

// tar-stream decodes PAX values as UTF-8 strings, which is lossy for binary xattr values
// (security.capability). Its PAX decoder is wrapped, once, to also keep the raw bytes of the
// `SCHILY.xattr.*` records under a symbol key: the string values seen by anyone else are
// unchanged. (With a PAX global header the raw map of the entry's own header wins; values
// only in the global header fall back to their UTF-8 string.)
const RAW_XATTRS = Symbol.for('pkit.tar.rawXattrs');
const XATTR_PREFIX = 'SCHILY.xattr.';

function rawXattrRecords(buf: Buffer): Map<string, Buffer> | undefined {
  let map: Map<string, Buffer> | undefined;
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(buf.toString('latin1', off, sp), 10);
    if (!(len > 0) || off + len > buf.length) break;
    const rec = buf.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0 && rec.subarray(0, XATTR_PREFIX.length).toString('latin1') === XATTR_PREFIX) {
      (map ??= new Map()).set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    }
    off += len;
  }
  return map;
}

/** Long headers (PAX records, GNU long names) are held whole by tar-stream: cap them. */
const MAX_LONG_HEADER = 1 << 20;
const LONG_HEADER_TYPES = new Set(['pax-header', 'pax-global-header', 'gnu-long-path', 'gnu-long-link-path']);

interface TarHeaderCodec {
  decodePax: ((buf: Buffer) => Pax) & { pkitWrapped?: boolean };
  decode: ((buf: Buffer, ...rest: unknown[]) => { type?: string; size?: number } | null) & { pkitWrapped?: boolean };
}

/**
 * Wraps tar-stream's header codec (the very module object its extractor calls) to keep the raw
 * bytes of SCHILY.xattr.* records (tar-stream decodes them as UTF-8, corrupting binary values
 * such as security.capability), to refuse long headers over MAX_LONG_HEADER before they are
 * buffered, and to refuse a PAX `size` that is not a byte count (a negative one stalls the
 * extractor forever).
 */
function hardenTarHeaders(): void {
  const headers = tarHeaders as unknown as TarHeaderCodec;
  if (headers.decodePax.pkitWrapped) return;
  const decodePax = headers.decodePax;
  headers.decodePax = Object.assign(
    (buf: Buffer): Pax => {
      const result = decodePax(buf);
      if (result.size !== undefined && !/^\d{1,15}$/.test(result.size)) {
        throw new StoreError(`invalid tar PAX size "${result.size.slice(0, 32)}"`, 'PKIT_LAYER_FORMAT');
      }
      const raw = rawXattrRecords(buf);
      if (raw) result[RAW_XATTRS] = raw;
      return result;
    },
    { pkitWrapped: true },
  );
  const decode = headers.decode;
  headers.decode = Object.assign(
    (buf: Buffer, ...rest: unknown[]) => {
      const h = decode(buf, ...rest);
      if (h && LONG_HEADER_TYPES.has(h.type ?? '') && (h.size ?? 0) > MAX_LONG_HEADER) {
        throw new StoreError(`tar ${h.type} of ${h.size} bytes is over the ${MAX_LONG_HEADER}-byte limit`, 'PKIT_LAYER_FORMAT');
      }
      return h;
    },
    { pkitWrapped: true },
  );
}
hardenTarHeaders();

function securityError(entry: string, why: string): LayerSecurityError {
  return new LayerSecurityError(`layer entry "${entry}": ${why}; refusing to apply the layer`);
}

/**
 * Cleans a tar name to a path relative to the layer root ('' is the root itself): drops
 * leading `/`, empty and `.` components, resolves `..` lexically and refuses climbing out.
 */
export function cleanLayerPath(name: string, entry = name): string {
  if (name.includes('\0')) throw securityError(entry, 'name contains a NUL byte');
  // Fast path for the common, already clean name.
  if (!name.startsWith('/') && !name.endsWith('/') && !name.includes('//') && !/(^|\/)\.\.?(\/|$)/.test(name)) return name;
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw securityError(entry, 'path climbs out of the layer directory');
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

function paxNumber(pax: Pax | null | undefined, key: string): number | undefined {
  const v = pax?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function noop(): void {}

function writeAll(fd: number, chunks: Buffer[]): void {
  let total = 0;
  for (const c of chunks) total += c.length;
  if (total === 0) return;
  let written = chunks.length === 1 ? writeSync(fd, chunks[0]!) : writevSync(fd, chunks);
  if (written === total) return;
  // Short write (rare for regular files): finish with the flattened rest.
  const all = Buffer.concat(chunks, total);
  while (written < total) written += writeSync(fd, all, written, total - written);
}

class Extractor {
  readonly root: string;
  readonly asRoot: boolean;
  /** Relative paths known to be real directories: created or verified by this extraction. */
  private readonly knownDirs = new Set<string>(['']);
  private readonly dirMeta = new Map<string, DirMeta>();
  private readonly opaque = new Set<string>();
  /** The failure of the current entry, if any (tar-stream reports it as its own error). */
  error: unknown;
  /** Settles when the entry in progress is done. */
  private pending: Promise<void> = Promise.resolve();

  constructor(root: string) {
    this.root = root;
    this.asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  }

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  readonly onEntry = (h: TarHeader, stream: PassThrough, nextEntry: (err?: unknown) => void): void => {
    const size = h.size ?? 0;
    const isFile = h.type === 'file' || h.type === 'contiguous-file';
    // The entry stream errors when the extraction is torn down; that error is reported once,
    // by the extraction itself.
    stream.on('error', noop);
    let called = false;
    const next = (err?: unknown): void => {
      if (called) return;
      called = true;
      nextEntry(err);
    };
    const fail = (err: unknown): void => {
      this.error ??= err;
      next(err);
    };
    if (isFile && size > 0) {
      let plan: { rel: string; abs: string } | undefined;
      try {
        plan = this.prepareFile(h);
      } catch (err) {
        fail(err);
        return;
      }
      if (plan === undefined) {
        // A whiteout or marker with content: nothing to write, drain it.
        stream.on('end', () => next()).on('error', fail).resume();
        return;
      }
      const { abs } = plan;
      if (size <= SMALL_FILE) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', fail);
        stream.on('end', () => {
          try {
            this.writeFile(abs, h, chunks);
          } catch (err) {
            fail(err);
            return;
          }
          next();
        });
        return;
      }
      this.pending = this.writeLarge(abs, h, stream).then(
        () => next(),
        (err) => fail(err),
      );
      return;
    }
    try {
      this.applyNonFile(h, isFile);
    } catch (err) {
      fail(err);
      return;
    }
    if (size > 0) stream.on('end', () => next()).on('error', fail).resume();
    else queueMicrotask(() => next());
  };

  /** Waits for the entry in progress (a large file still being written). */
  async idle(): Promise<void> {
    await this.pending;
  }

  // --- entries --------------------------------------------------------------------------

  /**
   * Resolves the entry's path and handles whiteouts; returns the target for a regular file,
   * or undefined when the entry was a whiteout/marker (already applied).
   */
  private resolveEntry(h: TarHeader): { rel: string; whiteout: boolean } {
    const rel = cleanLayerPath(h.name, h.name);
    // aufs metadata at the root (.wh..wh.plnk/, .wh..wh.aufs, .wh..wh.orph/): meaningless for overlay.
    if (rel.startsWith(AUFS_META_PREFIX)) return { rel, whiteout: true };
    const parent = parentOf(rel);
    if (parent.includes(WHITEOUT_PREFIX) && `/${parent}`.includes(`/${WHITEOUT_PREFIX}`)) {
      throw new StoreError(`layer entry "${h.name}": a whiteout name cannot be a directory`, 'PKIT_LAYER_FORMAT');
    }
    const base = baseOf(rel);
    if (!base.startsWith(WHITEOUT_PREFIX)) return { rel, whiteout: false };
    if (base === OPAQUE_MARKER) {
      this.ensureDir(parent, h.name);
      this.opaque.add(parent);
      return { rel, whiteout: true };
    }
    if (base.startsWith(AUFS_META_PREFIX)) {
      // Other aufs metadata below the root: skipped as well.
      return { rel, whiteout: true };
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw securityError(h.name, 'whiteout without a valid name');
    const target = parent === '' ? name : `${parent}/${name}`;
    this.ensureParents(target, h.name);
    const abs = this.abs(target);
    this.removeIfExists(target, abs);
    native().mknod(abs, S_IFCHR, 0, 0);
    return { rel, whiteout: true };
  }

  private prepareFile(h: TarHeader): { rel: string; abs: string } | undefined {
    const { rel, whiteout } = this.resolveEntry(h);
    if (whiteout) return undefined;
    if (rel === '') throw new StoreError(`layer entry "${h.name}": a regular file cannot replace the layer root`, 'PKIT_LAYER_FORMAT');
    this.ensureParents(rel, h.name);
    const abs = this.abs(rel);
    return { rel, abs };
  }

  private openNew(rel: string, abs: string): number {
    try {
      return openSync(abs, OPEN_NEW_FILE, 0o600);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    this.removeIfExists(rel, abs);
    return openSync(abs, OPEN_NEW_FILE, 0o600);
  }

  private writeFile(abs: string, h: TarHeader, chunks: Buffer[]): void {
    const rel = abs === this.root ? '' : abs.slice(this.root.length + 1);
    const fd = this.openNew(rel, abs);
    try {
      writeAll(fd, chunks);
      this.finishFd(fd, abs, h);
    } finally {
      closeSync(fd);
    }
  }

  private async writeLarge(abs: string, h: TarHeader, stream: PassThrough): Promise<void> {
    const rel = abs.slice(this.root.length + 1);
    const fd = this.openNew(rel, abs);
    try {
      await new Promise<void>((resolveDone, reject) => {
        stream.on('data', (c: Buffer) => {
          try {
            writeAll(fd, [c]);
          } catch (err) {
            stream.destroy(err as Error);
          }
        });
        stream.on('error', reject);
        stream.on('end', resolveDone);
        // A teardown without an error must not leave this entry waiting forever.
        stream.on('close', () => reject(new StoreError(`layer entry "${h.name}": data ended early`, 'PKIT_LAYER_FORMAT')));
      });
      this.finishFd(fd, abs, h);
    } finally {
      closeSync(fd);
    }
  }

  /** Ownership, xattrs, mode, times of a regular file, in the order that keeps each one. */
  private finishFd(fd: number, abs: string, h: TarHeader): void {
    // chown first (it clears setuid bits and file capabilities), xattrs, then mode.
    if (this.asRoot) fchownSync(fd, this.uidOf(h), this.gidOf(h));
    this.applyXattrs(abs, h);
    fchmodSync(fd, (h.mode ?? 0o644) & 0o7777);
    const [at, mt] = this.timesOf(h);
    futimesSync(fd, at, mt);
  }

  private applyNonFile(h: TarHeader, isFile: boolean): void {
    const { rel, whiteout } = this.resolveEntry(h);
    if (whiteout) return;
    if (isFile) {
      // Empty regular file.
      if (rel === '') throw new StoreError(`layer entry "${h.name}": a regular file cannot replace the layer root`, 'PKIT_LAYER_FORMAT');
      this.ensureParents(rel, h.name);
      const abs = this.abs(rel);
        this.writeFile(abs, h, []);
      return;
    }
    switch (h.type) {
      case 'directory':
        this.applyDir(rel, h);
        return;
      case 'symlink':
        this.applySymlink(rel, h);
        return;
      case 'link':
        this.applyHardlink(rel, h);
        return;
      case 'character-device':
      case 'block-device':
      case 'fifo':
        this.applyNode(rel, h);
        return;
      default:
        throw new StoreError(`layer entry "${h.name}": unsupported tar entry type ${String(h.type)}`, 'PKIT_LAYER_FORMAT');
    }
  }

  private applyDir(rel: string, h: TarHeader): void {
    const abs = this.abs(rel);
    if (rel !== '') {
      this.ensureParents(rel, h.name);
      if (!this.knownDirs.has(rel)) {
        try {
          mkdirSync(abs, 0o700);
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw err;
          const st = lstatSync(abs);
          if (!st.isDirectory()) {
            this.removeIfExists(rel, abs, st);
            mkdirSync(abs, 0o700);
          }
        }
        this.knownDirs.add(rel);
      }
    }
    const [at, mt] = this.timesOf(h);
    this.dirMeta.set(rel, { mode: (h.mode ?? 0o755) & 0o7777, uid: this.uidOf(h), gid: this.gidOf(h), mtime: mt, atime: at });
    this.applyXattrs(abs, h);
  }

  private applySymlink(rel: string, h: TarHeader): void {
    if (rel === '') throw new StoreError(`layer entry "${h.name}": a symlink cannot replace the layer root`, 'PKIT_LAYER_FORMAT');
    const target = h.linkname ?? '';
    if (target === '') throw new StoreError(`layer entry "${h.name}": symlink without a target`, 'PKIT_LAYER_FORMAT');
    this.ensureParents(rel, h.name);
    const abs = this.abs(rel);
    // The target is stored as written: a symlink is only dangerous when followed, and this
    // extraction never follows one.
    this.create(rel, abs, () => symlinkSync(target, abs));
    if (this.asRoot) lchownSync(abs, this.uidOf(h), this.gidOf(h));
    this.applyXattrs(abs, h);
    const [at, mt] = this.timesOf(h);
    lutimesSync(abs, at, mt);
  }

  private applyHardlink(rel: string, h: TarHeader): void {
    if (rel === '') throw new StoreError(`layer entry "${h.name}": a hardlink cannot replace the layer root`, 'PKIT_LAYER_FORMAT');
    const linkname = h.linkname ?? '';
    if (linkname === '') throw new StoreError(`layer entry "${h.name}": hardlink without a target`, 'PKIT_LAYER_FORMAT');
    const target = cleanLayerPath(linkname, h.name);
    if (target === '') throw securityError(h.name, 'hardlink to the layer root');
    this.checkParents(target, h.name, 'hardlink target');
    const targetAbs = this.abs(target);
    const st = lstatSync(targetAbs, { throwIfNoEntry: false });
    if (st === undefined) {
      throw new StoreError(`layer entry "${h.name}": hardlink target "${linkname}" is not an earlier entry of the layer`, 'PKIT_LAYER_FORMAT');
    }
    if (st.isDirectory()) throw securityError(h.name, `hardlink to directory "${linkname}"`);
    if (target === rel) return; // a link to itself: already there
    this.ensureParents(rel, h.name);
    const abs = this.abs(rel);
    // link(2) does not follow a symlink at the target: a link to a symlink links the symlink.
    this.create(rel, abs, () => linkSync(targetAbs, abs));
  }

  private applyNode(rel: string, h: TarHeader): void {
    if (rel === '') throw new StoreError(`layer entry "${h.name}": a device cannot replace the layer root`, 'PKIT_LAYER_FORMAT');
    this.ensureParents(rel, h.name);
    const abs = this.abs(rel);
    const kind = h.type === 'character-device' ? S_IFCHR : h.type === 'block-device' ? S_IFBLK : S_IFIFO;
    const mode = (h.mode ?? 0o644) & 0o7777;
    try {
      this.create(rel, abs, () => native().mknod(abs, kind | (mode & 0o777), h.devmajor ?? 0, h.devminor ?? 0));
    } catch (err) {
      // Rootless cannot create devices: skipped, as every rootless runtime does.
      if (kind !== S_IFIFO && isErrno(err, 'EPERM')) return;
      throw err;
    }
    if (this.asRoot) lchownSync(abs, this.uidOf(h), this.gidOf(h));
    this.applyXattrs(abs, h);
    chmodSync(abs, mode); // a fresh node we created: not a symlink
    const [at, mt] = this.timesOf(h);
    utimesSync(abs, at, mt);
  }

  // --- paths ----------------------------------------------------------------------------

  /** Creates `rel` with `make`; when something is there already, replaces it (never follows it). */
  private create(rel: string, abs: string, make: () => void): void {
    try {
      make();
      return;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    this.removeIfExists(rel, abs);
    make();
  }

  /** Removes whatever is at `rel` (a whole tree for a directory); never follows a symlink. */
  private removeIfExists(rel: string, abs: string, st?: Stats): void {
    st ??= lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) {
      rmSync(abs, { recursive: true, force: true });
      this.forgetTree(rel);
    } else {
      unlinkSync(abs);
    }
  }

  private forgetTree(rel: string): void {
    const prefix = `${rel}/`;
    for (const set of [this.knownDirs, this.opaque]) {
      for (const p of set) if (p === rel || p.startsWith(prefix)) set.delete(p);
    }
    for (const p of this.dirMeta.keys()) if (p === rel || p.startsWith(prefix)) this.dirMeta.delete(p);
  }

  /** Makes every parent of `rel` a real directory, creating missing ones; refuses symlinks. */
  private ensureParents(rel: string, entry: string): void {
    const parent = parentOf(rel);
    if (this.knownDirs.has(parent)) return;
    this.ensureDir(parent, entry);
  }

  private ensureDir(rel: string, entry: string): void {
    if (this.knownDirs.has(rel)) return;
    let i = 0;
    for (;;) {
      const slash = rel.indexOf('/', i);
      const prefix = slash < 0 ? rel : rel.slice(0, slash);
      if (!this.knownDirs.has(prefix)) {
        const abs = this.abs(prefix);
        const st = lstatSync(abs, { throwIfNoEntry: false });
        if (st === undefined) {
          mkdirSync(abs, 0o700);
          this.dirMeta.set(prefix, { mode: 0o755, uid: 0, gid: 0 });
        } else if (st.isSymbolicLink()) {
          throw securityError(entry, `parent "${prefix}" is a symlink`);
        } else if (!st.isDirectory()) {
          throw new StoreError(`layer entry "${entry}": parent "${prefix}" is not a directory`, 'PKIT_LAYER_FORMAT');
        }
        this.knownDirs.add(prefix);
      }
      if (slash < 0) return;
      i = slash + 1;
    }
  }

  /** Like ensureDir for the parents of `rel`, without creating anything. */
  private checkParents(rel: string, entry: string, what: string): void {
    const parent = parentOf(rel);
    if (this.knownDirs.has(parent)) return;
    let i = 0;
    for (;;) {
      const slash = parent.indexOf('/', i);
      const prefix = slash < 0 ? parent : parent.slice(0, slash);
      if (!this.knownDirs.has(prefix)) {
        const st = lstatSync(this.abs(prefix), { throwIfNoEntry: false });
        if (st === undefined) throw new StoreError(`layer entry "${entry}": ${what} "${rel}" is not an earlier entry of the layer`, 'PKIT_LAYER_FORMAT');
        if (st.isSymbolicLink()) throw securityError(entry, `${what} "${rel}" goes through symlink "${prefix}"`);
        if (!st.isDirectory()) throw new StoreError(`layer entry "${entry}": ${what} "${rel}": "${prefix}" is not a directory`, 'PKIT_LAYER_FORMAT');
        this.knownDirs.add(prefix);
      }
      if (slash < 0) return;
      i = slash + 1;
    }
  }

  // --- metadata -------------------------------------------------------------------------

  private uidOf(h: TarHeader): number {
    return paxNumber(h.pax, 'uid') ?? h.uid ?? 0;
  }

  private gidOf(h: TarHeader): number {
    return paxNumber(h.pax, 'gid') ?? h.gid ?? 0;
  }

  /** [atime, mtime] in seconds; PAX times keep their fraction. */
  private timesOf(h: TarHeader): [number, number] {
    const mt = paxNumber(h.pax, 'mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
    const at = paxNumber(h.pax, 'atime') ?? mt;
    return [at, mt];
  }

  private applyXattrs(abs: string, h: TarHeader): void {
    const pax = h.pax;
    if (!pax) return;
    for (const key in pax) {
      if (!key.startsWith(XATTR_PREFIX)) continue;
      const name = key.slice(XATTR_PREFIX.length);
      // A layer must not inject overlay metadata (whiteouts, opaque dirs, redirects).
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.') || name === '') continue;
      try {
        native().lsetxattr(abs, name, pax[RAW_XATTRS]?.get(key) ?? Buffer.from(pax[key]!, 'utf8'));
      } catch (err) {
        if (isErrno(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP')) continue;
        throw err;
      }
    }
  }

  /** After all entries: opaque markers, then directory owners, modes and times, deepest first. */
  finish(): void {
    for (const rel of this.opaque) {
      if (!this.knownDirs.has(rel)) continue; // replaced by a non-directory later in the layer
      native().lsetxattr(this.abs(rel), 'user.overlay.opaque', Buffer.from('y'));
    }
    const rels = [...this.dirMeta.keys()].filter((r) => this.knownDirs.has(r));
    const depth = (r: string): number => (r === '' ? 0 : 1 + (r.match(/\//g)?.length ?? 0));
    rels.sort((a, b) => depth(b) - depth(a));
    for (const rel of rels) {
      const m = this.dirMeta.get(rel)!;
      const abs = this.abs(rel);
      if (this.asRoot) lchownSync(abs, m.uid, m.gid);
      chmodSync(abs, m.mode); // verified directory of ours, not a symlink
      if (m.mtime !== undefined) utimesSync(abs, m.atime ?? m.mtime, m.mtime);
    }
  }
}

/**
 * Applies a layer (gzip, zstd or plain tar, detected by content) to `dir`; see the contract
 * at the top of this file. Rejects with DigestMismatchError when `opts.expected` does not
 * match the input, LayerSecurityError for an entry that would escape `dir`, StoreError for
 * other malformed layers.
 */
export async function applyLayerTar(input: NodeJS.ReadableStream | Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const root = resolve(dir);
  const expected = opts.expected;
  const expectedSha256 = expected !== undefined && parseDigest(expected.digest).algorithm === 'sha256';
  const verifier = expected ? new VerifyingStream(expected, 'layer') : undefined;
  const inputHash = expectedSha256 ? undefined : new HashingStream();
  const diffHash = new DiffHasher();
  let compression: Compression = 'none';
  const decompress = decompressor((kind) => {
    compression = kind;
    diffHash.enabled = kind !== 'none';
  });
  const ex = new Extractor(root);
  const tar = tarExtract();
  tar.on('entry', ex.onEntry);

  const stages: (NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream | ((s: AsyncIterable<Buffer>) => AsyncGenerator<Buffer>))[] = [input];
  if (verifier) stages.push(verifier);
  if (inputHash) stages.push(inputHash);
  stages.push(decompress, diffHash, tar);
  try {
    await (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
    await ex.idle();
  } catch (err) {
    await ex.idle().catch(() => {});
    const cause = ex.error ?? err;
    if (cause instanceof StoreError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    // A file-system failure names the syscall (and the store path); anything else is the input.
    const wrapped = (cause as NodeJS.ErrnoException).syscall
      ? new StoreError(`applying layer to ${root}: ${message}`, 'PKIT_LAYER_APPLY')
      : new StoreError(`not a valid layer tar archive: ${message}`, 'PKIT_LAYER_FORMAT');
    (wrapped as Error).cause = cause;
    throw wrapped;
  }
  ex.finish();
  const digest: Digest = inputHash ? inputHash.digest : expected!.digest;
  const inputSize = inputHash ? inputHash.size : verifier!.size;
  // An uncompressed input is the tar itself: its digest is the diffID (hashed once).
  const diffID: Digest = compression === 'none' ? digest : diffHash.digest();
  return { diffID, size: diffHash.bytes, digest, inputSize };
}
