// `oci-archive:FILE[:REF]`: a tar of an OCI image layout (oci-layout.ts), read and written as a
// stream so FILE may be a pipe (`/dev/stdin`, `/dev/stdout`, a FIFO).
//
// - Source: the archive is extracted once, as it streams in, into a private directory under
//   os.tmpdir(); only regular files and directories with a relative path that stays inside are
//   created (links, devices and the like are skipped), then it is read as a layout. `close`
//   removes the directory.
// - Destination: the layout is built in a private directory; `commit` streams a tar of it
//   (oci-layout, index.json, then blobs/ in name order; mtimes 0, owner 0:0, fixed modes: the
//   same layout gives the same bytes) to FILE. A regular FILE is written to a temp file beside it
//   and renamed over it, so a failed copy leaves no half-written archive; a FIFO or device is
//   opened for writing without truncation; `/dev/stdin`, `/dev/stdout`, `/dev/fd/N` use the
//   inherited descriptor as it is (reopening fails for sockets, and would lose a `>>` append).
//   FILE is not touched before `commit`. `close` removes the private directory.
import { constants as C, createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Pack } from 'tar-stream';
import { NotFoundError, StoreError, isErrno } from '../errors.ts';
import { fsyncDir } from '../fsutil.ts';
import type { Descriptor } from '../oci-types.ts';
import { OciLayoutDestination, ociLayoutReader, parseLayoutSpec, type LayoutSpec } from './oci-layout.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob, TransportOptions } from './types.ts';

const ARCHIVE_CODE = 'PKIT_BAD_ARCHIVE';

/** Parses the part after `oci-archive:`: FILE up to the first ':', then an optional image name. */
export function parseOciArchiveSpec(spec: string): LayoutSpec {
  return parseLayoutSpec(spec, 'oci-archive');
}

async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pkit-oci-archive-'));
}

// ---------------------------------------------------------------------------------------------
// Source

/**
 * Extracts a tar stream of an OCI layout into `dir`. Entries are confined to `dir`: a name with
 * `..` is refused; only files and directories are created.
 */
export async function extractLayoutArchive(input: Readable, dir: string, label: string): Promise<void> {
  const ex = extract();
  input.on('error', (err) => ex.destroy(err));
  input.pipe(ex);
  try {
    for await (const entry of ex) {
      const rel = safeRelative(entry.header.name, label);
      const type = entry.header.type;
      if (rel === undefined || (type !== 'file' && type !== 'contiguous-file' && type !== 'directory')) {
        entry.resume();
        continue;
      }
      const target = join(dir, rel);
      if (type === 'directory') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        entry.resume();
        continue;
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      await pipeline(entry, createWriteStream(target, { flags: 'w', mode: 0o644 }));
    }
  } catch (err) {
    input.unpipe(ex);
    input.destroy();
    if (err instanceof StoreError || isErrno(err)) throw err;
    throw new StoreError(`${label}: not a valid tar archive: ${(err as Error).message}`, ARCHIVE_CODE);
  }
}

/** `./blobs/sha256/x` -> `blobs/sha256/x`; undefined for the root itself; refuses `..`. */
function safeRelative(name: string, label: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new StoreError(`${label}: unsafe path "${name}" in the archive`, ARCHIVE_CODE);
  return parts.length === 0 ? undefined : parts.join('/');
}

/**
 * `/dev/stdin`, `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: the inherited descriptor, used
 * as it is (reopening it fails for sockets and would lose O_APPEND and the file offset).
 */
