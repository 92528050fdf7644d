// The store as prun opens it where layers are applied or removed: with the rootless hooks, so
// layer files keep the tar's owners (as subordinate ids) and can be removed again.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Store } from '@pkit/storage';
import { rootlessStoreHooks } from '@pkit/runtime';
import { helperPath } from './helper-path.ts';

/** The bundle's own worker program (dist/apply-worker.mjs), when running from the bundle. */
function bundledWorker(): string | undefined {
  for (const rel of ['../apply-worker.mjs', './apply-worker.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function openStoreForLayers(root: string | undefined): Store {
  let helper: string | undefined;
  try {
    helper = helperPath();
  } catch {
    helper = undefined; // not built: layers are applied in this process, owned by the user
  }
  const worker = bundledWorker();
  const hooks = helper ? rootlessStoreHooks({ helper, ...(worker ? { worker } : {}) }) : {};
  return Store.open({ root, ...hooks });
}
