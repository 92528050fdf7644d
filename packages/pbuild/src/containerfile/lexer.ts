// The lexer: from the bytes of a Containerfile to logical lines. It reads the parser directives
// at the top (`# syntax=`, `# escape=`, `# check=`), drops comment lines, joins continuation
// lines (skipping comment and blank lines inside them, as buildkit does), and collects the bodies
// of heredocs that follow RUN, COPY and ADD lines. A logical line keeps a map back to the
// physical lines so that any offset in it has a line:col.
import { ParseError, type Position, type Warning } from './errors.ts';
import {
  BadHeredocMarker,
  extractFlags,
  leadingSpace,
  parseHeredocMarker,
  parseJsonArray,
  rawShellWords,
  splitKeyword,
  type HeredocMarker,
  NotStringArray,
} from './words.ts';

export type EscapeChar = '\\' | '`';

export interface Directive {
  /** lower-case: syntax, escape or check */
  name: string;
  value: string;
  line: number;
}

/** A heredoc body: the lines between the marker's line and the delimiter line. */
export interface Heredoc extends HeredocMarker {
  /** the body with its line endings; with `<<-`, leading tabs already removed */
  content: string;
}

export interface LexedHeredoc extends Heredoc {
  /** where the `<<` marker is */
  at: Position;
}

interface Segment {
  offset: number;
  line: number;
  col: number;
}

export interface LogicalLine {
  /** the instruction with continuations joined, leading whitespace removed */
  text: string;
  startLine: number;
  /** the last physical line, heredoc bodies included */
  endLine: number;
  heredocs: LexedHeredoc[];
  segments: Segment[];
}

export interface Lexed {
  escape: EscapeChar;
  directives: Directive[];
  lines: LogicalLine[];
  warnings: Warning[];
  /** the position just after the last character of the file */
  end: Position;
}

/** The line:col of an offset in a logical line. */
export function positionAt(line: LogicalLine, offset: number): Position {
  let seg = line.segments[0]!;
  for (const s of line.segments) {
    if (s.offset > offset) break;
    seg = s;
  }
  return { line: seg.line, col: seg.col + Math.max(0, offset - seg.offset) };
}

/** Text of a Containerfile given as bytes (invalid UTF-8 becomes U+FFFD) or a string. */
export function decodeContainerfile(input: string | Uint8Array): string {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

// `name = value`; the value is trimmed separately (a lazy regex would be quadratic on long lines)
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=(.*)$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

// Go's regexp \s
const GO_BLANKS = '\t\n\f\r ';

// Loops, not regexes: /x+$/ is quadratic on a long run of x that is not at the end.
function trimEnd(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

function trimStart(s: string, chars: string): string {
  let start = 0;
  while (start < s.length && chars.includes(s[start]!)) start++;
  return s.slice(start);
}

interface PhysicalLine {
  /** with its line ending, as heredoc bodies keep it */
  raw: string;
  /** without trailing CR/LF */
  body: string;
}

function physicalLines(text: string): PhysicalLine[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p, i) => ({
    raw: i < parts.length - 1 || text.endsWith('\n') ? `${p}\n` : p,
    body: trimEnd(p, '\r\n'),
  }));
}

function isComment(body: string): boolean {
  return body[leadingSpace(body)] === '#';
}

/** buildkit's rule: the escape char at the end (blanks after it allowed), not itself escaped. */
function continuationRegex(escape: EscapeChar): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Whether buildkit looks for heredocs in this line: RUN/COPY/ADD (also under ONBUILD), not JSON. */
function mayHaveHeredocs(text: string, escape: EscapeChar): boolean {
  if (!text.includes('<<')) return false;
  let { keyword, rest } = splitKeyword({ text, offset: 0 });
  let kw = keyword.text.toLowerCase();
  if (kw === 'onbuild') {
    ({ keyword, rest } = splitKeyword(extractFlags(rest, escape).args));
    kw = keyword.text.toLowerCase();
  }
  if (!HEREDOC_INSTRUCTIONS.has(kw)) return false;
  try {
    return parseJsonArray(extractFlags(rest, escape).args.text) === undefined;
  } catch (err) {
    if (err instanceof NotStringArray) return false; // the parser reports it
    throw err;
  }
}

