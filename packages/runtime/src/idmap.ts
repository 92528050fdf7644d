// User namespace id mappings: /etc/subuid and /etc/subgid, and the mappings podman uses.
//
// Rootless default (as podman): container 0 -> the user's own id, container 1.. -> the
// subordinate ranges in file order. `keep-id`: the user keeps its id inside the container
// (container 0..uid-1 come from the ranges, uid -> uid, the rest of the ranges after).
// Root: no user namespace at all. A user with no range gets the single-id mapping and a
// one-line warning (only container root exists; other owners in a layer cannot be mapped).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { IDMapping } from './oci-spec.ts';


/** A subordinate range from /etc/subuid or /etc/subgid. */
export interface SubidRange {
  start: number;
  count: number;
}

export interface SubidEntry extends SubidRange {
  /** The first field as written: a user name or a numeric uid. */
  owner: string;
}

export type UsernsMode =
  | { mode: 'auto' }
  | { mode: 'keep-id'; uid?: number; gid?: number };

export interface IDMappings {
  /** false when running as root on the host: no user namespace, ids are the host's. */
  userns: boolean;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  /** How the mapping was made; 'single' means no subordinate range was found. */
  kind: 'root' | 'subid' | 'single' | 'keep-id';
  /** With keep-id: the ids the process runs as inside (the user's, unless overridden). */
  keepId?: { uid: number; gid: number };
  /** How many container ids are mapped, for uid and gid. */
  uidCount: number;
  gidCount: number;
  warnings: string[];
}

export interface IdmapHost {
  uid: number;
  gid: number;
  /** The user's name, matched against the first field of subuid/subgid lines. */
  userName: string;
  subuidPath: string;
  subgidPath: string;
  /** Reads a file; returns undefined when it does not exist. Injectable for tests. */
  readFile?: (path: string) => string | undefined;
}

/**
 * Parses /etc/subuid or /etc/subgid text: `owner:start:count` per line; `#` comments and
 * blank lines are skipped, malformed lines ignored (as shadow-utils does).
 */
export function parseSubidFile(text: string): SubidEntry[] {
  const out: SubidEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(':');
    if (parts.length !== 3) continue;
    const [owner, s, c] = parts as [string, string, string];
    if (owner === '' || !/^\d+$/.test(s) || !/^\d+$/.test(c)) continue;
    const start = Number(s);
    const count = Number(c);
    if (count === 0 || start + count > 0x1_0000_0000) continue;
    out.push({ owner, start, count });
  }
  return out;
}

/** The ranges of one user: lines naming the user, or its numeric uid, in file order. */
export function subidRangesFor(entries: SubidEntry[], userName: string, uid: number): SubidRange[] {
  const uidStr = String(uid);
  return entries
    .filter((e) => e.owner === userName || e.owner === uidStr)
    .map(({ start, count }) => ({ start, count }));
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The calling process's identity and the standard file locations ($PKIT_SUBUID_FILE and
 * $PKIT_SUBGID_FILE replace /etc/subuid and /etc/subgid, e.g. to run without ranges).
 */
export function currentIdmapHost(overrides: Partial<IdmapHost> = {}): IdmapHost {
  const uid = overrides.uid ?? process.getuid!();
  let userName = overrides.userName;
  if (userName === undefined) {
    try {
      userName = userInfo().username;
    } catch {
      userName = String(uid); // no passwd entry: numeric lines can still match
    }
  }
  return {
    uid,
    gid: overrides.gid ?? process.getgid!(),
    userName,
    subuidPath: overrides.subuidPath ?? (process.env.PKIT_SUBUID_FILE || '/etc/subuid'),
    subgidPath: overrides.subgidPath ?? (process.env.PKIT_SUBGID_FILE || '/etc/subgid'),
    ...(overrides.readFile ? { readFile: overrides.readFile } : {}),
  };
}

/**
 * Maps container ids [containerStart, ...) onto `ranges` (in order), up to `limit` ids.
 * Consecutive pieces of one range stay one mapping line.
 */
function mapOnto(ranges: SubidRange[], containerStart: number, skip: number, limit: number): { maps: IDMapping[]; used: number } {
  const maps: IDMapping[] = [];
  let toSkip = skip;
  let cid = containerStart;
  let used = 0;
  for (const r of ranges) {
    if (used >= limit) break;
    if (toSkip >= r.count) {
      toSkip -= r.count;
      continue;
    }
    const hostID = r.start + toSkip;
    const size = Math.min(r.count - toSkip, limit - used);
    toSkip = 0;
    maps.push({ containerID: cid, hostID, size });
    cid += size;
    used += size;
  }
  return { maps, used };
}

