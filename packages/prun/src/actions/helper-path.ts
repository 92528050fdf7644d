// Where the pkit-runtime binary of this repository is, from prun's source and from its bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StoreError } from '@pkit/storage/errors';

/** $PKIT_RUNTIME_HELPER, else native/build/Release/pkit-runtime: src/actions and dist/chunks are 4 levels down, dist/ 3. */
export function helperPath(): string {
  if (process.env.PKIT_RUNTIME_HELPER) return process.env.PKIT_RUNTIME_HELPER;
  for (const rel of ['../../../../native/build/Release/pkit-runtime', '../../../native/build/Release/pkit-runtime']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new StoreError('pkit-runtime is not built: run "pnpm install" in the pkit repository', 'PKIT_RUNTIME');
}
