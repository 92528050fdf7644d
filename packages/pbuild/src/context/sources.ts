// What a COPY/ADD reads from the host: its SRC paths expanded (Go's filepath.Glob rules, plus
// `**` for any number of directories as buildkit allows), confined to the build context, the
// ignore file and --exclude applied, and the files under each directory source walked in a
// fixed order. copyInto streams exactly these entries into the container and sourcesDigest
// hashes exactly these, so the two can never disagree about what a COPY reads.
//
// Names: an ignore file's patterns are matched against paths relative to the context; --exclude
// patterns against the path a file gets under DEST (relative to the directory SRC, or the
// name of a file SRC, or with --parents the path kept from the context or from the `/./` pivot).
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StoreError } from '@pkit/storage/errors';
import { cleanPath, compileGlob, hasWildcard } from './glob-pattern.ts';
import type { PathMatcher } from './ignore.ts';

export interface SourceFilters {
  /** The context's ignore file (paths relative to the context). */
  ignore?: PathMatcher | undefined;
  /** COPY --exclude (paths as they land under DEST). */
  exclude?: PathMatcher | undefined;
  /** COPY --parents: keep each source's path from the context root (or from its `/./`). */
  parents?: boolean | undefined;
}

export interface ExpandOptions extends SourceFilters {
  /** The build context: SRC is relative to it (a leading `/` too) and may not leave it. */
  contextDir?: string | undefined;
}

/** One item a SRC matched. */
export interface HostSource {
  /** The SRC as written. */
  given: string;
  /** The path as matched, relative to the context (or to where a relative SRC starts without one). */
  rel: string;
  /** The path as matched, absolute (its last component may be a symbolic link). */
  abs: string;
  /** Where it leads (symbolic links resolved): what is read. */
  real: string;
  isDir: boolean;
  /** The name a file keeps in a directory DEST. */
  name: string;
  /** With --parents: the path it gets under DEST. */
  kept?: string;
}

/** A path under a directory source, or the file source itself. */
export interface SourceEntry {
  /** The tar member name: relative to `tarBase(item)`. */
  member: string;
  /** Relative to the context (or to the source's start without one): what the digest names. */
  rel: string;
  /** On the host: what is read. */
  path: string;
  /** lstat of `path` (stat for a file source reached through a symbolic link). */
  st: Stats;
}