function total(ranges: SubidRange[]): number {
  return ranges.reduce((n, r) => n + r.count, 0);
}

/** Podman's rootless default: 0 -> own id, 1.. -> the ranges. */
export function rootlessMapping(ownID: number, ranges: SubidRange[]): IDMapping[] {
  const { maps } = mapOnto(ranges, 1, 0, Infinity);
  return [{ containerID: 0, hostID: ownID, size: 1 }, ...maps];
}

/**
 * keep-id: container ids 0..inside-1 from the ranges, `inside` -> own id, the rest of the
 * ranges after it. When the ranges hold fewer than `inside` ids, the low ids they cannot
 * cover stay unmapped.
 */
export function keepIdMapping(ownID: number, inside: number, ranges: SubidRange[]): IDMapping[] {
  const low = mapOnto(ranges, 0, 0, inside);
  const rest = mapOnto(ranges, inside + 1, low.used, Infinity);
  return [...low.maps, { containerID: inside, hostID: ownID, size: 1 }, ...rest.maps];
}

/** Number of container ids covered by a mapping (ids are contiguous from 0 in the usual case). */
export function mappedCount(maps: IDMapping[]): number {
  return maps.reduce((n, m) => n + m.size, 0);
}

/** Whether container id `id` is mapped. */
export function isMapped(maps: IDMapping[], id: number): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * The mappings for a container started by the host user described by `host`.
 * uid 0 on the host: no user namespace (root needs no mapping).
 */
export function computeIDMappings(host: IdmapHost, userns: UsernsMode = { mode: 'auto' }): IDMappings {
  if (host.uid === 0) {
    return { userns: false, uidMappings: [], gidMappings: [], kind: 'root', uidCount: 0, gidCount: 0, warnings: [] };
  }
  const read = host.readFile ?? readOptional;
  const subuid = subidRangesFor(parseSubidFile(read(host.subuidPath) ?? ''), host.userName, host.uid);
  const subgid = subidRangesFor(parseSubidFile(read(host.subgidPath) ?? ''), host.userName, host.uid);
  const warnings: string[] = [];
  if (subuid.length === 0 || subgid.length === 0) {
    const missing = [subuid.length === 0 ? host.subuidPath : '', subgid.length === 0 ? host.subgidPath : '']
      .filter(Boolean)
      .join(' and ');
    warnings.push(
      `warning: no subordinate ids for ${host.userName} in ${missing}: using a single-id mapping (only container root is mapped); add a range such as "${host.userName}:100000:65536"`,
    );
  }
  const uidRanges = subuid.length && subgid.length ? subuid : [];
  const gidRanges = subuid.length && subgid.length ? subgid : [];

  if (userns.mode === 'keep-id') {
    const inUid = userns.uid ?? host.uid;
    const inGid = userns.gid ?? host.gid;
    const uidMappings = keepIdMapping(host.uid, inUid, uidRanges);
    const gidMappings = keepIdMapping(host.gid, inGid, gidRanges);
    return {
      userns: true,
      uidMappings,
      gidMappings,
      kind: 'keep-id',
      keepId: { uid: inUid, gid: inGid },
      uidCount: mappedCount(uidMappings),
      gidCount: mappedCount(gidMappings),
      warnings,
    };
  }
  const uidMappings = rootlessMapping(host.uid, uidRanges);
  const gidMappings = rootlessMapping(host.gid, gidRanges);
  return {
    userns: true,
    uidMappings,
    gidMappings,
    kind: uidRanges.length ? 'subid' : 'single',
    uidCount: 1 + total(uidRanges),
    gidCount: 1 + total(gidRanges),
    warnings,
  };
}

/** Parses `--userns` values: "" (the default mapping), "keep-id", "keep-id:uid=N,gid=N". */
export function parseUsernsMode(value: string | undefined): UsernsMode {
  if (value === undefined || value === '') return { mode: 'auto' };
  if (value === 'keep-id') return { mode: 'keep-id' };
  if (value.startsWith('keep-id:')) {
    const out: { mode: 'keep-id'; uid?: number; gid?: number } = { mode: 'keep-id' };
    for (const opt of value.slice('keep-id:'.length).split(',')) {
      const m = /^(uid|gid)=(\d+)$/.exec(opt);
      if (!m) throw new Error(`--userns ${value}: unknown keep-id option "${opt}" (expected uid=N or gid=N)`);
      out[m[1] as 'uid' | 'gid'] = Number(m[2]);
    }
    return out;
  }
  throw new Error(`--userns ${value}: unsupported mode (expected keep-id or keep-id:uid=N,gid=N)`);
}
