// `prun load`: every image of a docker-archive or oci-archive (found out from its contents) into
// the store, named as the archive names it. Standard input is first spooled to a scratch file:
// telling the two formats apart takes a second look at the archive.
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, StoreError, isErrno, openSource, type ImageSource } from '@pkit/storage';
import { copyIntoStore, podmanProgress, recordedNames } from '@pkit/cli-common/image-transfer';
import { openStoreForLayers } from './store.ts';

export interface LoadRequest {
  root?: string | undefined;
  /** Archive file; undefined: stdin. */
  input?: string | undefined;
  quiet: boolean;
}

/** Loads; returns what podman prints after "Loaded image: " (names, or sha256:ID for an unnamed image). */
export async function loadImages(req: LoadRequest): Promise<string[]> {
  if (req.input === undefined && process.stdin.isTTY) {
    throw new StoreError('cannot read from terminal, use command-line redirection or the --input flag', 'PKIT_BAD_INPUT');
  }
  const store = openStoreForLayers(req.root);
  try {
    let file = req.input;
    if (file === undefined) {
      file = store.scratch.path('load-stdin');
      await pipeline(process.stdin, createWriteStream(file, { mode: 0o600 }));
    } else {
      if (file.includes(':')) throw new StoreError(`input path "${file}" contains ":", which archive references cannot hold: rename it or pipe it to stdin`, 'PKIT_BAD_INPUT');
      await stat(file).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) throw new NotFoundError(`${file}: no such file`);
        throw err;
      });
    }
    const shown = req.input ?? 'stdin';
    const loaded: string[] = [];
    for await (const src of archiveImages(file, shown)) {
      try {
        const progress = podmanProgress(req.quiet);
        progress.begin();
        const names = await recordedNames(src);
        const id = await copyIntoStore(store, src, names, { progress });
        progress.signatures();
        loaded.push(...(names.length ? names : [id]));
      } finally {
        await src.close();
      }
    }
    return loaded;
  } finally {
    store.close();
  }
}

/**
 * Each image of the archive, as a source: docker-archive when it has a manifest.json,
 * oci-archive when it is an OCI layout; several images are taken one after another (@N).
 */
async function* archiveImages(file: string, shown: string): AsyncGenerator<ImageSource> {
  const failures: string[] = [];
  for (const transport of ['docker-archive', 'oci-archive']) {
    let first: ImageSource;
    try {
      first = await openSource(`${transport}:${file}`);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      if (err.code !== 'PKIT_AMBIGUOUS') {
        failures.push(`${transport}: ${err.message.replace(`${transport}:${file}: `, '')}`);
        continue;
      }
      yield* numbered(transport, file);
      return;
    }
    yield first;
    return;
  }
  throw new StoreError(`${shown}: payload does not match any of the supported image formats: ${failures.join('; ')}`, 'PKIT_BAD_ARCHIVE');
}

/** `transport:FILE:@0`, `@1`, ... until the archive has no more. */
async function* numbered(transport: string, file: string): AsyncGenerator<ImageSource> {
  for (let i = 0; ; i++) {
    let src: ImageSource;
    try {
      src = await openSource(`${transport}:${file}:@${i}`);
    } catch (err) {
      if (i > 0 && err instanceof NotFoundError) return;
      throw err;
    }
    yield src;
  }
}
