// `login` / `logout`: credentials checked against the registry, then kept where podman and
// skopeo look for them (auth-file.ts).
import { removeCredentials, saveCredentials } from '../auth-file.ts';
import { StoreError } from '../errors.ts';
import { RegistryClient } from './client.ts';

export interface LoginOptions {
  username: string;
  password: string;
  authFile?: string;
  tlsVerify?: boolean;
}

/** Verifies the credentials with the registry and stores them; returns the auth file written. */
export async function login(registry: string, opts: LoginOptions): Promise<string> {
  const host = registryHost(registry);
  const client = new RegistryClient(host, {
    creds: { username: opts.username, password: opts.password },
    ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}),
  });
  await client.checkAuth();
  return saveCredentials(registry.replace(/^docker:\/\//, ''), opts.username, opts.password, opts.authFile);
}

/** Forgets the credentials of `registry`; an error when there were none. */
export async function logout(registry: string, authFile?: string): Promise<void> {
  if (!(await removeCredentials(registry.replace(/^docker:\/\//, ''), authFile))) {
    throw new StoreError(`not logged into ${registry}: no credentials for it in the auth file`, 'PKIT_NOT_LOGGED_IN');
  }
}

/** `host[:port]` of `host[:port][/namespace...]`, with an optional docker:// prefix. */
function registryHost(registry: string): string {
  const host = registry.replace(/^docker:\/\//, '').replace(/^https?:\/\//, '').split('/')[0] ?? '';
  if (host === '') throw new StoreError(`invalid registry "${registry}": expected HOST[:PORT]`, 'PKIT_BAD_REFERENCE');
  return host;
}
