// Turns command-line values into transport options.
import type { TransportOptions } from '@pkit/storage';

/** `USER:PASSWORD` -> credentials; the password may contain ':'. */
export function parseCreds(value: string | undefined, flag: string): TransportOptions['creds'] {
  if (value === undefined) return undefined;
  const i = value.indexOf(':');
  if (i <= 0) {
    const err = new Error(`--${flag} "${value.includes(':') ? '' : value}": expected USERNAME:PASSWORD`);
    (err as Error & { code: string }).code = 'PKIT_BAD_FLAG';
    throw err;
  }
  return { username: value.slice(0, i), password: value.slice(i + 1) };
}

export interface SideFlags {
  creds?: string;
  credsFlag: string;
  authfile?: string;
  tlsVerify?: boolean;
  retryTimes?: number;
  root?: string;
  platform?: TransportOptions['platform'];
}

export function transportOptions(side: SideFlags): TransportOptions {
  const creds = parseCreds(side.creds, side.credsFlag);
  return {
    ...(creds ? { creds } : {}),
    ...(side.authfile ? { authFile: side.authfile } : {}),
    ...(side.tlsVerify !== undefined ? { tlsVerify: side.tlsVerify } : {}),
    ...(side.retryTimes !== undefined ? { retryTimes: side.retryTimes } : {}),
    ...(side.root ? { storeRoot: side.root } : {}),
    ...(side.platform && Object.keys(side.platform).length ? { platform: side.platform } : {}),
  };
}
