// The one error the Containerfile module throws, and the warnings it collects. Every message
// starts with `file:line:col:` so that an editor can jump to it; the CLI prints it as is.

/** A place in the Containerfile; line and col count from 1 (col in UTF-16 units). */
export interface Position {
  line: number;
  col: number;
}

/** Where a problem is: the file name used in messages and a position (line 0 = unknown). */
export interface Where extends Position {
  file: string;
}

export class ParseError extends Error {
  override name = 'ParseError';
  readonly code = 'PKIT_CONTAINERFILE';
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The message without its `file:line:col:` prefix. */
  readonly reason: string;

  constructor(where: Where, reason: string) {
    super(`${formatWhere(where)}: ${reason}`);
    this.file = where.file;
    this.line = where.line;
    this.col = where.col;
    this.reason = reason;
  }
}

export interface Warning extends Where {
  message: string;
}

export function formatWhere(where: Where): string {
  if (where.line <= 0) return where.file;
  return `${where.file}:${where.line}:${where.col}`;
}

/** Levenshtein distance, for "did you mean" hints (inputs are short words). */
function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest option within 2 edits (as buildkit suggests), compared case-insensitively. */
export function suggest(value: string, options: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  let best: string | undefined;
  let bestDist = 3;
  for (const opt of options) {
    const d = distance(v, opt.toLowerCase());
    if (d === 0) return undefined;
    if (d < bestDist) {
      best = opt;
      bestDist = d;
    }
  }
  return best;
}

/** " (did you mean X?)" or "" */
export function didYouMean(value: string, options: readonly string[]): string {
  const s = suggest(value, options);
  return s === undefined ? '' : ` (did you mean ${s}?)`;
}
