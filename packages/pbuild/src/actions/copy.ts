// `pbuild copy` and `pbuild add` (and the Containerfile's COPY and ADD): files into a working
// container as buildah puts them there. GNU tar streams them: one tar on the host (or in the
// --from container) creates, the container side script (@pkit/runtime/container-files, the
// same as prun cp's) extracts as the container's root; nothing is held in memory.
//
// Semantics (buildah's, which are Docker's COPY):
// - files end up owned by 0:0 in the container, or by --chown USER[:GROUP] (names from the
//   container's /etc/passwd and /etc/group); --chmod MODE sets every mode;
// - a SRC directory copies what is in it (`COPY dir /x` fills /x), a file keeps its name in a
//   directory DEST; globs in SRC; several sources (or a glob that matches several) make DEST a
//   directory, as DEST ending in "/", an existing directory or a directory SRC do;
// - relative DEST starts at the container's WorkingDir; missing directories are made (0755,
//   owned as --chown says);
// - add: a local tar (plain, gzip, bzip2, xz or zstd: told by its content, not its name) is
//   extracted at DEST, keeping its owners unless --chown; an http(s) URL is downloaded
//   (mode 0600 unless --chmod) and never extracted; --checksum=sha256:HEX verifies the download
//   (or, beyond docker and buildah, which allow it for URLs only, a local file) before any of it
//   reaches the container;
// - host sources: ../context/sources.ts expands and walks them (the build cache's
//   sources-digest.ts reads the same entries): Go's glob rules, a leading `/` and `..` confined
//   to the context, the context's .containerignore/.dockerignore (`ignore`: excluded paths are
//   never copied; a SRC with nothing left fails as a missing file, as buildah), --exclude
//   (paths as they land under DEST), --parents (each source keeps its path from the context
//   root, or from a `/./` in SRC, under DEST, which is then a directory).
import { spawn } from 'node:child_process';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { removeTree } from '@pkit/storage/fsutil';
import type { Store } from '@pkit/storage/store';
import { collectStderr, containerFiles, exitCodeOf, reasons, renameTransform, spawnTar, statPath, type ContainerFs, type ScriptProcess } from '@pkit/runtime/container-files';
import { resolveContainerUser } from '@pkit/runtime/image-user';
import { excludeMatcher, type PathMatcher } from '../context/ignore.ts';
import { expandHostSources, isUrl, sourceEntries, tarBase, type HostSource, type SourceEntry, type SourceFilters } from '../context/sources.ts';
import { readWorkingConfig } from './config.ts';
import { atInterrupt, stopAndRemove } from './interrupt.ts';
import { containerLayers, fromImage, helper, isWorking, removeWorking } from './working.ts';

export interface CopyOptions {
  /** USER[:GROUP], names resolved in the container; default 0:0. */
  chown?: string;
  /** An octal mode for every file and directory copied. */
  chmod?: string;
  /** Base of relative SRC paths (default: the current directory); SRC may not leave it. */
  contextDir?: string;
  /** Sources are paths in this container (name or ID) or image instead of the host's. */
  from?: string;
  /** ADD: local tar archives are extracted, http(s) URLs downloaded. */
  add?: boolean;
  /** The context's .containerignore/.dockerignore (context/ignore.ts loadIgnore); host sources only. */
  ignore?: PathMatcher;
  /** COPY/ADD --exclude patterns, matched against the paths files get under DEST. */
  excludes?: readonly string[];
  /** COPY --parents: keep each source's path from the context (or from a `/./` in it). */
  parents?: boolean;
  /** ADD --checksum=sha256:HEX (also sha384, sha512): the one source must have this digest. */
  checksum?: string;
  /**
   * COPY/ADD --link: accepted. pbuild writes the files into the container as without it: the
   * image has the same files (buildkit's independent layer is a cache and rebase optimisation;
   * unlike it, a symbolic link on DEST's path is followed inside the container, as without --link).
   */
  link?: boolean;
}

export interface CopyResult {
  /** sha256 of the streamed content (what buildah prints; for a build's history and cache). */
  digest: string;
}

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

type Source =
  | { kind: 'host'; given: string; item: HostSource; isDir: boolean; name: string; kept?: string; archive?: Compression }
  | { kind: 'url'; given: string; url: URL; name: string; kept?: undefined }
  | { kind: 'container'; given: string; path: string; isDir: boolean; name: string; kept?: string };

