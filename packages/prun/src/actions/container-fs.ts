// A prun container's files as its root user (prun cp, top): @pkit/runtime's container-files
// (one implementation with pbuild's copy and add), given the container's init pid when it runs.
import { spawnSync } from 'node:child_process';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { containerFiles, readContainerSpec, type ContainerFs } from '@pkit/runtime/container-files';
import type { Spec } from '@pkit/runtime/oci-spec';
import { globalArgs } from '@pkit/runtime/run';
import { isRunning, meta, type Engine } from './containers.ts';

export { exitCodeOf, toContainerId, type ContainerFs, type ScriptProcess } from '@pkit/runtime/container-files';

export function readSpec(e: Engine, id: string): Spec {
  return readContainerSpec(e.store, id);
}

/**
 * The host pid of a running container's init: recorded for detached containers; a foreground
 * one is asked of pkit-runtime (its state).
 */
export function initPid(e: Engine, rec: ContainerRecord): number | undefined {
  const recorded = meta(rec).pid;
  if (recorded && recorded > 0) return recorded;
  const r = spawnSync(e.runtime.path, [...globalArgs({ runtime: e.runtime, root: e.stateRoot }), 'state', rec.id], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  try {
    const state = JSON.parse(r.stdout) as { pid?: number; status?: string };
    return state.status === 'running' && state.pid && state.pid > 0 ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

export function containerFs(e: Engine, rec: ContainerRecord): ContainerFs {
  const running = isRunning(rec);
  const pid = running ? initPid(e, rec) : undefined;
  if (running && !pid) throw new StoreError(`container ${rec.name} is running but its process was not found: try again once it has started or stopped`, 'PKIT_STATE');
  return containerFiles(e.store, rec, { helper: e.helper, ...(pid !== undefined ? { pid } : {}) });
}
