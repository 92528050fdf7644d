// Builds small layer tars in memory for tests (tests only: real layers are always streamed).
import { createRequire } from 'node:module';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import type { Headers, Pack } from 'tar-stream';

// tar-stream is a dependency of @pkit/storage, resolved from there.
const { pack } = createRequire(new URL('../../../packages/storage/package.json', import.meta.url))('tar-stream') as {
  pack: () => Pack;
};

export interface TarEntry {
  name: string;
  type?: Headers['type'];
  /** File content; only for 'file' entries. */
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records, e.g. { 'SCHILY.xattr.user.x': 'v' }; forces a PAX header. */
  pax?: Record<string, string>;
}

export type Compression = 'none' | 'gzip' | 'zstd';

const EPOCH = new Date('2020-01-02T03:04:05Z');

/** A tar (optionally gzip or zstd compressed) of `entries`, in order, as a Buffer. */
export async function buildTar(entries: TarEntry[], compression: Compression = 'none'): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<void>((resolve, reject) => {
    p.on('data', (c: Buffer) => chunks.push(c));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? EPOCH,
      size: content?.length ?? 0,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      pax: e.pax,
    } as Headers;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content) p.entry(header, content, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await collected;
  const tar = Buffer.concat(chunks);
  if (compression === 'gzip') return gzipSync(tar);
  if (compression === 'zstd') return zstdCompressSync(tar);
  return tar;
}

/** Shorthands. */
export const file = (name: string, content: string | Buffer = '', extra: Partial<TarEntry> = {}): TarEntry => ({ name, content, ...extra });
export const dir = (name: string, extra: Partial<TarEntry> = {}): TarEntry => ({ name, type: 'directory', ...extra });
export const symlink = (name: string, linkname: string, extra: Partial<TarEntry> = {}): TarEntry => ({ name, type: 'symlink', linkname, ...extra });
export const hardlink = (name: string, linkname: string, extra: Partial<TarEntry> = {}): TarEntry => ({ name, type: 'link', linkname, ...extra });

/**
 * A raw 512-byte ustar header (the fields tar-stream reads), with its checksum: for hostile or huge
 * entries that tar-stream's packer would refuse or hold in memory.
 */
export function rawTarHeader(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
