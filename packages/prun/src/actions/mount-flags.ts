// `-v/--volume`, `--mount` and `--tmpfs` of `prun run`/`create`, parsed as podman 4.3 parses
// them (pkg/specgen volumes, containers/common parse), into the runtime's MountRequests. Every
// check happens in parseMountFlags, before anything is created; named and anonymous volumes
// become real directories only through the store (volumesToReserve -> store.volumes.reserve ->
// toMountRequests).
//
//   -v /host/dir:/ctr[:opts]   bind (a source starting with "/" or "." is a path, made absolute)
//   -v NAME:/ctr[:opts]        named volume, created on first use
//   -v /ctr                    anonymous volume (a fresh 64-hex name, marked anonymous)
//   --mount type=bind|volume|tmpfs,src=...,dst=...,ro,...
//   --tmpfs /ctr[:size=64m,mode=1777,...]
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { StoreError, badInput as bad } from '@pkit/storage/errors';
import { VOLUME_NAME_RE, isVolumeName, type NewVolume, type Volume } from '@pkit/storage/volume-store';
import type { BindMount, MountRequest, TmpfsMount } from '@pkit/runtime/spec';

/** A named or anonymous volume to mount: bound to its data dir once the store has it. */
export interface VolumeMountRequest {
  type: 'volume';
  name: string;
  anonymous: boolean;
  destination: string;
  readOnly?: boolean;
  options?: string[];
  /** Copy the image's files at the destination into a new volume (podman's default; `nocopy` turns it off). */
  copyUp: boolean;
}

export type PlannedMount = BindMount | TmpfsMount | VolumeMountRequest;

export interface MountFlags {
  volumes?: string[];
  mounts?: string[];
  tmpfs?: string[];
}

export interface MountPlan {
  mounts: PlannedMount[];
  /** One line each, for stderr: options accepted but not applied. */
  warnings: string[];
}


/** A container path: absolute, cleaned ("/x/" -> "/x"). */
function containerPath(p: string): string {
  if (p === '') throw new Error('container directory cannot be empty');
  if (!p.startsWith('/')) throw new Error(`invalid container path "${p}", must be an absolute path`);
  return posix.normalize(p).replace(/(.)\/+$/, '$1');
}

/** A bind source made absolute; it must exist (podman's statfs error). */
function bindSource(src: string, cwd: string): string {
  const abs = resolve(cwd, src);
  try {
    statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a directory' : (err as Error).message;
    throw new StoreError(`statfs ${abs}: ${why}`, 'PKIT_BAD_INPUT');
  }
  return abs;
}

function volumeNameOf(name: string): string {
  if (!isVolumeName(name)) throw new Error(`creating named volume "${name}": names must match ${VOLUME_NAME_RE.source.slice(1, -1)}`);
  return name;
}

/** Mount options sorted into what MountRequest carries, and what is noted or refused. */
interface Sorted {
  readOnly?: boolean;
  options: string[];
  copyUp: boolean;
  warnings: string[];
}

const PROPAGATION = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];

