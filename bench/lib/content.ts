// Deterministic content for the benchmarks' test data: the same seed gives the same bytes, so
// cached inputs stay valid and runs compare alike.
import { createCipheriv } from 'node:crypto';
import type { Pack } from 'tar-stream';

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

/** A synthetic file tree: nested dirs of small files (with a few symlinks) and some large files. */
export interface TreeSpec {
  /** Directory holding the small files' dirs; its own entry is written first. */
  root: string;
  smallFiles: number;
  largeFiles: number;
  largeSize: number;
  /** Share of a large file's bytes that are incompressible. */
  largeRandom: number;
  /** Where the large files go, and whether that directory gets an entry of its own. */
  bigDir: string;
  bigDirEntry: boolean;
}

/** Writes the tree into a tar pack; large files are streamed in 1 MiB pieces, never held whole. */
export async function writeTree(p: Pack, rng: Prng, t: TreeSpec): Promise<void> {
  const mtime = new Date('2024-01-01T00:00:00Z');
  const add = (header: Parameters<Pack['entry']>[0], body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) p.entry(header, body, cb);
      else p.entry(header, cb);
    });
  await add({ name: t.root, type: 'directory', mode: 0o755, mtime });
  const dirs: string[] = [];
  if (t.smallFiles > 0) {
    for (let a = 0; a < 16; a++) {
      dirs.push(`${t.root}/lib${a}`);
      for (let b = 0; b < 8; b++) dirs.push(`${t.root}/lib${a}/pkg${b}`, `${t.root}/lib${a}/pkg${b}/sub`);
    }
  }
  for (const d of dirs) await add({ name: d, type: 'directory', mode: 0o755, mtime });
  for (let i = 0; i < t.smallFiles; i++) {
    const size = 512 + rng.int(16 * 1024 - 512);
    const d = dirs[i % dirs.length]!;
    await add({ name: `${d}/file-${i}.dat`, type: 'file', mode: i % 10 === 0 ? 0o755 : 0o644, mtime, size }, content(rng, size, 0.5));
    if (i % 500 === 0) await add({ name: `${d}/link-${i}`, type: 'symlink', linkname: `file-${i}.dat`, mode: 0o777, mtime });
  }
  if (t.bigDirEntry && t.largeFiles > 0) await add({ name: t.bigDir, type: 'directory', mode: 0o755, mtime });
  for (let i = 0; i < t.largeFiles; i++) {
    const size = t.largeSize;
    await new Promise<void>((resolve, reject) => {
      const w = p.entry({ name: `${t.bigDir}/blob-${i}.bin`, type: 'file', mode: 0o644, mtime, size }, (err) => (err ? reject(err) : resolve()));
      let left = size;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, 1 << 20);
          left -= n;
          if (!w.write(content(rng, n, t.largeRandom))) {
            w.once('drain', pump);
            return;
          }
        }
        w.end();
      };
      pump();
    });
  }
}
