// Start-up time of the CLIs against `node -e 0` run by the same Node binary (docs/cli.md).
//   node bench/startup.ts [--runs N] [--rounds R] [--no-hyperfine] [--no-anchors] [--json FILE]
//                         [--add 'label=command line']...
// Every command runs N times in total after a warm-up, spread over R interleaved rounds, so a
// noisy neighbour slows all of them alike. With hyperfine installed each round is one
// `hyperfine -N` run over all commands; without, a spawnSync loop runs the commands in turn.
// `--add` measures one more command line (split on spaces), e.g. an experimental build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Bench {
  label: string;
  argv: string[];
  anchor?: boolean;
}

const REPO = join(import.meta.dirname, '..');
const NODE = process.execPath;
const args = process.argv.slice(2);
const value = (flag: string, dflt: number): number => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = value('--runs', 40);
const ROUNDS = Math.max(1, Math.min(value('--rounds', 5), RUNS));
const WARMUP = 3;

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

const missing = ['pbuild', 'prun', 'pcopy'].filter((c) => !existsSync(join(REPO, 'packages', c, 'dist', `${c}.mjs`)));
if (missing.length) {
  console.error(`bench/startup: no build of ${missing.join(', ')}: run \`pnpm run build\` first`);
  process.exit(1);
}

const store = mkdtempSync(join(tmpdir(), 'pkit-bench-'));
const bin = (cli: string): string => join(REPO, 'packages', cli, 'bin', cli);
const benches: Bench[] = [
  { label: 'node -e 0', argv: [NODE, '-e', '0'] },
  { label: 'prun --version', argv: [NODE, bin('prun'), '--version'] },
  { label: 'pbuild --version', argv: [NODE, bin('pbuild'), '--version'] },
  { label: 'pcopy --version', argv: [NODE, bin('pcopy'), '--version'] },
  { label: 'prun info', argv: [NODE, bin('prun'), 'info', '--root', store] },
];
for (let i = args.indexOf('--add'); i >= 0; i = args.indexOf('--add', i + 1)) {
  const spec = args[i + 1] ?? '';
  const eq = spec.indexOf('=');
  benches.push({ label: spec.slice(0, eq), argv: spec.slice(eq + 1).split(' ').filter(Boolean) });
}
if (!args.includes('--no-anchors')) {
  for (const tool of ['podman', 'buildah', 'skopeo']) {
    const p = which(tool);
    if (p) benches.push({ label: `${tool} --version`, argv: [p, '--version'], anchor: true });
  }
}

// Each command must work before it is timed: a failing command is fast and meaningless.
for (const b of benches) {
  const r = spawnSync(b.argv[0]!, b.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    console.error(`bench/startup: \`${b.label}\` failed (${r.status ?? r.signal}): ${String(r.stderr).trim()}`);
    process.exit(1);
  }
}

const times = new Map<string, number[]>(benches.map((b) => [b.label, []]));
const hyperfine = args.includes('--no-hyperfine') ? undefined : which('hyperfine');
const perRound = Math.ceil(RUNS / ROUNDS);
for (let round = 0; round < ROUNDS; round++) {
  if (hyperfine) {
    const out = join(store, 'round.json');
    const cmds = benches.map((b) => b.argv.join(' '));
    const r = spawnSync(hyperfine, ['-N', '--style', 'none', '--warmup', String(WARMUP), '--runs', String(perRound), '--export-json', out, ...cmds], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`hyperfine failed with ${r.status ?? r.signal}`);
    const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: { times: number[] }[] }).results;
    results.forEach((res, i) => times.get(benches[i]!.label)!.push(...res.times.map((s) => s * 1000)));
  } else {
    if (round === 0) for (let w = 0; w < WARMUP; w++) for (const b of benches) spawnSync(b.argv[0]!, b.argv.slice(1), { stdio: 'ignore' });
    for (let k = 0; k < perRound; k++) {
      for (const b of benches) {
        const t0 = process.hrtime.bigint();
        spawnSync(b.argv[0]!, b.argv.slice(1), { stdio: 'ignore' });
        times.get(b.label)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  }
}
rmSync(store, { recursive: true, force: true });

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const base = times.get('node -e 0')!;
const baseMean = mean(base);
const baseMedian = median(base);
const rows = benches.map((b) => {
  const xs = times.get(b.label)!;
  return { command: b.label, anchor: Boolean(b.anchor), runs: xs.length, mean: mean(xs), median: median(xs), ratio: median(xs) / baseMedian, ratioMean: mean(xs) / baseMean };
});

console.log(`Node ${process.version} (${NODE}), ${hyperfine ? 'hyperfine -N' : 'spawnSync loop'}, ${perRound * ROUNDS} runs x ${ROUNDS} interleaved rounds`);
console.log(`${'command'.padEnd(22)} ${'mean ms'.padStart(8)} ${'median'.padStart(8)} ${'x node (median)'.padStart(16)} ${'x node (mean)'.padStart(14)}`);
for (const r of rows) {
  const name = r.anchor ? `${r.command} *` : r.command;
  console.log(`${name.padEnd(22)} ${r.mean.toFixed(1).padStart(8)} ${r.median.toFixed(1).padStart(8)} ${r.ratio.toFixed(2).padStart(16)} ${r.ratioMean.toFixed(2).padStart(14)}`);
}
if (rows.some((r) => r.anchor)) console.log('* anchor for context (a Go binary, not a Node program)');
const jsonAt = args.indexOf('--json');
if (jsonAt >= 0) {
  writeFileSync(args[jsonAt + 1]!, JSON.stringify({ node: process.version, tool: hyperfine ? 'hyperfine' : 'spawnSync', rows }, null, 2));
}
