// The stage graph: what each stage needs (the stage it is based on, stages and images it copies
// or mounts from) and which stages a target needs, so that only those are built. A stage may
// only use stages defined before it; a name that is no stage is an image.
import { didYouMean, ParseError } from './errors.ts';
import type { Instruction, Location } from './instructions.ts';
import type { Containerfile, Stage } from './parser.ts';

export type StageDependency =
  | { kind: 'stage'; index: number; via: 'FROM' | 'COPY' | 'RUN'; loc: Location }
  | { kind: 'image'; ref: string; via: 'FROM' | 'COPY' | 'RUN'; loc: Location };

/** The stage index for a name (case-insensitive; the last stage of that name). */
export function findStage(cf: Containerfile, name: string): number | undefined {
  const lower = name.toLowerCase();
  for (let i = cf.stages.length - 1; i >= 0; i--) if (cf.stages[i]!.name === lower) return i;
  return undefined;
}

function where(loc: Location): { file: string; line: number; col: number } {
  return { file: loc.file, line: loc.line, col: loc.col };
}

// COPY --from and RUN --mount from= name stages defined before the current one; a stage of
// that name defined later is an error, anything else is an image.
function refDependency(cf: Containerfile, stage: Stage, ref: string, via: 'COPY' | 'RUN', instr: Instruction): StageDependency {
  const loc = instr.loc;
  const isIndex = via === 'COPY' && /^\d+$/.test(ref);
  const index = isIndex ? Number(ref) : findStageBefore(cf, ref, stage.index) ?? findStage(cf, ref);
  if (isIndex && index !== undefined && index >= cf.stages.length) throw new ParseError(where(loc), `COPY --from=${ref}: there is no stage ${ref}`);
  if (index === undefined) return { kind: 'image', ref, via, loc };
  if (index >= stage.index) {
    const what = via === 'COPY' ? `cannot copy from stage "${ref}"` : `cannot mount from stage "${ref}"`;
    throw new ParseError(where(loc), `${what}: it must be defined before the current stage${stage.name ? ` "${stage.name}"` : ''}`);
  }
  return { kind: 'stage', index, via, loc };
}

function findStageBefore(cf: Containerfile, name: string, before: number): number | undefined {
  const lower = name.toLowerCase();
  for (let i = before - 1; i >= 0; i--) if (cf.stages[i]!.name === lower) return i;
  return undefined;
}

/** What one stage needs, in the order of its instructions (FROM first). */
export function stageDependencies(cf: Containerfile, index: number): StageDependency[] {
  const stage = cf.stages[index];
  if (stage === undefined) throw new RangeError(`no stage ${index}`);
  const deps: StageDependency[] = [];
  const loc = stage.from.loc;
  if (stage.base.kind === 'stage') deps.push({ kind: 'stage', index: stage.base.index, via: 'FROM', loc });
  else if (stage.base.kind === 'image') deps.push({ kind: 'image', ref: stage.base.ref, via: 'FROM', loc });
  for (const instr of stage.instructions) {
    if (instr.kind === 'COPY' && instr.from !== undefined) deps.push(refDependency(cf, stage, instr.from, 'COPY', instr));
    if (instr.kind === 'RUN') {
      for (const m of instr.mounts) if (m.from !== undefined) deps.push(refDependency(cf, stage, m.from, 'RUN', instr));
    }
  }
  return deps;
}

/**
 * The stages a build of `target` (a stage name; default the last stage) needs, in build order
 * (ascending: a stage only depends on earlier ones).
 */
export function stagesForTarget(cf: Containerfile, target?: string): number[] {
  let start = cf.stages.length - 1;
  if (target !== undefined && target !== '') {
    const found = findStage(cf, target);
    if (found === undefined) {
      const names = cf.stages.flatMap((s) => (s.name ? [s.name] : []));
      const known = names.length > 0 ? `; the stages are ${names.join(', ')}` : '; no stage has a name (FROM IMAGE AS NAME)';
      throw new ParseError({ file: cf.file, line: 0, col: 0 }, `target stage "${target}" could not be found${didYouMean(target, names)}${known}`);
    }
    start = found;
  }
  const needed = new Set<number>();
  const visit = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of stageDependencies(cf, i)) if (d.kind === 'stage') visit(d.index);
  };
  visit(start);
  return [...needed].sort((a, b) => a - b);
}
