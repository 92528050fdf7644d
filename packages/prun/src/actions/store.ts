// The store as prun opens it where layers are applied or removed: with the rootless hooks, so
// layer files keep the tar's owners (as subordinate ids) and can be removed again.
import { Store } from '@pkit/storage';
import { rootlessStoreHooksFrom } from '@pkit/runtime/store-hooks';

export function openStoreForLayers(root: string | undefined): Store {
  return Store.open({ root, ...rootlessStoreHooksFrom(import.meta.url) });
}
