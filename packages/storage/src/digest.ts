// Content digests (`algorithm:hex`), hashing while streaming, and a verifying stream.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, StoreError } from './errors.ts';

export type Digest = `${string}:${string}`;

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };
// Per the image-spec grammar: algorithm-component(s) and an encoded part.
const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

/** Parses and validates a digest; only the algorithms we can verify are accepted. */
export function parseDigest(value: string): ParsedDigest {
  const m = DIGEST_RE.exec(value);
  if (!m) throw new StoreError(`invalid digest "${value}": expected algorithm:hex, e.g. sha256:<64 hex digits>`, 'PKIT_BAD_DIGEST');
  const algorithm = m[1]!;
  const hex = m[2]!;
  const len = HEX_LENGTH[algorithm];
  if (len === undefined) {
    throw new StoreError(`unsupported digest algorithm "${algorithm}" in "${value}": use sha256 or sha512`, 'PKIT_BAD_DIGEST');
  }
  if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) {
    throw new StoreError(`invalid ${algorithm} digest "${value}": expected ${len} lowercase hex digits`, 'PKIT_BAD_DIGEST');
  }
  return { algorithm, hex };
}

export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(data: string | Uint8Array, algorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Hashes whatever passes through; `digest` and `size` are final after 'end'. */
export class HashingStream extends Transform {
  private readonly hash: Hash;
  private bytes = 0;
  private result: Digest | undefined;
  readonly algorithm: string;

  constructor(algorithm = 'sha256') {
    super();
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    cb();
  }

  get size(): number {
    return this.bytes;
  }

  get digest(): Digest {
    if (!this.result) throw new Error('digest read before the stream ended');
    return this.result;
  }
}

export interface Expected {
  digest: Digest;
  /** When known, more bytes than this fail at once, before they are written anywhere. */
  size?: number;
}

/**
 * Passes data through and fails the stream (so a pipeline errors and nothing is committed)
 * when the content does not match: too many bytes as soon as they arrive, too few or a
 * wrong digest at the end, before the final chunk's 'finish' reaches the consumer.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private readonly algorithm: string;
  private bytes = 0;
  readonly expected: Expected;
  readonly what: string;

  constructor(expected: Expected, what = 'blob') {
    super();
    this.expected = expected;
    this.what = what;
    this.algorithm = parseDigest(expected.digest).algorithm;
    this.hash = createHash(this.algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expected.size !== undefined && this.bytes > this.expected.size) {
      cb(new DigestMismatchError(`${this.what} ${this.expected.digest}: size mismatch, more than the expected ${this.expected.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expected.size !== undefined && this.bytes !== this.expected.size) {
      cb(new DigestMismatchError(`${this.what} ${this.expected.digest}: size mismatch, got ${this.bytes} bytes, expected ${this.expected.size}`));
      return;
    }
    const actual = `${this.algorithm}:${this.hash.digest('hex')}`;
    if (actual !== this.expected.digest) {
      cb(new DigestMismatchError(`${this.what} ${this.expected.digest}: digest mismatch, content hashes to ${actual}`));
      return;
    }
    cb();
  }

  get size(): number {
    return this.bytes;
  }
}
