// One directory of an image, as an overlay of its layers: the layer directories (top first)
// whose entry at that path makes up the merged directory, so that overlay can show the
// directory alone (`RUN --mount=type=bind,from=IMAGE,source=/etc`) without mounting the rest.
// A layer stops the stack where overlay would: a whiteout or a file at the path or above it,
// or an opaque directory at it or above it.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { isOpaqueDir } from '@pkit/storage/layers/overlay-lookup';

/** `path` must be resolved (no symlinks on the way: lookupInLayers' `path`) and a directory. */
export function dirStack(layersTopFirst: readonly string[], path: string): string[] {
  const comps = path.split('/').filter((c) => c !== '');
  const out: string[] = [];
  for (const layer of layersTopFirst) {
    let present = true;
    let hides = false;
    for (let i = 1; i <= comps.length; i++) {
      const p = join(layer, ...comps.slice(0, i));
      let isDir: boolean;
      try {
        isDir = lstatSync(p).isDirectory();
      } catch {
        present = false;
        break;
      }
      if (!isDir) {
        present = false;
        hides = true;
        break;
      }
      if (i < comps.length && isOpaqueDir(p)) hides = true;
    }
    if (present) {
      const dir = join(layer, ...comps);
      out.push(dir);
      if (isOpaqueDir(dir)) hides = true;
    }
    if (hides) break;
  }
  return out;
}
