// `pbuild unshare`: the unshare session prun has too (@pkit/runtime/unshare), told where the
// store is: inside, the user is uid 0, whose default store would be root's (/var/lib/pkit).
import { resolve } from 'node:path';
import { resolveStorePaths } from '@pkit/storage/paths';
import { unshareSession } from '@pkit/runtime/unshare';
import { helper } from './working.ts';

export function pbuildUnshare(root: string | undefined, command: string[]): Promise<number> {
  const paths = resolveStorePaths(root ? { root } : {});
  return unshareSession(command, { helper: helper(), env: { PKIT_ROOT: resolve(paths.root), PKIT_RUNROOT: resolve(paths.runRoot) } });
}
