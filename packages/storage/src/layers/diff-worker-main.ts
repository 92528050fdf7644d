// The layer diff worker program (see diff-worker.ts): `node diff-worker-main.ts [OPTIONS] DIR`.
import { runDiffWorker } from './diff-worker.ts';

await runDiffWorker(process.argv.slice(2));
