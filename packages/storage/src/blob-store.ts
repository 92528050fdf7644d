// Content-addressed blobs: `blobs/<algorithm>/<hex>`, immutable once named.
// Contract: a blob is only ever visible complete and verified. Ingest writes to a scratch file
// while hashing, fsyncs, checks the digest and size, then renames into place; two processes
// ingesting the same blob both succeed (the second rename replaces identical content).
import { createReadStream, mkdirSync, type ReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { parseDigest, type Digest, type Expected } from './digest.ts';
import { NotFoundError, StoreError, isErrno } from './errors.ts';
import { fsyncDir, readdirOrEmpty, removeIfExists } from './fsutil.ts';
import type { ScratchArea } from './tmp.ts';
import { writeVerifiedFile } from './verified-file.ts';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** Verified bytes in scratch: `commit` names them, `discard` drops them. */
export interface StagedBlob extends BlobInfo {
  commit(): Promise<BlobInfo>;
  discard(): Promise<void>;
}

export class BlobStore {
  readonly dir: string;
  private readonly scratch: ScratchArea;

  constructor(dir: string, scratch: ScratchArea) {
    this.dir = dir;
    this.scratch = scratch;
  }

  path(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, algorithm, hex);
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  /** A stream of the blob's bytes; NotFoundError when absent. */
  async open(digest: Digest): Promise<ReadStream> {
    const path = this.path(digest);
    const stream = createReadStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) => reject(isErrno(err, 'ENOENT') ? new NotFoundError(`blob ${digest} not found in the store`) : err));
    });
    return stream;
  }

  /**
   * Stores the stream's bytes. With `expected`, a digest or size mismatch rejects with
   * DigestMismatchError and leaves nothing behind; without it, the content names itself.
   */
  async ingest(source: Readable | NodeJS.ReadableStream, expected?: Expected & { verified?: boolean }): Promise<BlobInfo> {
    return (await this.stage(source, expected)).commit();
  }

  /**
   * Writes and verifies the bytes in scratch without naming them yet, for callers that commit
   * only when related work (a layer unpacked from the same stream) succeeded too.
   */
  async stage(source: Readable | NodeJS.ReadableStream, expected?: Expected & { verified?: boolean }): Promise<StagedBlob> {
    const tmp = this.scratch.path('blob');
    const { digest, size } = await writeVerifiedFile(source, tmp, expected ?? {});
    const final = this.path(digest);
    return {
      digest,
      size,
      commit: async () => {
        try {
          mkdirSync(dirname(final), { recursive: true });
          await rename(tmp, final);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        fsyncDir(dirname(final));
        return { digest, size };
      },
      discard: () => rm(tmp, { force: true }),
    };
  }

  async putBytes(data: Uint8Array | string, expected?: Expected): Promise<BlobInfo> {
    return this.ingest(Readable.from([typeof data === 'string' ? Buffer.from(data) : data]), expected);
  }

  /** Reads a small blob (a manifest or config) whole; larger than `maxBytes` is an error. */
  async readBytes(digest: Digest, maxBytes: number): Promise<Buffer> {
    const info = await this.stat(digest);
    if (!info) throw new NotFoundError(`blob ${digest} not found in the store`);
    if (info.size > maxBytes) throw new StoreError(`blob ${digest} is ${info.size} bytes, over the ${maxBytes}-byte limit for metadata`);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(digest)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Removes a blob; false when it was not there. Only garbage collection should call this. */
  delete(digest: Digest): Promise<boolean> {
    return removeIfExists(this.path(digest));
  }

  async list(): Promise<Digest[]> {
    const out: Digest[] = [];
    for (const algorithm of await readdirOrEmpty(this.dir)) {
      for (const hex of await readdirOrEmpty(join(this.dir, algorithm))) out.push(`${algorithm}:${hex}`);
    }
    return out;
  }
}
