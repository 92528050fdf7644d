// podman's and buildah's --platform OS/ARCH[/VARIANT] and their --os/--arch/--variant overrides (prun pull, pbuild pull).
import { StoreError } from '@pkit/storage/errors';

export interface PlatformFlags {
  platform?: string | undefined;
  os?: string | undefined;
  arch?: string | undefined;
  variant?: string | undefined;
}

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

/** The platform asked for, or undefined for this machine's. */
export function parsePlatformFlags(flags: PlatformFlags): Platform | undefined {
  const out: Platform = {};
  if (flags.platform !== undefined) {
    if (flags.os !== undefined || flags.arch !== undefined || flags.variant !== undefined) {
      throw new StoreError('--platform cannot be used with --os, --arch or --variant', 'PKIT_BAD_INPUT');
    }
    const parts = flags.platform.split('/');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
      throw new StoreError(`invalid platform "${flags.platform}": expected OS/ARCH[/VARIANT], e.g. linux/arm64`, 'PKIT_BAD_INPUT');
    }
    out.os = parts[0]!;
    out.architecture = parts[1]!;
    if (parts[2] !== undefined) out.variant = parts[2];
    return out;
  }
  if (flags.os !== undefined) out.os = flags.os;
  if (flags.arch !== undefined) out.architecture = flags.arch;
  if (flags.variant !== undefined) out.variant = flags.variant;
  return Object.keys(out).length ? out : undefined;
}
