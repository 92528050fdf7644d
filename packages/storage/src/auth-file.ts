// Registry credentials in auth files, read and written as podman, skopeo and docker do.
//
// Reading (findCredentials), first match wins:
//   1. explicit credentials (--creds);
//   2. else, when given, the one file from --authfile or $REGISTRY_AUTH_FILE, exclusively;
//   3. else $XDG_RUNTIME_DIR/containers/auth.json (skipped when XDG_RUNTIME_DIR is unset),
//      $XDG_CONFIG_HOME/containers/auth.json (default ~/.config/...),
//      $DOCKER_CONFIG/config.json (default ~/.docker/config.json), and ~/.dockercfg (the legacy
//      format: the map of registries at the top level instead of under "auths").
// Within a file the most specific key wins: `host/ns/repo`, then `host/ns`, then `host`.
// Keys are compared after dropping `http://`/`https://`, a trailing `/`, docker's `/v1`/`/v2`
// API suffix, and mapping index.docker.io and registry-1.docker.io to docker.io.
// Credential helpers (credsStore, credHelpers) and identity tokens are not supported.
//
// Writing (saveCredentials/removeCredentials) edits one file, by default
// $XDG_RUNTIME_DIR/containers/auth.json, or ~/.config/containers/auth.json when XDG_RUNTIME_DIR
// is unset: an atomic rewrite (mode 0600, directory 0700) keeping every other entry.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isErrno, StoreError } from './errors.ts';
import { atomicWriteFile } from './fsutil.ts';

export interface Credentials {
  username: string;
  password: string;
}

export type Env = Record<string, string | undefined>;

export interface AuthFilePath {
  path: string;
  /** ~/.dockercfg: registries at the top level, not under "auths". */
  legacy: boolean;
}

export interface AuthLookupOptions {
  /** --creds: used as they are, no file is read. */
  creds?: Credentials;
  /** --authfile: this file alone. */
  authFile?: string;
  /** Default process.env. */
  env?: Env;
}

const CODE = 'PKIT_AUTH_FILE';

function homeOf(env: Env): string {
  return env.HOME || homedir();
}

/**
 * The files credentials are read from, in order. With `authFile` (or $REGISTRY_AUTH_FILE) that
 * file alone.
 */
export function authFilePaths(env: Env = process.env, authFile?: string): AuthFilePath[] {
  const explicit = authFile || env.REGISTRY_AUTH_FILE;
  if (explicit) return [{ path: explicit, legacy: false }];
  const home = homeOf(env);
  const out: AuthFilePath[] = [];
  if (env.XDG_RUNTIME_DIR) out.push({ path: join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'), legacy: false });
  out.push({ path: join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'), legacy: false });
  out.push({ path: join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json'), legacy: false });
  out.push({ path: join(home, '.dockercfg'), legacy: true });
  return out;
}

/** The file login writes and logout edits when none is given. */
export function defaultAuthFile(env: Env = process.env): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return join(env.XDG_CONFIG_HOME || join(homeOf(env), '.config'), 'containers', 'auth.json');
}

/**
 * A key of an auth file or a registry name as the user wrote it, in the form keys are compared
 * in: `https://index.docker.io/v1/` -> `docker.io`, `http://host:5000/` -> `host:5000`.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim();
  k = k.replace(/^https?:\/\//i, '');
  while (k.endsWith('/')) k = k.slice(0, -1);
  k = k.replace(/\/v[12]$/, '');
  const slash = k.indexOf('/');
  const host = (slash === -1 ? k : k.slice(0, slash)).toLowerCase();
  const path = slash === -1 ? '' : k.slice(slash);
  const h = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  return h + path;
}

/** Keys to try for a registry and repository, most specific first. */
export function authKeyCandidates(registry: string, repository?: string): string[] {
  const host = normalizeAuthKey(registry);
  const out: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let i = parts.length; i > 0; i--) out.push(`${host}/${parts.slice(0, i).join('/')}`);
  }
  out.push(host);
  return out;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

type AuthMap = Record<string, AuthEntry>;

async function readAuthFile(file: AuthFilePath, required: boolean): Promise<AuthMap | undefined> {
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) {
      if (required) throw new StoreError(`auth file ${file.path} does not exist: check --authfile or REGISTRY_AUTH_FILE`, CODE);
      return undefined;
    }
    // A runtime dir left by su/sudo may belong to someone else: skip what we may not read.
    if (!required && isErrno(err, 'EACCES')) return undefined;
    throw new StoreError(`cannot read auth file ${file.path}: ${(err as Error).message}`, CODE);
  }
  if (text.trim() === '') return {};
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`auth file ${file.path}: invalid JSON: ${(err as Error).message.split('\n')[0]}`, CODE);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new StoreError(`auth file ${file.path}: expected a JSON object`, CODE);
  }
  const map = file.legacy ? obj : (obj as { auths?: unknown }).auths;
  if (map === undefined) return {};
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new StoreError(`auth file ${file.path}: "auths" must be an object`, CODE);
  }
  return map as AuthMap;
}

