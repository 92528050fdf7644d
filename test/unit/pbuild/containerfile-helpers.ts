// Shared by the containerfile-*.test.ts files: parse shortcuts and error capture.
import * as assert from 'uvu/assert';
import { ParseError, parseContainerfile, type Instruction, type ParseOptions } from '../../../packages/pbuild/src/containerfile/index.ts';

/** A deep copy without `loc` and `source`, so tables can state just the parsed values. */
export function strip<T>(value: T): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, strip(v)]));
  if (value !== null && typeof value === 'object') {
    // `source` is an instruction's text only next to `loc` (a mount has a `source` of its own)
    const isInstruction = 'loc' in value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!(isInstruction && (k === 'loc' || k === 'source'))) out[k] = strip(v);
    return out;
  }
  return value;
}

/** The instructions of `text` placed after `FROM base` (stripped). */
export function instructionsOf(text: string, options?: ParseOptions): unknown[] {
  return strip(parseContainerfile(`FROM base\n${text}`, options).stages[0]!.instructions) as unknown[];
}

export function firstInstruction(text: string): Instruction {
  return parseContainerfile(`FROM base\n${text}`).stages[0]!.instructions[0]!;
}

/** The ParseError `fn` throws; fails the test when it throws anything else or nothing. */
export function parseErrorOf(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    assert.is(err.code, 'PKIT_CONTAINERFILE');
    assert.not.match(err.message, /\n/);
    return err;
  }
  assert.unreachable('expected a ParseError');
  throw new Error('unreachable');
}

export function errorMessage(src: string, options?: ParseOptions): string {
  return parseErrorOf(() => parseContainerfile(src, options)).message;
}
