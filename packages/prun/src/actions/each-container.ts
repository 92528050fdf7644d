// The loop the container commands share (stop, kill, start, restart, wait, rm, ...): resolve
// each name or ID, act on it, collect the failures, and report them as podman does (every
// failure on stderr, the last one as the command's error).
import { type ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { engine, listContainers, findContainer, type Engine } from './containers.ts';

export interface EachOptions {
  root: string | undefined;
  queries: string[];
  /** --all: every container (refreshed), in creation order. */
  all?: boolean;
  /** With --all: which containers count (default: all). */
  filter?: (rec: ContainerRecord) => boolean;
}

/**
 * Runs `act` for every container asked for; `act` returns the line to print on stdout (or
 * nothing). Returns the failure messages; the caller exits 125 when there are any.
 */
export async function eachContainer(opts: EachOptions, act: (e: Engine, rec: ContainerRecord, query: string) => Promise<string | undefined>): Promise<string[]> {
  const store = Store.open({ root: opts.root });
  const errors: string[] = [];
  try {
    const e = engine(store);
    const targets: Array<[ContainerRecord, string]> = [];
    if (opts.all) {
      for (const rec of await listContainers(e)) if (!opts.filter || opts.filter(rec)) targets.push([rec, rec.id]);
    }
    for (const q of opts.queries) {
      try {
        targets.push([await findContainer(e, q), q]);
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        errors.push(err.message);
      }
    }
    const seen = new Set<string>();
    for (const [rec, q] of targets) {
      if (seen.has(rec.id)) continue;
      seen.add(rec.id);
      try {
        const line = await act(e, rec, q);
        if (line !== undefined) process.stdout.write(`${line}\n`);
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        errors.push(err.message);
      }
    }
  } finally {
    store.close();
  }
  return errors;
}

/** Prints all failures but the last; returns the last (for this.error), or undefined. */
export function reportFailures(errors: string[]): string | undefined {
  for (const m of errors.slice(0, -1)) process.stderr.write(`Error: ${m}\n`);
  return errors.at(-1);
}
