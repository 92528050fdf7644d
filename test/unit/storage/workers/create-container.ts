// Worker: try to create a container named NAME; prints its id or the error code.
// usage: create-container.ts ROOT IMAGE_ID NAME
import { Store } from '../../../../packages/storage/src/store.ts';
import type { Digest } from '../../../../packages/storage/src/digest.ts';

const [root, id, name] = process.argv.slice(2);
const store = Store.open({ root: root! });
try {
  const rec = await store.write(() => store.containers.create({ name: name!, image: id as Digest, imageName: 'x' }));
  process.stdout.write(`created ${rec.id}\n`);
} catch (err) {
  process.stdout.write(`refused ${(err as { code?: string }).code}\n`);
}
store.close();
