// .containerignore / .dockerignore, and the patterns of COPY --exclude: what COPY and ADD never
// read from the build context. Docker's semantics (moby/patternmatcher, which buildah uses):
// - a line starting with `#` is a comment; lines are trimmed; blank lines are skipped;
// - a pattern is cleaned (Go's filepath.Clean: `./a/` is `a`) and a leading `/` dropped, so
//   every pattern is relative to the context root;
// - Go's filepath.Match per path segment, `**` any number of segments (glob-pattern.ts);
// - a pattern matching a directory matches everything under it;
// - `!pattern` re-includes; the last pattern that matches a path decides, so `dir` then
//   `!dir/keep` excludes dir but brings dir/keep back.
// Where the file is: --ignorefile FILE, else <Containerfile>.containerignore or .dockerignore
// beside the Containerfile (buildah), else CONTEXT/.containerignore, else CONTEXT/.dockerignore.
// The ignore file and the Containerfile get no special treatment: COPY copies them unless a
// pattern excludes them (docker sends them to the daemon anyway, but COPY honours the patterns).
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { StoreError } from '@pkit/storage/errors';
import { cleanPath, compileGlob } from './glob-pattern.ts';

interface Rule {
  pattern: string;
  negate: boolean;
  re: RegExp;
  /** one RegExp per segment before the first one with `**` (for canSkipDir) */
  segments: RegExp[];
  /** whether a segment holds `**` (the pattern then matches at any depth) */
  deep: boolean;
}

/** A compiled list of patterns; paths are relative, `/`-separated, without `./`. */
export class PathMatcher {
  /** The ignore file the patterns came from (for messages), when they came from one. */
  readonly source: string | undefined;
  readonly patterns: readonly string[];
  private readonly rules: Rule[];
  private readonly negations: Rule[];

  constructor(patterns: readonly string[], source?: string) {
    this.source = source;
    this.rules = [];
    for (const raw of patterns) {
      let p = raw.trim();
      if (!p) continue;
      p = cleanPath(p);
      const negate = p.startsWith('!');
      if (negate) {
        if (p === '!') throw new StoreError(`${source ?? '--exclude'}: illegal exclusion pattern "!"`, 'PKIT_BAD_INPUT');
        p = p.slice(1);
      }
      const parts = p.split('/');
      const deepAt = parts.findIndex((s) => s.includes('**'));
      const re = withSource(source, () => compileGlob(p, true));
      let segments: RegExp[];
      let deep = deepAt >= 0;
      try {
        segments = (deep ? parts.slice(0, deepAt) : parts).map((s) => compileGlob(s, false));
      } catch {
        // a class holding a `/`: no segment-wise view, so assume it can match anywhere
        segments = [];
        deep = true;
      }
      this.rules.push({ pattern: p, negate, re, segments, deep });
    }
    this.patterns = this.rules.map((r) => (r.negate ? `!${r.pattern}` : r.pattern));
    this.negations = this.rules.filter((r) => r.negate);
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Whether some pattern starts with `!` (an excluded directory may hold included files). */
  get hasNegations(): boolean {
    return this.negations.length > 0;
  }

  /** Whether `rel` (a path relative to the root the patterns are for) is excluded. */
  excluded(rel: string): boolean {
    const path = normalizeRel(rel);
    if (path === '' || this.rules.length === 0) return false;
    const parents: string[] = [];
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) parents.push(path.slice(0, i));
    let matched = false;
    for (const r of this.rules) {
      // Only a pattern that could change the answer is tried.
      if (r.negate !== matched) continue;
      if (r.re.test(path) || parents.some((p) => r.re.test(p))) matched = !r.negate;
    }
    return matched;
  }

  /**
   * Whether nothing under the directory `rel` can be included: it is excluded and no `!`
   * pattern could match a path below it. A walker need not descend into it then.
   */
  canSkipDir(rel: string): boolean {
    if (!this.excluded(rel)) return false;
    const segs = normalizeRel(rel).split('/');
    return !this.negations.some((r) => mayMatchBelow(r, segs));
  }
}

/**
 * Whether rule `r` could match a path strictly below the directory `dir` (its segments). Without
 * `**`, `*`, `?` and classes never cross a `/`: a pattern of n segments matches n-segment paths
 * only. With `**` it can match at any depth once the segments before it fit.
 */
function mayMatchBelow(r: Rule, dir: string[]): boolean {
  if (!r.deep && r.segments.length <= dir.length) return false;
  const n = Math.min(r.segments.length, dir.length);
  for (let i = 0; i < n; i++) if (!r.segments[i]!.test(dir[i]!)) return false;
  return true;
}

function normalizeRel(rel: string): string {
  let p = rel;
  while (p.startsWith('./')) p = p.slice(2);
  p = p.replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

function withSource<T>(source: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (source !== undefined && err instanceof StoreError) throw new StoreError(`${source}: ${err.message}`, err.code);
    throw err;
  }
}

/** One pattern as docker normalises it: trimmed, cleaned, no leading `/` (also after `!`). */
function normalizePattern(text: string): string | undefined {
  let p = text.trim();
  if (!p) return undefined;
  const negate = p.startsWith('!');
  if (negate) p = p.slice(1).trim();
  if (p) {
    p = cleanPath(p);
    if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
  }
  return negate ? `!${p}` : p;
}

/** The patterns of an ignore file's text, as docker reads them (its ignorefile.ReadAll). */
export function parseIgnoreText(text: string): string[] {
  const out: string[] = [];
  for (const line of text.replace(/^\uFEFF/, '').split('\n')) {
    // A comment only when `#` is the very first character (docker checks before trimming).
    if (line.startsWith('#')) continue;
    const p = normalizePattern(line);
    if (p !== undefined) out.push(p);
  }
  return out;
}

/** Patterns given one by one (COPY --exclude): normalised as an ignore file's lines. */
export function excludeMatcher(patterns: readonly string[]): PathMatcher | undefined {
  const list = patterns.flatMap((p) => normalizePattern(p) ?? []);
  return list.length ? new PathMatcher(list, '--exclude') : undefined;
}

export interface IgnoreOptions {
  /** --ignorefile: this file instead of looking for one. */
  ignoreFile?: string;
  /** The Containerfile in use: its own `<file>.containerignore` / `<file>.dockerignore` come first. */
  containerfile?: string;
}

/** Where the ignore file of a build is, if there is one (see the module comment). */
export function findIgnoreFile(contextDir: string, opts: IgnoreOptions = {}): string | undefined {
  if (opts.ignoreFile !== undefined) return resolve(opts.ignoreFile);
  const candidates: string[] = [];
  if (opts.containerfile !== undefined && opts.containerfile !== '-') {
    const cf = isAbsolute(opts.containerfile) ? opts.containerfile : join(contextDir, opts.containerfile);
    candidates.push(`${cf}.containerignore`, `${cf}.dockerignore`);
  }
  candidates.push(join(contextDir, '.containerignore'), join(contextDir, '.dockerignore'));
  return candidates.find((p) => existsSync(p));
}

/**
 * The ignore patterns of a build context: a matcher for paths relative to `contextDir` (empty
 * when there is no ignore file). An ignore file named with --ignorefile must exist.
 */
export function loadIgnore(contextDir: string, opts: IgnoreOptions = {}): PathMatcher {
  const file = findIgnoreFile(contextDir, opts);
  if (file === undefined) return new PathMatcher([]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StoreError(`cannot read ignore file ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, code === 'ENOENT' ? 'PKIT_NOT_FOUND' : 'PKIT_BAD_INPUT');
  }
  return new PathMatcher(parseIgnoreText(text), file);
}
