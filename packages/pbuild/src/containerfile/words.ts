// How an instruction's text is cut into pieces: the keyword, the leading `--flags`, the words of
// ENV/LABEL/ARG (quotes kept for the expansion step), whitespace-separated fields, the JSON
// exec form and heredoc markers. Each piece keeps its offset in the logical line so errors can
// point at it. The rules follow buildkit's parser (frontend/dockerfile/parser), quirks included,
// because the same file must mean the same thing here and there.

export interface Token {
  text: string;
  /** offset of the token's first character in the logical line */
  offset: number;
}

// Go's unicode.IsSpace, which buildkit uses to trim lines and words.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
// buildkit's reWhitespace: what separates the keyword and whitespace-delimited arguments.
const FIELD_SEP = /[\t\v\f\r ]+/;

export function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && ch.length > 0 && SPACE.test(ch);
}

export function leadingSpace(s: string): number {
  let i = 0;
  while (i < s.length && SPACE.test(s[i]!)) i++;
  return i;
}

export function trailingSpace(s: string): number {
  let i = s.length;
  while (i > 0 && SPACE.test(s[i - 1]!)) i--;
  return s.length - i;
}

export function trimSpace(s: string): string {
  const start = leadingSpace(s);
  return s.slice(start, s.length - trailingSpace(s.slice(start)));
}

/** A substring of the logical line and where it starts in it. */
export interface Span {
  text: string;
  offset: number;
}

function trimmed(span: Span): Span {
  const lead = leadingSpace(span.text);
  const rest = span.text.slice(lead);
  return { text: rest.slice(0, rest.length - trailingSpace(rest)), offset: span.offset + lead };
}

/** `KEYWORD rest`: the first field is the instruction, the rest starts after the whitespace. */
export function splitKeyword(span: Span): { keyword: Token; rest: Span } {
  const t = trimmed(span);
  const m = FIELD_SEP.exec(t.text);
  if (!m) return { keyword: { text: t.text, offset: t.offset }, rest: { text: '', offset: t.offset + t.text.length } };
  const restStart = m.index + m[0].length;
  return {
    keyword: { text: t.text.slice(0, m.index), offset: t.offset },
    rest: { text: t.text.slice(restStart), offset: t.offset + restStart },
  };
}

/**
 * Leading words that start with `--` are flags (quotes removed, escapes applied); a lone `--`
 * ends them. Returns the flags and the trimmed remainder.
 */
export function extractFlags(span: Span, escape: string): { flags: Token[]; args: Span } {
  const line = span.text;
  const flags: Token[] = [];
  let phase: 'space' | 'word' | 'quote' = 'space';
  let word = '';
  let wordStart = 0;
  let quote = '';
  let blankOk = false;
  const rest = (pos: number): { flags: Token[]; args: Span } => ({ flags, args: trimmed({ text: line.slice(pos), offset: span.offset + pos }) });
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : '';
    if (phase === 'space') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return rest(pos);
      phase = 'word';
      wordStart = pos;
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOk || word.length > 0)) flags.push({ text: word, offset: span.offset + wordStart });
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'space';
        if (word === '--') return rest(pos);
        if (blankOk || word.length > 0) flags.push({ text: word, offset: span.offset + wordStart });
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        pos++;
        word += line[pos]!;
        continue;
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += line[pos]!;
      continue;
    }
    word += ch;
  }
  return { flags, args: { text: '', offset: span.offset + line.length } };
}

/**
 * Words separated by whitespace, where quotes and escapes group characters but are kept in the
 * word (ENV, LABEL and ARG; the expansion step removes them later).
 */
export function parseWords(span: Span, escape: string): Token[] {
  const rest = span.text;
  const words: Token[] = [];
  let phase: 'space' | 'word' | 'quote' = 'space';
  let quote = '';
  let blankOk = false;
  let word = '';
  let start = 0;
  const push = (): void => {
    if (blankOk || word.length > 0) words.push({ text: word, offset: span.offset + start });
  };
  for (let pos = 0; pos <= rest.length; pos++) {
    let ch = pos < rest.length ? rest[pos]! : '';
    if (phase === 'space') {
      if (pos === rest.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
      start = pos;
    }
    if (pos === rest.length) {
      push();
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'space';
        push();
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === rest.length) continue;
        // outside quotes an escape and the next character are kept together, even a quote
        word += ch;
        pos++;
        ch = rest[pos]!;
      }
      word += ch;
      continue;
    }
    // in a quote: the escape is special except in single quotes
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === rest.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = rest[pos]!;
    }
    word += ch;
  }
  return words;
}

