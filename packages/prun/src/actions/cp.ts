// `prun cp`: files between a container and the host (or a tar stream on stdin/stdout, or
// another container), as podman cp does it. GNU tar streams on both sides: one tar creates,
// the other extracts, and nothing is held whole in memory. The container side runs as the
// container's root (container-fs.ts, @pkit/runtime/container-files); the host side runs as the user, so files
// copied out belong to the user, and files copied in get the container user's ids (podman's
// --archive, the default) or keep their own (--no-archive).
//
// Semantics (podman 4.3's): SRC ending in "/." copies what is in it; DEST an existing directory
// receives SRC under SRC's name; otherwise DEST is the new name (its parent must exist; a
// trailing "/" demands a directory). A directory never replaces a file. From stdin, DEST must
// be a directory. Symlinks in SRC and DEST paths are followed (inside the container for its
// paths).
import { realpathSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { collectStderr, reasons, renameTransform, runScript, spawnTar, type ScriptProcess } from '@pkit/runtime/container-files';
import { engine, findContainer, type Engine } from './containers.ts';
import { containerFs, toContainerId, type ContainerFs } from './container-fs.ts';
import { TarOwnerRewriter } from './tar-owner.ts';

export type Endpoint = { kind: 'stdio' } | { kind: 'host'; path: string } | { kind: 'container'; ref: string; path: string };

export interface CpRequest {
  root: string | undefined;
  src: string;
  dest: string;
  /** podman's --archive: files copied into a container get its user's ids. */
  archive: boolean;
}

/** podman's reading: "-" is stdio; a path starting with "/" or "." is the host's; else NAME:PATH. */
export function parseEndpoint(arg: string): Endpoint {
  if (arg === '-') return { kind: 'stdio' };
  if (arg.startsWith('/') || arg.startsWith('.')) return { kind: 'host', path: arg };
  const colon = arg.indexOf(':');
  if (colon > 0) return { kind: 'container', ref: arg.slice(0, colon), path: arg.slice(colon + 1) };
  return { kind: 'host', path: arg };
}

/** "dir/." (and ".") means what is in dir. */
export function isContentsPath(p: string): boolean {
  return p === '.' || p.endsWith('/.');
}

/** What the source sends: a tar whose top entry is `topName` ("." for a directory's contents). */
interface SourceInfo {
  stdin: boolean;
  isDir: boolean;
  contents: boolean;
  topName: string;
  /** Its name when copied into an existing directory. */
  name: string;
}

type DestKind = 'dir' | 'file' | 'missing';

interface DestState {
  kind: DestKind;
  /** Resolved path of the destination (or of where it would be created). */
  resolved: string;
  given: string;
  /** "could not be found on ..." for this destination, with a reason. */
  notFound(reason: string): StoreError;
}

/** Where to extract, and the rename of the tar's top entry on the way. */
export interface ExtractPlan {
  dir: string;
  rename?: { from: string; to: string };
}

const notFound = (given: string, where: string, reason: string) =>
  new StoreError(`"${given}" could not be found on ${where}: ${reason}`, 'PKIT_NOT_FOUND');

export { renameTransform };

export function planExtract(src: SourceInfo, dest: DestState): ExtractPlan {
  const trailingSlash = dest.given.endsWith('/');
  if (src.stdin) {
    if (dest.kind === 'missing' && trailingSlash) throw dest.notFound('no such file or directory');
    if (dest.kind !== 'dir') throw new StoreError('destination must be a directory when copying from stdin', 'PKIT_BAD_INPUT');
    return { dir: dest.resolved };
  }
  if (dest.kind === 'dir') {
    if (src.contents || src.topName === src.name) return { dir: dest.resolved };
    return { dir: dest.resolved, rename: { from: src.topName, to: src.name } };
  }
  if (trailingSlash) throw dest.notFound(dest.kind === 'file' ? 'not a directory' : 'no such file or directory');
  if (dest.kind === 'file' && (src.isDir || src.contents)) {
    throw new StoreError('destination must be a directory when copying a directory', 'PKIT_BAD_INPUT');
  }
  return { dir: posix.dirname(dest.resolved), rename: { from: src.topName, to: posix.basename(dest.resolved) } };
}

interface Side {
  label: string;
  fs?: ContainerFs;
}

/** A container path, absolute (relative ones start at the container's working directory). */
function containerPath(fs: ContainerFs, p: string): string {
  return posix.isAbsolute(p) ? p : posix.join(fs.cwd, p);
}

async function containerStat(fs: ContainerFs, ref: string, given: string): Promise<{ kind: DestKind; resolved: string }> {
  const r = await runScript(fs, 'stat', [containerPath(fs, given)]);
  if (r.code === 3) throw notFound(given, `container ${ref}`, 'no such file or directory');
  if (r.code === 4) throw notFound(given, `container ${ref}`, 'not a directory');
  if (r.code === 5) throw notFound(given, `container ${ref}`, 'too many levels of symbolic links');
  if (r.code !== 0) throw new StoreError(`cannot look up "${given}" in container ${ref}: ${reasons(r.stderr).join('; ') || `exit ${r.code}`}`, 'PKIT_CP');
  const [kind, resolved] = r.stdout.toString('utf8').split('\0');
  return { kind: kind as DestKind, resolved: resolved || '/' };
}

function hostStat(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

async function sourceInfo(ep: Endpoint, side: Side): Promise<SourceInfo & { path?: string }> {
  if (ep.kind === 'stdio') return { stdin: true, isDir: false, contents: false, topName: '', name: '' };
  const contents = isContentsPath(ep.path);
  if (ep.kind === 'host') {
    const st = hostStat(ep.path);
    if (!st) throw notFound(ep.path, 'the host', 'no such file or directory');
    if (contents && !st.isDirectory()) throw notFound(ep.path, 'the host', 'not a directory');
    // Symlinks are followed; the copy keeps the name it was given (podman).
    const real = realpathSync(ep.path);
    const all = contents || real === '/';
    const name = posix.basename(posix.resolve(ep.path));
    return { stdin: false, isDir: st.isDirectory(), contents: all, topName: all ? '.' : posix.basename(real), name, path: real };
  }
  const fs = side.fs!;
  const st = await containerStat(fs, ep.ref, ep.path);
  if (st.kind === 'missing') throw notFound(ep.path, `container ${ep.ref}`, 'no such file or directory');
  if (contents && st.kind !== 'dir') throw notFound(ep.path, `container ${ep.ref}`, 'not a directory');
  // The container's root has no name: its contents are copied.
  const all = contents || st.resolved === '/';
  const base = posix.basename(st.resolved);
  return { stdin: false, isDir: st.kind === 'dir', contents: all, topName: all ? '.' : base, name: base, path: st.resolved };
}

async function destState(ep: Endpoint, side: Side): Promise<DestState | undefined> {
  if (ep.kind === 'stdio') return undefined;
  if (ep.kind === 'host') {
    const where = 'the host';
    const mk = (reason: string) => notFound(ep.path, where, reason);
    const st = hostStat(ep.path);
    // "FILE/": stat says ENOTDIR, which is not a missing destination.
    if (!st && ep.path.endsWith('/') && hostStat(ep.path.replace(/\/+$/, ''))) throw mk('not a directory');
    if (st) return { kind: st.isDirectory() ? 'dir' : 'file', resolved: realpathSync(ep.path), given: ep.path, notFound: mk };
    const abs = posix.resolve(ep.path);
    const parent = hostStat(posix.dirname(abs));
    if (!parent?.isDirectory()) throw mk('no such file or directory');
    return { kind: 'missing', resolved: posix.join(realpathSync(posix.dirname(abs)), posix.basename(abs)), given: ep.path, notFound: mk };
  }
  const st = await containerStat(side.fs!, ep.ref, ep.path);
  return { ...st, given: ep.path, notFound: (reason) => notFound(ep.path, `container ${ep.ref}`, reason) };
}

/** Parent directory and name of the tar's top entry. */
function splitSource(info: SourceInfo & { path?: string }): { dir: string; member: string } {
  const p = info.path!;
  return info.contents ? { dir: p, member: '.' } : { dir: posix.dirname(p), member: posix.basename(p) };
}

export async function cpAction(req: CpRequest): Promise<void> {
  const src = parseEndpoint(req.src);
  const dest = parseEndpoint(req.dest);
  if (src.kind === 'stdio' && dest.kind === 'stdio') throw new StoreError('SRC and DEST cannot both be "-": one of them must be CONTAINER:PATH', 'PKIT_BAD_INPUT');
  if (src.kind !== 'container' && dest.kind !== 'container') {
    throw new StoreError(`copying between host paths is not supported: one of SRC and DEST must be CONTAINER:PATH (got "${req.src}" and "${req.dest}")`, 'PKIT_BAD_INPUT');
  }
  const store = Store.open({ root: req.root });
  try {
    const e = engine(store);
    const srcSide = await side(e, src);
    const destSide = await side(e, dest);
    const info = await sourceInfo(src, srcSide);
    const target = await destState(dest, destSide);
    const plan = target ? planExtract(info, target) : undefined;
    await copy(req, src, dest, info, plan, srcSide, destSide);
  } finally {
    store.close();
  }
}

async function side(e: Engine, ep: Endpoint): Promise<Side> {
  if (ep.kind !== 'container') return { label: ep.kind === 'stdio' ? '-' : ep.path };
  const rec = await findContainer(e, ep.ref);
  return { label: `${ep.ref}:${ep.path}`, fs: containerFs(e, rec) };
}

/** The owner the source's tar gives its entries (undefined: the files' own). */
function producerOwner(req: CpRequest, src: Endpoint, dest: Endpoint, destSide: Side): { uid: number; gid: number } | undefined {
  if (dest.kind === 'stdio') return req.archive ? { uid: 0, gid: 0 } : undefined;
  if (dest.kind === 'host') return undefined;
  const fs = destSide.fs!;
  if (req.archive) return fs.user;
  if (src.kind !== 'host') return undefined;
  // The user's own files as the container sees the user (root with the default mapping).
  return { uid: toContainerId(fs.uidMappings, process.getuid!()) ?? 0, gid: toContainerId(fs.gidMappings, process.getgid!()) ?? 0 };
}

async function copy(req: CpRequest, src: Endpoint, dest: Endpoint, info: SourceInfo & { path?: string }, plan: ExtractPlan | undefined, srcSide: Side, destSide: Side): Promise<void> {
  const owner = producerOwner(req, src, dest, destSide);
  const transform = plan?.rename ? renameTransform(plan.rename.from, plan.rename.to) : '';
  // A tar from stdin made to belong to a container user other than root (see tar-owner.ts).
  const fs = destSide.fs;
  const rewrite = src.kind === 'stdio' && req.archive && fs && (fs.user.uid !== 0 || fs.user.gid !== 0) ? new TarOwnerRewriter(fs.user.uid, fs.user.gid) : undefined;

  // The consumer first, so that the producer has somewhere to write.
  let consumer: ScriptProcess | undefined;
  const consumerIn = src.kind === 'stdio' && !rewrite ? 'inherit' : 'pipe';
  if (dest.kind === 'host') {
    const args = ['-C', plan!.dir, '-xf', '-', '--no-same-owner', '-p', '--no-overwrite-dir', ...(transform ? [`--transform=${transform}`] : [])];
    consumer = spawnTar(args, [consumerIn, 'ignore', 'pipe']);
  } else if (dest.kind === 'container') {
    const sameOwner = src.kind !== 'stdio' || !req.archive || rewrite !== undefined;
    consumer = fs!.run('put', [plan!.dir, transform, sameOwner ? '1' : '0'], [consumerIn, 'ignore', 'pipe']);
  }
  let producer: ScriptProcess | undefined;
  const producerOut = dest.kind === 'stdio' ? 'inherit' : 'pipe';
  if (src.kind === 'host') {
    const { dir, member } = splitSource(info);
    const own = owner ? [`--owner=:${owner.uid}`, `--group=:${owner.gid}`] : [];
    producer = spawnTar(['-C', dir, '-cf', '-', '--numeric-owner', '--no-unquote', ...own, '--', member], ['ignore', producerOut, 'pipe']);
  } else if (src.kind === 'container') {
    const args = [info.path!, info.contents ? '1' : '0', dest.kind === 'stdio' ? '1' : '0', owner ? String(owner.uid) : '', owner ? String(owner.gid) : ''];
    producer = srcSide.fs!.run('get', args, ['ignore', producerOut, 'pipe']);
  }
  const consumerErr = consumer ? collectStderr(consumer.child) : () => '';
  const producerErr = producer ? collectStderr(producer.child) : () => '';

  // Bytes move between the two without Node where it can: stdio is handed to tar directly.
  const moved: Promise<unknown>[] = [];
  const sink = consumer?.child.stdin;
  if (sink) {
    sink.on('error', () => {}); // EPIPE: the consumer's exit code and stderr tell why
    const from = producer?.child.stdout ?? process.stdin;
    moved.push((rewrite ? pipeline(from, rewrite, sink) : pipeline(from, sink)).catch((err: unknown) => err));
  }
  const [producerCode, consumerCode, movedErr] = await Promise.all([producer?.exitCode ?? 0, consumer?.exitCode ?? 0, ...moved]);

  const failures: string[] = [];
  if (consumerCode !== 0) failures.push(...(reasons(consumerErr()).length ? reasons(consumerErr()) : [`exit ${consumerCode}`]));
  // tar's 1 on create: a file changed while it was read; the copy is made (as tar itself says).
  // Any other 1 (nsenter's failures, say) is a failure.
  const changed = reasons(producerErr());
  if (producerCode === 1 && changed.length && changed.every((l) => /changed as we read it|removed before we read it/.test(l))) {
    for (const l of changed) process.stderr.write(`WARN: ${l}\n`);
  } else if (producerCode !== 0 && !(consumerCode !== 0 && producerCode === 141)) failures.push(...(reasons(producerErr()).length ? reasons(producerErr()) : [`exit ${producerCode}`]));
  if (!failures.length && movedErr instanceof StoreError) failures.push(movedErr.message);
  if (failures.length) {
    throw new StoreError(`copying ${srcSide.label} to ${destSide.label} failed: ${failures.slice(0, 3).join('; ')}`, 'PKIT_CP');
  }
}
