// Encodes tar headers for the layers we produce: POSIX ustar, with a PAX extended header before
// an entry only when ustar cannot hold it (long or non-ASCII names, ids or sizes over the octal
// fields, times before 1970, xattrs). GNU tar, Go's archive/tar and tar-stream read both.
// Deterministic by construction: no atime/ctime, empty uname/gname, PAX records in a fixed
// order, PAX header names derived from the entry name only.

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarEntryHeader {
  /** Relative path without a trailing slash (one is added for directories). */
  name: string;
  type: TarEntryType;
  /** Permission bits and setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes that follow (regular files only). */
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  /** Symlink target, or the earlier entry a hardlink names. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as SCHILY.xattr.NAME records in the given order. */
  xattrs?: readonly (readonly [string, Buffer])[];
}

export const BLOCK = 512;

const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

/** Largest values of the ustar octal fields (7 and 11 digits). */
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function padding(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x01-\x7f]*$/.test(s);
}

/** One PAX record, "LEN key=value\n", LEN counting the whole record including itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

/** Writes an octal field of `width` bytes: digits zero-padded to width-1, then NUL. */
function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0'), offset, width - 1, 'latin1');
  buf[offset + width - 1] = 0;
}

/**
 * Splits an ASCII path into ustar's prefix (155) and name (100) fields at a slash, or
 * undefined when it does not fit.
 */
function splitUstarName(path: string): [string, string] | undefined {
  if (path.length <= 100) return ['', path];
  if (path.length > 256) return undefined;
  // The name part must be at most 100 bytes: cut at the first slash that leaves that.
  for (let i = path.length - 101; i < path.length; i++) {
    if (i < 1) continue;
    if (path[i] !== '/') continue;
    if (i > 155) return undefined;
    const name = path.slice(i + 1);
    if (name.length === 0 || name.length > 100) continue;
    return [path.slice(0, i), name];
  }
  return undefined;
}

/** The longest prefix of `s` that is at most `max` ASCII bytes (a placeholder for PAX-named entries). */
function asciiPlaceholder(s: string, max: number): string {
  return s.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}

function ustarHeader(
  fields: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string; linkname: string; devmajor: number; devminor: number },
): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(fields.name, 0, 100, 'latin1');
  octal(b, 100, 8, fields.mode);
  octal(b, 108, 8, fields.uid);
  octal(b, 116, 8, fields.gid);
  octal(b, 124, 12, fields.size);
  octal(b, 136, 12, fields.mtime);
  b.fill(0x20, 148, 156); // checksum field counts as spaces
  b.write(fields.typeflag, 156, 1, 'latin1');
  b.write(fields.linkname, 157, 100, 'latin1');
  b.write('ustar\u000000', 257, 8, 'latin1');
  // uname (265) and gname (297) stay empty.
  octal(b, 329, 8, fields.devmajor);
  octal(b, 337, 8, fields.devminor);
  b.write(fields.prefix, 345, 155, 'latin1');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/**
 * The header block(s) of one entry: a PAX extended header (with its records, padded) when
 * needed, then the ustar header. The entry's content (h.size bytes, padded) follows.
 */
export function encodeTarHeader(h: TarEntryHeader): Buffer {
  const path = h.type === 'directory' ? `${h.name}/` : h.name;
  const records: Buffer[] = [];

  let name = '';
  let prefix = '';
  const split = isAscii(path) ? splitUstarName(path) : undefined;
  if (split) [prefix, name] = split;
  else {
    records.push(paxRecord('path', Buffer.from(path)));
    name = asciiPlaceholder(path, 100);
  }

  let linkname = h.linkname ?? '';
  if (linkname !== '' && (linkname.length > 100 || !isAscii(linkname))) {
    records.push(paxRecord('linkpath', Buffer.from(linkname)));
    linkname = asciiPlaceholder(linkname, 100);
  }

  let uid = h.uid;
  if (uid > MAX_OCTAL_7) {
    records.push(paxRecord('uid', Buffer.from(String(uid))));
    uid = 0;
  }
  let gid = h.gid;
  if (gid > MAX_OCTAL_7) {
    records.push(paxRecord('gid', Buffer.from(String(gid))));
    gid = 0;
  }
  let size = h.size;
  if (size > MAX_OCTAL_11) {
    records.push(paxRecord('size', Buffer.from(String(size))));
    size = 0;
  }
  let mtime = h.mtime;
  if (mtime < 0 || mtime > MAX_OCTAL_11) {
    records.push(paxRecord('mtime', Buffer.from(String(mtime))));
    mtime = mtime < 0 ? 0 : MAX_OCTAL_11;
  }
  for (const [key, value] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${key}`, value));

  const header = ustarHeader({
    name,
    prefix,
    mode: h.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag: TYPEFLAG[h.type],
    linkname,
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  });
  if (records.length === 0) return header;

  const data = Buffer.concat(records);
  // Named after the entry, as GNU tar's reproducible "%d/PaxHeaders/%f" form.
  const slash = h.name.lastIndexOf('/');
  const paxName = asciiPlaceholder(slash < 0 ? `PaxHeaders/${h.name}` : `${h.name.slice(0, slash)}/PaxHeaders/${h.name.slice(slash + 1)}`, 100);
  const paxHeader = ustarHeader({
    name: paxName,
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime,
    typeflag: 'x',
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, data, Buffer.alloc(padding(data.length)), header]);
}
