// Gives every entry of a tar stream one owner, as it streams by: how `prun cp - CTR:DIR`
// makes a tar from stdin belong to the container's user (podman's --archive) when that user
// is not root (as root, tar's --no-same-owner does it). GNU tar has no "--owner" for
// extraction. Headers are rewritten in place (uid, gid, names cleared, checksum); pax records
// that would set the owner again (uid, gid, uname, gname) are dropped; data passes unchanged.
import { Transform, type TransformCallback } from 'node:stream';
import { StoreError } from '@pkit/storage/errors';

const BLOCK = 512;
/** pax extended header data is small; more than this is refused rather than buffered. */
const MAX_PAX = 1 << 20;
const OWNER_KEYS = new Set(['uid', 'gid', 'uname', 'gname']);

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new StoreError(`tar: id ${value} does not fit a tar header`, 'PKIT_BAD_INPUT');
  buf.write(digits.padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}

/** A header's size field: octal text, or base-256 when the top bit is set (GNU). */
function entrySize(h: Buffer): number {
  if (h[124]! & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!;
    return n;
  }
  const text = h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new StoreError(`tar: bad size field "${text}" in the stream on stdin`, 'PKIT_BAD_INPUT');
  return parseInt(text, 8);
}

function setChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

/** pax records ("LEN key=value\n") without the owner keys. */
function dropOwnerRecords(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = space > pos ? Number(data.toString('latin1', pos, space)) : NaN;
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      throw new StoreError('tar: malformed pax header in the stream on stdin', 'PKIT_BAD_INPUT');
    }
    const record = data.subarray(pos, pos + len);
    const eq = record.indexOf(0x3d, space - pos);
    const key = eq > 0 ? record.toString('utf8', space - pos + 1, eq) : '';
    if (!OWNER_KEYS.has(key)) out.push(record);
    pos += len;
  }
  return Buffer.concat(out);
}

/** Links, devices, directories and fifos have no data blocks, whatever their size field says. */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

const padding = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

export class TarOwnerRewriter extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of entry data (with padding) still to pass through unchanged. */
  private skip = 0;
  /** An old-GNU sparse header's extension blocks follow, then afterSparse bytes of data. */
  private sparseExtensions = false;
  private afterSparse = 0;
  /** The pax header being collected: its header block and data length. */
  private pax: { header: Buffer; size: number } | undefined;
  private ended = false;
  private readonly uid: number;
  private readonly gid: number;

  constructor(uid: number, gid: number) {
    super();
    this.uid = uid;
    this.gid = gid;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // Whatever is left (a truncated archive): tar says so when it reads it.
    if (this.pending.length) this.push(this.pending);
    done();
  }

  private drain(): void {
    for (;;) {
      if (this.ended || this.skip > 0) {
        const n = this.ended ? this.pending.length : Math.min(this.skip, this.pending.length);
        if (n === 0) return;
        this.push(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        if (!this.ended) this.skip -= n;
        continue;
      }
      if (this.pax) {
        const whole = this.pax.size + padding(this.pax.size);
        if (this.pending.length < whole) return;
        this.emitPax(this.pax.header, this.pending.subarray(0, this.pax.size));
        this.pending = this.pending.subarray(whole);
        this.pax = undefined;
        continue;
      }
      if (this.pending.length < BLOCK) return;
      const h = Buffer.from(this.pending.subarray(0, BLOCK));
      this.pending = this.pending.subarray(BLOCK);
      if (this.sparseExtensions) {
        this.sparseExtensions = h[504] !== 0;
        this.push(h);
        if (!this.sparseExtensions) this.skip = this.afterSparse;
        continue;
      }
      if (h.every((b) => b === 0)) {
        // The end-of-archive marker: the rest goes through untouched.
        this.ended = true;
        this.push(h);
        continue;
      }
      const type = String.fromCharCode(h[156]!);
      const size = entrySize(h);
      if (type === 'x' || type === 'g') {
        if (size > MAX_PAX) throw new StoreError(`tar: a pax header of ${size} bytes in the stream on stdin is too large`, 'PKIT_BAD_INPUT');
        this.pax = { header: h, size };
        continue;
      }
      octal(h, 108, 8, this.uid);
      octal(h, 116, 8, this.gid);
      h.fill(0, 265, 329); // uname, gname
      setChecksum(h);
      this.push(h);
      const data = NO_DATA.has(type) ? 0 : size + padding(size);
      if (type === 'S' && h[482] !== 0) {
        this.sparseExtensions = true;
        this.afterSparse = data;
      } else {
        this.skip = data;
      }
    }
  }

  private emitPax(header: Buffer, data: Buffer): void {
    const kept = dropOwnerRecords(data);
    octal(header, 124, 12, kept.length);
    setChecksum(header);
    this.push(header);
    this.push(kept);
    this.push(Buffer.alloc(padding(kept.length)));
  }
}
