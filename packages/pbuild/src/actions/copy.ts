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
//   (mode 0600 unless --chmod) and never extracted.
import { spawn } from 'node:child_process';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, globSync, lstatSync, mkdtempSync, openSync, readSync, closeSync, realpathSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { removeTree } from '@pkit/storage/fsutil';
import type { Store } from '@pkit/storage/store';
import { collectStderr, containerFiles, exitCodeOf, reasons, renameTransform, spawnTar, statPath, type ContainerFs, type ScriptProcess } from '@pkit/runtime/container-files';
import { resolveContainerUser } from '@pkit/runtime/image-user';
import { readWorkingConfig } from './config.ts';
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
}

export interface CopyResult {
  /** sha256 of the streamed content (what buildah prints; for a build's history and cache). */
  digest: string;
}

type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

type Source =
  | { kind: 'host'; given: string; path: string; isDir: boolean; name: string; archive?: Compression }
  | { kind: 'url'; given: string; url: URL; name: string }
  | { kind: 'container'; given: string; path: string; isDir: boolean; name: string };

const GLOB = /[*?[]/;
const DECOMPRESS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gzip', bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

const missing = (src: string) => new StoreError(`"${src}": no such file or directory`, 'PKIT_NOT_FOUND');

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
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

/** The host sources, globs expanded, relative to `base`; none may leave `contextDir`. */
async function hostSources(sources: readonly string[], opts: CopyOptions): Promise<Source[]> {
  const base = resolve(opts.contextDir ?? process.cwd());
  const realBase = opts.contextDir ? realpathSync(base) : base;
  const out: Source[] = [];
  for (const src of sources) {
    if (opts.add && /^https?:\/\//i.test(src)) {
      const url = new URL(src);
      out.push({ kind: 'url', given: src, url, name: posix.basename(decodeURIComponent(url.pathname)) });
      continue;
    }
    const matches = GLOB.test(src) ? globSync(src, { cwd: base }).sort() : [src];
    if (matches.length === 0) throw missing(src);
    for (const m of matches) {
      const abs = resolve(base, m);
      if (opts.contextDir && !inside(base, abs)) throw new StoreError(`"${src}" is outside the build context ${base}`, 'PKIT_BAD_INPUT');
      if (!lstatOrUndefined(abs)) throw missing(src);
      let real: string;
      let st: Stats;
      try {
        real = realpathSync(abs);
        st = statSync(real);
      } catch {
        throw new StoreError(`"${src}": a symbolic link that leads nowhere`, 'PKIT_NOT_FOUND');
      }
      if (opts.contextDir && !inside(realBase, real)) throw new StoreError(`"${src}" leads outside the build context ${base}`, 'PKIT_BAD_INPUT');
      const archive = opts.add && st.isFile() ? await archiveKind(real) : undefined;
      out.push({ kind: 'host', given: src, path: real, isDir: st.isDirectory(), name: basename(abs), ...(archive ? { archive } : {}) });
    }
  }
  return out;
}

/** Sources in another container's filesystem (paths from its root). */
async function containerSources(fs: ContainerFs, sources: readonly string[]): Promise<Source[]> {
  const out: Source[] = [];
  for (const src of sources) {
    if (GLOB.test(src)) throw new StoreError(`"${src}": wildcards are not supported with --from yet: name the files`, 'PKIT_BAD_INPUT');
    const st = await statPath(fs, 'stat', [posix.resolve('/', src)]);
    if (st.code === 3 || st.kind === 'missing') throw missing(src);
    if (st.code !== 0) throw new StoreError(`"${src}": ${reasons(st.stderr).join('; ') || `exit ${st.code}`}`, 'PKIT_NOT_FOUND');
    out.push({ kind: 'container', given: src, path: st.resolved, isDir: st.kind === 'dir', name: posix.basename(st.resolved) });
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
  const [producerCode, consumerCode, movedErr] = await Promise.all([producer.process?.exitCode ?? 0, consumer.exitCode, moved]);
  const failures: string[] = [];
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

function decompressed(path: string, c: Compression, what: string): Producer {
  if (c === 'none') return { stream: createReadStream(path), what };
  const child = spawn(DECOMPRESS[c], ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exitCode = exitCodeOf(child).catch((err: Error) => {
    throw new StoreError(`cannot run ${DECOMPRESS[c]} to read ${what}: ${err.message}`, 'PKIT_CP');
  });
  return { stream: child.stdout, process: { child, exitCode }, what };
}

/** Downloads an ADD URL to `dir/name` (streamed to disk). */
async function download(url: URL, dir: string, name: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new StoreError(`cannot download ${url.href}: ${(err as Error).message}`, 'PKIT_NETWORK');
  }
  if (!res.ok || !res.body) throw new StoreError(`cannot download ${url.href}: HTTP ${res.status} ${res.statusText}`, 'PKIT_NETWORK');
  const file = join(dir, name);
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file, { mode: 0o600 }));
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
  return { fs: containerFiles(store, tmp, { helper: helper() }), done: () => removeWorking(store, tmp) };
}

/**
 * Copies `sources` into the working container `rec` at `dest` (COPY; ADD with `opts.add`).
 * Resolves to the digest of what was streamed in.
 */
export async function copyInto(store: Store, rec: ContainerRecord, sources: readonly string[], dest: string, opts: CopyOptions = {}): Promise<CopyResult> {
  if (sources.length === 0) throw new StoreError('nothing to copy: give at least one SRC before DEST', 'PKIT_USAGE');
  const mode = opts.chmod !== undefined ? checkMode(opts.chmod) : undefined;
  const fs = containerFiles(store, rec, { helper: helper() });
  const wc = await readWorkingConfig(store, rec);
  const owner = opts.chown ? (await resolveContainerUser(containerLayers(fs.spec), opts.chown)).user : { uid: 0, gid: 0 };
  const ids = { uid: owner.uid, gid: owner.gid };
  const from = opts.from !== undefined ? await fromSide(store, opts.from) : undefined;
  const scratch: string[] = [];
  const hash = createHash('sha256');
  try {
    const items = from ? await containerSources(from.fs, sources) : await hostSources(sources, opts);
    const destPath = posix.resolve(wc.config.WorkingDir || '/', dest);
    const fail = (r: { code: number; stderr: string }, what: string) =>
      new StoreError(`cannot copy to "${dest}" in ${rec.name}: ${what}: ${reasons(r.stderr).join('; ') || `exit ${r.code}`}`, r.code === 4 ? 'PKIT_BAD_INPUT' : 'PKIT_CP');

    let intoDir = dest.endsWith('/') || items.length > 1;
    if (!intoDir) {
      const only = items[0]!;
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

    for (const item of items) {
      const transformFor = (top: string) => (rename !== undefined && rename !== top ? renameTransform(top, rename) : '');
      if (item.kind === 'url') {
        const tmp = mkdtempSync(join(tmpdir(), 'pbuild-add-'));
        scratch.push(tmp);
        const name = rename ?? item.name;
        if (!name || name === '/') throw new StoreError(`cannot tell a file name from ${item.given}: give DEST a file name`, 'PKIT_BAD_INPUT');
        await download(item.url, tmp, name);
        await transfer(fs, hostTar(tmp, name, ids, mode ?? '600', item.given), dir, '', hash);
      } else if (item.kind === 'container') {
        const top = item.isDir ? '.' : item.name;
        const p = from!.fs.run('get', [item.path, item.isDir ? '1' : '0', '0', String(ids.uid), String(ids.gid), mode ?? ''], ['ignore', 'pipe', 'pipe']);
        await transfer(fs, { stream: p.child.stdout!, process: p, what: `${opts.from}:${item.given}` }, dir, transformFor(top), hash);
      } else if (item.archive !== undefined) {
        if (opts.chown || mode) {
          const tmp = mkdtempSync(join(tmpdir(), 'pbuild-add-'));
          scratch.push(tmp);
          await unpack(item.path, tmp, item.given);
          await transfer(fs, hostTar(tmp, '.', ids, mode, item.given), dir, '', hash);
        } else {
          await transfer(fs, decompressed(item.path, item.archive, item.given), dir, '', hash);
        }
      } else if (item.isDir) {
        await transfer(fs, hostTar(item.path, '.', ids, mode, item.given), dir, '', hash);
      } else {
        const top = basename(item.path);
        // Into a directory, the copy keeps the name it was given (not a symlink's target's).
        const name = rename ?? item.name;
        await transfer(fs, hostTar(dirname(item.path), top, ids, mode, item.given), dir, name !== top ? renameTransform(top, name) : '', hash);
      }
    }
  } finally {
    for (const d of scratch) removeTree(d);
    await from?.done();
  }
  return { digest: `sha256:${hash.digest('hex')}` };
}
