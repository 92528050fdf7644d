// A comparable description of a directory tree for the layer tests: per path its type, mode,
// owner, content hash, link target, xattrs and the other names of a hardlinked file. Also a
// small program, so a test can take the snapshot (or set an xattr) inside a user namespace,
// where owners read as the container's ids and an overlay can be mounted:
//   node tree-snapshot.ts snapshot DIR          JSON on stdout
//   node tree-snapshot.ts setxattr PATH NAME HEX
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { native } from '../../../packages/storage/src/native.ts';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'whiteout' | 'fifo' | 'char' | 'block' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  sha256?: string;
  target?: string;
  /** Name -> hex value. */
  xattrs?: Record<string, string>;
  /** Other names of the same regular file, when it has several. */
  links?: string[];
  mtime?: number;
}

export type Tree = Record<string, TreeEntry>;

export interface SnapshotOptions {
  /** Record mtimes (whole seconds). */
  mtimes?: boolean;
  /** Keep user.overlay.* xattrs (a layer directory's own form); default: dropped. */
  overlayXattrs?: boolean;
}

export function snapshotTree(root: string, opts: SnapshotOptions = {}): Tree {
  const out: Tree = {};
  const inodes = new Map<number, string[]>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel === '' ? root : `${root}/${rel}`).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = `${root}/${path}`;
      const st = lstatSync(abs);
      const type: TreeEntry['type'] = st.isDirectory() ? 'dir'
        : st.isSymbolicLink() ? 'symlink'
        : st.isFile() ? 'file'
        : st.isFIFO() ? 'fifo'
        : st.isSocket() ? 'socket'
        : st.isCharacterDevice() ? (st.rdev === 0 ? 'whiteout' : 'char')
        : 'block';
      const e: TreeEntry = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (type === 'file') e.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
      if (type === 'symlink') e.target = readlinkSync(abs);
      if (opts.mtimes) e.mtime = Math.floor(st.mtimeMs / 1000);
      const xattrs: Record<string, string> = {};
      for (const x of native().llistxattr(abs).sort()) {
        if (!opts.overlayXattrs && (x.startsWith('user.overlay.') || x.startsWith('trusted.overlay.'))) continue;
        if (opts.overlayXattrs && x.startsWith('user.overlay.') && x !== 'user.overlay.opaque') continue;
        xattrs[x] = native().lgetxattr(abs, x)?.toString('hex') ?? '';
      }
      if (Object.keys(xattrs).length > 0) e.xattrs = xattrs;
      if (type === 'file' && st.nlink > 1) {
        const names = inodes.get(st.ino) ?? [];
        names.push(path);
        inodes.set(st.ino, names);
      }
      out[path] = e;
      if (type === 'dir') walk(path);
    }
  };
  walk('');
  for (const names of inodes.values()) {
    if (names.length < 2) continue;
    for (const n of names) out[n]!.links = names.filter((m) => m !== n);
  }
  return out;
}

if (import.meta.main) {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'snapshot') {
    process.stdout.write(JSON.stringify(snapshotTree(args[0]!, { overlayXattrs: args[1] === '--overlay-xattrs' })));
  } else if (cmd === 'setxattr') {
    native().lsetxattr(args[0]!, args[1]!, Buffer.from(args[2]!, 'hex'));
  } else {
    process.stderr.write('usage: tree-snapshot.ts snapshot DIR [--overlay-xattrs] | setxattr PATH NAME HEX\n');
    process.exitCode = 2;
  }
}
