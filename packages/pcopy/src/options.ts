// Turns command-line values into transport options (transportOptions is shared with prun).
import { transportOptions, type TransportOptions } from '@pkit/storage';

export { transportOptions };

/** The flags of `copy` and `sync` that set up one side of a copy. */
export interface CopySideFlags {
  'src-creds'?: string;
  'dest-creds'?: string;
  'src-authfile'?: string;
  'dest-authfile'?: string;
  authfile?: string;
  'src-tls-verify'?: boolean;
  'dest-tls-verify'?: boolean;
  'retry-times'?: number;
  root?: string;
}

/** Transport options for the source or destination side of a copy. */
export function sideOptions(flags: CopySideFlags, side: 'src' | 'dest', platform: TransportOptions['platform']): TransportOptions {
  return transportOptions({
    creds: flags[`${side}-creds`],
    authfile: flags[`${side}-authfile`] ?? flags.authfile,
    tlsVerify: flags[`${side}-tls-verify`],
    retryTimes: flags['retry-times'],
    root: flags.root,
    platform,
  });
}

/**
 * A copy into the local store applies layers through the rootless hooks (@pkit/runtime, loaded
 * only then), so files keep their owners as prun's own pulls do.
 */
export async function withStoreHooks(opts: TransportOptions, reference: string): Promise<TransportOptions> {
  if (!/^(local|containers-storage):/.test(reference)) return opts;
  const { rootlessStoreHooksFrom } = await import('@pkit/runtime/store-hooks');
  return { ...opts, storeHooks: rootlessStoreHooksFrom(import.meta.url) };
}
