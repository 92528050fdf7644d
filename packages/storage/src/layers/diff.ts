// Turns an overlay upper directory (or a layer directory: the same on-disk form, see
// docs/storage.md "Layers on disk") into an OCI layer tar, streamed: the inverse of apply.ts.
//
// Contract:
// - Every entry below `upperDir` becomes a tar entry; the root itself does not. Entries come
//   depth first, parents before their children, the children of a directory sorted by the
//   bytes of their names, so the same tree always gives the same bytes.
// - Overlay metadata becomes the OCI form: a 0:0 character device (the kernel's whiteout; or a
//   regular file carrying the `user.overlay.whiteout` xattr) becomes an empty `.wh.NAME` file,
//   a directory with `user.overlay.opaque=y` is followed by an empty `DIR/.wh..wh..opq`. Other
//   `user.overlay.*` / `trusted.overlay.*` xattrs (origin, impure, uuid) are dropped.
// - Kept xattrs: `user.*` and `security.capability`, as PAX SCHILY.xattr records with their
//   raw bytes. security.selinux labels and ACLs belong to the host and are not carried.
// - Regular files with several links inside the tree: the first name (in entry order) is the
//   file, later names are hardlink entries to it.
// - Owners are the ids this process sees: run as root inside the container's user namespace
//   (the diff worker, diff-worker.ts), they are the container's ids.
// - Times: mtime in whole seconds (kept, or clamped to/set to `timestamp`), no atime or ctime,
//   empty uname/gname. Sockets are skipped, as tar does. A real file named `.wh.*` cannot be
//   represented (it would read as a whiteout) and is refused, as are names that are not UTF-8.
// - The tree must not change while it is read (a stopped container): a file that shrinks
//   meanwhile is an error, never a corrupt archive.
import { closeSync, constants as C, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { StoreError, isErrno } from '../errors.ts';
import { native } from '../native.ts';
import { END_OF_ARCHIVE, encodeTarHeader, padding, type TarEntryHeader } from './tar-header.ts';

export interface LayerTarOptions {
  /**
   * Seconds since the epoch (SOURCE_DATE_EPOCH, `--timestamp`) for reproducible layers: with
   * timestampMode 'clamp' (default) later mtimes become this time, with 'set' every mtime does.
   */
  timestamp?: number;
  timestampMode?: 'clamp' | 'set';
}

export interface LayerTarResult {
  /** Bytes of tar written. */
  size: number;
  entries: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** Output is handed to the stream in batches of about this size (many small files). */
const BATCH = 256 * 1024;
/** Content read per call for large files. */
const CHUNK = 1 << 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(raw: Buffer, where: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new StoreError(`${where}/${raw.toString('latin1')}: file name is not UTF-8, which a layer cannot carry; rename it`, 'PKIT_LAYER_FORMAT');
  }
}

/** Linux's dev_t split (glibc's gnu_dev_major/minor), without 32-bit bitwise truncation. */
function devParts(rdev: number): [number, number] {
  const lo = rdev % 2 ** 32;
  const hi = Math.floor(rdev / 2 ** 32);
  const major = ((lo >>> 8) & 0xfff) | ((hi & ~0xfff) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & ~0xff);
  return [major >>> 0, minor >>> 0];
}

interface XattrInfo {
  keep: [string, Buffer][];
  opaque: boolean;
  whiteout: boolean;
}

function isOverlayXattr(name: string): boolean {
  return name.startsWith('user.overlay.') || name.startsWith('trusted.overlay.');
}

function readXattrs(abs: string): XattrInfo {
  const info: XattrInfo = { keep: [], opaque: false, whiteout: false };
  let names: string[];
  try {
    names = native().llistxattr(abs);
  } catch (err) {
    if (isErrno(err, 'ENOTSUP', 'EOPNOTSUPP')) return info;
    throw err;
  }
  if (names.length === 0) return info;
  names.sort();
  for (const name of names) {
    if (name === 'user.overlay.opaque' || name === 'trusted.overlay.opaque') {
      // "y": opaque; "x" (kernels >= 6.7) only says the dir holds xattr whiteouts.
      if (native().lgetxattr(abs, name)?.toString('latin1') === 'y') info.opaque = true;
    } else if (name === 'user.overlay.whiteout' || name === 'trusted.overlay.whiteout') {
      info.whiteout = true;
    } else if (isOverlayXattr(name)) {
      continue;
    } else if (name.startsWith('user.') || name === 'security.capability') {
      const value = native().lgetxattr(abs, name);
      if (value !== null) info.keep.push([name, value]);
    }
  }
  return info;
}

/** Writes to `out` honouring its backpressure; remembers an error it emits meanwhile. */
class TarOutput {
  private readonly out: Writable;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failure: Error | undefined;
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
  };
  bytes = 0;

  constructor(out: Writable) {
    this.out = out;
    out.on('error', this.onError);
  }

  push(buf: Buffer): void {
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.bytes += buf.length;
  }

  async maybeFlush(): Promise<void> {
    if (this.pendingBytes >= BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.write(data);
  }

  /** Writes `data` now (after what is pending). */
  async writeNow(data: Buffer): Promise<void> {
    await this.flush();
    this.bytes += data.length;
    await this.write(data);
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.out.destroyed || this.out.writableEnded) throw new StoreError('layer tar output closed early', 'PKIT_LAYER_DIFF');
  }

  private async write(data: Buffer): Promise<void> {
    this.check();
    if (this.out.write(data)) return;
    await new Promise<void>((resolveDrain, reject) => {
      const done = (err?: Error): void => {
        this.out.off('drain', onDrain);
        this.out.off('close', onClose);
        this.out.off('error', onErr);
        if (err) reject(err);
        else resolveDrain();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(this.failure ?? new StoreError('layer tar output closed early', 'PKIT_LAYER_DIFF'));
      const onErr = (err: Error): void => done(err);
      this.out.on('drain', onDrain);
      this.out.on('close', onClose);
      this.out.on('error', onErr);
    });
  }

  /** Writes the rest and waits until `out` has taken it (its write callback). */
  async finish(): Promise<void> {
    await this.flush();
    this.check();
    await new Promise<void>((resolveDone, reject) => {
      this.out.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolveDone()));
    });
    this.check();
  }

  release(): void {
    this.out.off('error', this.onError);
  }
}

