// What a copy reports on stderr, in skopeo's words; nothing with -q. stdout stays free for data
// (`pcopy copy ... oci-archive:/dev/stdout`).
import type { CopyProgress, Descriptor } from '@pkit/storage';

export function copyProgress(quiet: boolean, out: NodeJS.WriteStream = process.stderr): CopyProgress & { begin(): void } {
  if (quiet) return { begin() {} };
  const tty = out.isTTY === true;
  const sizes = new Map<string, number>();
  const line = (s: string) => out.write(`${s}\n`);
  const short = (d: Descriptor) => d.digest;
  return {
    begin: () => line('Getting image source signatures'),
    blobStart: (d, kind) => {
      sizes.set(d.digest, 0);
      if (!tty) line(`Copying ${kind} ${short(d)}`);
    },
    blobBytes: (d, n) => sizes.set(d.digest, (sizes.get(d.digest) ?? 0) + n),
    blobDone: (d, kind) => {
      if (tty) line(`Copying ${kind} ${short(d)} done ${humanBytes(sizes.get(d.digest) ?? d.size)}`);
    },
    blobSkipped: (d, kind) => line(`Copying ${kind} ${short(d)} skipped: already exists`),
    manifest: () => line('Writing manifest to image destination'),
  };
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)}${units[i]}`;
}