const missing = (src: string, why = '') => new StoreError(`"${src}": no such file or directory${why}`, 'PKIT_NOT_FOUND');

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function isDirFollowing(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The names in a directory a copy reads: an error here fails the copy (never a partial one). */
function readNames(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    throw new StoreError(`cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'PKIT_CP');
  }
}

/** Directories under `dir` (itself first), depth first and sorted; symbolic links are not followed. */
function dirsBelow(root: string, rel: string, out: string[]): void {
  out.push(rel);
  for (const name of namesIn(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (lstatOrUndefined(join(root, r))?.isDirectory()) dirsBelow(root, r, out);
  }
}

/**
 * The paths under `root` that the relative pattern `pattern` matches, in Go's order (sorted
 * within each directory). A pattern without wildcards is returned as it is, found or not.
 */
export function expandGlob(root: string, pattern: string): string[] {
  if (!hasWildcard(pattern)) return [pattern];
  const segs = pattern.split('/').filter((s) => s !== '' && s !== '.');
  let current: string[] = [''];
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    const next: string[] = [];
    for (const base of current) {
      const at = (name: string) => (base ? `${base}/${name}` : name);
      if (seg === '**') {
        // any number of directories (none too); as the last segment, everything below
        const dirs: string[] = [];
        dirsBelow(root, base, dirs);
        if (last) for (const d of dirs) next.push(...namesIn(join(root, d)).map((n) => (d ? `${d}/${n}` : n)));
        else next.push(...dirs);
      } else if (!hasWildcard(seg)) {
        const p = at(seg);
        if (last ? lstatOrUndefined(join(root, p)) : isDirFollowing(join(root, p))) next.push(p);
      } else {
        const re = compileGlob(seg, false);
        for (const name of namesIn(join(root, base))) {
          if (!re.test(name)) continue;
          if (last || isDirFollowing(join(root, at(name)))) next.push(at(name));
        }
      }
    }
    current = [...new Set(next)];
  });
  return current.filter((p) => p !== '');
}

/**
 * SRC as a path relative to where it starts (`.` is ''). In a context a leading `/` is its root
 * (the context is SRC's whole world, as in buildah's chroot), except that an absolute path that
 * names something in the context directory is taken as it is (buildah's copier does both);
 * `..` may not leave it.
 */
function startRelative(src: string, contextDir: string | undefined): string {
  let path = src;
  if (contextDir !== undefined && isAbsolute(src)) {
    const inCtx = relative(contextDir, src);
    if (inCtx !== '..' && !inCtx.startsWith('../') && !isAbsolute(inCtx)) path = inCtx;
  }
  const rel = cleanPath(path.replace(/^\/+/, ''));
  if (contextDir !== undefined && (rel === '..' || rel.startsWith('../'))) {
    throw new StoreError(`"${src}" is outside the build context ${contextDir}`, 'PKIT_BAD_INPUT');
  }
  return rel === '.' ? '' : rel;
}

/**
 * The host items of `sources` (no URLs here), globs expanded, in order. Each SRC must match
 * something that is not excluded: otherwise it fails as a missing file (as buildah).
 */
export function expandHostSources(sources: readonly string[], opts: ExpandOptions = {}): HostSource[] {
  const confined = opts.contextDir !== undefined;
  const ctx = resolve(opts.contextDir ?? process.cwd());
  const realCtx = confined ? realpathSync(ctx) : ctx;
  const out: HostSource[] = [];
  for (const src of sources) {
    // --parents: a `/./` in SRC is the pivot: only what follows it is kept.
    const cut = opts.parents ? src.indexOf('/./') : -1;
    const root = confined || !isAbsolute(src) ? ctx : '/';
    const rel = startRelative(src, opts.contextDir === undefined ? undefined : ctx);
    const pivot = cut >= 0 ? startRelative(src.slice(0, cut), opts.contextDir === undefined ? undefined : ctx) : '';
    const matches = expandGlob(root, rel);
    if (matches.length === 0) throw missing(src);
    let kept = 0;
    let filteredBy: string | undefined;
    for (const m of matches) {
      const abs = join(root, m);
      if (!lstatOrUndefined(abs)) throw missing(src);
      let real: string;
      let st: Stats;
      try {
        real = realpathSync(abs);
        st = statSync(real);
      } catch {
        throw new StoreError(`"${src}": a symbolic link that leads nowhere`, 'PKIT_NOT_FOUND');
      }
      if (confined && !inside(realCtx, real)) throw new StoreError(`"${src}" leads outside the build context ${ctx}`, 'PKIT_BAD_INPUT');
      const isDir = st.isDirectory();
      // Left out when excluded, unless a directory that may hold re-included paths.
      const hidden = (matcher: PathMatcher | undefined, r: string) => !!matcher && matcher.excluded(r) && (!isDir || matcher.canSkipDir(r));
      // The ignore file speaks of the path as matched and of where a link leads.
      const realRel = relative(realCtx, real).split(sep).join('/');
      if (confined && (hidden(opts.ignore, m) || hidden(opts.ignore, realRel))) {
        filteredBy = opts.ignore!.source ?? 'the ignore file';
        continue;
      }
      const keptPath = opts.parents ? keptUnder(m, pivot) : undefined;
      const destName = keptPath ?? (isDir ? '' : basename(m));
      if (destName !== '' && hidden(opts.exclude, destName)) {
        filteredBy = '--exclude';
        continue;
      }
      out.push({ given: src, rel: m, abs, real, isDir, name: basename(abs), ...(keptPath !== undefined ? { kept: keptPath } : {}) });
      kept++;
    }
    if (kept === 0) throw missing(src, filteredBy !== undefined ? ` (excluded by ${filteredBy})` : '');
  }
  return out;
}

/** The part of `rel` below the pivot (the whole path without one). */
function keptUnder(rel: string, pivot: string): string {
  if (!pivot) return rel;
  return rel === pivot ? '' : rel.startsWith(`${pivot}/`) ? rel.slice(pivot.length + 1) : rel;
}

/** The directory a tar of `item` runs in (`tar -C`). */
export function tarBase(item: HostSource): string {
  return item.isDir ? item.real : dirname(item.real);
}

/**
 * The entries a copy of `item` reads, in order: for a file its one entry (the file a link
 * leads to), for a directory itself (`.`) and what is under it, depth first, sorted by name.
 * Excluded paths are left out; an excluded directory that holds a re-included path is kept
 * (before it) so that the path has its parent; one that cannot is not even read.
 */
export function* sourceEntries(item: HostSource, filters: SourceFilters = {}): Generator<SourceEntry> {
  if (!item.isDir) {
    yield { member: basename(item.real), rel: item.rel, path: item.real, st: statSync(item.real) };
    return;
  }
  const ignore = filters.ignore && !filters.ignore.empty ? filters.ignore : undefined;
  const exclude = filters.exclude && !filters.exclude.empty ? filters.exclude : undefined;
  const destBase = item.kept ?? '';
  const under = (base: string, sub: string) => (base ? (sub ? `${base}/${sub}` : base) : sub);
  const top = { member: '.', rel: item.rel, path: item.real, st: lstatSync(item.real) };
  // Directories that are excluded themselves wait here until something below them is taken.
  const pending: SourceEntry[] = [];
  const topExcluded = (ignore?.excluded(item.rel) ?? false) || (destBase !== '' && (exclude?.excluded(destBase) ?? false));
  if (topExcluded) pending.push(top);
  else yield top;

  function* walk(sub: string): Generator<SourceEntry> {
    for (const name of readNames(join(item.real, sub))) {
      const s = sub ? `${sub}/${name}` : name;
      const path = join(item.real, s);
      const st = lstatOrUndefined(path);
      if (!st) continue; // gone while we walk
      const rel = under(item.rel, s);
      const dest = under(destBase, s);
      const byIgnore = ignore?.excluded(rel) ?? false;
      const byExclude = exclude?.excluded(dest) ?? false;
      const entry = { member: `./${s}`, rel, path, st };
      if (st.isDirectory()) {
        if ((byIgnore && ignore!.canSkipDir(rel)) || (byExclude && exclude!.canSkipDir(dest))) continue;
        if (byIgnore || byExclude) {
          pending.push(entry);
          yield* walk(s);
          // nothing below was taken: forget it
          if (pending.at(-1) === entry) pending.pop();
          continue;
        }
        yield* flush();
        yield entry;
        yield* walk(s);
      } else if (!byIgnore && !byExclude) {
        yield* flush();
        yield entry;
      }
    }
  }
  function* flush(): Generator<SourceEntry> {
    for (const p of pending) yield p;
    pending.length = 0;
  }
  yield* walk('');
}

/** Whether some SRC is a URL (ADD downloads those; they are not in the context). */
export function isUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}
