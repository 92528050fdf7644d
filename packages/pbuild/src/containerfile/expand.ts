// Variable substitution in instruction arguments, as the Dockerfile reference defines it and
// buildkit's shell lexer implements it: `$V`, `${V}`, `${V:-w}` `${V-w}` `${V:+w}` `${V+w}`
// `${V:?msg}` `${V?msg}`, the pattern forms `${V#p}` `${V##p}` `${V%p}` `${V%%p}` `${V/p/r}`
// `${V//p/r}`, single and double quotes (removed, unless keepQuotes), and the escape character
// (`\$V` is a literal `$V`). An unset variable is empty. This is not a shell: no command
// substitution, no arithmetic, no globbing.
import { ParseError, type Where } from './errors.ts';

/** Variables: a Map, a plain object (own properties only) or a lookup function. */
export type EnvLike = ReadonlyMap<string, string> | Readonly<Record<string, string>> | ((name: string) => string | undefined);

export interface ExpandOptions {
  /** the escape character of the Containerfile (default backslash) */
  escape?: string;
  /** leave quotes alone (heredoc bodies of COPY/ADD): only `$` and escapes are processed */
  keepQuotes?: boolean;
  /** where the word is, for the error message */
  where?: Where;
}

export interface ExpandResult {
  /** the word with variables replaced and quotes removed */
  value: string;
  /** the same, split into words at unquoted whitespace (EXPOSE, FROM) */
  words: string[];
  /** variables that were set and read */
  used: Set<string>;
  /** variables that were read but not set */
  unset: Set<string>;
}

export function toLookup(env: EnvLike): (name: string) => string | undefined {
  if (typeof env === 'function') return env;
  if (env instanceof Map) return (name) => env.get(name);
  const rec = env as Readonly<Record<string, string>>;
  return (name) => (Object.hasOwn(rec, name) ? rec[name] : undefined);
}

export function expand(word: string, env: EnvLike, options: ExpandOptions = {}): ExpandResult {
  const x = new Expander(word, toLookup(env), options.escape ?? '\\', options.keepQuotes ?? false);
  try {
    const { text, words } = x.until(null, false);
    return { value: text, words, used: x.used, unset: x.unset };
  } catch (err) {
    if (err instanceof Failure) {
      throw new ParseError(options.where ?? { file: 'Containerfile', line: 0, col: 0 }, `cannot expand ${JSON.stringify(word)}: ${err.message}`);
    }
    throw err;
  }
}

/** One word: variables replaced, quotes removed, spaces kept. */
export function expandWord(word: string, env: EnvLike, options?: ExpandOptions): string {
  return expand(word, env, options).value;
}

/** Variables replaced, then split into words at whitespace that was not quoted. */
export function expandWords(word: string, env: EnvLike, options?: ExpandOptions): string[] {
  return expand(word, env, options).words;
}

class Failure extends Error {}

// Collects words the way buildkit does: whitespace from a variable's value or written plainly
// separates words; quoted or escaped whitespace does not.
class Words {
  words: string[] = [];
  buf = '';
  inWord = false;

