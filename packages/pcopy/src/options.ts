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