/** `-v` options (containers/common ValidateVolumeOpts): one of each pair, known words only. */
function volumeOptions(list: string[]): Sorted {
  const out: Sorted = { options: [], copyUp: true, warnings: [] };
  const seen = new Map<string, number>();
  const once = (group: string, message: string) => {
    const n = (seen.get(group) ?? 0) + 1;
    seen.set(group, n);
    if (n > 1) throw new Error(`invalid options "${list.join(', ')}", can only specify 1 ${message} option`);
  };
  for (const opt of list) {
    if (opt.startsWith('upperdir=') || opt.startsWith('workdir=')) throw new Error(`overlay volume option "${opt}" is not supported`);
    switch (opt) {
      case 'rw':
      case 'ro':
        once('rwro', "'rw' or 'ro'");
        out.readOnly = opt === 'ro';
        break;
      case 'noexec':
      case 'exec':
        once('exec', "'noexec' or 'exec'");
        out.options.push(opt);
        break;
      case 'nodev':
      case 'dev':
        once('dev', "'nodev' or 'dev'");
        out.options.push(opt);
        break;
      case 'nosuid':
      case 'suid':
        once('suid', "'nosuid' or 'suid'");
        out.options.push(opt);
        break;
      case 'bind':
      case 'rbind':
        // The spec always binds recursively (spec.ts).
        once('bind', "'[r]bind'");
        break;
      case 'z':
      case 'Z':
        // SELinux relabelling: nothing to do without SELinux labels.
        once('label', "'z', 'Z', or 'O'");
        break;
      case 'O':
        once('label', "'z', 'Z', or 'O'");
        throw new Error('overlay volumes (:O) are not supported');
      case 'U':
        once('U', "'U'");
        out.warnings.push(`warning: volume option "U" (chown the source to the container user) is not supported and was ignored`);
        break;
      case 'idmap':
        out.warnings.push(`warning: volume option "idmap" is not supported and was ignored`);
        break;
      case 'copy':
      case 'nocopy':
        once('copy', "'copy' or 'nocopy'");
        out.copyUp = opt === 'copy';
        break;
      default:
        if (PROPAGATION.includes(opt)) {
          once('propagation', "'[r]shared', '[r]private', '[r]slave' or '[r]unbindable'");
          out.options.push(opt);
          break;
        }
        throw new Error(`invalid option type "${opt}"`);
    }
  }
  return out;
}

/** podman's defaults for a volume mount: nosuid and nodev unless suid/dev was asked for. */
function volumeDefaults(options: string[]): string[] {
  const out = [...options];
  if (!out.includes('suid') && !out.includes('nosuid')) out.push('nosuid');
  if (!out.includes('dev') && !out.includes('nodev')) out.push('nodev');
  return out;
}

function parseVolume(spec: string, cwd: string, warnings: string[]): PlannedMount {
  const parts = spec.split(':');
  if (parts.length > 3) throw new Error('incorrect volume format, should be [host-dir:]ctr-dir[:option]');
  if (parts.length === 1) {
    const destination = containerPath(parts[0]!);
    return { type: 'volume', name: randomBytes(32).toString('hex'), anonymous: true, destination, options: volumeDefaults([]), copyUp: true };
  }
  const [src, dst, opts] = parts as [string, string, string | undefined];
  const sorted = volumeOptions(opts === undefined ? [] : opts.split(','));
  if (src === '') throw new Error('host directory cannot be empty');
  const destination = containerPath(dst);
  warnings.push(...sorted.warnings);
  const ro = sorted.readOnly ? { readOnly: true } : {};
  if (src.startsWith('/') || src.startsWith('.')) {
    return { type: 'bind', source: bindSource(src, cwd), destination, ...ro, ...(sorted.options.length ? { options: sorted.options } : {}) };
  }
  return { type: 'volume', name: volumeNameOf(src), anonymous: false, destination, ...ro, options: volumeDefaults(sorted.options), copyUp: sorted.copyUp };
}

const MOUNT_FORMAT = 'incorrect mount format: should be --mount type=<bind|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]';

