// Base images for `pbuild build` and `pbuild from`: pulled as --pull says (always, missing,
// the default, or never; "true"/"false" as podman), through the pull prun uses.
import { StoreError } from '@pkit/storage/errors';
import { findImage } from '@pkit/storage/image-lookup';
import { readImageConfig } from '@pkit/runtime/container-run';
import type { Platform } from '../containerfile/index.ts';
import { openStore } from './working.ts';

export interface PullOptions {
  root: string | undefined;
  pull?: string;
  quiet: boolean;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
}

/** The --pull policy: always, missing (the default) or never ("true"/"false" as podman). */
function pullPolicy(req: PullOptions): 'always' | 'missing' | 'never' {
  if (req.pull === 'true' || req.pull === 'always') return 'always';
  if (req.pull === 'never') return 'never';
  return 'missing';
}

/**
 * Pulls the base images the needed stages name, as --pull wants, before the build opens the
 * store (the pull opens it itself, with the rootless hooks).
 */
export async function pullBaseImages(bases: Array<{ ref: string; platform?: Platform }>, req: PullOptions): Promise<void> {
  const policy = pullPolicy(req);
  if (policy === 'never') return;
  const seen = new Set<string>();
  for (const { ref, platform } of bases) {
    const key = `${ref}\0${platform ? `${platform.os}/${platform.architecture}/${platform.variant ?? ''}` : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (policy === 'missing' && (await presentFor(req.root, ref, platform))) continue;
    const { pullImages } = await import('@pkit/cli-common/pull');
    await pullImages(
      {
        root: req.root,
        image: ref,
        quiet: req.quiet,
        tlsVerify: req.tlsVerify,
        creds: req.creds,
        authfile: req.authfile,
        ...(platform ? { platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) } } : {}),
      },
      openStore,
    );
  }
}

/** Whether the store has `ref`, for `platform` when one is asked (podman pulls again when not). */
async function presentFor(root: string | undefined, ref: string, platform: Platform | undefined): Promise<boolean> {
  const store = openStore(root);
  try {
    const image = await findImage(store, ref);
    if (!platform) return true;
    const config = await readImageConfig(store, image.id);
    return config.os === platform.os && config.architecture === platform.architecture && (platform.variant === undefined || config.variant === undefined || config.variant === platform.variant);
  } catch (err) {
    if (err instanceof StoreError && err.code === 'PKIT_NOT_FOUND') return false;
    throw err;
  } finally {
    store.close();
  }
}
