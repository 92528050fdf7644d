// `prun pull`: the shared pull (@pkit/cli-common/pull) into the store opened with the rootless hooks.
import { pullImages as pull, type PullRequest } from '@pkit/cli-common/pull';
import { openStoreForLayers } from './store.ts';

export type { PullRequest } from '@pkit/cli-common/pull';

export function pullImages(req: PullRequest) {
  return pull(req, openStoreForLayers);
}
