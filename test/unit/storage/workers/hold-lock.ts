// Worker: take a lock, print "locked", hold it until killed or for HOLD_MS then print "released".
// usage: hold-lock.ts PATH shared|exclusive HOLD_MS
import { FileLock } from '../../../../packages/storage/src/lock.ts';

const [path, mode, hold] = process.argv.slice(2);
const lock = await FileLock.acquire(path!, mode as 'shared' | 'exclusive');
process.stdout.write(`locked ${Date.now()}\n`);
await new Promise((r) => setTimeout(r, Number(hold)));
process.stdout.write(`released ${Date.now()}\n`);
lock.release();
