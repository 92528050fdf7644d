// Base images for `pbuild build` and `pbuild from`: pulled as --pull says (always, missing,
// the default, or never; "true"/"false" as podman), through the pull prun uses.
import { StoreError } from '@pkit/storage/errors';
import { findImage } from '@pkit/storage/image-lookup';
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
    if (seen.has(ref)) continue;
    seen.add(ref);
    if (policy === 'missing') {
      const store = openStore(req.root);
      try {
        await findImage(store, ref);
        continue;
      } catch (err) {
        if (!(err instanceof StoreError) || err.code !== 'PKIT_NOT_FOUND') throw err;
      } finally {
        store.close();
      }
    }
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
