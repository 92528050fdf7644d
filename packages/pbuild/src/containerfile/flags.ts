// The `--name[=value]` flags in front of an instruction's arguments, checked against what the
// instruction accepts: booleans (`--link`, `--link=false`), strings (`--from=x`) and repeatable
// strings (`--mount=...`, `--exclude=...`).
import { ParseError, suggest, type Where } from './errors.ts';
import type { Token } from './words.ts';

export type FlagKind = 'bool' | 'string' | 'strings';
export type FlagSpec = Readonly<Record<string, FlagKind>>;

export class Flags {
  private readonly values = new Map<string, string | boolean | string[]>();

  set(name: string, value: string | boolean | string[]): void {
    this.values.set(name, value);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }
}

export function parseFlags(instruction: string, spec: FlagSpec, tokens: readonly Token[], where: (offset: number) => Where): Flags {
  const flags = new Flags();
  const names = Object.keys(spec);
  for (const tok of tokens) {
    const at = where(tok.offset);
    const eq = tok.text.indexOf('=');
    const name = (eq < 0 ? tok.text : tok.text.slice(0, eq)).slice(2);
    const value = eq < 0 ? undefined : tok.text.slice(eq + 1);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      const s = suggest(name, names);
      const help =
        s !== undefined
          ? ` (did you mean --${s}?)`
          : names.length === 0
            ? ` (${instruction} takes no flags)`
            : ` (expected ${names.map((n) => `--${n}`).join(', ')})`;
      throw new ParseError(at, `unknown flag --${name} for ${instruction}${help}`);
    }
    if (flags.has(name) && kind !== 'strings') throw new ParseError(at, `duplicate flag --${name} for ${instruction}`);
    if (kind === 'bool') {
      if (value === '') throw new ParseError(at, `missing a value on flag --${name}= (use --${name} or --${name}=true|false)`);
      const v = (value ?? 'true').toLowerCase();
      if (v !== 'true' && v !== 'false') throw new ParseError(at, `expecting a boolean value for flag --${name}, not: ${value}`);
      flags.set(name, v === 'true');
    } else {
      if (value === undefined) throw new ParseError(at, `missing a value on flag --${name} (use --${name}=VALUE)`);
      if (kind === 'string') flags.set(name, value);
      else flags.set(name, [...flags.strings(name), value]);
    }
  }
  return flags;
}
