// `pbuild pull`: buildah's pull over the pull prun uses (@pkit/cli-common/pull), with buildah's
// --policy: "missing" (the default) takes an image already in the store without asking the
// registry, "never" only looks in the store, "always" pulls, "newer" pulls and falls back to
// the stored image when the pull fails. The store lookup is for registry references only, as
// buildah's; archives and layouts are always read.
import { pullImages, type PullRequest } from '@pkit/cli-common/pull';
import type { Digest } from '@pkit/storage/digest';
import { StoreError } from '@pkit/storage/errors';
import { findImage } from '@pkit/storage/image-lookup';
import type { ImageConfig } from '@pkit/storage/oci-types';
import type { Store } from '@pkit/storage/store';
import { openStore } from './working.ts';

export const PULL_POLICIES = ['always', 'missing', 'never', 'newer'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export interface BuildahPullRequest extends PullRequest {
  policy: PullPolicy;
}

/** Pulls as the policy says; resolves to the ID buildah prints (the first image's, with --all-tags). */
export async function pullImage(req: BuildahPullRequest): Promise<Digest> {
  const local = registryReference(req.image);
  if (req.allTags && req.policy === 'never') {
    throw new StoreError('--all-tags lists the registry\'s tags: it cannot be used with --policy never', 'PKIT_BAD_INPUT');
  }
  if (local !== undefined && !req.allTags && req.policy !== 'always') {
    const found = await storedImage(req, local);
    if (found !== undefined && req.policy !== 'newer') return found;
    if (req.policy === 'never') {
      throw new StoreError(`${req.image}: image not known in the local store (--policy never): pull it with --policy missing or always`, 'PKIT_NOT_FOUND');
    }
    if (found !== undefined) {
      try {
        return (await pullImages(req, openStore))[0]!;
      } catch (err) {
        if (err instanceof StoreError) return found; // buildah: a failed pull keeps the stored image
        throw err;
      }
    }
  }
  return (await pullImages(req, openStore))[0]!;
}

/** The name to look up in the store for a registry reference; undefined for other transports. */
function registryReference(image: string): string | undefined {
  if (image.startsWith('docker://')) return image.slice('docker://'.length);
  if (/^(oci-archive|docker-archive|oci|dir|containers-storage|docker-daemon):/.test(image)) return undefined;
  return image;
}

/** The stored image the reference names, when it is for the platform asked for. */
async function storedImage(req: BuildahPullRequest, name: string): Promise<Digest | undefined> {
  const store = openStore(req.root);
  try {
    let image;
    try {
      image = await findImage(store, name);
    } catch (err) {
      if (err instanceof StoreError && err.code === 'PKIT_NOT_FOUND') return undefined;
      throw err;
    }
    return req.platform && !(await matchesPlatform(store, image.id, req.platform)) ? undefined : image.id;
  } finally {
    store.close();
  }
}

async function matchesPlatform(store: Store, id: Digest, want: NonNullable<PullRequest['platform']>): Promise<boolean> {
  const config = JSON.parse((await store.blobs.readBytes(id, 4 << 20)).toString('utf8')) as ImageConfig;
  return (
    (want.os === undefined || config.os === want.os) &&
    (want.architecture === undefined || config.architecture === want.architecture) &&
    (want.variant === undefined || config.variant === want.variant)
  );
}
