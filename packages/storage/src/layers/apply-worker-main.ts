// The layer apply worker program (see apply-worker.ts): `node apply-worker-main.ts [OPTIONS] DIR`.
import { runApplyWorker } from './apply-worker.ts';

await runApplyWorker(process.argv.slice(2));
