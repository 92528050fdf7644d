// Turns command-line values into transport options.
import { parseCredsFlag, type TransportOptions } from '@pkit/storage';

export interface SideFlags {
  creds?: string;
  authfile?: string;
  tlsVerify?: boolean;
  retryTimes?: number;
  root?: string;
  platform?: TransportOptions['platform'];
}

export function transportOptions(side: SideFlags): TransportOptions {
  const creds = side.creds === undefined ? undefined : parseCredsFlag(side.creds);
  return {
    ...(creds ? { creds } : {}),
    ...(side.authfile ? { authFile: side.authfile } : {}),
    ...(side.tlsVerify !== undefined ? { tlsVerify: side.tlsVerify } : {}),
    ...(side.retryTimes !== undefined ? { retryTimes: side.retryTimes } : {}),
    ...(side.root ? { storeRoot: side.root } : {}),
    ...(side.platform && Object.keys(side.platform).length ? { platform: side.platform } : {}),
  };
}

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
