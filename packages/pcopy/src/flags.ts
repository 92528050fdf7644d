// Flags several pcopy commands share, spelled as skopeo spells them (the registry ones live in
// @pkit/cli-common: prun uses them too).
import { Flags } from '@oclif/core';

export { authfile, creds, retryTimes, tlsVerify } from '@pkit/cli-common';

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