export function lex(input: string | Uint8Array, file = 'Containerfile'): Lexed {
  const lines = physicalLines(decodeContainerfile(input));
  const last = lines[lines.length - 1];
  const end: Position =
    last === undefined ? { line: 1, col: 1 } : last.raw.endsWith('\n') ? { line: lines.length + 1, col: 1 } : { line: lines.length, col: last.body.length + 1 };
  const out: Lexed = { escape: '\\', directives: [], lines: [], warnings: [], end };
  let continuation = continuationRegex('\\');
  let directivesDone = false;
  const seen = new Set<string>();

  // Directives are comments at the very top; anything else (a blank line too) ends them.
  const directive = (body: string, lineNo: number): void => {
    const m = body.startsWith('#') ? DIRECTIVE.exec(body.slice(1).slice(leadingSpace(body.slice(1)))) : null;
    const name = m ? m[1]!.toLowerCase() : '';
    const value = m ? trimEnd(trimStart(m[2]!, GO_BLANKS), GO_BLANKS) : '';
    if (!m || value === '' || !KNOWN_DIRECTIVES.has(name)) {
      directivesDone = true;
      return;
    }
    const where = { file, line: lineNo, col: 1 };
    if (seen.has(name)) throw new ParseError(where, `only one ${name} parser directive can be used`);
    seen.add(name);
    if (name === 'escape') {
      if (value !== '\\' && value !== '`') throw new ParseError(where, `invalid escape character '${value}': expected \` or \\`);
      out.escape = value;
      continuation = continuationRegex(value);
    }
    out.directives.push({ name, value, line: lineNo });
  };

  const trimContinuation = (s: string): [string, boolean] => {
    if (!continuation.test(s)) return [s, true];
    return [s.replace(continuation, '$1'), false];
  };

  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    const first = lines[i++]!;
    const lead = leadingSpace(first.body);
    const stripped = first.body.slice(lead);
    if (!directivesDone) directive(stripped, startLine);
    if (stripped.startsWith('#')) continue;
    let [text, done] = trimContinuation(stripped);
    if (done && text === '') continue;

    const segments: Segment[] = [{ offset: 0, line: startLine, col: lead + 1 }];
    let emptyContinuation = 0;
    while (!done && i < lines.length) {
      const next = lines[i++]!;
      if (isComment(next.body)) continue;
      if (next.body.slice(leadingSpace(next.body)) === '') {
        emptyContinuation ||= i;
        continue;
      }
      const [t, d] = trimContinuation(next.body);
      segments.push({ offset: text.length, line: i, col: 1 });
      text += t;
      done = d;
    }
    if (emptyContinuation) {
      out.warnings.push({ file, line: emptyContinuation, col: 1, message: 'empty continuation line (blank line inside a continued instruction)' });
    }

    // a lone continuation character (at the end of the file, or before only comments) is nothing
    if (text.slice(leadingSpace(text)) === '') continue;
    const logical: LogicalLine = { text, startLine, endLine: i, heredocs: [], segments };
    if (mayHaveHeredocs(text, out.escape)) {
      for (const word of rawShellWords({ text, offset: 0 }, '\\') ?? []) {
        let marker: HeredocMarker | undefined;
        try {
          marker = parseHeredocMarker(word.text);
        } catch (err) {
          if (err instanceof BadHeredocMarker) throw new ParseError({ file, ...positionAt(logical, word.offset) }, err.message);
          throw err;
        }
        if (!marker) continue;
        const at = positionAt(logical, word.offset);
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const body = lines[i++]!;
          const candidate = marker.chomp ? body.body.replace(/^\t+/, '') : body.body;
          if (candidate === marker.name) {
            terminated = true;
            break;
          }
          content += body.raw;
        }
        if (!terminated) {
          throw new ParseError(
            { file, ...end },
            `unterminated heredoc <<${marker.name} (started at ${at.line}:${at.col}): expected a line "${marker.name}" before the end of the file`,
          );
        }
        if (marker.chomp) content = content.replace(/(^|\n)\t+/g, '$1');
        logical.heredocs.push({ ...marker, content, at });
      }
      logical.endLine = i;
    }
    out.lines.push(logical);
  }
  return out;
}
