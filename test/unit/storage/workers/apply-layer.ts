// Worker: apply a layer file into a store.
// usage: apply-layer.ts ROOT FILE          -> prints the chainID
//        apply-layer.ts ROOT --trickle FILE -> feeds FILE slowly, prints "started" midway (to be killed)
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Store } from '../../../../packages/storage/src/store.ts';

const [root, a, b] = process.argv.slice(2);
const store = Store.open({ root: root! });
if (a === '--trickle') {
  const data = readFileSync(b!);
  let off = 0;
  const source = new Readable({
    read() {
      if (off > data.length / 2) process.stdout.write('started\n');
      if (off >= data.length) return; // never ends: the test kills us
      const chunk = data.subarray(off, off + 16 * 1024);
      off += chunk.length;
      setTimeout(() => this.push(chunk), 2);
    },
  });
  await store.write(() => store.layers.apply(source, undefined));
} else {
  const layer = await store.write(() => store.layers.apply(createReadStream(a!), undefined));
  process.stdout.write(`${layer.chainID}\n`);
  store.close();
}
