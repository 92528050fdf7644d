// `pbuild build -`: the build context comes on stdin, as with podman/buildah (define.TempDirForURL
// "-"): a tar archive (plain, gzip, bzip2, xz or zstd, told by its content) is the context; any
// other bytes are the Containerfile alone, written as `Dockerfile` in an otherwise empty
// context (the name buildah gives it, so messages say `Dockerfile:LINE`). Unlike buildah, which
// reads all of stdin into memory first, it is streamed: the first block tells which it is.
// A compressed stream must hold a tar (buildah would take the compressed bytes for a Dockerfile).
// Extraction is GNU tar's into a private 0700 temp dir, which refuses what would land outside
// it (members with `..`, writes through a symbolic link, hard links to outside: tar exits 2 and
// so do we), keeps modes, and gives every file to the caller (no owners from the archive).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError } from '@pkit/storage/errors';
import { removeTree } from '@pkit/storage/fsutil';
import { collectStderr, exitCodeOf, reasons, spawnTar } from '@pkit/runtime/container-files';
import { compressionOf, looksLikeTar, type Compression } from '../actions/copy.ts';

export interface StdinContext {
  /** The context directory. */
  dir: string;
  /** What came: a context archive, or a Containerfile alone (then `dir`/Dockerfile). */
  kind: 'archive' | 'containerfile';
  /** Removes `dir`. */
  cleanup: () => void;
}

/** The first `n` bytes of `input` (fewer at its end), and a stream of all of it. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; all: Readable }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(c);
    size += c.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  }
  return { head: head.subarray(0, n), all: Readable.from(rest(), { objectMode: false }) };
}

/** Untars `input` into `dir` (GNU tar). */
async function untar(input: Readable, dir: string): Promise<void> {
  const p = spawnTar(['-x', '-f', '-', '-C', dir, '--no-same-owner', '--preserve-permissions', '--delay-directory-restore'], ['pipe', 'ignore', 'pipe']);
  const stderr = collectStderr(p.child);
  p.child.stdin!.on('error', () => {}); // tar gone: its exit code says why
  const fed = pipeline(input, p.child.stdin!).then(
    () => undefined,
    (err: unknown) => err as NodeJS.ErrnoException,
  );
  const [code, fedErr] = await Promise.all([p.exitCode, fed]);
  if (code !== 0) throw new StoreError(`cannot extract the build context from stdin: ${reasons(stderr()).slice(0, 3).join('; ') || `tar exit ${code}`}`, 'PKIT_BAD_INPUT');
  if (fedErr && fedErr.code !== 'EPIPE') throw new StoreError(`cannot read the build context from stdin: ${fedErr.message}`, 'PKIT_BAD_INPUT');
}

/** `input` decompressed by the tool of its name (gzip, bzip2, xz, zstd: each takes -dc). */
function decompress(input: Readable, tool: Exclude<Compression, 'none'>): { output: Readable; finished: () => Promise<void> } {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = collectStderr(child);
  child.stdin.on('error', () => {});
  const fed = pipeline(input, child.stdin).catch(() => undefined);
  const exit = exitCodeOf(child).catch((err: Error) => {
    throw new StoreError(`cannot run ${tool} to read the build context from stdin: ${err.message}`, 'PKIT_BAD_INPUT');
  });
  exit.catch(() => {}); // awaited in finished(), or dropped with the child
  return {
    output: child.stdout,
    finished: async () => {
      const [code] = await Promise.all([exit, fed]);
      if (code !== 0) throw new StoreError(`cannot extract the build context from stdin: ${reasons(stderr()).slice(0, 2).join('; ') || `${tool} exit ${code}`}`, 'PKIT_BAD_INPUT');
    },
  };
}

/**
 * The build context of `pbuild build -`, from `input` (default stdin): an extracted archive or
 * a directory holding the Containerfile that came. The caller calls `cleanup` when done.
 */
export async function stdinContext(input: Readable = process.stdin): Promise<StdinContext> {
  const dir = mkdtempSync(join(tmpdir(), 'pbuild-context-'));
  const cleanup = () => removeTree(dir);
  try {
    const { head, all } = await peek(input, 512);
    if (head.length === 0) throw new StoreError('build context "-": nothing came on stdin: pipe a tar archive or a Containerfile into it', 'PKIT_BAD_INPUT');
    const compression = compressionOf(head);
    if (compression !== 'none') {
      // Compressed: it must be a tar (buildah would take the compressed bytes for a Containerfile).
      const d = decompress(all, compression);
      const inner = await peek(d.output, 512);
      if (!looksLikeTar(inner.head)) {
        d.output.destroy();
        await d.finished().catch(() => {});
        throw new StoreError(`build context "-": the ${compression} stream on stdin is not a tar archive`, 'PKIT_BAD_INPUT');
      }
      await untar(inner.all, dir);
      await d.finished();
      return { dir, kind: 'archive', cleanup };
    }
    if (looksLikeTar(head)) {
      await untar(all, dir);
      return { dir, kind: 'archive', cleanup };
    }
    await pipeline(all, createWriteStream(join(dir, 'Dockerfile'), { mode: 0o600 }));
    return { dir, kind: 'containerfile', cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
