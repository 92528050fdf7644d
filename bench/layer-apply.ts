// Benchmark: applyLayerTar against `tar -xzf` on the same gzip layer.
//
//   node bench/layer-apply.ts [--runs N] [--cache DIR] [--dir OUTDIR]
//
// Generates (once, cached under /var/tmp/pkit-bench) a deterministic ~200 MB gzip layer of
// thousands of small files (0.5-16 KiB) and a few large ones (tens of MB of partly
// compressible data) in nested dirs, plus a half-size one. Then, interleaved, N times each:
// `tar -xzf` into a fresh dir, and applyLayerTar in a child process (so its peak RSS can be
// read) into a fresh dir. Prints medians, MB/s of the compressed and uncompressed size, the
// ratio pkit/tar and pkit's peak RSS for both layer sizes.
import { spawnSync } from 'node:child_process';
import { Prng, writeTree } from './lib/content.ts';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Pack } from 'tar-stream';

const argv = process.argv.slice(2);

// --- child mode: apply one layer and report ---------------------------------------------------
if (argv[0] === '--child') {
  const [, file, dir] = argv as [string, string, string];
  const { applyLayerTar } = await import('../packages/storage/src/layers/apply.ts');
  const t0 = performance.now();
  const r = await applyLayerTar(createReadStream(file, { highWaterMark: 256 * 1024 }), dir);
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRSSKiB: process.resourceUsage().maxRSS, size: r.size, inputSize: r.inputSize }) + '\n');
  process.exit(0);
}

const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const RUNS = Number(opt('--runs', '3'));
const CACHE = opt('--cache', '/var/tmp/pkit-bench');
const GEN_VERSION = 2;
/** Where the trees are extracted (default: beside the cache, on disk; /dev/shm isolates CPU cost). */
const OUT = opt('--dir', CACHE);

// --- deterministic content -------------------------------------------------------------------

interface LayerSpec {
  smallFiles: number;
  largeFiles: number;
  largeSize: number;
}

const FULL: LayerSpec = { smallFiles: 13000, largeFiles: 5, largeSize: 32 << 20 };
const HALF: LayerSpec = { smallFiles: 6500, largeFiles: 5, largeSize: 16 << 20 };

async function generate(spec: LayerSpec, path: string): Promise<void> {
  const { pack } = createRequire(new URL('../packages/storage/package.json', import.meta.url))('tar-stream') as { pack: () => Pack };
  const rng = new Prng(42);
  const p = pack();
  const tmp = `${path}.tmp-${process.pid}`;
  const written = pipeline(p, createGzip({ level: 6 }), createWriteStream(tmp));
  await writeTree(p, rng, { root: 'usr', smallFiles: spec.smallFiles, largeFiles: spec.largeFiles, largeSize: spec.largeSize, largeRandom: 0.85, bigDir: 'opt/big', bigDirEntry: false });
  p.finalize();
  await written;
  renameSync(tmp, path);
}

async function layerFile(spec: LayerSpec, label: string): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `layer-${label}-v${GEN_VERSION}.tar.gz`);
  if (!existsSync(path)) {
    process.stderr.write(`generating ${path} (once) ...\n`);
    const t0 = performance.now();
    await generate(spec, path);
    process.stderr.write(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return path;
}

// --- measuring -------------------------------------------------------------------------------

// Each run extracts into its own new dir and nothing is deleted until the end: on some disks
// (ext4 with online discard) creating files right after a large delete is ~10x slower for a few
// seconds, which would punish whichever tool runs next.
let seq = 0;
function freshDir(tool: string): string {
  const d = join(OUT, `run-${process.pid}-${seq++}-${tool}`);
  mkdirSync(d, { recursive: true });
  spawnSync('sync'); // flush the previous run's dirty pages so each run starts alike
  return d;
}

/** Time to create `n` empty files in a new dir (kept until the end). */
function probe(n: number): number {
  const d = freshDir('probe');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) closeSync(openSync(join(d, `p${i}`), 'wx'));
  return performance.now() - t0;
}