function decodeEntry(entry: AuthEntry, where: string): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw new StoreError(`${where}: "auth" is not base64 of "user:password"`, CODE);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** The credentials of one file for a registry/repository, most specific key first. */
function lookupInMap(map: AuthMap, file: string, registry: string, repository?: string): Credentials | undefined {
  const normalized = new Map<string, AuthEntry>();
  for (const [k, v] of Object.entries(map)) {
    const nk = normalizeAuthKey(k);
    // An exact normalized key written by us beats a legacy spelling of the same key.
    if (!normalized.has(nk) || k === nk) normalized.set(nk, v);
  }
  for (const key of authKeyCandidates(registry, repository)) {
    const entry = normalized.get(key);
    if (entry === undefined) continue;
    const creds = decodeEntry(entry, `auth file ${file}, entry "${key}"`);
    if (creds) return creds;
  }
  return undefined;
}

/**
 * Credentials for `registry` (host[:port]) and optionally a repository on it; undefined when
 * none are configured (anonymous access).
 */
export async function findCredentials(registry: string, repository: string | undefined, opts: AuthLookupOptions = {}): Promise<Credentials | undefined> {
  if (opts.creds) return opts.creds;
  const env = opts.env ?? process.env;
  const files = authFilePaths(env, opts.authFile);
  const explicit = files.length === 1 && !!(opts.authFile || env.REGISTRY_AUTH_FILE);
  for (const f of files) {
    const map = await readAuthFile(f, explicit && !!opts.authFile);
    if (!map) continue;
    const creds = lookupInMap(map, f.path, registry, repository);
    if (creds) return creds;
  }
  return undefined;
}

/** Parses `--creds user[:password]`; the password may contain ':'. */
export function parseCredsFlag(value: string): Credentials {
  const colon = value.indexOf(':');
  if (colon <= 0) {
    throw new StoreError('--creds must be "USERNAME:PASSWORD" (the username cannot be empty)', 'PKIT_BAD_CREDS');
  }
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

async function readForUpdate(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw new StoreError(`cannot read auth file ${path}: ${(err as Error).message}`, CODE);
  }
  if (text.trim() === '') return {};
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`auth file ${path}: invalid JSON: ${(err as Error).message.split('\n')[0]}: fix or remove it`, CODE);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new StoreError(`auth file ${path}: expected a JSON object: fix or remove it`, CODE);
  }
  return obj as Record<string, unknown>;
}

async function writeAuthFile(path: string, obj: Record<string, unknown>): Promise<void> {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError(`cannot create ${dir} for the auth file: ${(err as Error).message}`, CODE);
  }
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await atomicWriteFile(path, `${JSON.stringify(obj, null, '\t')}\n`, tmp, 0o600);
}

/** The key a registry (or `host/ns/repo`) is stored under. */
function storageKey(registry: string): string {
  const k = normalizeAuthKey(registry);
  if (k === '' || k.startsWith('/')) throw new StoreError(`invalid registry "${registry}" for credentials`, 'PKIT_BAD_CREDS');
  return k;
}

/** Stores credentials for `registry` (or `host/ns/repo`) in `file` (default: defaultAuthFile()). */
export async function saveCredentials(registry: string, username: string, password: string, file?: string, env: Env = process.env): Promise<string> {
  const path = file ?? defaultAuthFile(env);
  const obj = await readForUpdate(path);
  const auths = typeof obj.auths === 'object' && obj.auths !== null && !Array.isArray(obj.auths) ? (obj.auths as Record<string, unknown>) : {};
  const key = storageKey(registry);
  // Drop other spellings of the same key (https://host/, host/v1/) so the new entry is the one used.
  for (const k of Object.keys(auths)) if (k !== key && normalizeAuthKey(k) === key) delete auths[k];
  const old = auths[key];
  auths[key] = { ...(typeof old === 'object' && old !== null ? old : {}), auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
  obj.auths = auths;
  await writeAuthFile(path, obj);
  return path;
}

/** Removes the credentials for `registry`; false when there were none. */
export async function removeCredentials(registry: string, file?: string, env: Env = process.env): Promise<boolean> {
  const path = file ?? defaultAuthFile(env);
  const obj = await readForUpdate(path);
  const auths = obj.auths;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) return false;
  const key = storageKey(registry);
  let removed = false;
  for (const k of Object.keys(auths)) {
    if (normalizeAuthKey(k) === key) {
      delete (auths as Record<string, unknown>)[k];
      removed = true;
    }
  }
  if (removed) await writeAuthFile(path, obj);
  return removed;
}
