// Flags several pcopy commands share, spelled as skopeo spells them.
import { Flags } from '@oclif/core';

export const tlsVerify = (side: 'src' | 'dest' | '') =>
  Flags.boolean({
    summary: `Require HTTPS and verify certificates${side ? ` for the ${side === 'src' ? 'source' : 'destination'}` : ''} (--${side ? `${side}-` : ''}tls-verify=false allows plain HTTP)`,
    allowNo: true,
  });

export const creds = (side: 'src' | 'dest' | '') =>
  Flags.string({ summary: `Credentials USERNAME:PASSWORD${side ? ` for the ${side === 'src' ? 'source' : 'destination'}` : ''} registry`, helpValue: 'USER:PASS' });

export const authfile = Flags.string({ summary: 'Path of the authentication file (default: $XDG_RUNTIME_DIR/containers/auth.json)', env: 'REGISTRY_AUTH_FILE' });

export const retryTimes = Flags.integer({ summary: 'Number of times to retry a failed network request', min: 0 });

/** Platform overrides are global in skopeo (`pcopy --override-arch arm64 copy ...`). */
export const platformFlags = {
  'override-os': Flags.string({ summary: 'Use OS instead of the running OS to choose an image', env: 'PKIT_OVERRIDE_OS', helpGroup: 'GLOBAL' }),
  'override-arch': Flags.string({ summary: 'Use ARCH instead of the architecture of the machine to choose an image', env: 'PKIT_OVERRIDE_ARCH', helpGroup: 'GLOBAL' }),
  'override-variant': Flags.string({ summary: 'Use VARIANT instead of the running architecture variant to choose an image', env: 'PKIT_OVERRIDE_VARIANT', helpGroup: 'GLOBAL' }),
};

export const PLATFORM_GLOBALS = [
  { name: 'override-os', env: 'PKIT_OVERRIDE_OS' },
  { name: 'override-arch', env: 'PKIT_OVERRIDE_ARCH' },
  { name: 'override-variant', env: 'PKIT_OVERRIDE_VARIANT' },
] as const;

export function platformOf(flags: { 'override-os'?: string; 'override-arch'?: string; 'override-variant'?: string }) {
  return {
    ...(flags['override-os'] ? { os: flags['override-os'] } : {}),
    ...(flags['override-arch'] ? { architecture: flags['override-arch'] } : {}),
    ...(flags['override-variant'] ? { variant: flags['override-variant'] } : {}),
  };
}