/** Removes leftovers of earlier runs, then waits (up to 60 s) until file creation is fast again. */
function cleanAndSettle(): void {
  mkdirSync(OUT, { recursive: true });
  const old = readdirSync(OUT).filter((n) => n.startsWith('run-'));
  if (old.length === 0) return;
  for (const n of old) rmSync(join(OUT, n), { recursive: true, force: true });
  spawnSync('sync');
  const end = Date.now() + 60_000;
  let prev = Infinity;
  while (Date.now() < end) {
    const ms = probe(2000);
    if (ms < prev * 1.3 && ms > prev * 0.7) return;
    prev = ms;
    spawnSync('sleep', ['1']);
  }
}

function runTar(file: string): number {
  const dir = freshDir('tar');
  const t0 = performance.now();
  const r = spawnSync('tar', ['-xzf', file, '-C', dir], { stdio: 'inherit' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`tar failed: ${r.status}`);
  return ms;
}

interface PkitRun {
  wallMs: number;
  applyMs: number;
  maxRSSMiB: number;
  size: number;
}

function runPkit(file: string): PkitRun {
  const dir = freshDir('pkit');
  const t0 = performance.now();
  // The Node flags the CLIs run with (docs/cli.md, shebang).
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', import.meta.filename, '--child', file, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`pkit child failed: ${r.status}`);
  const j = JSON.parse(r.stdout) as { ms: number; maxRSSKiB: number; size: number };
  return { wallMs, applyMs: j.ms, maxRSSMiB: j.maxRSSKiB / 1024, size: j.size };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MB = 1e6;

async function main(): Promise<void> {
  const full = await layerFile(FULL, 'full');
  const half = await layerFile(HALF, 'half');
  const compressed = statSync(full).size;
  cleanAndSettle();

  const tarMs: number[] = [];
  const pk: PkitRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    tarMs.push(runTar(full));
    pk.push(runPkit(full));
    process.stderr.write(`run ${i + 1}/${RUNS}: tar ${tarMs[i]!.toFixed(0)} ms, pkit ${pk[i]!.wallMs.toFixed(0)} ms (apply ${pk[i]!.applyMs.toFixed(0)} ms, rss ${pk[i]!.maxRSSMiB.toFixed(0)} MiB)\n`);
  }
  const halfRuns: PkitRun[] = [];
  for (let i = 0; i < RUNS; i++) halfRuns.push(runPkit(half));

  const uncompressed = pk[0]!.size;
  const t = median(tarMs);
  const pw = median(pk.map((r) => r.wallMs));
  const pa = median(pk.map((r) => r.applyMs));
  const rss = median(pk.map((r) => r.maxRSSMiB));
  const halfRss = median(halfRuns.map((r) => r.maxRSSMiB));
  const halfSize = statSync(half).size;

  const row = (name: string, ms: number, extra = ''): string =>
    `${name.padEnd(28)} ${(ms / 1000).toFixed(2).padStart(7)} s ${(compressed / MB / (ms / 1000)).toFixed(0).padStart(8)} ${(uncompressed / MB / (ms / 1000)).toFixed(0).padStart(10)}  ${extra}`;
  console.log(`\nextracting into ${OUT}`);
  console.log(`layer: ${(compressed / MB).toFixed(0)} MB gzip, ${(uncompressed / MB).toFixed(0)} MB tar, ${FULL.smallFiles} small + ${FULL.largeFiles} large files; median of ${RUNS}`);
  console.log(`${'tool'.padEnd(28)} ${'time'.padStart(9)} ${'MB/s gz'.padStart(8)} ${'MB/s tar'.padStart(10)}  peak RSS`);
  console.log(row('tar -xzf', t));
  console.log(row('pkit applyLayerTar (process)', pw, `${rss.toFixed(0)} MiB`));
  console.log(row('pkit applyLayerTar (in-call)', pa));
  console.log(`ratio pkit/tar speed: ${(t / pw).toFixed(2)}x (process), ${(t / pa).toFixed(2)}x (in-call)`);
  console.log(`peak RSS: ${(halfSize / MB).toFixed(0)} MB layer ${halfRss.toFixed(0)} MiB, ${(compressed / MB).toFixed(0)} MB layer ${rss.toFixed(0)} MiB`);
  for (const n of readdirSync(OUT)) if (n.startsWith(`run-${process.pid}-`)) rmSync(join(OUT, n), { recursive: true, force: true });
}

await main();
