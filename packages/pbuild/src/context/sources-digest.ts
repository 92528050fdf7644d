// The build cache's view of a COPY/ADD from the context: a sha256 over exactly the entries the
// copy reads (sources.ts expands and walks them for both), so a change to a file the COPY reads
// changes it and a change anywhere else does not. Per entry: its path relative to the context,
// mode, size, then a symbolic link's target or a file's content (read in 1 MiB pieces, never
// whole; synchronous reads, as the walk's: over many small files, each async read costs a
// thread-pool round trip, and a context of 10,000 files hashed ~15x slower that way).
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, readlinkSync } from 'node:fs';
import { excludeMatcher, type PathMatcher } from './ignore.ts';
import { expandHostSources, isUrl, sourceEntries } from './sources.ts';

export interface SourcesDigestOptions {
  /** The context's ignore file (loadIgnore). */
  ignore?: PathMatcher | undefined;
  /** COPY/ADD --exclude patterns as written. */
  excludes?: readonly string[] | undefined;
  /** COPY --parents. */
  parents?: boolean | undefined;
  /** ADD: URLs are left out (not in the context; the cache cannot see them). */
  add?: boolean | undefined;
}

/** A file's bytes into `h`, read in `buf`-sized pieces (never whole). */
function hashFile(h: Hash, path: string, buf: Buffer): void {
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * sha256 (hex) of what a COPY/ADD of `sources` reads from `contextDir`. Fails as the copy would
 * (a missing or excluded SRC, a path leaving the context).
 */
export async function sourcesDigest(contextDir: string, sources: readonly string[], opts: SourcesDigestOptions = {}): Promise<string> {
  const exclude = excludeMatcher(opts.excludes ?? []);
  const filters = { ignore: opts.ignore, exclude, parents: opts.parents };
  const items = expandHostSources(opts.add ? sources.filter((s) => !isUrl(s)) : sources, { ...filters, contextDir });
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const item of items) {
    h.update(`source\0${item.rel}\0${item.kept ?? ''}\0`);
    for (const e of sourceEntries(item, filters)) {
      h.update(`${e.rel}\0${e.st.mode}\0${e.st.size}\0`);
      if (e.st.isSymbolicLink()) h.update(readlinkSync(e.path));
      else if (e.st.isFile()) hashFile(h, e.path, buf);
      h.update('\0');
    }
  }
  return h.digest('hex');
}