const GLOB = /[*?[]/;
const DECOMPRESS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gzip', bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };
const CHECKSUM_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

const missing = (src: string) => new StoreError(`"${src}": no such file or directory`, 'PKIT_NOT_FOUND');

/** ADD --checksum: ALGORITHM:HEX as in an OCI digest. */
export function parseChecksum(value: string): { algorithm: string; hex: string } {
  const m = /^([a-z0-9]+):([0-9a-f]+)$/.exec(value);
  if (!m || CHECKSUM_HEX[m[1]!] !== m[2]!.length) {
    throw new StoreError(`invalid --checksum "${value}": expected sha256: and 64 lowercase hex digits (or sha384:, sha512:)`, 'PKIT_BAD_INPUT');
  }
  return { algorithm: m[1]!, hex: m[2]! };
}

function checksumMismatch(what: string, want: { algorithm: string; hex: string }, got: string): StoreError {
  return new StoreError(`checksum mismatch for ${what}: expected ${want.algorithm}:${want.hex}, got ${want.algorithm}:${got}`, 'PKIT_DIGEST_MISMATCH');
}

/** The digest of a host file, streamed. */
async function fileDigest(path: string, algorithm: string): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** --parents for a path in a container: what follows a `/./` in it, else the path from the root. */
function keptFromRoot(src: string): string {
  const cut = src.indexOf('/./');
  return posix.normalize(`/${cut >= 0 ? src.slice(cut + 3) : src}`).slice(1);
}

/** buildah's --chmod: an octal mode. */
export function checkMode(mode: string): string {
  if (!/^[0-7]{1,4}$/.test(mode)) throw new StoreError(`invalid --chmod "${mode}": expected an octal mode such as 644 or 0755`, 'PKIT_BAD_INPUT');
  return mode;
}

/** The compression of a file, told by its first bytes. */
export function compressionOf(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return 'none';
}

/** A tar header block: "ustar" at 257, or a v7 header whose checksum adds up. */
export function looksLikeTar(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.subarray(257, 262).toString('latin1') === 'ustar') return true;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(stored) || block[0] === 0) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The first `n` bytes of a stream, then it is dropped. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

/** Whether a host file is a tar archive ADD extracts, and how it is compressed. */
async function archiveKind(path: string): Promise<Compression | undefined> {
  const head = readHead(path, 512);
  const c = compressionOf(head);
  if (c === 'none') return looksLikeTar(head) ? 'none' : undefined;
  const child = spawn(DECOMPRESS[c], ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'ignore'] });
  child.on('error', () => {});
  const block = await peek(child.stdout, 512);
  child.kill();
  return looksLikeTar(block) ? c : undefined;
}

/** The host sources in order: URLs (ADD) as they are, paths expanded by context/sources.ts. */
async function hostSources(sources: readonly string[], opts: CopyOptions, filters: SourceFilters): Promise<Source[]> {
  const out: Source[] = [];
  for (const src of sources) {
    if (opts.add && isUrl(src)) {
      const url = new URL(src);
      out.push({ kind: 'url', given: src, url, name: posix.basename(decodeURIComponent(url.pathname)) });
      continue;
    }
    for (const item of expandHostSources([src], { ...filters, contextDir: opts.contextDir })) {
      const archive = opts.add && !item.isDir ? await archiveKind(item.real) : undefined;
      out.push({ kind: 'host', given: src, item, isDir: item.isDir, name: item.name, ...(item.kept !== undefined ? { kept: item.kept } : {}), ...(archive ? { archive } : {}) });
    }
  }
  return out;
}

/** Sources in another container's filesystem (paths from its root). */
async function containerSources(fs: ContainerFs, sources: readonly string[], parents: boolean): Promise<Source[]> {
  const out: Source[] = [];
  for (const src of sources) {
    if (GLOB.test(src)) throw new StoreError(`"${src}": wildcards are not supported with --from yet: name the files`, 'PKIT_BAD_INPUT');
    const st = await statPath(fs, 'stat', [posix.resolve('/', src)]);
    if (st.code === 3 || st.kind === 'missing') throw missing(src);
    if (st.code !== 0) throw new StoreError(`"${src}": ${reasons(st.stderr).join('; ') || `exit ${st.code}`}`, 'PKIT_NOT_FOUND');
    const kept = parents ? keptFromRoot(src) : undefined;
    out.push({ kind: 'container', given: src, path: st.resolved, isDir: st.kind === 'dir', name: posix.basename(st.resolved), ...(kept !== undefined ? { kept } : {}) });
  }
  return out;
}

