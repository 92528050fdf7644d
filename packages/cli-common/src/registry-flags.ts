// Flags for reaching a registry, spelled as skopeo and podman spell them; pcopy and prun share them.
import { Flags } from '@oclif/core';

export const tlsVerify = (side: 'src' | 'dest' | '') =>
  Flags.boolean({
    summary: `Require HTTPS and verify certificates${side ? ` for the ${side === 'src' ? 'source' : 'destination'}` : ''} (--${side ? `${side}-` : ''}tls-verify=false allows plain HTTP)`,
    allowNo: true,
  });

export const creds = (side: 'src' | 'dest' | '') =>
  Flags.string({ summary: `Credentials USERNAME:PASSWORD for the ${side ? `${side === 'src' ? 'source' : 'destination'} ` : ''}registry`, helpValue: 'USER:PASS' });

export const authfile = Flags.string({ summary: 'Path of the authentication file (default: $XDG_RUNTIME_DIR/containers/auth.json)', env: 'REGISTRY_AUTH_FILE' });

export const retryTimes = Flags.integer({ summary: 'Number of times to retry a failed network request', min: 0 });
