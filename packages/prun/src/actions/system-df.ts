// `prun system df`: what images, containers and volumes take on disk, and what a prune would
// free. Image sizes are the unpacked layers (shared layers counted once), as podman counts them;
// the compressed blobs kept beside them for push are not counted. A volume is active while a
// container uses it.
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { humanSize, volumeUsers, type Digest, type Store } from '@pkit/storage';

export interface DfRow {
  Type: 'Images' | 'Containers' | 'Local Volumes';
  Total: number;
  Active: number;
  RawSize: number;
  RawReclaimable: number;
  Size: string;
  Reclaimable: string;
}

export async function diskUsage(store: Store): Promise<DfRow[]> {
  const containers = await store.containers.list();
  const usedImages = new Set(containers.map((c) => c.image));
  const images = await store.images.list();
  const layerSize = new Map<Digest, number>();
  const activeLayers = new Set<Digest>();
  for (const img of images) {
    for (const l of img.layers) {
      if (!layerSize.has(l) && store.layers.has(l)) layerSize.set(l, (await store.layers.get(l)).size);
      if (usedImages.has(img.id)) activeLayers.add(l);
    }
  }
  const imageBytes = sum([...layerSize.values()]);
  const imageReclaimable = sum([...layerSize].filter(([l]) => !activeLayers.has(l)).map(([, n]) => n));
  let containerBytes = 0;
  let containerReclaimable = 0;
  for (const c of containers) {
    const n = await treeSize(store.containers.containerDir(c.id));
    containerBytes += n;
    if (c.state !== 'running' && c.state !== 'paused') containerReclaimable += n;
  }
  let volumeBytes = 0;
  let volumeReclaimable = 0;
  let volumesActive = 0;
  const volumes = await store.volumes.list();
  for (const v of volumes) {
    const n = await treeSize(v.mountpoint);
    volumeBytes += n;
    if (volumeUsers(v.name, containers).length) volumesActive++;
    else volumeReclaimable += n;
  }
  return [
    row('Images', images.length, images.filter((i) => usedImages.has(i.id)).length, imageBytes, imageReclaimable),
    row('Containers', containers.length, containers.filter((c) => c.state === 'running' || c.state === 'paused').length, containerBytes, containerReclaimable),
    row('Local Volumes', volumes.length, volumesActive, volumeBytes, volumeReclaimable),
  ];
}

function row(type: DfRow['Type'], total: number, active: number, size: number, reclaimable: number): DfRow {
  const pct = size > 0 ? Math.round((reclaimable / size) * 100) : 0;
  return { Type: type, Total: total, Active: active, RawSize: size, RawReclaimable: reclaimable, Size: dfSize(size), Reclaimable: `${dfSize(reclaimable)} (${pct}%)` };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** podman's df sizes: decimal units, four significant digits, no space ("14.92MB", "0B"). */
export function dfSize(bytes: number): string {
  return humanSize(bytes, 4, '');
}

/**
 * Bytes of the files under `dir`. Parts the user cannot read (directories of subordinate owners
 * in a rootless container's upper dir) are skipped, so the figure is a lower bound there.
 */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  let handle;
  try {
    handle = await opendir(dir);
  } catch {
    return 0;
  }
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      total += await treeSize(path);
      continue;
    }
    try {
      total += (await lstat(path)).size;
    } catch {
      // vanished or unreadable: not counted
    }
  }
  return total;
}