  addChar(ch: string): void {
    if (isBlank(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  done(): string[] {
    if (this.buf.length > 0) this.words.push(this.buf);
    this.buf = '';
    return this.words;
  }
}

function isBlank(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u;
const DIGIT = /^\p{Nd}$/u;
const SPECIAL_PARAM = '@*#?-$!0';
const MAX_DEPTH = 64;

class Expander {
  pos = 0;
  depth = 0;
  used = new Set<string>();
  unset = new Set<string>();
  private readonly src: string;
  private readonly lookup: (name: string) => string | undefined;
  private readonly escape: string;
  private readonly keepQuotes: boolean;

  constructor(src: string, lookup: (name: string) => string | undefined, escape: string, keepQuotes: boolean) {
    this.src = src;
    this.lookup = lookup;
    this.escape = escape;
    this.keepQuotes = keepQuotes;
  }

  private get(name: string): string | undefined {
    const v = this.lookup(name);
    if (v === undefined) this.unset.add(name);
    else this.used.add(name);
    return v;
  }

  /** Reads up to the stop character (consumed) or the end. */
  until(stop: string | null, rawEscapes: boolean): { text: string; words: string[] } {
    const src = this.src;
    let text = '';
    const words = new Words();
    while (this.pos < src.length) {
      let ch = src[this.pos]!;
      if (stop !== null && ch === stop) {
        this.pos++;
        return { text, words: words.done() };
      }
      if (ch === '$') {
        const v = this.dollar();
        text += v;
        words.addString(v);
        continue;
      }
      if (ch === '<') {
        // `<<` keeps the blanks after it, so a heredoc marker stays one word
        let v = '<';
        this.pos++;
        if (src[this.pos] === '<') {
          v = '<<';
          this.pos++;
          while (src[this.pos] === ' ' || src[this.pos] === '\t' || src[this.pos] === '\r') v += src[this.pos++];
        }
        text += v;
        words.addRaw(v);
        continue;
      }
      if (!this.keepQuotes && ch === "'") {
        const v = this.singleQuoted();
        text += v;
        words.addRaw(v);
        continue;
      }
      if (!this.keepQuotes && ch === '"') {
        const v = this.doubleQuoted(rawEscapes);
        text += v;
        words.addRaw(v);
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        if (rawEscapes) {
          words.addRaw(ch);
          text += ch;
        }
        if (this.pos >= src.length) break;
        ch = src[this.pos++]!;
        words.addRaw(ch);
      } else {
        words.addChar(ch);
      }
      text += ch;
    }
    if (stop !== null) throw new Failure(`unexpected end of text while looking for matching ${stop}`);
    return { text, words: words.done() };
  }

  private singleQuoted(): string {
    const end = this.src.indexOf("'", this.pos + 1);
    if (end < 0) throw new Failure('unexpected end of text while looking for matching single-quote');
    const v = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return v;
  }

  private doubleQuoted(rawEscapes: boolean): string {
    const src = this.src;
    let out = '';
    this.pos++;
    for (;;) {
      if (this.pos >= src.length) throw new Failure('unexpected end of text while looking for matching double-quote');
      const ch = src[this.pos]!;
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        if (this.pos >= src.length) continue;
        const next = src[this.pos]!;
        if (next === '"' || next === '$' || next === this.escape) {
          if (rawEscapes) out += ch;
          out += next;
          this.pos++;
          continue;
        }
      }
      out += ch;
    }
  }

  private name(): string {
    const src = this.src;
    const first = src[this.pos];
    if (first === undefined) return '';
    if (DIGIT.test(first)) {
      let n = '';
      while (this.pos < src.length && DIGIT.test(src[this.pos]!)) n += src[this.pos++];
      return n;
    }
    if (SPECIAL_PARAM.includes(first)) {
      this.pos++;
      return first;
    }
    let n = '';
    while (this.pos < src.length && NAME_CHAR.test(src[this.pos]!)) n += src[this.pos++];
    return n;
  }

  private dollar(): string {
    const src = this.src;
    if (++this.depth > MAX_DEPTH) throw new Failure(`substitutions nested more than ${MAX_DEPTH} deep`);
    try {
      return this.dollarInner(src);
    } finally {
      this.depth--;
    }
  }

  private dollarInner(src: string): string {
    this.pos++; // $
    if (src[this.pos] !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return this.get(name) ?? '';
    }
    this.pos++; // {
    const c = src[this.pos];
    if (c === undefined) throw new Failure("syntax error: missing '}'");
    if (c === '{' || c === '}' || c === ':') throw new Failure('syntax error: bad substitution');
    const name = this.name();
    if (this.pos >= src.length) throw new Failure("syntax error: missing '}'");
    let op = src[this.pos++]!;
    if (op === '}') return this.get(name) ?? '';
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      if (this.pos >= src.length) throw new Failure("syntax error: missing '}'");
      op = src[this.pos++]!;
      if (op !== '-' && op !== '+' && op !== '?') throw new Failure(`unsupported modifier (:${op}) in substitution`);
    }
    if (op === '/') return this.replace(name);
    if (!'+-?#%'.includes(op)) throw new Failure(`unsupported modifier (${op}) in substitution`);
    const word = this.untilBrace(op === '#' || op === '%');
    const value = this.get(name);
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return empty ? word : value!;
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new Failure(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new Failure(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // # and % remove the shortest match, ## and %% the longest
        let pattern = word;
        const greedy = pattern.startsWith(op);
        if (greedy) pattern = pattern.slice(1);
        return op === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
    }
  }

  private untilBrace(rawEscapes: boolean): string {
    try {
      return this.until('}', rawEscapes).text;
    } catch (err) {
      if (err instanceof Failure && this.pos >= this.src.length) throw new Failure("syntax error: missing '}'");
      throw err;
    }
  }

  private replace(name: string): string {
    const all = this.src[this.pos] === '/';
    if (all) this.pos++;
    let pattern: string;
    try {
      pattern = this.until('/', true).text;
    } catch (err) {
      if (err instanceof Failure && this.pos >= this.src.length) throw new Failure("syntax error: missing '/' in ${}");
      throw err;
    }
    const replacement = this.untilBrace(true);
    const value = this.get(name) ?? '';
    return replacePattern(pattern, value, replacement, all);
  }
}

// ---- shell patterns (`${V#p}`, `${V%p}`, `${V/p/r}`) -------------------------------------------
// Matched with a small NFA rather than a regular expression: a pattern with many `*` makes a
// backtracking regex take exponential time. As in buildkit (Go's `.`), `*` and `?` do not
// match a newline.

type GlobToken = { kind: 'star' } | { kind: 'any' } | { kind: 'lit'; ch: string };

/** `?` one character, `*` any run, `\*` `\?` `\\` literal; `\}` and `\/` are the character. */
function globTokens(pattern: string): GlobToken[] {
  const chars = Array.from(pattern);
  const out: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (out[out.length - 1]?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'any' });
    else if (c === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new Failure(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`);
      }
      out.push({ kind: 'lit', ch: next });
      i++;
    } else out.push({ kind: 'lit', ch: c });
  }
  return out;
}

/** ends[i]: the tokens match chars[start..i). */
function matchEnds(tokens: GlobToken[], chars: string[], start: number): boolean[] {
  const m = tokens.length;
  const ends = new Array<boolean>(chars.length + 1).fill(false);
  const closure = (set: Set<number>): Set<number> => {
    for (const k of [...set].sort((a, b) => a - b)) {
      for (let j = k; j < m && tokens[j]!.kind === 'star'; j++) set.add(j + 1);
    }
    return set;
  };
  let states = closure(new Set([0]));
  ends[start] = states.has(m);
  for (let p = start; p < chars.length && states.size > 0; p++) {
    const c = chars[p]!;
    const next = new Set<number>();
    for (const k of states) {
      const t = tokens[k];
      if (t === undefined) continue;
      if (t.kind === 'star') {
        if (c !== '\n') next.add(k);
      } else if (t.kind === 'any') {
        if (c !== '\n') next.add(k + 1);
      } else if (t.ch === c) next.add(k + 1);
    }
    states = closure(next);
    ends[p + 1] = states.has(m);
  }
  return ends;
}

/** The end of the shortest (or longest) match starting at `start`, or -1. */
function matchEnd(tokens: GlobToken[], chars: string[], start: number, longest: boolean): number {
  const ends = matchEnds(tokens, chars, start);
  if (longest) return ends.lastIndexOf(true);
  return ends.indexOf(true, start);
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(value);
  const end = matchEnd(globTokens(pattern), chars, 0, greedy);
  return end < 0 ? value : chars.slice(end).join('');
}

// The shortest or longest match at the end: reverse both and match at the start.
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(value).reverse();
  const end = matchEnd(globTokens(pattern).reverse(), chars, 0, greedy);
  return end < 0 ? value : chars.slice(end).reverse().join('');
}

/** `${V/p/r}` and `${V//p/r}`: the leftmost (longest) match, or every one (Go's ReplaceAll). */
function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  const tokens = globTokens(pattern);
  const chars = Array.from(value);
  let out = '';
  let copied = 0;
  let lastEnd = -1;
  for (let s = 0; s <= chars.length; ) {
    const end = matchEnd(tokens, chars, s, true);
    // an empty match right after a match is skipped, as Go does
    if (end < 0 || (end === s && s === lastEnd)) {
      s++;
      continue;
    }
    out += chars.slice(copied, s).join('') + replacement;
    copied = end;
    lastEnd = end;
    if (!all) break;
    s = end > s ? end : s + 1;
  }
  return out + chars.slice(copied).join('');
}