interface Level {
  rel: string;
  names: Buffer[];
  next: number;
}

class LayerTarWriter {
  private readonly root: string;
  private readonly out: TarOutput;
  private readonly opts: LayerTarOptions;
  /** dev:ino of regular files with several links -> the first name written. */
  private readonly links = new Map<string, string>();
  entries = 0;

  constructor(root: string, out: TarOutput, opts: LayerTarOptions) {
    this.root = root;
    this.out = out;
    this.opts = opts;
  }

  private abs(rel: string): string {
    return `${this.root}/${rel}`;
  }

  private mtime(st: Stats): number {
    const t = Math.floor(st.mtimeMs / 1000);
    const ts = this.opts.timestamp;
    if (ts === undefined) return t;
    return this.opts.timestampMode === 'set' ? ts : Math.min(t, ts);
  }

  private base(rel: string, st: Stats): Omit<TarEntryHeader, 'type'> {
    return { name: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime: this.mtime(st) };
  }

  private emit(h: TarEntryHeader): void {
    this.out.push(encodeTarHeader(h));
    this.entries++;
  }

  private listDir(rel: string): Buffer[] {
    const names = readdirSync(rel === '' ? this.root : this.abs(rel), { encoding: 'buffer' });
    return names.sort(Buffer.compare);
  }

  async run(): Promise<void> {
    const st = lstatSync(this.root);
    if (!st.isDirectory()) throw new StoreError(`${this.root} is not a directory`, 'PKIT_LAYER_DIFF');
    const stack: Level[] = [{ rel: '', names: this.listDir(''), next: 0 }];
    while (stack.length > 0) {
      const level = stack[stack.length - 1]!;
      if (level.next >= level.names.length) {
        stack.pop();
        continue;
      }
      const raw = level.names[level.next++]!;
      const name = decodeName(raw, level.rel === '' ? this.root : this.abs(level.rel));
      const rel = level.rel === '' ? name : `${level.rel}/${name}`;
      const sub = await this.entry(rel, name);
      if (sub) stack.push({ rel, names: this.listDir(rel), next: 0 });
      await this.out.maybeFlush();
    }
  }

