// An interrupted build (SIGINT, SIGTERM, SIGHUP) cleans up as podman build does: the working
// containers it has made are stopped and removed, then pbuild exits 128+signal. Without this,
// Node would exit at once and leave them (and a RUN still running) behind.
import { constants } from 'node:os';
import type { ContainerRecord } from '@pkit/storage/container-store';
import type { Store } from '@pkit/storage/store';
import { deleteContainer, runtimeBinary } from '@pkit/runtime/run';
import { join } from 'node:path';
import { helper, removeWorking } from './working.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface InterruptGuard {
  /** Tracks a working container until `release`. */
  hold(rec: ContainerRecord): void;
  release(rec: ContainerRecord): void;
  /** Removes the signal handlers (the build is over). */
  dispose(): void;
}

export function guardInterrupts(store: Store): InterruptGuard {
  const held = new Map<string, ContainerRecord>();
  let cleaning = false;
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    if (cleaning) return;
    cleaning = true;
    void (async () => {
      const runtime = runtimeBinary({ helperPath: helper() });
      for (const rec of held.values()) {
        await deleteContainer(runtime, rec.id, { root: join(store.paths.runRoot, 'runtime'), force: true }).catch(() => {});
        await removeWorking(store, rec).catch(() => {});
      }
      process.exit(128 + constants.signals[signal]);
    })();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    hold: (rec) => void held.set(rec.id, rec),
    release: (rec) => void held.delete(rec.id),
    dispose: () => {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}
