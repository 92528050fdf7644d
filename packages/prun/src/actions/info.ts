// The work of `prun info`, loaded only when that command runs. It imports the one storage module
// it needs (a subpath export), so the bundle loads no transport, registry or tar code for it.
import { resolveStorePaths, type StorePaths } from '@pkit/storage/paths';

export function info(root: string | undefined): StorePaths {
  return resolveStorePaths({ root });
}
