// `prun unshare`: @pkit/runtime's unshare session (shared with pbuild) with this repository's helper.
import { unshareSession } from '@pkit/runtime/unshare';
import { helperPath } from './helper-path.ts';

export function unshareAction(command: string[]): Promise<number> {
  return unshareSession(command, { helper: helperPath() });
}
