// registries.conf (v2, and the old v1 tables converted), as containers/image reads it:
// short-name resolution (aliases, unqualified-search-registries, short-name-mode) and
// per-registry settings (prefix/location rewriting, insecure, blocked, mirrors).
//
// Which files are read (loadRegistriesConf):
//   1. $CONTAINERS_REGISTRIES_CONF when set: that file alone, no drop-ins (it must exist).
//   2. else $XDG_CONFIG_HOME/containers/registries.conf (default ~/.config/...) when it exists,
//      then its drop-in dir registries.conf.d/*.conf;
//   3. else /etc/containers/registries.conf (when it exists), then
//      /etc/containers/registries.conf.d/*.conf, then the user's registries.conf.d/*.conf.
// Drop-ins are read in lexical order. A later file overrides an earlier one: search registries,
// short-name-mode and credential-helpers are replaced when set, aliases are merged by name,
// [[registry]] tables are merged by prefix.
// The API is synchronous: the files are small and read once per command.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { isErrno, NotFoundError, StoreError } from './errors.ts';
import { formatReference, normalizeName, parseReference, splitReference, type RawReference } from './reference.ts';

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';

export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface MirrorEntry {
  location: string;
  insecure: boolean;
  pullFromMirror?: PullFromMirror;
}

export interface RegistryEntry {
  /** What references this entry applies to; `*.example.com` matches any subdomain. */
  prefix: string;
  /** Where the prefix really lives; empty only for a wildcard prefix (no rewriting). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: MirrorEntry[];
  /** The file that defined this entry. */
  file: string;
}

export interface AliasEntry {
  /** Fully-qualified name (possibly with a tag) the short name stands for. */
  value: string;
  file: string;
}

export interface RegistriesConf {
  /** The files read, in the order they were applied. */
  files: string[];
  /** The main file chosen (read only if it exists). */
  mainPath: string;
  unqualifiedSearchRegistries: string[];
  /** The file that set unqualified-search-registries, if any did. */
  unqualifiedSearchRegistriesFile?: string;
  shortNameMode: ShortNameMode;
  aliases: Record<string, AliasEntry>;
  registries: RegistryEntry[];
  credentialHelpers: string[];
}

export interface RegistriesConfOptions {
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Default $HOME, else os.homedir(). */
  home?: string;
  /** Default /etc/containers/registries.conf. */
  systemConfPath?: string;
  /** Default registries.conf.d beside systemConfPath. */
  systemConfDir?: string;
}

/** What one file sets; undefined means "not set here". */
export interface RegistriesConfFragment {
  search?: string[];
  mode?: ShortNameMode;
  aliases: Record<string, string>;
  registries: RegistryEntry[];
  credentialHelpers?: string[];
}

const CODE = 'PKIT_BAD_REGISTRIES_CONF';

