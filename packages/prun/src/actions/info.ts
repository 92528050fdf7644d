// The work of `prun info`, loaded only when that command runs. Named static imports let the
// bundler keep just the library code used here (docs/cli.md, "lazy command work").
import { resolveStorePaths, type StorePaths } from '@pkit/storage';

export function info(root: string | undefined): StorePaths {
  return resolveStorePaths({ root });
}
