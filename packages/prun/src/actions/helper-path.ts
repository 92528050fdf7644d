// Where the pkit-runtime binary of this repository is, from prun's source and from its bundle.
import { StoreError } from '@pkit/storage/errors';
import { repoToolsFrom } from '@pkit/runtime/repo-tools';

/** $PKIT_RUNTIME_HELPER, else native/build/Release/pkit-runtime, found walking up from here. */
export function helperPath(): string {
  if (process.env.PKIT_RUNTIME_HELPER) return process.env.PKIT_RUNTIME_HELPER;
  const { helper } = repoToolsFrom(import.meta.url);
  if (helper === undefined) throw new StoreError('pkit-runtime is not built: run "pnpm install" in the pkit repository', 'PKIT_RUNTIME');
  return helper;
}
