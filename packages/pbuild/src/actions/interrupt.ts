// An interrupted pbuild (SIGINT, SIGTERM, SIGHUP) cleans up as podman build does, then exits
// 128+signal. Without this, Node would exit at once and leave behind what the command made
// for itself: working containers (and a RUN still running in one), secret copies, temp dirs.
// Whatever makes such a thing registers its removal with atInterrupt while it exists.
import { constants } from 'node:os';
import { join } from 'node:path';
import type { ContainerRecord } from '@pkit/storage/container-store';
import type { Store } from '@pkit/storage/store';
import { deleteContainer, runtimeBinary } from '@pkit/runtime/run';
import { findWorking, fromImage, helper, removeWorking } from './working.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const cleanups = new Set<() => unknown>();
let handlers = 0;
let interrupted = false;

/** Runs `fn` if the command is interrupted while it is registered; returns the unregister. */
export function atInterrupt(fn: () => unknown): () => void {
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}

function onSignal(signal: (typeof SIGNALS)[number]): void {
  if (interrupted) return;
  interrupted = true;
  void (async () => {
    // newest first: a RUN's mounts go before the container they are in
    for (const fn of [...cleanups].reverse()) await Promise.resolve().then(fn).catch(() => {});
    process.exit(128 + constants.signals[signal]);
  })();
}

/** Installs the signal handlers until the returned function is called. */
export function handleInterrupts(): () => void {
  if (handlers++ === 0) for (const s of SIGNALS) process.on(s, onSignal);
  return () => {
    if (--handlers === 0) for (const s of SIGNALS) process.off(s, onSignal);
  };
}

/** A working container's removal, for atInterrupt: its process is killed first. */
export function stopAndRemove(store: Store, rec: ContainerRecord): () => Promise<void> {
  return async () => {
    const runtime = runtimeBinary({ helperPath: helper() });
    await deleteContainer(runtime, rec.id, { root: join(store.paths.runRoot, 'runtime'), force: true }).catch(() => {});
    await removeWorking(store, rec);
  };
}

/**
 * A temporary working container on `image` for `fn`, removed afterwards, or by the interrupt
 * handler when a signal ends the command meanwhile (with the RUN in it).
 */
export async function withWorkingContainer<T>(store: Store, image: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
  const rec = await findWorking(store, await fromImage(store, image));
  const unregister = atInterrupt(stopAndRemove(store, rec));
  try {
    return await fn(rec);
  } finally {
    if (!interrupted) {
      await removeWorking(store, rec);
      unregister();
    }
  }
}