function confError(file: string, message: string): StoreError {
  return new StoreError(`${file}: ${message}`, CODE);
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function str(file: string, where: string, v: unknown): string {
  if (typeof v !== 'string') throw confError(file, `${where} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(file: string, where: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw confError(file, `${where} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function strArray(file: string, where: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw confError(file, `${where} must be an array of strings, got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/** Validates a prefix or location: no URL scheme, trailing "/" dropped, wildcards only as *.domain. */
function parseLocation(file: string, where: string, value: string): string {
  let v = value.trim();
  if (v.includes('://')) throw confError(file, `${where} "${value}": URI schemes are not supported, give host[:port][/path]`);
  while (v.endsWith('/')) v = v.slice(0, -1);
  if (v.includes('*')) {
    if (!/^\*\.[^*/:@]+$/.test(v)) {
      throw confError(file, `${where} "${value}": a wildcard must be the first label, as in *.example.com, with no path`);
    }
  }
  return v;
}

function parseMirror(file: string, where: string, v: unknown, digestOnly: boolean): MirrorEntry {
  if (!isTable(v)) throw confError(file, `${where} must be a table`);
  const location = v.location === undefined ? '' : parseLocation(file, `${where}.location`, str(file, `${where}.location`, v.location));
  if (location === '') throw confError(file, `${where}.location is not set`);
  if (location.includes('*')) throw confError(file, `${where}.location "${location}": a mirror location cannot be a wildcard`);
  const m: MirrorEntry = { location, insecure: bool(file, `${where}.insecure`, v.insecure) };
  if (v['pull-from-mirror'] !== undefined) {
    const p = str(file, `${where}.pull-from-mirror`, v['pull-from-mirror']);
    if (p !== 'all' && p !== 'digest-only' && p !== 'tag-only') {
      throw confError(file, `${where}.pull-from-mirror "${p}" must be "all", "digest-only" or "tag-only"`);
    }
    if (digestOnly) throw confError(file, `${where}.pull-from-mirror cannot be used with mirror-by-digest-only on the registry`);
    m.pullFromMirror = p;
  }
  return m;
}

function parseRegistryTable(file: string, index: number, v: unknown): RegistryEntry {
  let where = `[[registry]] #${index + 1}`;
  if (!isTable(v)) throw confError(file, `${where} must be a table`);
  const location = v.location === undefined ? '' : parseLocation(file, `${where} location`, str(file, `${where} location`, v.location));
  let prefix = v.prefix === undefined ? '' : parseLocation(file, `${where} prefix`, str(file, `${where} prefix`, v.prefix));
  if (prefix === '') {
    if (location === '') throw confError(file, `${where}: neither prefix nor location is set`);
    prefix = location;
  }
  where = `[[registry]] prefix "${prefix}"`;
  if (location.includes('*')) throw confError(file, `${where}: location "${location}" cannot be a wildcard`);
  if (location === '' && !prefix.startsWith('*.')) throw confError(file, `${where}: location must be set`);
  if (v['pull-from-mirror'] !== undefined) throw confError(file, `${where}: pull-from-mirror belongs in [[registry.mirror]], not the registry`);
  const mirrorByDigestOnly = bool(file, `${where} mirror-by-digest-only`, v['mirror-by-digest-only']);
  const mirrorsRaw = v.mirror ?? [];
  if (!Array.isArray(mirrorsRaw)) throw confError(file, `${where}: mirror must be an array of tables ([[registry.mirror]])`);
  return {
    prefix,
    location,
    insecure: bool(file, `${where} insecure`, v.insecure),
    blocked: bool(file, `${where} blocked`, v.blocked),
    mirrorByDigestOnly,
    mirrors: mirrorsRaw.map((m, i) => parseMirror(file, `${where} mirror #${i + 1}`, m, mirrorByDigestOnly)),
    file,
  };
}

function checkAlias(file: string, name: string, value: string): void {
  let key: RawReference;
  try {
    key = splitReference(name);
  } catch (err) {
    throw confError(file, `[aliases] "${name}": ${(err as Error).message}`);
  }
  if (key.registry !== undefined) throw confError(file, `[aliases] "${name}": an alias must be a short name, without a registry`);
  if (key.tag !== undefined || key.digest !== undefined) throw confError(file, `[aliases] "${name}": an alias must not have a tag or digest`);
  let val: RawReference;
  try {
    val = splitReference(value);
  } catch (err) {
    throw confError(file, `[aliases] "${name}": ${(err as Error).message}`);
  }
  if (val.registry === undefined) throw confError(file, `[aliases] "${name}" = "${value}": the value must be fully qualified (registry/repository)`);
  if (val.digest !== undefined) throw confError(file, `[aliases] "${name}" = "${value}": the value must not have a digest`);
}

/** The v1 format ([registries.search] etc.), converted to v2 registries. */
function convertV1(file: string, v1: unknown, frag: RegistriesConfFragment): void {
  if (!isTable(v1)) throw confError(file, '"registries" must be a table (v1 format: [registries.search] registries = [...])');
  const list = (section: string): string[] => {
    const t = v1[section];
    if (t === undefined) return [];
    if (!isTable(t)) throw confError(file, `[registries.${section}] must be a table`);
    if (t.registries === undefined) return [];
    return strArray(file, `[registries.${section}] registries`, t.registries).map((r) => parseLocation(file, `[registries.${section}]`, r));
  };
  const search = list('search');
  const insecure = new Set(list('insecure'));
  const block = new Set(list('block'));
  if (v1.search !== undefined) frag.search = search;
  for (const loc of new Set([...insecure, ...block])) {
    frag.registries.push({
      prefix: loc,
      location: loc,
      insecure: insecure.has(loc),
      blocked: block.has(loc),
      mirrorByDigestOnly: false,
      mirrors: [],
      file,
    });
  }
}

/** Parses one registries.conf text; `file` names it in errors. */
export function parseRegistriesConfText(text: string, file: string): RegistriesConfFragment {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new StoreError(`${file}:${err.line}:${err.column}: invalid TOML: ${first}`, CODE);
    }
    throw confError(file, `invalid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const frag: RegistriesConfFragment = { aliases: {}, registries: [] };
  const hasV2 = doc.registry !== undefined || doc['unqualified-search-registries'] !== undefined;
  if (doc.registries !== undefined) {
    if (hasV2) throw confError(file, 'mixes the v1 [registries.*] tables with v2 keys; convert it to v2 ([[registry]], unqualified-search-registries)');
    convertV1(file, doc.registries, frag);
  }
  if (doc['unqualified-search-registries'] !== undefined) {
    frag.search = strArray(file, 'unqualified-search-registries', doc['unqualified-search-registries']).map((r) => {
      const loc = parseLocation(file, 'unqualified-search-registries entry', r);
      const host = loc.split('/')[0]!;
      if (loc === '' || loc.includes('*') || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
        throw confError(file, `unqualified-search-registries entry "${r}" must be a registry host (with a "." or ":", or "localhost")`);
      }
      return loc;
    });
  }
  if (doc['short-name-mode'] !== undefined) {
    const mode = str(file, 'short-name-mode', doc['short-name-mode']);
    if (mode !== 'enforcing' && mode !== 'permissive' && mode !== 'disabled') {
      throw confError(file, `short-name-mode "${mode}" must be "enforcing", "permissive" or "disabled"`);
    }
    frag.mode = mode;
  }
  if (doc['credential-helpers'] !== undefined) frag.credentialHelpers = strArray(file, 'credential-helpers', doc['credential-helpers']);
  if (doc.aliases !== undefined) {
    if (!isTable(doc.aliases)) throw confError(file, '[aliases] must be a table of "short-name" = "registry/repository"');
    for (const [name, value] of Object.entries(doc.aliases)) {
      const v = str(file, `[aliases] "${name}"`, value);
      checkAlias(file, name, v);
      frag.aliases[name] = v;
    }
  }
  if (doc.registry !== undefined) {
    if (!Array.isArray(doc.registry)) throw confError(file, '"registry" must be an array of tables ([[registry]])');
    const seen = new Map<string, RegistryEntry>();
    doc.registry.forEach((t, i) => {
      const entry = parseRegistryTable(file, i, t);
      if (seen.has(entry.prefix)) throw confError(file, `[[registry]] prefix "${entry.prefix}" is defined more than once`);
      seen.set(entry.prefix, entry);
    });
    for (const entry of seen.values()) {
      for (const other of seen.values()) {
        if (other !== entry && other.location !== '' && other.location === entry.location && other.insecure !== entry.insecure) {
          throw confError(file, `registry location "${entry.location}" is defined more than once with conflicting insecure settings`);
        }
      }
    }
    frag.registries.push(...seen.values());
  }
  return frag;
}

function emptyConf(mainPath: string): RegistriesConf {
  return {
    files: [],
    mainPath,
    unqualifiedSearchRegistries: [],
    shortNameMode: 'permissive',
    aliases: {},
    registries: [],
    credentialHelpers: [],
  };
}

function applyFragment(conf: RegistriesConf, frag: RegistriesConfFragment, file: string): void {
  conf.files.push(file);
  if (frag.search !== undefined) {
    conf.unqualifiedSearchRegistries = frag.search;
    conf.unqualifiedSearchRegistriesFile = file;
  }
  if (frag.mode !== undefined) conf.shortNameMode = frag.mode;
  if (frag.credentialHelpers !== undefined) conf.credentialHelpers = frag.credentialHelpers;
  for (const [name, value] of Object.entries(frag.aliases)) conf.aliases[name] = { value, file };
  for (const entry of frag.registries) {
    const i = conf.registries.findIndex((r) => r.prefix === entry.prefix);
    if (i === -1) conf.registries.push(entry);
    else conf.registries[i] = entry;
  }
}

/** Reads a file; undefined when it does not exist. */
function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw new StoreError(`cannot read ${path}: ${(err as Error).message}`, CODE);
  }
}

function dropIns(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
    throw new StoreError(`cannot read ${dir}: ${(err as Error).message}`, CODE);
  }
  return names
    .filter((n) => n.endsWith('.conf') && !n.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

function fileExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The user config dir: $XDG_CONFIG_HOME (when absolute) or ~/.config. */
function userConfigDir(env: Record<string, string | undefined>, home: string): string {
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(home, '.config');
}

/** Loads registries.conf and its drop-ins (see the top of this file for which ones). */
export function loadRegistriesConf(opts: RegistriesConfOptions = {}): RegistriesConf {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? homedir();
  const systemPath = opts.systemConfPath ?? SYSTEM_REGISTRIES_CONF;
  const systemDir = opts.systemConfDir ?? join(dirname(systemPath), 'registries.conf.d');
  const userPath = join(userConfigDir(env, home), 'containers', 'registries.conf');
  const userDir = join(dirname(userPath), 'registries.conf.d');

  const load = (conf: RegistriesConf, path: string): void => {
    const text = readIfExists(path);
    if (text !== undefined) applyFragment(conf, parseRegistriesConfText(text, path), path);
  };

  const override = env.CONTAINERS_REGISTRIES_CONF;
  if (override) {
    const conf = emptyConf(override);
    const text = readIfExists(override);
    if (text === undefined) throw new NotFoundError(`${override} (from $CONTAINERS_REGISTRIES_CONF) does not exist`);
    applyFragment(conf, parseRegistriesConfText(text, override), override);
    return conf;
  }

  if (fileExists(userPath)) {
    const conf = emptyConf(userPath);
    load(conf, userPath);
    for (const p of dropIns(userDir)) load(conf, p);
    return conf;
  }

  const conf = emptyConf(systemPath);
  load(conf, systemPath);
  for (const p of dropIns(systemDir)) load(conf, p);
  for (const p of dropIns(userDir)) load(conf, p);
  return conf;
}

/** Length of `prefix`'s match at the start of `ref`, or -1 (containers/image's rules). */
function matchLength(ref: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const suffix = prefix.slice(1); // ".example.com"
    const i = ref.indexOf(suffix);
    if (i <= 0 || ref.slice(0, i).includes('/')) return -1;
    const end = i + suffix.length;
    return end === ref.length || ':/@'.includes(ref[end]!) ? end : -1;
  }
  if (ref === prefix) return prefix.length;
  if (ref.length > prefix.length && ref.startsWith(prefix) && ':/@'.includes(ref[prefix.length]!)) return prefix.length;
  return -1;
}

function normalizeForMatch(refString: string): string {
  try {
    const raw = splitReference(refString);
    if (raw.registry === undefined) return refString;
    return formatReference(parseReference(refString, { defaultTag: false }));
  } catch {
    return refString;
  }
}

/**
 * The [[registry]] entry whose prefix is the longest match for `refString` (a fully-qualified
 * reference or a host); docker.io names are normalised first (docker.io/busybox matches a
 * prefix of docker.io/library/busybox).
 */
export function findRegistry(conf: RegistriesConf, refString: string): RegistryEntry | undefined {
  const ref = normalizeForMatch(refString);
  let best: RegistryEntry | undefined;
  let bestLen = -1;
  for (const r of conf.registries) {
    const n = matchLength(ref, r.prefix);
    if (n > bestLen) {
      best = r;
      bestLen = n;
    }
  }
  return best;
}

/**
 * Where `refString` is really pulled from, per its entry's location (prefix rewriting).
 * Unchanged when no entry matches or the entry has no location (wildcard).
 */
export function rewriteReference(entry: RegistryEntry | undefined, refString: string): string {
  if (!entry || entry.location === '') return refString;
  const ref = normalizeForMatch(refString);
  const n = matchLength(ref, entry.prefix);
  if (n === -1) return refString;
  return entry.location + ref.slice(n);
}

/** Whether `host` ([host[:port]]) may be reached over plain HTTP or with unverified TLS. */
export function isInsecure(conf: RegistriesConf, host: string): boolean {
  const entry = findRegistry(conf, host);
  if (entry) return entry.insecure;
  for (const r of conf.registries) {
    for (const m of r.mirrors) if (m.location === host) return m.insecure;
  }
  return false;
}

/** Whether pulls of `refString` are refused by a `blocked = true` entry. */
export function isBlocked(conf: RegistriesConf, refString: string): boolean {
  return findRegistry(conf, refString)?.blocked ?? false;
}

export type CandidateSource =
  | { kind: 'fully-qualified' }
  | { kind: 'alias'; alias: string; file: string }
  | { kind: 'search'; registry: string; file?: string };

export interface ShortNameCandidate {
  /** A fully-qualified reference, with the tag or digest given (no default tag added). */
  reference: string;
  source: CandidateSource;
}

function candidate(registry: string, repository: string, tag: string | undefined, digest: string | undefined): string {
  const ref: RawReference = normalizeName(registry, repository);
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest as RawReference['digest'];
  return formatReference(ref);
}

/**
 * The fully-qualified references `name` may stand for, in the order to try them: the name itself
 * when it has a registry; else its alias (alone); else one per unqualified-search registry.
 * Throws when a short name has neither an alias nor search registries.
 */
export function resolveShortName(conf: RegistriesConf, name: string): ShortNameCandidate[] {
  const raw = splitReference(name);
  if (raw.registry !== undefined) {
    return [{ reference: formatReference(parseReference(name, { defaultTag: false })), source: { kind: 'fully-qualified' } }];
  }
  const alias = conf.aliases[raw.repository];
  if (alias) {
    const target = splitReference(alias.value);
    const tag = raw.tag ?? (raw.digest === undefined ? target.tag : undefined);
    return [
      {
        reference: candidate(target.registry!, target.repository, tag, raw.digest),
        source: { kind: 'alias', alias: raw.repository, file: alias.file },
      },
    ];
  }
  if (conf.unqualifiedSearchRegistries.length === 0) {
    const where = conf.files.length > 0 ? conf.files.join(', ') : conf.mainPath;
    throw new StoreError(
      `short-name "${name}" did not resolve to an alias and no unqualified-search registries are defined in "${where}"`,
      'PKIT_SHORT_NAME',
    );
  }
  return conf.unqualifiedSearchRegistries.map((registry) => {
    const source: CandidateSource = { kind: 'search', registry };
    if (conf.unqualifiedSearchRegistriesFile !== undefined) source.file = conf.unqualifiedSearchRegistriesFile;
    return { reference: candidate(registry, raw.repository, raw.tag, raw.digest), source };
  });
}
