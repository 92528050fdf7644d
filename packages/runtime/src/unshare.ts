// `prun unshare` and `pbuild unshare`: a command (default $SHELL) as root of a new user namespace
// mapped as rootless containers are (the user's uid -> 0, the subordinate ids from 1), with a
// mount namespace of its own, as `podman unshare` and `buildah unshare`: to look at or fix files
// of container users (the store's layers, volumes), or mount a working container's root
// (`pbuild mount`) without touching the host's mount table.
import { StoreError } from '@pkit/storage/errors';
import { computeIDMappings, currentIdmapHost } from './idmap.ts';
import { runInUserNamespace } from './userns.ts';

export interface UnshareOptions {
  /** The pkit-runtime binary. */
  helper: string;
  /** Variables added to the session's environment. */
  env?: Record<string, string>;
}

/** Runs `command` (empty: $SHELL, else /bin/sh) in the session; resolves to its exit code. */
export async function unshareSession(command: string[], opts: UnshareOptions): Promise<number> {
  if (process.getuid!() === 0) {
    throw new StoreError('please use unshare with rootless: as root there is no user namespace to enter', 'PKIT_BAD_INPUT');
  }
  const host = currentIdmapHost();
  const mappings = computeIDMappings(host);
  for (const w of mappings.warnings) process.stderr.write(`${w}\n`);
  const cmd = command.length ? command : [process.env.SHELL || '/bin/sh'];
  const env = {
    ...process.env,
    // What podman and buildah set: tools that look for them know they already are in the namespace.
    _CONTAINERS_USERNS_CONFIGURED: 'done',
    _CONTAINERS_ROOTLESS_UID: String(host.uid),
    _CONTAINERS_ROOTLESS_GID: String(host.gid),
    ...opts.env,
  };
  const p = runInUserNamespace(cmd, { mappings, helper: opts.helper, stdio: 'inherit', env });
  // The helper passes signals on to the command; this process must outlive them (Ctrl-C in a shell).
  const forward = (sig: NodeJS.Signals) => () => {
    p.child.kill(sig);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    return await p.exitCode;
  } catch (err) {
    throw new StoreError(`cannot start the user namespace helper: ${(err as Error).message}`, 'PKIT_RUNTIME');
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}
