// One RUN with what a Containerfile RUN may ask beyond its command: `--mount` (bind, cache,
// tmpfs, secret), `--network` and a `#!` heredoc script. runStep() turns each into a mount of
// pkit-runtime's spec for that command alone (working.ts runIn), and afterwards takes every
// trace of them out of the container's upper dir (mount-stubs.ts), so the committed layer holds
// only what the command wrote outside them.
//
// The mounts (buildkit's RUN --mount, as buildah 1.28 runs them, with the differences noted):
// - bind: `source` (default the root) from the build context, or from `from=` (a stage or an
//   image: the caller's resolveFrom gives its image ID). Read-only unless rw; with rw the
//   command's writes go to a throwaway overlay upper dir (buildah 1.28 writes them into the
//   context itself). An image's directory is an overlay of only the layers that hold it
//   (layer-stack.ts), never a copy; a context source may not leave the context (symlinks
//   included).
// - cache: a directory kept across builds under the cache root (cache-mounts.ts); with `from=`
//   it is that stage's or image's directory instead, its writes thrown away (buildah's `from`
//   uses the stage's files as the cache for that build).
// - tmpfs: a tmpfs of `size` bytes (buildah 1.28 refuses size).
// - secret: the build's --secret ID (secrets.ts), copied into a private file on the runtime
//   dir (mode 0400 or `mode`, owned by uid:gid, default the container's root) and bound
//   read-only at `target` (default /run/secrets/ID); `env=VAR` also, or without a target only,
//   puts it in VAR. A missing secret skips the mount, or fails with required=true.
// - ssh: not supported.
// A `#!` heredoc (runArgv's script) is a file bound read-only at /dev/pipes/NAME (buildkit's
// path) and run by the interpreter its first line names, through the stage's shell, as newer
// buildah does (so it runs from a noexec file system too); buildah 1.28 has no heredocs.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { badInput as bad } from '@pkit/storage/errors';
import { removeTree } from '@pkit/storage/fsutil';
import { findImage } from '@pkit/storage/image-lookup';
import { lookupInLayers } from '@pkit/storage/layers/overlay-lookup';
import type { Store } from '@pkit/storage/store';
import { readContainerSpec } from '@pkit/runtime/bundle';
import type { Mount } from '@pkit/runtime/oci-spec';
import { execInUserNamespace, removeAsUsernsRoot, type UsernsMappings } from '@pkit/runtime/userns';
import type { NetworkMode } from '../containerfile/instructions.ts';
import type { RunMount } from '../containerfile/mounts.ts';
import { openCache } from './cache-mounts.ts';
import { readWorkingConfig } from './config.ts';
import { atInterrupt } from './interrupt.ts';
import { dirStack } from './layer-stack.ts';
import { planStubs, removeStubs, type MountPoint } from './mount-stubs.ts';
import type { BuildSecret } from './secrets.ts';
import { containerLayers, ensureWorkingDir, helper, runIn, type RunInOptions } from './working.ts';

export interface RunStepOptions {
  /** The command (runArgv's argv). */
  argv: string[];
  /** A `#!` heredoc (runArgv's script): bound at its path and run by its interpreter. */
  script?: { path: string; content: string };
  /** KEY=VALUE under the image config's Env (a build's ARG values). */
  env?: string[];
  /** The RUN's --mount values (parsed, variables expanded). */
  mounts?: readonly RunMount[];
  /** RUN --network; default (or undefined): the container's network. */
  network?: NetworkMode;
  /**
   * The build context: bind mounts without from= take their source in it, and may not leave it.
   * Without it (pbuild run without --contextdir) a source is a host path, relative to the
   * current directory, as buildah run's.
   */
  contextDir?: string;
  /** A from= value (stage name or index, or image) to an image ID; default: an image of the store. */
  resolveFrom?: (from: string) => Promise<string> | string;
  /** The build's --secret values by id (parseSecrets). */
  secrets?: ReadonlyMap<string, BuildSecret>;
  /** Where cache mounts live; default <store root>/run-cache. */
  cacheRoot?: string;
  /** `pbuild run`'s own: --user, --workingdir, --env, and -v binds (host directories, read-write) */
  process?: Pick<RunInOptions, 'user' | 'workingDir' | 'setEnv'>;
  volumes?: Mount[];
}


/** `--mount=type=...` as the error names it. */
function named(m: RunMount): string {
  return `--mount=type=${m.type}${m.target !== undefined ? `,target=${m.target}` : ''}`;
}

