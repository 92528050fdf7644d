// `prun image prune` and the image half of `prun system prune`: dangling images (no name and
// no child: a build's intermediate images stay while the image built on them does, as
// podman's), or with `all` every image no container uses.
import { StoreError, pruneImages as pruneStore, type Digest, type Store } from '@pkit/storage';

export interface ImagePruneResult {
  removed: Digest[];
  /** Uncompressed layer bytes freed. */
  reclaimed: number;
}

export async function pruneImages(store: Store, opts: { all: boolean }): Promise<ImagePruneResult> {
  const r = await pruneStore(store, (image, { hasChildren }) => opts.all || (image.names.length === 0 && !hasChildren));
  return { removed: r.removed, reclaimed: r.layerBytes };
}

/**
 * Asks before a prune, as podman does: the warning and "[y/N]" on stderr (stdout stays data),
 * the answer read as one line from stdin. True only for y or yes; no answer at all is an error.
 */
export async function confirm(warning: string): Promise<boolean> {
  const { createInterface } = await import('node:readline');
  process.stderr.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: process.stdin, terminal: false });
  const answer = await new Promise<string | undefined>((resolve) => {
    rl.once('line', (l) => resolve(l));
    rl.once('close', () => resolve(undefined));
  });
  rl.close();
  if (answer === undefined) {
    process.stderr.write('\n');
    throw new StoreError('no answer on stdin: pass -f (--force) to prune without asking', 'PKIT_BAD_INPUT');
  }
  return /^(y|yes)$/i.test(answer.trim());
}