export function inheritedFd(path: string): number | undefined {
  const std = ['/dev/stdin', '/dev/stdout', '/dev/stderr'].indexOf(path);
  if (std !== -1) return std;
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

async function openInput(file: string, shown: string, name: string): Promise<{ stream: Readable; close(): Promise<void> }> {
  const fd = inheritedFd(file);
  if (fd === 0) {
    if (process.stdin.isTTY) throw new StoreError(`${name}: standard input is a terminal: pipe an archive into it`, ARCHIVE_CODE);
    return { stream: process.stdin, close: async () => {} };
  }
  if (fd !== undefined) return { stream: createReadStream('', { fd, autoClose: false }), close: async () => {} };
  const fh = await open(file, 'r').catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${name}: ${shown} not found`);
    if (isErrno(err, 'EISDIR')) throw new StoreError(`${name}: ${shown} is a directory: use oci:${shown} for a layout directory`, ARCHIVE_CODE);
    throw err;
  });
  try {
    if ((await fh.stat()).isDirectory()) throw new StoreError(`${name}: ${shown} is a directory: use oci:${shown} for a layout directory`, ARCHIVE_CODE);
  } catch (err) {
    await fh.close();
    throw err;
  }
  const stream = fh.createReadStream();
  return { stream, close: () => (stream.closed ? Promise.resolve() : fh.close().catch(() => undefined)) };
}

/** Opens `oci-archive:FILE[:REF]` (spec = the part after `oci-archive:`) as an image source. */
export async function openOciArchiveSource(spec: string, _opts: TransportOptions = {}): Promise<ImageSource> {
  const parsed = parseOciArchiveSpec(spec);
  const name = `oci-archive:${spec}`;
  const input = await openInput(resolve(parsed.path), parsed.path, name);
  let tmp: string | undefined;
  const cleanup = async () => {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  };
  try {
    tmp = await makeTempDir();
    await extractLayoutArchive(input.stream, tmp, name);
    await input.close();
    return await ociLayoutReader(tmp, name, parsed, cleanup, 'the archive');
  } catch (err) {
    await input.close();
    await cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Destination

const EPOCH = new Date(0);

/**
 * Writes a tar of the layout at `dir` to `out`: oci-layout, index.json, then blobs/ with every
 * directory and file in name order. Only these are archived (not the writer's private files).
 */
export async function writeLayoutArchive(dir: string, out: Writable, opts: { end?: boolean } = {}): Promise<void> {
  const p = pack();
  const done = opts.end === false ? writeAll(p, out) : pipeline(p, out);
  const work = (async () => {
    await addFile(p, dir, 'oci-layout');
    await addFile(p, dir, 'index.json');
    p.entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime: EPOCH, uid: 0, gid: 0 });
    for (const alg of (await readdir(join(dir, 'blobs'))).sort()) {
      p.entry({ name: `blobs/${alg}/`, type: 'directory', mode: 0o755, mtime: EPOCH, uid: 0, gid: 0 });
      for (const hex of (await readdir(join(dir, 'blobs', alg))).sort()) await addFile(p, dir, `blobs/${alg}/${hex}`);
    }
    p.finalize();
  })().catch((err: unknown) => {
    p.destroy(err as Error);
    throw err;
  });
  // A failing output (a closed pipe) ends `done` first; a failing input ends `work` first.
  await Promise.all([work, done]);
}

/** Writes everything `src` yields to `out` with backpressure, without ending `out`. */
async function writeAll(src: AsyncIterable<Buffer>, out: Writable): Promise<void> {
  let failed: Error | undefined;
  const onError = (err: Error) => (failed = err);
  out.on('error', onError);
  try {
    for await (const chunk of src) {
      if (failed) throw failed;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    await new Promise<void>((resolve, reject) => out.write('', (err) => (err ? reject(err) : resolve())));
    if (failed) throw failed;
  } finally {
    out.off('error', onError);
  }
}

async function addFile(p: Pack, dir: string, rel: string): Promise<void> {
  const path = join(dir, rel);
  const st = await stat(path);
  await new Promise<void>((resolve, reject) => {
    const entry = p.entry({ name: rel, type: 'file', size: st.size, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
    const input = createReadStream(path);
    input.on('error', (err) => {
      entry.destroy(err);
      reject(err);
    });
    input.pipe(entry);
  });
}

/** Where the archive goes: a temp file renamed over FILE, a pipe or device opened in place, or an inherited fd. */
type OutputPlan = { kind: 'replace'; path: string } | { kind: 'inplace'; path: string } | { kind: 'fd'; fd: number };

interface ArchiveOutput {
  stream: Writable;
  /** Whether the stream should be ended (closed) after the archive. */
  end: boolean;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/** Checks before the copy starts that FILE can be written; returns how it will be written. */
async function planOutput(file: string, name: string): Promise<OutputPlan> {
  const fd = inheritedFd(file);
  if (fd !== undefined) return { kind: 'fd', fd };
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    const parent = await stat(dirname(file)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new NotFoundError(`${name}: cannot create ${file}: directory ${dirname(file)} not found`);
    return { kind: 'replace', path: file };
  }
  if (st.isDirectory()) throw new StoreError(`${name}: ${file} is a directory: use oci:${file} for a layout directory`, ARCHIVE_CODE);
  if (st.isFile()) return { kind: 'replace', path: await realpath(file) };
  return { kind: 'inplace', path: file };
}

async function openOutput(plan: OutputPlan): Promise<ArchiveOutput> {
  if (plan.kind === 'replace') {
    const tmp = join(dirname(plan.path), `.${basename(plan.path)}.pkit-tmp-${randomBytes(6).toString('hex')}`);
    const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: true });
    return {
      stream,
      end: true,
      finish: async () => {
        await rename(tmp, plan.path);
        fsyncDir(dirname(plan.path));
      },
      abort: async () => {
        stream.destroy();
        await rm(tmp, { force: true });
      },
    };
  }
  if (plan.kind === 'fd') {
    // process.stdout/stderr know how to write to a pipe, socket, file or terminal; never end them.
    const stream = plan.fd === 1 ? process.stdout : plan.fd === 2 ? process.stderr : createWriteStream('', { fd: plan.fd, autoClose: false });
    return {
      stream,
      end: false,
      finish: async () => {},
      abort: async () => {},
    };
  }
  // A FIFO or device: no O_CREAT, no O_TRUNC.
  const fh = await open(plan.path, C.O_WRONLY);
  const stream = fh.createWriteStream();
  return {
    stream,
    end: true,
    finish: async () => {},
    abort: async () => {
      stream.destroy();
    },
  };
}

/** An OCI layout built privately, written as one tar at commit. */
class OciArchiveDestination implements ImageDestination {
  readonly compressesUncompressed = true;
  readonly name: string;
  readonly manifestTypes: readonly string[];
  readonly acceptsIndex = true;
  private readonly layout: OciLayoutDestination;
  private readonly tmp: string;
  private readonly output: OutputPlan;
  private closed = false;

  constructor(name: string, layout: OciLayoutDestination, tmp: string, output: OutputPlan) {
    this.name = name;
    this.layout = layout;
    this.manifestTypes = layout.manifestTypes;
    this.tmp = tmp;
    this.output = output;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(desc);
  }

  putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    return this.layout.putBlob(stream, blob);
  }

  putManifest(manifest: ManifestBlob): Promise<void> {
    return this.layout.putManifest(manifest);
  }

  async commit(top: ManifestBlob): Promise<void> {
    await this.layout.commit(top);
    const out = await openOutput(this.output);
    try {
      await writeLayoutArchive(this.layout.dir, out.stream, { end: out.end });
    } catch (err) {
      await out.abort();
      throw new StoreError(`${this.name}: writing the archive failed: ${(err as Error).message}`, err instanceof StoreError ? err.code : ARCHIVE_CODE);
    }
    await out.finish();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.layout.close();
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/** Opens `oci-archive:FILE[:REF]` (spec = the part after `oci-archive:`) as a destination. */
export async function openOciArchiveDestination(spec: string, _opts: TransportOptions = {}): Promise<ImageDestination> {
  const parsed = parseOciArchiveSpec(spec);
  const name = `oci-archive:${spec}`;
  if (parsed.sourceIndex !== undefined) {
    throw new StoreError(`invalid destination "${name}": @${parsed.sourceIndex} selects an existing entry; name the image instead (oci-archive:FILE:NAME)`, 'PKIT_BAD_REFERENCE');
  }
  const output = await planOutput(resolve(parsed.path), name);
  const tmp = await makeTempDir();
  try {
    const layout = await OciLayoutDestination.open(name, join(tmp, 'layout'), parsed.ref);
    return new OciArchiveDestination(name, layout, tmp, output);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
