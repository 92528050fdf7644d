// `-u user[:group]` (and the image's own User) resolved as podman 4.3 does (runc's GetExecUser,
// then libpod's supplementary groups), with /etc/passwd and /etc/group read from the container's
// layer stack before anything is mounted (lookupInLayers: whiteouts and opaque dirs respected,
// symlinks followed inside the image only).
//
// - `name` or `uid`: the passwd entry gives uid, gid and home; a number with no entry is used
//   as is (gid 0); an unknown name is an error. The groups listing the user's name add to
//   additionalGids, but only when no group was given (no ":" in the spec).
// - `:group` after it: a group name or number replaces the primary gid.
// - A non-empty spec also puts the primary gid first in additionalGids (podman's spec).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { StoreError } from '@pkit/storage/errors';
import { lookupInLayers } from '@pkit/storage/layers/overlay-lookup';
import { isMapped, type IDMappings } from './idmap.ts';
import type { ProcessUser } from './spec.ts';

/** passwd/group files larger than this are refused rather than read (they are small). */
export const MAX_ID_FILE_BYTES = 16 << 20;
/** runc's range for ids. */
const MAX_ID = 2_147_483_647;

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  /** For RunOptions.user. */
  user: ProcessUser;
  /** The passwd entry's home directory (for HOME), when the user has an entry. */
  home?: string;
  /** One line each, for the caller to print (supplementary gids outside the user namespace). */
  warnings: string[];
}

export interface ResolveUserOptions {
  /** The container's mappings: supplementary gids outside them are skipped with a warning. */
  idmap?: Pick<IDMappings, 'userns' | 'gidMappings'>;
}

/** Go's strconv.Atoi as runc uses it: an optional sign and digits. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** A field that runc parses as a number: 0 when it is not one. */
const numField = (s: string | undefined) => atoi(s ?? '') ?? 0;

/** Lines of a small text file, streamed; a file over MAX_ID_FILE_BYTES is an error. */
async function* fileLines(path: string, size: number): AsyncGenerator<string> {
  if (size > MAX_ID_FILE_BYTES) {
    throw new StoreError(`${path} is ${size} bytes, more than a passwd or group file can be (${MAX_ID_FILE_BYTES})`, 'PKIT_BAD_IMAGE');
  }
  const rl = createInterface({ input: createReadStream(path, { end: MAX_ID_FILE_BYTES }), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

function usable(line: string): string | undefined {
  const t = line.trim();
  return t === '' || t.startsWith('#') ? undefined : t;
}

export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const t = usable(line);
  if (t === undefined) return undefined;
  const f = t.split(':');
  return { name: f[0]!, uid: numField(f[2]), gid: numField(f[3]), home: f[5] ?? '' };
}

export function parseGroupLine(line: string): GroupEntry | undefined {
  const t = usable(line);
  if (t === undefined) return undefined;
  const f = t.split(':');
  const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean);
  return { name: f[0]!, gid: numField(f[2]), members };
}

async function readEntries<T>(layersTopFirst: readonly string[], path: string, parse: (l: string) => T | undefined): Promise<T[] | undefined> {
  const found = await lookupInLayers(layersTopFirst, path);
  if (!found || !found.stats.isFile()) return undefined;
  const out: T[] = [];
  for await (const line of fileLines(found.hostPath, found.stats.size)) {
    const e = parse(line);
    if (e) out.push(e);
  }
  return out;
}

/** The container's /etc/passwd entries, or undefined when it has none. */
export function readImagePasswd(layersTopFirst: readonly string[]): Promise<PasswdEntry[] | undefined> {
  return readEntries(layersTopFirst, '/etc/passwd', parsePasswdLine);
}

/** The container's /etc/group entries, or undefined when it has none. */
export function readImageGroup(layersTopFirst: readonly string[]): Promise<GroupEntry[] | undefined> {
  return readEntries(layersTopFirst, '/etc/group', parseGroupLine);
}

function checkRange(id: number): number {
  if (id < 0 || id > MAX_ID) throw new StoreError(`uids and gids must be in range 0-${MAX_ID}`, 'PKIT_BAD_INPUT');
  return id;
}

/**
 * Resolves a user spec against parsed passwd and group entries (undefined: the file is
 * missing). Pure; `resolveContainerUser` reads the files.
 */
export function resolveUserSpec(
  spec: string,
  passwd: readonly PasswdEntry[] | undefined,
  group: readonly GroupEntry[] | undefined,
  opts: ResolveUserOptions = {},
): ResolvedUser {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);

  let uid = 0;
  let gid = 0;
  let home: string | undefined;
  // An empty user means the current one: uid 0.
  const match = (passwd ?? []).find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  if (match) {
    uid = match.uid;
    gid = match.gid;
    home = match.home || undefined;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw new StoreError(`unable to find user ${userArg}: no matching entries in passwd file`, 'PKIT_USER_NOT_FOUND');
    uid = checkRange(uidArg);
  }

  let supplementary: number[] = [];
  if (groupArg !== '') {
    const g = (group ?? []).find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) gid = g.gid;
    else if (gidArg !== undefined) gid = checkRange(gidArg);
    else throw new StoreError(`unable to find group ${groupArg}: no matching entries in group file`, 'PKIT_USER_NOT_FOUND');
  } else if (match) {
    supplementary = (group ?? []).filter((e) => e.members.includes(match.name)).map((e) => e.gid);
  }

  const warnings: string[] = [];
  const additional: number[] = [];
  const add = (g: number) => {
    if (!additional.includes(g)) additional.push(g);
  };
  if (spec !== '') add(gid);
  if (!spec.includes(':')) {
    const idmap = opts.idmap;
    for (const g of supplementary) {
      if (idmap?.userns && !isMapped(idmap.gidMappings, g)) {
        warnings.push(`warning: additional gid=${g} is not present in the user namespace, skip setting it`);
        continue;
      }
      add(g);
    }
  }
  const user: ProcessUser = { uid, gid, ...(additional.length ? { additionalGids: additional } : {}) };
  return { user, ...(home !== undefined ? { home } : {}), warnings };
}

/**
 * The process user of a container: `spec` is `-u` when given, else the image config's User
 * ('' or undefined: root, with root's groups).
 */
export async function resolveContainerUser(layersTopFirst: readonly string[], spec: string | undefined, opts: ResolveUserOptions = {}): Promise<ResolvedUser> {
  const s = spec ?? '';
  const passwd = await readImagePasswd(layersTopFirst);
  const group = await readImageGroup(layersTopFirst);
  return resolveUserSpec(s, passwd, group, opts);
}