  /** Writes the entry for `rel`; true when it is a directory to descend into. */
  private async entry(rel: string, name: string): Promise<boolean> {
    const abs = this.abs(rel);
    const st = lstatSync(abs);
    const slash = rel.lastIndexOf('/');
    const whiteoutName = slash < 0 ? `${WHITEOUT_PREFIX}${name}` : `${rel.slice(0, slash)}/${WHITEOUT_PREFIX}${name}`;

    if (st.isCharacterDevice() && st.rdev === 0) {
      this.emit({ ...this.base(whiteoutName, st), type: 'file', mode: 0o600 });
      return false;
    }
    if (st.isSocket()) return false;
    if (name.startsWith(WHITEOUT_PREFIX)) {
      throw new StoreError(`${abs}: a file named "${WHITEOUT_PREFIX}*" cannot be stored in a layer (it would read as a whiteout); rename it`, 'PKIT_LAYER_FORMAT');
    }
    if (st.isDirectory()) {
      const x = readXattrs(abs);
      this.emit({ ...this.base(rel, st), type: 'directory', xattrs: x.keep });
      if (x.opaque) this.emit({ ...this.base(`${rel}/${OPAQUE_MARKER}`, st), type: 'file', mode: st.mode & 0o777 });
      return true;
    }
    if (st.isSymbolicLink()) {
      const target = decodeName(readlinkSync(abs, { encoding: 'buffer' }), `symlink ${abs} ->`);
      this.emit({ ...this.base(rel, st), type: 'symlink', linkname: target, xattrs: readXattrs(abs).keep });
      return false;
    }
    if (st.isFile()) {
      await this.file(rel, abs, st, whiteoutName);
      return false;
    }
    if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      const [devmajor, devminor] = st.isFIFO() ? [0, 0] : devParts(st.rdev);
      const type = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block';
      this.emit({ ...this.base(rel, st), type, devmajor, devminor, xattrs: readXattrs(abs).keep });
      return false;
    }
    throw new StoreError(`${abs}: unsupported file type`, 'PKIT_LAYER_DIFF');
  }

  private async file(rel: string, abs: string, lst: Stats, whiteoutName: string): Promise<void> {
    const x = readXattrs(abs);
    if (x.whiteout && lst.size === 0) {
      this.emit({ ...this.base(whiteoutName, lst), type: 'file', mode: 0o600 });
      return;
    }
    if (lst.nlink > 1) {
      const big = lstatSync(abs, { bigint: true });
      const key = `${big.dev}:${big.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) {
        this.emit({ ...this.base(rel, lst), type: 'link', linkname: first });
        return;
      }
      this.links.set(key, rel);
    }
    const fd = openSync(abs, C.O_RDONLY | C.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.ino !== lst.ino) throw new StoreError(`${abs} changed while the layer was written`, 'PKIT_LAYER_DIFF');
      const size = st.size;
      this.emit({ ...this.base(rel, st), type: 'file', size, xattrs: x.keep });
      let done = 0;
      while (done < size) {
        const want = Math.min(CHUNK, size - done);
        const buf = Buffer.allocUnsafe(want);
        let got = 0;
        while (got < want) {
          const n = readSync(fd, buf, got, want - got, done + got);
          if (n === 0) throw new StoreError(`${abs} shrank while the layer was written (a running container?)`, 'PKIT_LAYER_DIFF');
          got += n;
        }
        done += want;
        if (want < BATCH) {
          this.out.push(buf);
          await this.out.maybeFlush();
        } else {
          await this.out.writeNow(buf);
        }
      }
      const pad = padding(size);
      if (pad > 0) this.out.push(Buffer.alloc(pad));
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Streams the layer tar of `upperDir` into `out` (see the contract at the top of this file).
 * Resolves once `out` has taken the last byte; `out` is not ended.
 */
export async function writeLayerTar(upperDir: string, out: Writable, opts: LayerTarOptions = {}): Promise<LayerTarResult> {
  if (opts.timestamp !== undefined && !Number.isSafeInteger(opts.timestamp)) {
    throw new StoreError(`layer timestamp must be whole seconds since the epoch, got ${opts.timestamp}`, 'PKIT_USAGE');
  }
  const output = new TarOutput(out);
  try {
    const writer = new LayerTarWriter(resolve(upperDir), output, opts);
    await writer.run();
    output.push(END_OF_ARCHIVE);
    await output.finish();
    return { size: output.bytes, entries: writer.entries };
  } finally {
    output.release();
  }
}

