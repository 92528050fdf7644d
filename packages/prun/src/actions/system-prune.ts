// `prun system prune`: containers that are not running, then (with `volumes`) the volumes no
// container uses, then dangling images (with `all`, every image no container uses once those
// containers are gone).
import type { Store } from '@pkit/storage';
import { deleteContainer } from '../commands/rm.ts';
import { pruneImages } from './prune.ts';
import { treeSize } from './system-df.ts';

export interface SystemPruneResult {
  containers: string[];
  volumes: string[];
  images: string[];
  reclaimed: number;
}

export async function systemPrune(store: Store, opts: { all: boolean; volumes: boolean }): Promise<SystemPruneResult> {
  const containers: string[] = [];
  let reclaimed = 0;
  for (const c of await store.containers.list()) {
    if (c.state === 'running' || c.state === 'paused') continue;
    reclaimed += await treeSize(store.containers.containerDir(c.id));
    await deleteContainer(store, c.id);
    containers.push(c.id);
  }
  const volumes: string[] = [];
  if (opts.volumes) {
    const sizes = new Map<string, number>();
    for (const v of await store.volumes.list()) sizes.set(v.name, await treeSize(v.mountpoint));
    for (const name of await store.volumes.prune()) {
      volumes.push(name);
      reclaimed += sizes.get(name) ?? 0;
    }
  }
  const images = await pruneImages(store, opts);
  return { containers, volumes, images: images.removed.map((id) => id.slice('sha256:'.length)), reclaimed: reclaimed + images.reclaimed };
}
