// Transport options from what a user typed on a command line (`--creds user:pass`,
// `--authfile`, `--tls-verify`, ...), the same way for pcopy and prun.
import { parseCredsFlag } from '../auth-file.ts';
import type { TransportOptions } from './types.ts';

/** The command-line values that set up one end of a copy; absent ones keep the defaults. */
export interface TransportFlags {
  /** `USERNAME:PASSWORD`. */
  creds?: string;
  authfile?: string;
  tlsVerify?: boolean;
  retryTimes?: number;
  /** The local store root (`--root`), for local: references. */
  root?: string;
  platform?: TransportOptions['platform'];
}

export function transportOptions(flags: TransportFlags): TransportOptions {
  const creds = flags.creds === undefined ? undefined : parseCredsFlag(flags.creds);
  return {
    ...(creds ? { creds } : {}),
    ...(flags.authfile ? { authFile: flags.authfile } : {}),
    ...(flags.tlsVerify !== undefined ? { tlsVerify: flags.tlsVerify } : {}),
    ...(flags.retryTimes !== undefined ? { retryTimes: flags.retryTimes } : {}),
    ...(flags.root ? { storeRoot: flags.root } : {}),
    ...(flags.platform && Object.keys(flags.platform).length ? { platform: flags.platform } : {}),
  };
}
