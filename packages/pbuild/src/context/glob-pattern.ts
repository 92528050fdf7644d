// Go's filepath.Match syntax as RegExps, the one dialect COPY/ADD sources, .containerignore
// lines and COPY --exclude are written in: `*` any run of characters but `/`, `?` one character
// but `/`, `[...]` / `[^...]` a class (never `/`), `\x` the character x. Docker's ignore files
// add `**`: any number of path segments (its translation is moby/patternmatcher's).
import { posix } from 'node:path';
import { StoreError } from '@pkit/storage/errors';

/** Characters that make a path a pattern, as Go's filepath.Glob tells (hasMeta). */
const META = /[*?[\\]/;

export function hasWildcard(path: string): boolean {
  return META.test(path);
}

// Characters standing for themselves, escaped as the `u` flag allows: outside a class its
// syntax characters, inside one what a class gives a meaning to.
const SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);
const CLASS_SYNTAX = new Set([...'\\]^-[']);
const literal = (c: string) => (SYNTAX.has(c) ? `\\${c}` : c);
const classLiteral = (c: string) => (CLASS_SYNTAX.has(c) ? `\\${c}` : c);

function badPattern(pattern: string, why: string): StoreError {
  return new StoreError(`bad pattern "${pattern}": ${why}`, 'PKIT_BAD_INPUT');
}

/**
 * The RegExp source (no anchors) of `pattern`. With `doubleStar`, `**` is docker's: `**` then
 * `/` (eaten) matches any number of leading segments, `**` at the end anything at all.
 */
export function globSource(pattern: string, doubleStar: boolean): string {
  const cs = [...pattern];
  let out = '';
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    if (c === '*') {
      if (doubleStar && cs[i + 1] === '*') {
        i++;
        if (cs[i + 1] === '/') i++;
        out += i + 1 >= cs.length ? '.*' : '(?:.*/)?';
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '\\') {
      // a trailing backslash stands for itself
      out += i + 1 < cs.length ? literal(cs[++i]!) : '\\\\';
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (cs[j] === '^') {
        cls += '^';
        j++;
      }
      const start = j;
      for (; j < cs.length && cs[j] !== ']'; j++) {
        const d = cs[j]!;
        if (d === '\\') {
          if (j + 1 >= cs.length) throw badPattern(pattern, 'a "\\" ends it');
          cls += classLiteral(cs[++j]!);
        } else if (d === '-' && j > start && cs[j + 1] !== ']') {
          cls += '-';
        } else {
          cls += classLiteral(d);
        }
      }
      if (j >= cs.length) throw badPattern(pattern, 'a "[" is not closed');
      if (j === start) throw badPattern(pattern, 'an empty "[]"');
      out += `(?:(?!/)[${cls}])`;
      i = j;
    } else {
      out += literal(c);
    }
  }
  return out;
}

/** `pattern` as an anchored RegExp; a malformed pattern is a StoreError naming it. */
export function compileGlob(pattern: string, doubleStar: boolean): RegExp {
  const source = globSource(pattern, doubleStar);
  try {
    return new RegExp(`^${source}$`, 'su');
  } catch (err) {
    throw badPattern(pattern, (err as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}

/** Go's filepath.Clean for slash paths: no `.`, `..` resolved lexically, no trailing `/`. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}
