// `pbuild run [--mount ...] [--network ...] [--contextdir DIR] [--secret ...] C -- CMD`: buildah
// run's flags for what a Containerfile RUN can ask (run-mounts.ts). --mount takes RUN --mount's
// syntax (buildah run's `tmpfs-size` too); --secret is pkit's (buildah run has none, so its
// type=secret mounts cannot work), with podman build's syntax.
import { StoreError, badInput as bad } from '@pkit/storage/errors';
import { parseMount } from '../containerfile/mounts.ts';
import type { NetworkMode } from '../containerfile/instructions.ts';
import { runStep } from './run-mounts.ts';
import { parseSecrets } from './secrets.ts';
import { findWorking, openStore } from './working.ts';

export interface RunCommandRequest {
  root: string | undefined;
  container: string;
  command: string[];
  mounts: string[];
  secrets: string[];
  network?: string;
  contextDir?: string;
}


/** One --mount value; buildah run's `tmpfs-size=` is RUN --mount's `size=`. */
function mountOf(value: string) {
  const spec = value.split(',').map((f) => (f.startsWith('tmpfs-size=') ? `size=${f.slice('tmpfs-size='.length)}` : f)).join(',');
  try {
    return parseMount(spec);
  } catch (err) {
    throw bad(`--mount ${value}: ${(err as Error).message}`);
  }
}

export async function runCommand(req: RunCommandRequest): Promise<number> {
  if (req.command.length === 0) throw new StoreError('"pbuild run" needs a command after the container (pbuild run C -- CMD ...)', 'PKIT_USAGE');
  const mounts = req.mounts.map(mountOf);
  const secrets = parseSecrets(req.secrets);
  let network: NetworkMode | undefined;
  if (req.network !== undefined) {
    const n = req.network === 'private' ? 'default' : req.network;
    if (n !== 'default' && n !== 'none' && n !== 'host') throw bad(`--network ${req.network}: expected default, none or host`);
    network = n;
  }
  const store = openStore(req.root);
  try {
    return await runStep(store, await findWorking(store, req.container), {
      argv: req.command,
      mounts,
      secrets,
      ...(network !== undefined ? { network } : {}),
      ...(req.contextDir !== undefined ? { contextDir: req.contextDir } : {}),
    });
  } finally {
    store.close();
  }
}
