// Puts a minimal image record (blobs only, no layers) into a store, for tests of names and gc.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../../packages/storage/src/store.ts';
import type { ImageRecord } from '../../../packages/storage/src/image-store.ts';

export async function putFakeImage(store: Store, created = new Date().toISOString()): Promise<ImageRecord> {
  const config = await store.blobs.putBytes(JSON.stringify({ architecture: 'amd64', os: 'linux', salt: randomBytes(8).toString('hex') }));
  const manifest = await store.blobs.putBytes(JSON.stringify({ schemaVersion: 2, config: { digest: config.digest } }));
  const rec: ImageRecord = {
    id: config.digest,
    manifestDigest: manifest.digest,
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    layers: [],
    blobs: [manifest.digest, config.digest],
    created,
  };
  await store.images.put(rec);
  return rec;
}
