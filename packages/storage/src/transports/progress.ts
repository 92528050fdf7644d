// What a copy reports on stderr, in skopeo's and podman's words (containers/image prints the
// same lines from its copy routine); nothing with -q. stdout stays free for data
// (`pcopy copy ... oci-archive:/dev/stdout`, `prun pull` printing the image ID). On a terminal each
// blob gets a progress bar, redrawn in place; elsewhere one line per step. Shared by pcopy and prun.
import type { Descriptor } from '../oci-types.ts';
import type { CopyProgress } from './copy.ts';

interface Bar {
  label: string;
  total: number;
  done: number;
  state: 'copying' | 'done' | 'skipped';
}

const REDRAW_MS = 100;
const BAR_WIDTH = 30;

export function copyProgress(quiet: boolean, out: NodeJS.WriteStream = process.stderr): CopyProgress & { begin(): void } {
  if (quiet) return { begin() {} };
  const line = (s: string) => out.write(`${s}\n`);
  const label = (d: Descriptor, kind: 'blob' | 'config') => `Copying ${kind} ${d.digest.slice(7, 19)}`;
  if (out.isTTY !== true) {
    return {
      begin: () => line('Getting image source signatures'),
      blobStart: (d, kind) => line(`Copying ${kind} ${d.digest}`),
      blobSkipped: (d, kind) => line(`Copying ${kind} ${d.digest} skipped: already exists`),
      manifest: () => line('Writing manifest to image destination'),
    };
  }
  const bars = new Map<string, Bar>();
  let drawn = 0;
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < REDRAW_MS) return;
    last = now;
    let s = drawn ? `\x1b[${drawn}A` : '';
    for (const b of bars.values()) s += `\x1b[2K${render(b)}\n`;
    drawn = bars.size;
    out.write(s);
  };
  return {
    begin: () => line('Getting image source signatures'),
    blobStart: (d, kind) => {
      bars.set(d.digest, { label: label(d, kind), total: d.size, done: 0, state: 'copying' });
      draw(true);
    },
    blobBytes: (d, n) => {
      const b = bars.get(d.digest);
      if (b) b.done += n;
      draw();
    },
    blobDone: (d) => {
      const b = bars.get(d.digest);
      if (b) b.state = 'done';
      draw(true);
    },
    blobSkipped: (d, kind) => {
      bars.set(d.digest, { label: label(d, kind), total: d.size, done: 0, state: 'skipped' });
      draw(true);
    },
    manifest: () => {
      draw(true);
      line('Writing manifest to image destination');
    },
  };
}

function render(b: Bar): string {
  if (b.state === 'skipped') return `${b.label} skipped: already exists`;
  const done = b.state === 'done' ? Math.max(b.done, b.total) : b.done;
  const frac = b.total > 0 ? Math.min(1, done / b.total) : 1;
  const fill = Math.round(frac * BAR_WIDTH);
  const bar = `${'='.repeat(Math.max(0, fill - 1))}${fill ? '>' : ''}${' '.repeat(BAR_WIDTH - fill)}`;
  const tail = b.state === 'done' ? 'done' : `${Math.round(frac * 100)}%`;
  return `${b.label} [${bar}] ${humanBytes(done)} / ${humanBytes(b.total)} ${tail}`;
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