/** Counts what flows through into the digest. */
class Digester extends Transform {
  private readonly hash: Hash;
  constructor(hash: Hash) {
    super();
    this.hash = hash;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
}

interface Producer {
  stream: Readable;
  process?: ScriptProcess;
  what: string;
  /** Feeding the producer its input (a file list): settles with why that failed, if it did. */
  fed?: Promise<Error | undefined>;
}

/** Streams `producer` into the container's `put` of `dir`; fails with tar's words. */
async function transfer(fs: ContainerFs, producer: Producer, dir: string, transform: string, hash: Hash): Promise<void> {
  const consumer = fs.run('put', [dir, transform, '1'], ['pipe', 'ignore', 'pipe']);
  const consumerErr = collectStderr(consumer.child);
  const producerErr = producer.process ? collectStderr(producer.process.child) : () => '';
  const sink = consumer.child.stdin!;
  sink.on('error', () => {}); // EPIPE: the consumer's exit code and stderr tell why
  const moved = pipeline(producer.stream, new Digester(hash), sink).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  const [producerCode, consumerCode, movedErr, fedErr] = await Promise.all([producer.process?.exitCode ?? 0, consumer.exitCode, moved, producer.fed]);
  const failures: string[] = [];
  // A file list that broke off would leave tar with half of it: never a success.
  if (fedErr) failures.push(fedErr.message);
  if (consumerCode !== 0) failures.push(...(reasons(consumerErr()).length ? reasons(consumerErr()) : [`exit ${consumerCode}`]));
  if (producerCode !== 0 && !(consumerCode !== 0 && producerCode === 141)) failures.push(...(reasons(producerErr()).length ? reasons(producerErr()) : [`exit ${producerCode}`]));
  if (!failures.length && movedErr && !producer.process) failures.push(movedErr.message);
  if (failures.length) throw new StoreError(`copying ${producer.what} failed: ${failures.slice(0, 3).join('; ')}`, 'PKIT_CP');
}

function hostTar(dir: string, member: string, owner: { uid: number; gid: number } | undefined, mode: string | undefined, what: string): Producer {
  const args = ['-C', dir, '-cf', '-', '--numeric-owner', '--no-unquote'];
  if (owner) args.push(`--owner=:${owner.uid}`, `--group=:${owner.gid}`);
  if (mode) args.push(`--mode=${mode}`);
  const p = spawnTar([...args, '--', member], ['ignore', 'pipe', 'pipe']);
  return { stream: p.child.stdout!, process: p, what };
}

/** A tar of exactly `entries` (names relative to `dir`, in order), read by tar from a list on its stdin. */
function hostTarOf(dir: string, entries: Iterable<SourceEntry>, owner: { uid: number; gid: number } | undefined, mode: string | undefined, what: string): Producer {
  const args = ['-C', dir, '-cf', '-', '--numeric-owner', '--no-unquote'];
  if (owner) args.push(`--owner=:${owner.uid}`, `--group=:${owner.gid}`);
  if (mode) args.push(`--mode=${mode}`);
  const p = spawnTar([...args, '--no-recursion', '--null', '--verbatim-files-from', '-T', '-'], ['pipe', 'pipe', 'pipe']);
  const stdin = p.child.stdin!;
  stdin.on('error', () => {}); // tar gone: its exit code says why
  const names = Readable.from(
    (function* () {
      for (const e of entries) yield Buffer.from(`${e.member}\0`);
    })(),
  );
  const fed = pipeline(names, stdin).then(
    () => undefined,
    (err: unknown) => ((err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : (err as Error)),
  );
  return { stream: p.child.stdout!, process: p, what, fed };
}

function decompressed(path: string, c: Compression, what: string): Producer {
  if (c === 'none') return { stream: createReadStream(path), what };
  const child = spawn(DECOMPRESS[c], ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exitCode = exitCodeOf(child).catch((err: Error) => {
    throw new StoreError(`cannot run ${DECOMPRESS[c]} to read ${what}: ${err.message}`, 'PKIT_CP');
  });
  return { stream: child.stdout, process: { child, exitCode }, what };
}

/** Downloads an ADD URL to `dir/name` (streamed to disk), checking `checksum` when given. */
async function download(url: URL, dir: string, name: string, checksum?: { algorithm: string; hex: string }): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new StoreError(`cannot download ${url.href}: ${(err as Error).message}`, 'PKIT_NETWORK');
  }
  if (!res.ok || !res.body) throw new StoreError(`cannot download ${url.href}: HTTP ${res.status} ${res.statusText}`, 'PKIT_NETWORK');
  const file = join(dir, name);
  const h = createHash(checksum?.algorithm ?? 'sha256');
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), new Digester(h), createWriteStream(file, { mode: 0o600 }));
  if (checksum) {
    const got = h.digest('hex');
    if (got !== checksum.hex) throw checksumMismatch(url.href, checksum, got);
  }
  return file;
}

