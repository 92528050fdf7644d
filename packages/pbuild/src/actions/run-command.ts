// `pbuild run [--mount ...] [--network ...] [--contextdir DIR] [--secret ...] [--env/--user/
// --workingdir/-v] C -- CMD`: buildah run's flags for what a Containerfile RUN can ask
// (run-mounts.ts), and for the process and host directories. --mount takes RUN --mount's
// syntax (buildah run's `tmpfs-size` too); --secret is pkit's (buildah run has none, so its
// type=secret mounts cannot work), with podman build's syntax.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreError, badInput as bad } from '@pkit/storage/errors';
import type { Mount } from '@pkit/runtime/oci-spec';
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
  /** buildah run's --env KEY=VALUE (KEY alone: our value), --user, --workingdir, -v SRC:DST[:ro] */
  env?: string[];
  user?: string;
  workingDir?: string;
  volumes?: string[];
}


/** -v SRC:DST[:OPTIONS] as buildah run takes it: a host directory bound read-write (ro: read-only). */
function volumeOf(value: string): Mount {
  const [src = '', dst = '', opts = ''] = value.split(':');
  if (!src || !dst || !dst.startsWith('/')) throw bad(`-v ${value}: expected HOST-DIR:CONTAINER-DIR[:ro|rw], the container side absolute`);
  const source = resolve(src);
  if (!existsSync(source)) throw bad(`-v ${value}: ${source} does not exist on the host`);
  const flags = opts.split(',').filter(Boolean);
  for (const f of flags) if (!['ro', 'rw', 'z', 'Z'].includes(f)) throw bad(`-v ${value}: unknown option "${f}" (use ro or rw)`);
  return { destination: dst, type: 'bind', source, options: ['rbind', flags.includes('ro') ? 'ro' : 'rw'] };
}

/** --env KEY=VALUE; KEY alone takes its value from our environment (buildah). */
function envOf(value: string): string {
  const eq = value.indexOf('=');
  if (eq === 0) throw bad(`--env ${value}: expected KEY=VALUE`);
  return eq > 0 ? value : `${value}=${process.env[value] ?? ''}`;
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
      process: {
        ...(req.user !== undefined ? { user: req.user } : {}),
        ...(req.workingDir !== undefined ? { workingDir: req.workingDir } : {}),
        ...(req.env?.length ? { setEnv: req.env.map(envOf) } : {}),
      },
      ...(req.volumes?.length ? { volumes: req.volumes.map(volumeOf) } : {}),
    });
  } finally {
    store.close();
  }
}