/** Fields separated by spaces and tabs, no quoting (FROM, EXPOSE, ADD/COPY, VOLUME). */
export function splitFields(span: Span): Token[] {
  const t = trimmed(span);
  if (t.text === '') return [];
  const out: Token[] = [];
  const re = new RegExp(FIELD_SEP.source, 'g');
  let last = 0;
  for (let m = re.exec(t.text); m !== null; m = re.exec(t.text)) {
    out.push({ text: t.text.slice(last, m.index), offset: t.offset + last });
    last = m.index + m[0].length;
  }
  out.push({ text: t.text.slice(last), offset: t.offset + last });
  return out;
}

/** Thrown by parseJsonArray for a valid JSON array with a non-string element. */
export class NotStringArray extends Error {}

/**
 * The exec form: a JSON array of strings. Returns undefined when the text is not a JSON array
 * (then it is the shell form, as in buildkit); throws NotStringArray for other element types.
 */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.slice(leadingSpace(text));
  if (!t.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  for (const v of value) if (typeof v !== 'string') throw new NotStringArray();
  return value as string[];
}

export interface HeredocMarker {
  name: string;
  /** false when part of the delimiter word was quoted: the body is taken literally */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body and the delimiter line */
  chomp: boolean;
  /** `3<<EOF`: the file descriptor the shell feeds the body to */
  fd?: number;
}

/** Thrown by parseHeredocMarker for a delimiter with an unterminated quote. */
export class BadHeredocMarker extends Error {}

// the delimiter starts at the first non-blank, so the regex cannot backtrack over the blanks
const MARKER = /^(\d*)<<(-?)[\t\n\f\r ]*([^<\t\n\f\r ][^<]*)?$/;

/** A word like `<<EOF`, `<<-"EOF"` or `3<<'E O F'`; undefined when the word is not a marker. */
export function parseHeredocMarker(word: string): HeredocMarker | undefined {
  const m = MARKER.exec(word);
  if (!m || m[3] === undefined) return undefined;
  const rest = m[3]!;
  // quote removal; the delimiter must be a single word, and quoting any part of it turns
  // expansion of the body off
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i]!;
    if (ch === "'") {
      const end = rest.indexOf("'", i + 1);
      if (end < 0) throw new BadHeredocMarker(`unterminated single quote in heredoc delimiter ${word}`);
      cur += rest.slice(i + 1, end);
      inWord = true;
      quoted = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\' && (rest[j + 1] === '"' || rest[j + 1] === '$' || rest[j + 1] === '\\')) j++;
        cur += rest[j]!;
      }
      if (j >= rest.length) throw new BadHeredocMarker(`unterminated double quote in heredoc delimiter ${word}`);
      inWord = true;
      quoted = true;
      i = j;
    } else if (ch === '\\') {
      if (i + 1 < rest.length) cur += rest[++i]!;
      inWord = true;
    } else if (isSpace(ch)) {
      if (cur.length > 0) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord && cur.length > 0) words.push(cur);
  if (words.length !== 1) return undefined;
  const marker: HeredocMarker = { name: words[0]!, expand: !quoted, chomp: m[2] === '-' };
  if (m[1] !== '') marker.fd = Number(m[1]);
  return marker;
}

/**
 * The shell words of a line with quotes and escapes kept, where `<<` takes the blanks after it
 * into the same word (`<< EOF` is one word). Undefined when a quote is not closed: buildkit then
 * finds no heredoc in the line.
 */
export function rawShellWords(span: Span, escape: string): Token[] | undefined {
  const s = span.text;
  const words: Token[] = [];
  let cur = '';
  let start = -1;
  const add = (text: string, at: number): void => {
    if (start < 0) start = at;
    cur += text;
  };
  const flush = (): void => {
    if (start >= 0 && cur.length > 0) words.push({ text: cur, offset: span.offset + start });
    cur = '';
    start = -1;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return undefined;
      add(s.slice(i, end + 1), i);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) if (s[j] === escape) j++;
      if (j >= s.length) return undefined;
      add(s.slice(i, j + 1), i);
      i = j;
    } else if (ch === escape) {
      add(s.slice(i, i + 2), i);
      i++;
    } else if (ch === '<' && s[i + 1] === '<') {
      let j = i + 2;
      while (s[j] === ' ' || s[j] === '\t' || s[j] === '\r') j++;
      add(s.slice(i, j), i);
      i = j - 1;
    } else if (isSpace(ch)) {
      flush();
    } else {
      add(ch, i);
    }
  }
  flush();
  return words;
}