/** `--mount type=...,k=v,...` (podman 4.3's keys; unknown keys refused by name). */
function parseMount(spec: string, cwd: string, warnings: string[]): PlannedMount {
  const items = spec.split(',');
  const typeItem = items.find((i) => i.startsWith('type='));
  if (!typeItem) throw new Error(MOUNT_FORMAT);
  const type = typeItem.slice('type='.length);
  if (!['bind', 'volume', 'tmpfs'].includes(type)) {
    if (['devpts', 'image', 'glob', 'ramfs'].includes(type)) throw new Error(`mount type "${type}" is not supported: use bind, volume or tmpfs`);
    throw new Error(`invalid filesystem type "${type}"`);
  }
  let src: string | undefined;
  let dst: string | undefined;
  let readOnly: boolean | undefined;
  let copyUp = true;
  let tmpfsSize: string | undefined;
  let tmpfsMode: string | undefined;
  const options: string[] = [];
  for (const item of items) {
    if (item === typeItem) continue;
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? undefined : item.slice(eq + 1);
    switch (key) {
      case 'src':
      case 'source':
        if (type === 'tmpfs') throw new Error('source is not supported with tmpfs mounts');
        src = value ?? '';
        break;
      case 'dst':
      case 'destination':
      case 'target':
        dst = value ?? '';
        break;
      case 'ro':
      case 'readonly':
      case 'rw': {
        if (readOnly !== undefined) throw new Error("cannot pass 'readonly', 'ro', or 'rw' options more than once");
        if (value !== undefined && value !== 'true' && value !== 'false') {
          throw new Error(`'readonly', 'ro', or 'rw' must be set to true or false, instead received "${value}"`);
        }
        const on = value !== 'false';
        readOnly = key === 'rw' ? !on : on;
        break;
      }
      case 'exec':
      case 'noexec':
      case 'dev':
      case 'nodev':
      case 'suid':
      case 'nosuid':
        options.push(key);
        break;
      case 'bind-propagation':
        if (type !== 'bind') throw new Error(`${key}: invalid mount option`);
        if (!value || !PROPAGATION.includes(value)) throw new Error(`invalid bind-propagation value "${value ?? ''}"`);
        options.push(value);
        break;
      case 'bind-nonrecursive':
        if (type !== 'bind') throw new Error(`${key}: invalid mount option`);
        warnings.push('warning: bind-nonrecursive is not supported: the bind mount is recursive');
        break;
      case 'relabel':
      case 'z':
      case 'Z':
      case 'consistency':
        break; // SELinux relabelling and macOS consistency: nothing to do here
      case 'U':
      case 'chown':
        warnings.push(`warning: mount option "${key}" (chown to the container user) is not supported and was ignored`);
        break;
      case 'idmap':
        warnings.push('warning: mount option "idmap" is not supported and was ignored');
        break;
      case 'tmpfs-size':
        if (type !== 'tmpfs') throw new Error(`${key}: invalid mount option`);
        tmpfsSize = value ?? '';
        break;
      case 'tmpfs-mode':
        if (type !== 'tmpfs') throw new Error(`${key}: invalid mount option`);
        tmpfsMode = value ?? '';
        break;
      case 'tmpcopyup':
      case 'notmpcopyup':
        if (type !== 'tmpfs') throw new Error(`${key}: invalid mount option`);
        if (key === 'tmpcopyup') options.push(key);
        break;
      case 'nocopy':
      case 'volume-nocopy':
        if (type !== 'volume') throw new Error(`${key}: invalid mount option`);
        copyUp = false;
        break;
      case 'volume-label':
      case 'volume-driver':
      case 'volume-opt':
        throw new Error(`the --${key} option is not presently implemented`);
      default:
        throw new Error(`${key}: invalid mount option`);
    }
  }
  if (dst === undefined) throw new Error('must set volume destination');
  const destination = containerPath(dst);
  const ro = readOnly ? { readOnly: true } : {};
  if (type === 'tmpfs') return tmpfsRequest(destination, { size: tmpfsSize, mode: tmpfsMode, readOnly, options });
  if (type === 'bind') {
    // podman takes the destination as source when src= is missing.
    return { type: 'bind', source: bindSource(src ?? dst, cwd), destination, ...ro, ...(options.length ? { options } : {}) };
  }
  if (src === undefined || src === '') {
    return { type: 'volume', name: randomBytes(32).toString('hex'), anonymous: true, destination, ...ro, options: volumeDefaults(options), copyUp };
  }
  return { type: 'volume', name: volumeNameOf(src), anonymous: false, destination, ...ro, options: volumeDefaults(options), copyUp };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function tmpfsRequest(destination: string, o: { size?: string | undefined; mode?: string | undefined; readOnly?: boolean | undefined; options: string[] }): TmpfsMount {
  const options = [...o.options];
  const req: TmpfsMount = { type: 'tmpfs', destination };
  if (o.size !== undefined) {
    const m = /^(\d+)([kmgKMG]?)$/.exec(o.size);
    if (m) req.size = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
    else if (/^\d+%$/.test(o.size)) options.push(`size=${o.size}`);
    else throw new Error(`invalid tmpfs size "${o.size}": use bytes with an optional k, m or g suffix, or a percentage`);
  }
  if (o.mode !== undefined) {
    if (!/^[0-7]{3,4}$/.test(o.mode)) throw new Error(`invalid tmpfs mode "${o.mode}": use 3 or 4 octal digits, such as 1777`);
    req.mode = o.mode;
  }
  if (o.readOnly) req.readOnly = true;
  if (options.length) req.options = options;
  return req;
}

/** `--tmpfs /path[:opt,...]` (podman 4.3's option list). */
function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(':');
  const destination = containerPath(colon === -1 ? spec : spec.slice(0, colon));
  if (colon === -1) return { type: 'tmpfs', destination };
  let size: string | undefined;
  let mode: string | undefined;
  let readOnly: boolean | undefined;
  const options: string[] = [];
  const pairs: Record<string, string> = { exec: 'noexec', noexec: 'exec', dev: 'nodev', nodev: 'dev', suid: 'nosuid', nosuid: 'suid', ro: 'rw', rw: 'ro', tmpcopyup: 'notmpcopyup', notmpcopyup: 'tmpcopyup' };
  const given = new Set<string>();
  for (const opt of spec.slice(colon + 1).split(',')) {
    const key = opt.includes('=') ? opt.slice(0, opt.indexOf('=')) : opt;
    if (given.has(key) || (pairs[key] !== undefined && given.has(pairs[key]))) {
      const [a, b] = [key, pairs[key] ?? key].sort();
      throw new Error(`only one of '${b}' and '${a}' can be used: duplicate mount option passed`);
    }
    given.add(key);
    if (key === 'size') size = opt.slice(5);
    else if (key === 'mode') mode = opt.slice(5);
    else if (key === 'ro' || key === 'rw') readOnly = key === 'ro';
    else if (key === 'notmpcopyup') continue;
    else if (['exec', 'noexec', 'dev', 'nodev', 'suid', 'nosuid', 'tmpcopyup', ...PROPAGATION].includes(opt)) options.push(opt);
    else throw new Error(`unknown mount option "${opt}": invalid mount option`);
  }
  return tmpfsRequest(destination, { size, mode, readOnly, options });
}

