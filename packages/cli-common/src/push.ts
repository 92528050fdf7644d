// Pushing (`prun push`, `pbuild push`): a local image to a registry (default docker://NAME, the
// name the image was found by) or to any other transport, through the one copy routine, with
// containers/image's progress lines on stderr.
import { writeFileSync } from 'node:fs';
import { Store, StoreError, copyImage, openDestination, openSource, transportOptions, type CopyOptions, type Digest } from '@pkit/storage';
import { findNamedImage } from './image-names.ts';
import { podmanProgress } from './image-transfer.ts';

export interface PushRequest {
  /** The CLI's name, for messages that show a command line. */
  cli: string;
  root?: string | undefined;
  image: string;
  destination?: string | undefined;
  quiet: boolean;
  tlsVerify?: boolean | undefined;
  creds?: string | undefined;
  authfile?: string | undefined;
  /** Manifest format at the destination; default: the stored one. */
  format?: 'oci' | 'v2s2' | undefined;
  /**
   * Layer compression: 'default' (podman) leaves it to the destination (registries and OCI
   * layouts gzip uncompressed layers, dir: keeps them as stored, docker-archive stores them
   * uncompressed), 'always' (buildah) gzips them for every destination, 'never' (buildah -D)
   * sends every layer uncompressed; an explicit `compression` wins.
   */
  compress: 'default' | 'always' | 'never';
  compression?: 'gzip' | 'zstd' | undefined;
  /** Write the manifest digest at the destination here (buildah --digestfile). */
  digestFile?: string | undefined;
}

const TRANSPORTS = /^(docker:\/\/|oci-archive:|docker-archive:|oci:|dir:)/;

/** Pushes; resolves to the digest of the manifest written at the destination. */
export async function pushImage(req: PushRequest): Promise<Digest> {
  const dest = await destinationOf(req);
  if (req.compression === 'zstd') throw new StoreError('--compression-format zstd is not supported yet: use gzip', 'PKIT_CONVERSION');
  const progress = podmanProgress(req.quiet);
  const gzip = req.compression !== undefined || req.compress === 'always';
  const compression = gzip ? ('gzip' as const) : req.compress === 'never' ? ('none' as const) : undefined;
  const opts: CopyOptions = {
    progress,
    ...(compression ? { compression } : {}),
    ...(req.format ? { format: req.format === 'v2s2' ? ('docker' as const) : ('oci' as const) } : {}),
  };
  const src = await openSource(`local:${req.image}`, req.root ? { storeRoot: req.root } : {});
  let digest: Digest;
  try {
    const dst = await openDestination(dest, transportOptions({ creds: req.creds, authfile: req.authfile, tlsVerify: req.tlsVerify }));
    try {
      // After both ends opened: an unknown image or a bad destination fails before any progress line.
      progress.begin();
      digest = (await copyImage(src, dst, opts)).manifest.digest;
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
  progress.signatures();
  // As buildah: the digest alone, no newline.
  if (req.digestFile !== undefined) writeFileSync(req.digestFile, digest);
  return digest;
}

/** DEST with docker:// added when it names no transport; by default the image's own name. */
async function destinationOf(req: PushRequest): Promise<string> {
  if (req.destination !== undefined) return TRANSPORTS.test(req.destination) ? req.destination : `docker://${req.destination}`;
  const store = Store.open({ root: req.root });
  try {
    const { name } = await findNamedImage(store, req.image);
    if (name === undefined) {
      throw new StoreError(`image "${req.image}" was given by ID, which names no registry: give the DESTINATION (${req.cli} push ${req.image} registry.example/app:1)`, 'PKIT_BAD_INPUT');
    }
    return `docker://${name}`;
  } finally {
    store.close();
  }
}
