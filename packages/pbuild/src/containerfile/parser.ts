// The parser: a Containerfile to its global ARGs and stages. The lexer (lexer.ts) makes logical
// lines, line-parser.ts typed instructions; here they are grouped into stages and the FROM lines
// are expanded with the global scope.
import { formatPlatform, parsePlatform, resolveGlobalArgs, toMap, type ArgValues, type BuildPlatforms } from './args.ts';
import { ParseError, type Warning, type Where } from './errors.ts';
import { expandWord } from './expand.ts';
import type { ArgInstruction, FromInstruction, Instruction, Location, TriggerInstruction } from './instructions.ts';
import { lex, type Directive, type EscapeChar } from './lexer.ts';
import { parseLine, type Ctx } from './line-parser.ts';

export interface ParseOptions {
  /** the name used in messages (default "Containerfile") */
  file?: string;
  /** --build-arg values: they set global ARGs used in FROM lines */
  buildArgs?: ArgValues;
  /** target and build platforms, for the automatic platform ARGs */
  platform?: BuildPlatforms;
}

/** What a stage starts from. */
export type StageBase = { kind: 'stage'; index: number } | { kind: 'scratch' } | { kind: 'image'; ref: string };

export interface Stage {
  index: number;
  /** `AS name`, lower-cased */
  name?: string;
  from: FromInstruction;
  /** FROM's image with the global ARGs replaced */
  baseImage: string;
  base: StageBase;
  /** FROM --platform, expanded and normalized (linux/arm/v7) */
  platform?: string;
  /** the instructions after FROM, up to the next FROM */
  instructions: Instruction[];
}

export interface Containerfile {
  file: string;
  escape: EscapeChar;
  /** the `# syntax=` directive, if any (recorded; no external frontend is run) */
  syntax?: string;
  directives: Directive[];
  /** the ARG instructions before the first FROM */
  globalArgs: ArgInstruction[];
  /** the global scope FROM lines were expanded with (platform ARGs and global ARGs) */
  globalValues: Map<string, string>;
  stages: Stage[];
  warnings: Warning[];
}

export interface ParsedInstructions {
  file: string;
  escape: EscapeChar;
  directives: Directive[];
  instructions: Instruction[];
  warnings: Warning[];
}

/** Parses every instruction, without grouping them into stages. */
export function parseInstructions(input: string | Uint8Array, options: { file?: string } = {}): ParsedInstructions {
  const file = options.file ?? 'Containerfile';
  const lexed = lex(input, file);
  const ctx: Ctx = { file, escape: lexed.escape, warnings: lexed.warnings };
  const instructions = lexed.lines.map((line) => parseLine(ctx, line, { text: line.text, offset: 0 }));
  return { file, escape: lexed.escape, directives: lexed.directives, instructions, warnings: ctx.warnings };
}

/** Parses a Containerfile into its global ARGs and stages; FROM lines are expanded. */
export function parseContainerfile(input: string | Uint8Array, options: ParseOptions = {}): Containerfile {
  const parsed = parseInstructions(input, options);
  const { file, escape } = parsed;
  if (parsed.instructions.length === 0) throw new ParseError({ file, line: 1, col: 1 }, 'the file has no instructions (expected FROM IMAGE)');

  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const instr of parsed.instructions) {
    if (instr.kind === 'FROM') {
      stages.push({ index: stages.length, from: instr, baseImage: instr.image, base: { kind: 'image', ref: instr.image }, instructions: [] });
      if (instr.name !== undefined) stages[stages.length - 1]!.name = instr.name;
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push(instr);
    } else if (instr.kind === 'ARG') {
      globalArgs.push(instr);
    } else {
      throw new ParseError(whereOf(instr.loc), `${instr.kind} before the first FROM: only ARG may come before FROM`);
    }
  }
  if (stages.length === 0) {
    throw new ParseError({ file, line: globalArgs[0]!.loc.line, col: 1 }, 'no FROM instruction: a Containerfile needs at least one stage (FROM IMAGE)');
  }

  const globalValues = resolveGlobalArgs(globalArgs, toMap(options.buildArgs), options.platform ?? {}, escape);
  const warnings = parsed.warnings;
  for (const stage of stages) resolveFrom(stage, stages, globalValues, escape, warnings);
  const cf: Containerfile = { file, escape, directives: parsed.directives, globalArgs, globalValues, stages, warnings };
  const syntax = parsed.directives.find((d) => d.name === 'syntax');
  if (syntax) cf.syntax = syntax.value;
  return cf;
}

/**
 * An ONBUILD trigger from a base image's config (`RUN make`), parsed as the instruction it
 * wraps. The result still needs expanding, with the downstream stage's variables.
 */
export function parseTrigger(expression: string, options: { file?: string } = {}): TriggerInstruction {
  const file = options.file ?? 'ONBUILD';
  const lexed = lex(expression, file);
  const ctx: Ctx = { file, escape: lexed.escape, warnings: lexed.warnings };
  const line = lexed.lines[0];
  if (line === undefined || lexed.lines.length > 1) throw new ParseError({ file, line: 1, col: 1 }, `an ONBUILD trigger must be one instruction: ${JSON.stringify(expression)}`);
  const instr = parseLine(ctx, line, { text: line.text, offset: 0 });
  if (instr.kind === 'FROM' || instr.kind === 'ONBUILD' || instr.kind === 'MAINTAINER') {
    throw new ParseError(whereOf(instr.loc), `${instr.kind} isn't allowed as an ONBUILD trigger`);
  }
  return instr;
}

function whereOf(loc: Location): Where {
  return { file: loc.file, line: loc.line, col: loc.col };
}

function resolveFrom(stage: Stage, stages: Stage[], globals: Map<string, string>, escape: string, warnings: Warning[]): void {
  const from = stage.from;
  const where = whereOf(from.loc);
  const image = expandWord(from.image, globals, { escape, where });
  if (image === '') throw new ParseError(where, `the image of "FROM ${from.image}" is empty after expanding the global ARGs`);
  stage.baseImage = image;
  let base: StageBase = image === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: image };
  for (let j = stage.index - 1; j >= 0; j--) {
    if (stages[j]!.name === image.toLowerCase()) {
      base = { kind: 'stage', index: j };
      break;
    }
  }
  stage.base = base;
  if (from.platform !== undefined) {
    const p = expandWord(from.platform, globals, { escape, where });
    if (p === '') throw new ParseError(where, `the platform of FROM (--platform=${from.platform}) is empty after expanding the global ARGs`);
    stage.platform = formatPlatform(parsePlatform(p, where));
  }
  if (stage.name !== undefined) {
    const dup = stages.slice(0, stage.index).find((s) => s.name === stage.name);
    if (dup) warnings.push({ ...where, message: `duplicate stage name "${stage.name}" (also stage ${dup.index}); later references use this one` });
  }
}