/** Overlay options cannot quote these (a path holding one cannot be a layer of an overlay). */
function overlayPath(p: string, what: string): string {
  if (/[,:\\]/.test(p)) throw bad(`${what}: the path ${p} contains ",", ":" or "\\", which an overlay mount cannot carry`);
  return p;
}

/** What one RUN's mounts need, and what to undo after it. */
class RunMounts {
  readonly mounts: Mount[] = [];
  readonly points: MountPoint[] = [];
  readonly env: string[] = [];
  readonly releases: Array<() => void> = [];
  private scratchDir: string | undefined;
  private secretsDir: string | undefined;
  private n = 0;
  readonly store: Store;
  readonly rec: ContainerRecord;
  /** The command's working directory: relative targets start there. */
  readonly cwd: string;
  readonly opts: RunStepOptions;
  readonly mappings: UsernsMappings;

  constructor(store: Store, rec: ContainerRecord, cwd: string, opts: RunStepOptions, mappings: UsernsMappings) {
    this.store = store;
    this.rec = rec;
    this.cwd = cwd;
    this.opts = opts;
    this.mappings = mappings;
  }

  /** A private directory in the container's dir (same file system as its upper dir). */
  scratch(name: string): string {
    this.scratchDir ??= mkdtempSync(join(this.store.containers.containerDir(this.rec.id), 'run-mounts-'));
    return join(this.scratchDir, `${this.n++}-${name}`);
  }

  /** A private file on the runtime dir (a tmpfs where there is one): secrets never hit the disk. */
  secretFile(): string {
    if (this.secretsDir === undefined) {
      const base = join(this.store.paths.runRoot, 'pbuild-secrets');
      mkdirSync(base, { recursive: true, mode: 0o700 });
      const dir = mkdtempSync(join(base, `${this.rec.id.slice(0, 12)}-`));
      this.secretsDir = dir;
      // outside the container's dir: an interrupted build must remove it itself
      this.releases.push(atInterrupt(() => rmSync(dir, { recursive: true, force: true })));
    }
    return join(this.secretsDir, randomBytes(8).toString('hex'));
  }

  add(destination: string, mount: Omit<Mount, 'destination'>, file: boolean): void {
    this.mounts.push({ destination, ...mount });
    this.points.push({ path: destination, file });
  }

  async cleanup(): Promise<void> {
    if (this.secretsDir !== undefined) rmSync(this.secretsDir, { recursive: true, force: true });
    for (const r of this.releases.splice(0)) r();
    if (this.scratchDir !== undefined) {
      try {
        removeTree(this.scratchDir);
      } catch {
        // files the command wrote as other users of the container (a rw bind's upper dir)
        await removeAsUsernsRoot([this.scratchDir], { mappings: this.mappings, helper: helper() });
      }
    }
  }
}

const bindOptions = (readonly: boolean) => ['rbind', 'rprivate', readonly ? 'ro' : 'rw'];

