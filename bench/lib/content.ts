// Deterministic content for the benchmarks' test data: the same seed gives the same bytes, so
// cached inputs stay valid and runs compare alike.
import { createCipheriv } from 'node:crypto';

/** A deterministic pseudo-random byte source (AES-128-CTR over zeros). */
export class Prng {
  private readonly cipher;
  private buf = Buffer.alloc(0);
  private off = 0;
  constructor(seed: number) {
    const key = Buffer.alloc(16);
    key.writeUInt32LE(seed, 0);
    this.cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  }
  bytes(n: number): Buffer {
    if (this.off + n > this.buf.length) {
      this.buf = this.cipher.update(Buffer.alloc(Math.max(n, 1 << 20)));
      this.off = 0;
    }
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  int(max: number): number {
    return this.bytes(4).readUInt32LE(0) % max;
  }
}

const TEXT = Buffer.from(
  'The quick brown fox jumps over the lazy dog; lorem ipsum dolor sit amet, consectetur adipiscing elit.\n'.repeat(64),
);

/** `n` bytes, about `randomShare` of them incompressible, the rest text. */
export function content(rng: Prng, n: number, randomShare: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let off = 0; off < n; off += 4096) {
    const len = Math.min(4096, n - off);
    if (rng.int(1000) < randomShare * 1000) rng.bytes(len).copy(out, off);
    else TEXT.copy(out, off, rng.int(2048), rng.int(2048) + len);
  }
  return out;
}