/**
 * Parses and checks every mount flag; bind sources are made absolute against `cwd` and must
 * exist. Throws one StoreError naming the flag and its value. Anonymous volumes get their
 * random name here.
 */
export function parseMountFlags(flags: MountFlags, opts: { cwd?: string } = {}): MountPlan {
  const cwd = opts.cwd ?? process.cwd();
  const warnings: string[] = [];
  const mounts: PlannedMount[] = [];
  const each = (values: string[] | undefined, what: string, parse: (spec: string) => PlannedMount) => {
    // The same spec twice is one mount (podman).
    for (const spec of new Set(values ?? [])) {
      try {
        mounts.push(parse(spec));
      } catch (err) {
        if (err instanceof StoreError) throw err;
        throw bad(`invalid ${what} spec "${spec}": ${(err as Error).message}`);
      }
    }
  };
  each(flags.volumes, 'volume', (s) => parseVolume(s, cwd, warnings));
  each(flags.mounts, 'mount', (s) => parseMount(s, cwd, warnings));
  each(flags.tmpfs, 'tmpfs', parseTmpfs);
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.destination)) throw bad(`${m.destination}: duplicate mount destination`);
    seen.add(m.destination);
  }
  return { mounts, warnings };
}

/** What store.volumes.reserve takes for the plan's volumes (anonymous ones marked). */
export function volumesToReserve(plan: MountPlan): (NewVolume & { name: string })[] {
  return plan.mounts.flatMap((m) => (m.type === 'volume' ? [{ name: m.name, ...(m.anonymous ? { anonymous: true } : {}) }] : []));
}

/** The plan as the spec's MountRequests: each volume bound from its data dir. */
export function toMountRequests(plan: MountPlan, volumes: readonly Volume[]): MountRequest[] {
  return plan.mounts.map((m) => {
    if (m.type !== 'volume') return m;
    const vol = volumes.find((v) => v.name === m.name);
    if (!vol) throw new StoreError(`volume ${m.name} was not reserved: pass every name of volumesToReserve(plan) to store.volumes.reserve`, 'PKIT_BUG');
    const bind: BindMount = { type: 'bind', source: vol.mountpoint, destination: m.destination };
    if (m.readOnly) bind.readOnly = true;
    if (m.options?.length) bind.options = [...m.options];
    return bind;
  });
}
