// The rootless store's hooks (Store.open({ ...rootlessStoreHooks() })): layers are applied by
// the apply worker of @pkit/storage run as root inside a user namespace, so their files get the
// tar's owners through the rootless mapping (container uid 1000 = the host's subuid start +
// 999, container root = the user), and layer trees are removed there too, since the user cannot
// remove files of subordinate owners. See docs/storage.md "The user namespace shell".
import { accessSync, constants as fsConstants } from 'node:fs';
import type { Readable } from 'node:stream';
import { type LayerApplier, type TreeRemover } from '@pkit/storage/layer-store';
import { APPLY_WORKER, applyWorkerArgs, parseApplyWorkerResult } from '@pkit/storage/layers/apply-worker';
import { computeIDMappings, currentIdmapHost } from './idmap.ts';
import { HELPER_PATH } from './run.ts';
import { execInUserNamespace, removeAsUsernsRoot, type UsernsMappings } from './userns.ts';
import { repoToolsFrom } from './repo-tools.ts';

export interface RootlessStoreHookOptions {
  /** The pkit-runtime binary; default: the one built in this repository (HELPER_PATH). */
  helper?: string;
  /** Default: podman's rootless mapping for the calling user (computeIDMappings(currentIdmapHost())). */
  mappings?: UsernsMappings;
  /** The node binary running the worker; default: this process's (process.execPath). */
  node?: string;
  /** The worker program; default: @pkit/storage's APPLY_WORKER (a bundled CLI passes its own). */
  worker?: string;
}

export interface RootlessStoreHooks {
  layerApplier: LayerApplier | undefined;
  treeRemover: TreeRemover | undefined;
}

/**
 * The Store.open hooks for a rootless store, or undefined hooks when there is nothing to do
 * better than the in-process default: as root (every id is already ours), when the calling
 * user has no user namespace to make (no mapping beyond its own id) or when the helper is not
 * built. Callers can always spread the result into Store.open's options.
 */
export function rootlessStoreHooks(opts: RootlessStoreHookOptions = {}): RootlessStoreHooks {
  const none: RootlessStoreHooks = { layerApplier: undefined, treeRemover: undefined };
  if (process.getuid?.() === 0) return none;
  const helper = opts.helper ?? HELPER_PATH;
  try {
    accessSync(helper, fsConstants.X_OK);
  } catch {
    return none;
  }
  const mappings = opts.mappings ?? computeIDMappings(currentIdmapHost());
  // With only the user's own id mapped, the worker could not give files any other owner.
  const mapped = (maps: UsernsMappings['uidMappings']) => maps.reduce((n, m) => n + m.size, 0);
  if (!mappings.userns || mapped(mappings.uidMappings) <= 1 || mapped(mappings.gidMappings) <= 1) return none;
  const node = opts.node ?? process.execPath;
  const worker = opts.worker ?? APPLY_WORKER;

  const layerApplier: LayerApplier = async (input: Readable, dir: string, expected) => {
    const args = applyWorkerArgs(dir, expected ? { expected } : {});
    const r = await execInUserNamespace([node, worker, ...args], { helper, mappings, input });
    return parseApplyWorkerResult(r.exitCode, r.stdout, r.stderr);
  };
  const treeRemover: TreeRemover = (path: string) => removeAsUsernsRoot([path], { helper, mappings });
  return { layerApplier, treeRemover };
}

/**
 * The rootless hooks for a CLI started from `from` (its import.meta.url): the pkit-runtime
 * built in the repository and the bundle's own apply worker (dist/apply-worker.mjs) are found
 * by walking up from there, so the same code works from the sources and from a bundle.
 */
export function rootlessStoreHooksFrom(from: string | URL): RootlessStoreHooks {
  return rootlessStoreHooks(repoToolsFrom(from, 'apply-worker.mjs'));
}
