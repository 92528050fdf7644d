// `prun push IMAGE [DEST]`: the local image to a registry (default docker://NAME, the name the
// image was found by) or to any other transport. Layers stored uncompressed (import, commit) go
// up gzip-compressed, as podman pushes them.
import { Store, StoreError, copyImage, openDestination, openSource, transportOptions, type CopyOptions } from '@pkit/storage';
import { findNamedImage } from './image-names.ts';
import { podmanProgress } from '@pkit/cli-common/image-transfer';

export interface PushRequest {
  root?: string | undefined;
  image: string;
  destination?: string | undefined;
  quiet: boolean;
  tlsVerify?: boolean | undefined;
  creds?: string | undefined;
  authfile?: string | undefined;
  /** Manifest format at the destination; default: the stored one. */
  format?: 'oci' | 'v2s2' | undefined;
  compression?: 'gzip' | 'zstd' | undefined;
}

const TRANSPORTS = /^(docker:\/\/|oci-archive:|docker-archive:|oci:|dir:)/;

export async function pushImage(req: PushRequest): Promise<void> {
  const dest = await destinationOf(req);
  if (req.compression === 'zstd') throw new StoreError('--compression-format zstd is not supported yet: use gzip', 'PKIT_CONVERSION');
  const progress = podmanProgress(req.quiet);
  const opts: CopyOptions = {
    progress,
    // podman compresses uncompressed layers for a registry; elsewhere layers go as stored.
    ...(req.compression !== undefined || dest.startsWith('docker://') ? { compression: 'gzip' as const } : {}),
    ...(req.format ? { format: req.format === 'v2s2' ? ('docker' as const) : ('oci' as const) } : {}),
  };
  const src = await openSource(`local:${req.image}`, req.root ? { storeRoot: req.root } : {});
  try {
    const dst = await openDestination(dest, transportOptions({ creds: req.creds, authfile: req.authfile, tlsVerify: req.tlsVerify }));
    try {
      // After both ends opened: an unknown image or a bad destination fails before any progress line.
      progress.begin();
      await copyImage(src, dst, opts);
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
  progress.signatures();
}

/** DEST with docker:// added when it names no transport; by default the image's own name. */
async function destinationOf(req: PushRequest): Promise<string> {
  if (req.destination !== undefined) return TRANSPORTS.test(req.destination) ? req.destination : `docker://${req.destination}`;
  const store = Store.open({ root: req.root });
  try {
    const { name } = await findNamedImage(store, req.image);
    if (name === undefined) {
      throw new StoreError(`image "${req.image}" was given by ID, which names no registry: give the DESTINATION (prun push ${req.image} registry.example/app:1)`, 'PKIT_BAD_INPUT');
    }
    return `docker://${name}`;
  } finally {
    store.close();
  }
}