/** An ADD archive unpacked on the host, to be copied on with new owners or modes. */
async function unpack(path: string, into: string, what: string): Promise<void> {
  // GNU tar tells the compression of a file by its content.
  const p = spawnTar(['-xf', path, '-C', into, '--no-same-owner', '--no-same-permissions', '--delay-directory-restore'], ['ignore', 'ignore', 'pipe']);
  const err = collectStderr(p.child);
  const code = await p.exitCode;
  if (code !== 0) throw new StoreError(`cannot extract ${what}: ${reasons(err()).slice(0, 3).join('; ') || `exit ${code}`}`, 'PKIT_CP');
}

/** The container that `--from` names (a working or stopped container), or a temporary one of an image. */
async function fromSide(store: Store, from: string): Promise<{ fs: ContainerFs; done: () => Promise<void> }> {
  let rec: ContainerRecord | undefined;
  try {
    rec = await store.containers.resolve(from);
  } catch {
    rec = undefined;
  }
  if (rec) {
    if (!isWorking(rec) && rec.state === 'running') throw new StoreError(`container ${from} is running: stop it to copy from it with --from`, 'PKIT_STATE');
    return { fs: containerFiles(store, rec, { helper: helper() }), done: async () => {} };
  }
  const name = await fromImage(store, from, `pbuild-from-${randomBytes(6).toString('hex')}`);
  const tmp = await store.containers.resolve(name);
  const unregister = atInterrupt(stopAndRemove(store, tmp));
  return {
    fs: containerFiles(store, tmp, { helper: helper() }),
    done: async () => {
      await removeWorking(store, tmp);
      unregister();
    },
  };
}

/**
 * Copies `sources` into the working container `rec` at `dest` (COPY; ADD with `opts.add`).
 * Resolves to the digest of what was streamed in.
 */
