// The build cache of `pbuild build`, per stage for now: a stage whose inputs are all unchanged
// (its base image, its instructions as written with their heredoc bodies, the build and global
// ARG values, the ARG scope it inherits, the images it copies from, the labels of the last
// stage, and the content of the build context when it copies from it) reuses the image it made
// before. Entries live in <root>/build-cache/<key>.json and count only while their image exists.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instruction } from '../containerfile/index.ts';

export interface CacheEntry {
  image: string;
  /** the stage's ARG scope when it ended (stages built FROM it inherit it) */
  argValues: Array<[string, string]>;
  declared: string[];
}

/** sha256 over the context's tree: names, modes, sizes, link targets and contents, in order. */
export async function contextDigest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, p));
      h.update(`${p}\0${st.mode}\0${st.size}\0`);
      if (st.isSymbolicLink()) h.update(readlinkSync(join(dir, p)));
      else if (st.isDirectory()) await walk(p);
      else if (st.isFile()) {
        for await (const chunk of createReadStream(join(dir, p))) h.update(chunk as Buffer);
      }
      h.update('\0');
    }
  };
  await walk('');
  return h.digest('hex');
}

/** Whether a stage reads the build context (COPY/ADD of paths without --from). */
export function readsContext(instructions: readonly Instruction[]): boolean {
  return instructions.some((i) => (i.kind === 'COPY' && i.from === undefined && i.sources.some((s) => s.kind === 'path')) || (i.kind === 'ADD' && i.sources.some((s) => s.kind === 'path')));
}

/** ADD of a URL fetches something the key cannot see: such a stage is never taken from the cache. */
export function cacheable(instructions: readonly Instruction[]): boolean {
  return !instructions.some((i) => i.kind === 'ADD' && i.sources.some((s) => s.kind === 'path' && /^https?:\/\//.test(s.path)));
}

/** The text of an instruction with its heredoc bodies, which `source` leaves out. */
function instructionText(i: Instruction): string {
  const heredocs = 'heredocs' in i ? i.heredocs : 'sources' in i ? i.sources.flatMap((s) => (s.kind === 'heredoc' ? [s.heredoc] : [])) : [];
  return [i.source, ...heredocs.map((h) => `${h.name}\n${h.content}`)].join('\0');
}

export function stageKey(parts: { base: string; instructions: readonly Instruction[]; buildArgs: Map<string, string>; globals: Map<string, string>; inherited: Array<[string, string]>; froms: string[]; labels: string[]; context?: string }): string {
  const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify({
      v: 1,
      base: parts.base,
      instructions: parts.instructions.map(instructionText),
      buildArgs: sorted(parts.buildArgs),
      globals: sorted(parts.globals),
      inherited: parts.inherited,
      froms: parts.froms,
      labels: parts.labels,
      context: parts.context ?? null,
    }))
    .digest('hex');
}

export function readEntry(root: string, key: string): CacheEntry | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'build-cache', `${key}.json`), 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
}

export function writeEntry(root: string, key: string, entry: CacheEntry): void {
  const dir = join(root, 'build-cache');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${key}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, join(dir, `${key}.json`));
}
