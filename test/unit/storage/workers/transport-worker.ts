// Worker for the transport tests.
// usage: transport-worker.ts commit DIR PREFIX COUNT   write COUNT images into oci:DIR:PREFIX-<i>
//        transport-worker.ts copy SRC DST               copy SRC to DST (oci:, oci-archive:, dir:)
// Prints the digests of what it committed, one a line.
import { openOciDestination } from '../../../../packages/storage/src/transports/oci-layout.ts';
import { copyRefs, makeImage, writeImage } from '../transport-image.ts';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'commit') {
  for (let i = 0; i < Number(c); i++) {
    const img = await makeImage(`${b}-${i}`);
    await writeImage(await openOciDestination(`${a}:${b}-${i}`), img);
    process.stdout.write(`${img.manifest.digest}\n`);
  }
} else if (mode === 'copy') {
  const top = await copyRefs(a!, b!);
  process.stderr.write(`${top.digest}\n`);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
