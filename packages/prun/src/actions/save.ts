// `prun save`: a local image into an archive or directory, by the one copy routine. The archive
// records the name the image was asked for (podman's RepoTags / ref.name); by ID, no name.
import { Store, StoreError, copyByReference } from '@pkit/storage';
import { findNamedImage } from './image-names.ts';
import { podmanProgress } from '@pkit/cli-common/image-transfer';

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir' | 'docker-dir';

export interface SaveRequest {
  root?: string | undefined;
  images: string[];
  /** File or directory; undefined: stdout. */
  output?: string | undefined;
  format: SaveFormat;
  quiet: boolean;
}

export async function saveImage(req: SaveRequest): Promise<void> {
  if (req.images.length !== 1) {
    throw new StoreError(`prun save takes one image (got ${req.images.length}): archives with several images or extra tags are not supported yet`, 'PKIT_BAD_INPUT');
  }
  const query = req.images[0]!;
  const dirFormat = req.format === 'oci-dir' || req.format === 'docker-dir';
  if (req.output === undefined) {
    if (dirFormat) throw new StoreError(`--format ${req.format} writes a directory: give it with -o DIR`, 'PKIT_BAD_INPUT');
    if (process.stdout.isTTY) throw new StoreError('refusing to save to terminal. Use -o flag or redirect', 'PKIT_BAD_INPUT');
  }
  const output = req.output ?? '/dev/stdout';
  if (output.includes(':')) throw new StoreError(`output path "${output}" contains ":", which transport references cannot hold: pick another path`, 'PKIT_BAD_INPUT');
  const name = await nameOf(req.root, query);
  const dest = {
    'docker-archive': `docker-archive:${output}${name ? `:${name}` : ''}`,
    'oci-archive': `oci-archive:${output}${name ? `:${name}` : ''}`,
    'oci-dir': `oci:${output}${name ? `:${name}` : ''}`,
    'docker-dir': `dir:${output}`,
  }[req.format];
  // Nothing but the archive on stdout; podman is quiet then too.
  const progress = podmanProgress(req.quiet || req.output === undefined);
  await copyByReference(`local:${query}`, dest, { src: req.root ? { storeRoot: req.root } : {}, progress });
  progress.signatures();
}

/** The image's name that `query` matched, or undefined when it was found by ID. */
async function nameOf(root: string | undefined, query: string): Promise<string | undefined> {
  const store = Store.open({ root });
  try {
    return (await findNamedImage(store, query)).name;
  } finally {
    store.close();
  }
}
