// The programs a CLI runs beside itself: the pkit-runtime built in the repository
// (native/build/Release) and a worker program a bundle emits next to its entry file
// (dist/apply-worker.mjs, dist/diff-worker.mjs). Both are found by walking up from the
// caller's own file, so the same code works from the sources and from a bundle.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** From `from` (an import.meta.url) upwards: the helper, and `workerFile` when given and found. */
export function repoToolsFrom(from: string | URL, workerFile?: string): { helper?: string; worker?: string } {
  let dir = dirname(fileURLToPath(from));
  let helper: string | undefined;
  let worker: string | undefined;
  for (let i = 0; i < 6 && !helper; i++) {
    const h = join(dir, 'native', 'build', 'Release', 'pkit-runtime');
    if (existsSync(h)) helper = h;
    const w = workerFile === undefined ? undefined : join(dir, workerFile);
    if (!worker && w !== undefined && existsSync(w)) worker = w;
    dir = dirname(dir);
  }
  return { ...(helper ? { helper } : {}), ...(worker ? { worker } : {}) };
}