export async function copyInto(store: Store, rec: ContainerRecord, sources: readonly string[], dest: string, opts: CopyOptions = {}): Promise<CopyResult> {
  if (sources.length === 0) throw new StoreError('nothing to copy: give at least one SRC before DEST', 'PKIT_USAGE');
  const mode = opts.chmod !== undefined ? checkMode(opts.chmod) : undefined;
  const checksum = opts.checksum !== undefined ? parseChecksum(opts.checksum) : undefined;
  if (checksum && !opts.add) throw new StoreError('--checksum is for ADD (pbuild add): COPY does not take it', 'PKIT_USAGE');
  if (checksum && sources.length !== 1) throw new StoreError('--checksum needs exactly one source', 'PKIT_USAGE');
  const exclude = excludeMatcher(opts.excludes ?? []);
  if (opts.from !== undefined && exclude) throw new StoreError('--exclude with --from is not supported yet: copy the files by name', 'PKIT_USAGE');
  const filters: SourceFilters = { ignore: opts.ignore, exclude, parents: opts.parents };
  const fs = containerFiles(store, rec, { helper: helper() });
  const wc = await readWorkingConfig(store, rec);
  const owner = opts.chown ? (await resolveContainerUser(containerLayers(fs.spec), opts.chown)).user : { uid: 0, gid: 0 };
  const ids = { uid: owner.uid, gid: owner.gid };
  const from = opts.from !== undefined ? await fromSide(store, opts.from) : undefined;
  const scratch: string[] = [];
  const hash = createHash('sha256');
  try {
    const items = from ? await containerSources(from.fs, sources, opts.parents ?? false) : await hostSources(sources, opts, filters);
    if (checksum && items.length !== 1) throw new StoreError(`--checksum needs exactly one source: "${sources[0]}" matches ${items.length}`, 'PKIT_USAGE');
    const destPath = posix.resolve(wc.config.WorkingDir || '/', dest);
    const fail = (r: { code: number; stderr: string }, what: string) =>
      new StoreError(`cannot copy to "${dest}" in ${rec.name}: ${what}: ${reasons(r.stderr).join('; ') || `exit ${r.code}`}`, r.code === 4 ? 'PKIT_BAD_INPUT' : 'PKIT_CP');

    // A local file with --checksum is checked before anything reaches the container.
    const only = items[0]!;
    if (checksum && only.kind === 'host') {
      if (only.isDir) throw new StoreError(`--checksum needs a file: "${only.given}" is a directory`, 'PKIT_BAD_INPUT');
      const got = await fileDigest(only.item.real, checksum.algorithm);
      if (got !== checksum.hex) throw checksumMismatch(`"${only.given}"`, checksum, got);
    }

    // Downloads first: nothing reaches the container before they (and their checksum) are good.
    const downloads = new Map<Source, { dir: string; file: string }>();
    for (const item of items) {
      if (item.kind !== 'url') continue;
      const tmp = mkdtempSync(join(tmpdir(), 'pbuild-add-'));
      scratch.push(tmp);
      const file = item.name && item.name !== '/' ? item.name : 'download';
      await download(item.url, tmp, file, checksum);
      downloads.set(item, { dir: tmp, file });
    }

    // With --parents each source keeps its path under DEST, a directory.
    let intoDir = dest.endsWith('/') || items.length > 1 || !!opts.parents;
    if (!intoDir) {
      const st = await statPath(fs, 'stat', [destPath]);
      if (st.code !== 0 && st.code !== 3) throw fail(st, 'looking it up');
      const wantsDir = (only.kind !== 'url' && only.isDir) || (only.kind === 'host' && only.archive !== undefined);
      intoDir = st.kind === 'dir' || wantsDir;
      if (st.kind === 'file' && wantsDir) throw new StoreError(`cannot copy "${only.given}" to "${dest}" in ${rec.name}: the destination is a file, not a directory`, 'PKIT_BAD_INPUT');
    }

    // Where each source goes: a directory, and the name of a single file in it.
    let dir: string;
    let rename: string | undefined;
    if (intoDir) {
      const r = await statPath(fs, 'mkdir', [destPath, String(ids.uid), String(ids.gid)]);
      if (r.code !== 0) throw fail(r, 'making the directory');
      dir = r.resolved;
    } else {
      const r = await statPath(fs, 'mkdir', [posix.dirname(destPath), String(ids.uid), String(ids.gid)]);
      if (r.code !== 0) throw fail(r, 'making its directory');
      const st = await statPath(fs, 'stat', [destPath]);
      if (st.code !== 0) throw fail(st, 'looking it up');
      dir = posix.dirname(st.resolved);
      rename = posix.basename(st.resolved);
    }

    /** --parents: the directory under DEST an item goes into (made, owned as --chown says). */
    const dirFor = async (kept: string | undefined, isDir: boolean): Promise<string> => {
      const sub = kept === undefined ? '' : isDir ? kept : posix.dirname(kept);
      if (sub === '' || sub === '.') return dir;
      const r = await statPath(fs, 'mkdir', [posix.join(dir, sub), String(ids.uid), String(ids.gid)]);
      if (r.code !== 0) throw fail(r, `making ${sub}`);
      return r.resolved;
    };

    for (const item of items) {
      const into = await dirFor(item.kept, item.kind !== 'url' && item.isDir);
      const transformFor = (top: string) => (rename !== undefined && rename !== top ? renameTransform(top, rename) : '');
      if (item.kind === 'url') {
        const got = downloads.get(item)!;
        const name = rename ?? item.name;
        if (!name || name === '/') throw new StoreError(`cannot tell a file name from ${item.given}: give DEST a file name`, 'PKIT_BAD_INPUT');
        await transfer(fs, hostTar(got.dir, got.file, ids, mode ?? '600', item.given), into, name !== got.file ? renameTransform(got.file, name) : '', hash);
      } else if (item.kind === 'container') {
        const top = item.isDir ? '.' : item.name;
        const p = from!.fs.run('get', [item.path, item.isDir ? '1' : '0', '0', String(ids.uid), String(ids.gid), mode ?? ''], ['ignore', 'pipe', 'pipe']);
        await transfer(fs, { stream: p.child.stdout!, process: p, what: `${opts.from}:${item.given}` }, into, transformFor(top), hash);
      } else if (item.archive !== undefined) {
        const path = item.item.real;
        if (opts.chown || mode) {
          const tmp = mkdtempSync(join(tmpdir(), 'pbuild-add-'));
          scratch.push(tmp);
          await unpack(path, tmp, item.given);
          await transfer(fs, hostTar(tmp, '.', ids, mode, item.given), into, '', hash);
        } else {
          await transfer(fs, decompressed(path, item.archive, item.given), into, '', hash);
        }
      } else if (item.isDir) {
        await transfer(fs, hostTarOf(tarBase(item.item), sourceEntries(item.item, filters), ids, mode, item.given), into, '', hash);
      } else {
        const top = basename(item.item.real);
        // Into a directory, the copy keeps the name it was given (not a symlink's target's).
        const name = rename ?? item.name;
        await transfer(fs, hostTar(tarBase(item.item), top, ids, mode, item.given), into, name !== top ? renameTransform(top, name) : '', hash);
      }
    }
  } finally {
    for (const d of scratch) removeTree(d);
    await from?.done();
  }
  return { digest: `sha256:${hash.digest('hex')}` };
}
