// Worker: tag an image N times under names prefix-0..N-1 and retag a shared name.
// usage: tag.ts ROOT IMAGE_ID PREFIX COUNT
import { Store } from '../../../../packages/storage/src/store.ts';
import type { Digest } from '../../../../packages/storage/src/digest.ts';

const [root, id, prefix, count] = process.argv.slice(2);
const store = Store.open({ root: root! });
for (let i = 0; i < Number(count); i++) {
  await store.images.tag(`localhost/${prefix}-${i}:latest`, id as Digest);
  await store.images.tag('localhost/shared:latest', id as Digest);
}
store.close();
