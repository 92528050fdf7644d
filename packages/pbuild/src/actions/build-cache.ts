// The build cache of `pbuild build`, one entry per step: a step whose inputs are all unchanged
// (its parent image; its instruction after expansion, with its heredoc bodies; the ARG values
// and the network a RUN sees; the content of the context files a COPY/ADD or a RUN's bind
// mount reads; the images a COPY --from or RUN --mount=from= reads; the --timestamp; whether
// the base's ONBUILD triggers are dropped; for the last step the --label/--env changes,
// annotations and format) reuses the image it made before. Secrets are never
// part of a key. A change invalidates that step and, through the parent, those after it;
// nothing before. Entries live in <root>/build-cache/<key>.json and count only while their
// image exists.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instruction } from '../containerfile/index.ts';
import { isUrl } from '../context/sources.ts';

export interface CacheEntry {
  /** the image the step made */
  image: string;
}

/** Whether a step reads the build context (COPY/ADD of paths without --from, RUN --mount=type=bind without from). */
export function readsContext(i: Instruction): boolean {
  if (i.kind === 'RUN') return i.mounts.some((m) => m.type === 'bind' && m.from === undefined);
  return (i.kind === 'COPY' && i.from === undefined && i.sources.some((s) => s.kind === 'path')) || (i.kind === 'ADD' && i.sources.some((s) => s.kind === 'path'));
}

/** ADD of a URL fetches something the key cannot see: such a step is never taken from the cache. */
export function cacheable(i: Instruction): boolean {
  return !(i.kind === 'ADD' && i.sources.some((s) => s.kind === 'path' && isUrl(s.path)));
}

/** The key of one step; `instruction` is the expanded one (its source position left out). */
export function stepKey(parts: { parent: string; instruction: Instruction; args?: Map<string, string>; context?: string; images?: Array<[string, string]>; output?: unknown }): string {
  const { loc: _loc, ...instruction } = parts.instruction as Instruction & { loc?: unknown };
  return createHash('sha256')
    .update(JSON.stringify({
      v: 2,
      parent: parts.parent,
      instruction,
      args: parts.args ? [...parts.args].sort(([a], [b]) => a.localeCompare(b)) : null,
      context: parts.context ?? null,
      images: parts.images ?? null,
      output: parts.output ?? null,
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