/** An empty directory to pair a lone lower dir with: overlay wants two without an upper dir. */
function emptyDir(rm: RunMounts): string {
  const dir = rm.scratch('empty');
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** A directory shown through overlay: read-only, or writable into a throwaway upper dir. */
function overlayOf(rm: RunMounts, lowerTopFirst: string[], readonly: boolean, what: string): Omit<Mount, 'destination'> {
  const lower = lowerTopFirst.map((p) => overlayPath(p, what));
  if (readonly) {
    if (lower.length === 1) lower.push(emptyDir(rm));
    return { type: 'overlay', source: 'overlay', options: [`lowerdir=${lower.join(':')}`, 'userxattr', 'ro'] };
  }
  const base = rm.scratch('overlay');
  mkdirSync(join(base, 'upper'), { recursive: true, mode: 0o755 });
  mkdirSync(join(base, 'work'), { mode: 0o700 });
  return {
    type: 'overlay',
    source: 'overlay',
    options: [`lowerdir=${lower.join(':')}`, `upperdir=${overlayPath(join(base, 'upper'), what)}`, `workdir=${overlayPath(join(base, 'work'), what)}`, 'userxattr'],
  };
}

/** A file bound read-only where it is, or a copy bound writable (its writes thrown away). */
function fileMount(rm: RunMounts, source: string, readonly: boolean): Omit<Mount, 'destination'> {
  if (readonly) return { type: 'bind', source, options: bindOptions(true) };
  const copy = rm.scratch('file');
  copyFileSync(source, copy);
  return { type: 'bind', source: copy, options: bindOptions(false) };
}

/** `source` of a from= mount: a directory or file of that image, resolved inside it. */
async function imageMount(rm: RunMounts, m: RunMount, target: string, readonly: boolean): Promise<void> {
  const from = m.from!;
  const id = await (rm.opts.resolveFrom ?? (async (f: string) => (await findImage(rm.store, f)).id))(from);
  const image = await findImage(rm.store, id);
  const layers = [...image.layers].reverse().map((chain) => rm.store.layers.diffDir(chain));
  const source = posix.resolve('/', m.source ?? '/');
  const what = `${named(m)},from=${from}`;
  if (source !== '/') {
    const entry = await lookupInLayers(layers, source);
    if (!entry) throw bad(`${what}: ${source} does not exist in ${from}`);
    if (!entry.stats.isDirectory()) {
      rm.add(target, fileMount(rm, entry.hostPath, readonly), true);
      return;
    }
    rm.add(target, overlayOf(rm, dirStack(layers, entry.path), readonly, what), false);
    return;
  }
  rm.add(target, overlayOf(rm, layers.length ? dirStack(layers, '/') : [emptyDir(rm)], readonly, what), false);
}

/** `source` in the build context; it may not leave it, through `..` or a symlink. */
function contextSource(rm: RunMounts, m: RunMount): string {
  if (rm.opts.contextDir === undefined) {
    const path = resolve(m.source ?? '.');
    if (!existsSync(path)) throw bad(`${named(m)}: source ${path} does not exist`);
    return path;
  }
  const root = realpathSync(rm.opts.contextDir);
  const rel = posix.resolve('/', m.source ?? '.').slice(1);
  let real: string;
  try {
    real = realpathSync(join(root, rel));
  } catch {
    throw bad(`${named(m)}: source ${m.source ?? '.'} does not exist in the build context ${root}`);
  }
  const r = relative(root, real);
  if (r === '..' || r.startsWith(`..${sep}`)) throw bad(`${named(m)}: source ${m.source} leads out of the build context ${root}`);
  return real;
}

async function bindMount(rm: RunMounts, m: RunMount, target: string): Promise<void> {
  if (m.from !== undefined) return imageMount(rm, m, target, m.readonly);
  const source = contextSource(rm, m);
  if (!statSync(source).isDirectory()) rm.add(target, fileMount(rm, source, m.readonly), true);
  else if (m.readonly) rm.add(target, { type: 'bind', source, options: bindOptions(true) }, false);
  else rm.add(target, overlayOf(rm, [source], false, named(m)), false);
}

async function cacheMount(rm: RunMounts, m: RunMount, target: string): Promise<void> {
  if (m.from !== undefined) return imageMount(rm, m, target, m.readonly);
  const cacheRoot = rm.opts.cacheRoot ?? join(rm.store.paths.root, 'run-cache');
  const cache = await openCache(cacheRoot, m.id ?? target, {
    ...(m.sharing !== undefined ? { sharing: m.sharing } : {}),
    ...(m.mode !== undefined ? { mode: m.mode } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.gid !== undefined ? { gid: m.gid } : {}),
    mappings: rm.mappings,
    helper: helper(),
  });
  rm.releases.push(cache.release);
  rm.add(target, { type: 'bind', source: cache.path, options: bindOptions(m.readonly) }, false);
}

async function secretMount(rm: RunMounts, m: RunMount): Promise<void> {
  const id = m.id ?? m.source ?? posix.basename(m.target!);
  const secret = rm.opts.secrets?.get(id);
  if (!secret) {
    if (m.required) throw bad(`${named(m)}: secret required but no secret with id ${id} found (give it with --secret id=${id},src=FILE)`);
    return;
  }
  const value = (): Buffer => (secret.type === 'env' ? Buffer.from(process.env[secret.source] ?? '') : readFileSync(secret.source));
  if (m.env !== undefined) rm.env.push(`${m.env}=${value().toString('utf8')}`);
  if (m.env !== undefined && m.target === undefined) return;
  const target = posix.resolve(rm.cwd, m.target ?? `/run/secrets/${id}`);
  const file = rm.secretFile();
  if (secret.type === 'file') copyFileSync(secret.source, file);
  else writeFileSync(file, value(), { mode: 0o600 });
  chmodSync(file, m.mode ?? 0o400);
  const uid = m.uid ?? 0;
  const gid = m.gid ?? 0;
  if (uid !== 0 || gid !== 0) {
    const r = await execInUserNamespace(['chown', `${uid}:${gid}`, file], { mappings: rm.mappings, helper: helper() });
    if (r.exitCode !== 0) throw bad(`${named(m)}: cannot give the secret to ${uid}:${gid}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
  rm.add(target, { type: 'bind', source: file, options: bindOptions(true) }, true);
}

async function addMount(rm: RunMounts, m: RunMount): Promise<void> {
  if (m.type === 'secret') return secretMount(rm, m);
  if (m.type === 'ssh') throw bad(`${named(m)}: ssh mounts are not supported by pbuild`);
  if (m.target === undefined || m.target === '') throw bad(`--mount=type=${m.type}: a target is required (target=PATH)`);
  const target = posix.resolve(rm.cwd, m.target);
  if (m.type === 'bind') return bindMount(rm, m, target);
  if (m.type === 'cache') return cacheMount(rm, m, target);
  rm.add(target, { type: 'tmpfs', source: 'tmpfs', options: [m.readonly ? 'ro' : 'rw', ...(m.size !== undefined ? [`size=${m.size}`] : [])] }, false);
}

/** The interpreter a `#!` line names, with its arguments ("" when there is none). */
export function shebang(content: string): string {
  const first = content.split('\n', 1)[0]!;
  return first.startsWith('#!') ? first.slice(2).trim() : '';
}

/** The heredoc script as a file bound at its path; the command runs it with its interpreter. */
function addScript(rm: RunMounts, script: { path: string; content: string }, argv: string[]): string[] {
  const file = rm.scratch('script');
  writeFileSync(file, script.content);
  chmodSync(file, 0o755);
  rm.add(script.path, { type: 'bind', source: file, options: bindOptions(true) }, true);
  const interpreter = shebang(script.content);
  if (interpreter === '' || argv.at(-1) !== script.path) return argv;
  return [...argv.slice(0, -1), `${interpreter} ${script.path}`];
}

/**
 * Runs one RUN in the working container `rec` (see the top of this file); resolves to the
 * command's exit code. Errors in the mounts are StoreErrors (PKIT_BAD_INPUT) thrown before the
 * command starts.
 */
export async function runStep(store: Store, rec: ContainerRecord, opts: RunStepOptions): Promise<number> {
  if (!opts.mounts?.length && !opts.script) {
    return runIn(store, rec, opts.argv, {
      ...opts.process,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.network ? { network: opts.network } : {}),
      ...(opts.volumes?.length ? { mounts: opts.volumes } : {}),
    });
  }
  const wc = await readWorkingConfig(store, rec);
  const cwd = opts.process?.workingDir ?? (wc.config.WorkingDir || '/');
  // WORKDIR's directory is the command's, not a mount point: made before the plan is
  await ensureWorkingDir(store, rec, cwd);
  const spec = readContainerSpec(store, rec.id);
  const hasUserns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user');
  const mappings: UsernsMappings = { userns: hasUserns, uidMappings: spec.linux?.uidMappings ?? [], gidMappings: spec.linux?.gidMappings ?? [] };
  const rm = new RunMounts(store, rec, cwd, opts, mappings);
  try {
    for (const m of opts.mounts ?? []) await addMount(rm, m);
    const argv = opts.script ? addScript(rm, opts.script, opts.argv) : opts.argv;
    // parents before children, else in the given order (as podman sorts a container's mounts)
    const depth = (p: string) => p.split('/').filter(Boolean).length;
    const mounts = rm.mounts.map((mount, i) => ({ mount, i })).sort((a, b) => depth(a.mount.destination) - depth(b.mount.destination) || a.i - b.i).map((x) => x.mount);
    const plan = await planStubs(containerLayers(spec), rm.points);
    try {
      return await runIn(store, rec, argv, {
        ...opts.process,
        ...(opts.env ? { env: opts.env } : {}),
        ...(rm.env.length ? { privateEnv: rm.env } : {}),
        ...(mounts.length || opts.volumes?.length ? { mounts: [...(opts.volumes ?? []), ...mounts] } : {}),
        ...(opts.network ? { network: opts.network } : {}),
      });
    } finally {
      for (const problem of await removeStubs(plan, { mappings, helper: helper() })) process.stderr.write(`WARN: ${problem}\n`);
    }
  } finally {
    await rm.cleanup();
  }
}
