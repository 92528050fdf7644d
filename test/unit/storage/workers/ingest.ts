// Worker: ingest a blob into a store from a file or an endless trickle.
// usage: ingest.ts ROOT FILE [EXPECTED_DIGEST]      -> prints the digest
//        ingest.ts ROOT --trickle                    -> writes forever (to be killed), prints "started"
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Store } from '../../../../packages/storage/src/store.ts';
import type { Digest } from '../../../../packages/storage/src/digest.ts';

const [root, file, expected] = process.argv.slice(2);
const store = Store.open({ root: root!, runRoot: `${root}/run` });
if (file === '--trickle') {
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent++ === 4) process.stdout.write('started\n');
      setTimeout(() => this.push(Buffer.alloc(64 * 1024, 7)), 5);
    },
  });
  await store.write(() => store.blobs.ingest(source));
} else {
  const info = await store.write(() =>
    store.blobs.ingest(createReadStream(file!), expected ? { digest: expected as Digest } : undefined),
  );
  process.stdout.write(`${info.digest}\n`);
  store.close();
}
