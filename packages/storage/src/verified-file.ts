// Writing a stream to a file while checking it: the one routine behind every blob a store,
// layout or archive receives.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingStream, VerifyingStream, type Digest } from './digest.ts';

export interface WrittenFile {
  digest: Digest;
  size: number;
}

/**
 * Writes `source` to `path` (which must not exist) and flushes it. With `expected.digest` the
 * bytes are verified (and `expected.size` when given): a mismatch rejects with
 * DigestMismatchError; without it, the content names itself. On any failure the file is gone.
 */
export async function writeVerifiedFile(
  source: Readable | NodeJS.ReadableStream,
  path: string,
  expected: { digest?: Digest; size?: number; verified?: boolean } = {},
  what = 'blob',
  mode = 0o644,
): Promise<WrittenFile> {
  // A stream verified upstream is only counted; the upstream check fails it before its end.
  const check =
    expected.digest && expected.verified
      ? new CountingStream(expected.digest)
      : expected.digest
        ? new VerifyingStream({ digest: expected.digest, ...(expected.size !== undefined ? { size: expected.size } : {}) }, what)
        : new HashingStream();
  try {
    // A large buffer lets chunks that arrive during a write go out together in one writev.
    await pipeline(source, check, createWriteStream(path, { flags: 'wx', mode, flush: true, highWaterMark: 1 << 20 }));
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  if (check instanceof VerifyingStream) return { digest: check.expected.digest, size: check.size };
  if (check instanceof CountingStream && (expected.size === undefined || check.size === expected.size)) return { digest: check.digest, size: check.size };
  if (expected.size !== undefined && check.size !== expected.size) {
    await rm(path, { force: true });
    const { DigestMismatchError } = await import('./errors.ts');
    throw new DigestMismatchError(`${what} ${check.digest}: size mismatch, got ${check.size} bytes, expected ${expected.size}`);
  }
  return { digest: check.digest, size: check.size };
}

/** Passes data through, counting it; names it with a digest checked elsewhere. */
class CountingStream extends Transform {
  size = 0;
  readonly digest: Digest;

  constructor(digest: Digest) {
    super();
    this.digest = digest;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    cb(null, chunk);
  }
}
