// Container start-to-exit time of the native OCI runtime against crun and runc, on the same
// rootless bundle (busybox `true`):
//   node bench/runtime.ts [--runs N] [--warmup W] [--helper PATH] [--no-seccomp] [--no-runc]
//                         [--hyperfine] [--json FILE]
// Times `pkit-runtime --root R run --bundle B id-N`, `crun --root R2 --cgroup-manager=disabled
// run --bundle B id-N` and `runc --root R3 --rootless=true run --bundle B id-N`, each with a
// fresh container id per run, interleaved (every iteration runs every runtime on every
// variant, in a shuffled order) so a noisy neighbour slows all of them alike. Variants:
// multi-range mapping via newuidmap/newgidmap (as podman), single-id mapping, and multi-range
// with podman's seccomp profile. State roots live under $XDG_RUNTIME_DIR as in real use (the
// filesystem type is printed: fsync of state files is cheap on tmpfs, not on disk). Started as
// root, it re-runs itself as the unprivileged test user (PKIT_BENCH_USER, default pkit-test,
// with a plain PATH) so the runs are rootless; PKIT_BENCH_AS_ROOT=1 measures as root.
// --hyperfine adds a cross-check: one `hyperfine -N` per variant over the three runtimes
// (a fixed id per runtime, which `run` removes on exit; leftovers are checked after).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(value('--runs') ?? 50);
const WARMUP = Number(value('--warmup') ?? 5);

if (process.getuid!() === 0 && !process.env.PKIT_BENCH_AS_ROOT) {
  // rootless is what is measured: drop to the test user and run this same script
  const user = process.env.PKIT_BENCH_USER || 'pkit-test';
  const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  if (id.status !== 0) {
    console.error(`bench/runtime: started as root and there is no user ${user} to run rootless as (set PKIT_BENCH_USER, or PKIT_BENCH_AS_ROOT=1 to measure as root)`);
    process.exit(1);
  }
  const uid = id.stdout.trim();
  const runtimeDir = `/run/user/${uid}`;
  // a plain user's PATH (plus this Node): the runtimes look up newuidmap/newgidmap on it
  const path = [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  const env = [`PATH=${path}`, `HOME=/tmp`, `XDG_RUNTIME_DIR=${existsSync(runtimeDir) ? runtimeDir : ''}`];
  const r = spawnSync('runuser', ['-u', user, '--', 'env', '-i', ...env, process.execPath, import.meta.filename, ...args], { stdio: 'inherit', cwd: '/' });
  process.exit(r.status ?? 1);
}

const lib = await import('./lib/runtime-bundle.ts');
const helper = value('--helper') ?? lib.DEFAULT_HELPER;
if (!existsSync(helper)) {
  console.error(`bench/runtime: no helper at ${helper}: run \`node native/build-helper.mjs\` first (or pass --helper)`);
  process.exit(1);
}
if (!value('--helper') && lib.helperStale(helper)) {
  console.error(`bench/runtime: warning: ${helper} is older than native/helper sources (rebuild with \`node native/build-helper.mjs\`)`);
}

const variants = lib.variants(!args.includes('--no-seccomp'));
const stateBase = lib.stateBase();
let runtimes = lib.runtimes(helper, stateBase);
const skipped: string[] = [];
if (args.includes('--no-runc')) {
  runtimes = runtimes.filter((r) => r.name !== 'runc');
  skipped.push('runc: skipped (--no-runc)');
}
// Every runtime must run every variant before it is timed: a failing run is fast and meaningless.
runtimes = runtimes.filter((rt) => {
  for (const v of variants) {
    const why = lib.probe(rt, v.bundle, `probe-${v.name.replace(/[^\w]/g, '_')}`);
    if (why) {
      if (rt.name === 'pkit-runtime') {
        console.error(`bench/runtime: pkit-runtime cannot run the ${v.name} bundle: ${why}`);
        process.exit(1);
      }
      skipped.push(`${rt.name}: cannot run here (${v.name} bundle: ${why}); skipped`);
      return false;
    }
  }
  return true;
});

// A baseline for what the harness itself costs: spawning the host's `true`.
const hostTrue = ['/bin/true', '/usr/bin/true'].find((p) => existsSync(p)) ?? 'true';

const key = (v: string, rt: string) => `${v}\0${rt}`;
const times = new Map<string, number[]>();
const baseline: number[] = [];
let seq = 0;
const failures: string[] = [];

function timeOne(rt: (typeof runtimes)[number], b: string, vname: string, record: boolean): void {
  const id = `id-${++seq}`;
  const [cmd, ...rest] = rt.argv(['run', '--bundle', b, id]);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    failures.push(`${rt.name} ${vname} ${id}: exit ${r.status ?? r.signal}: ${String(r.stderr).trim()}`);
    // remove what a failed run may have left, so the next id starts clean
    const [dc, ...da] = rt.argv(['delete', '--force', id]);
    spawnSync(dc!, da, { stdio: 'ignore' });
    return;
  }
  if (record) {
    const k = key(vname, rt.name);
    if (!times.has(k)) times.set(k, []);
    times.get(k)!.push(ms);
  }
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

for (let it = 0; it < WARMUP + RUNS; it++) {
  const record = it >= WARMUP;
  for (const v of shuffle(variants)) {
    for (const rt of shuffle(runtimes)) timeOne(rt, v.bundle, v.name, record);
  }
  const t0 = process.hrtime.bigint();
  spawnSync(hostTrue, [], { stdio: 'ignore' });
  if (record) baseline.push(Number(process.hrtime.bigint() - t0) / 1e6);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
};
const median = (xs: number[]) => quantile(xs, 0.5);
const sd = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

const ver = (cmd: string[]): string => {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]!.trim() : 'unknown';
};
const uname = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
console.log(`bench/runtime: ${RUNS} runs per runtime and variant after ${WARMUP} warm-up, interleaved (spawnSync loop, fresh id per run)`);
console.log(`uid ${process.getuid!()}, kernel ${uname}, ${ver(['crun', '--version'])}, ${ver(['runc', '--version'])}, helper ${helper}`);
console.log(`state roots in ${stateBase} (${lib.fsType(stateBase)})`);
console.log(`harness baseline (spawnSync ${hostTrue}): median ${median(baseline).toFixed(2)} ms, mean ${mean(baseline).toFixed(2)} ms`);
for (const s of skipped) console.log(s);

interface Row { variant: string; runtime: string; runs: number; median: number; mean: number; sd: number; min: number; p90: number }
const rows: Row[] = [];
for (const v of variants) {
  console.log(`\n${v.name}: ${v.note}`);
  console.log(`  ${'runtime'.padEnd(13)} ${'median ms'.padStart(10)} ${'mean ms'.padStart(9)} ${'sd'.padStart(7)} ${'min'.padStart(7)} ${'p90'.padStart(7)} ${'runs'.padStart(5)}`);
  for (const rt of runtimes) {
    const xs = times.get(key(v.name, rt.name)) ?? [];
    if (!xs.length) { console.log(`  ${rt.name.padEnd(13)} (no successful runs)`); continue; }
    const row = { variant: v.name, runtime: rt.name, runs: xs.length, median: median(xs), mean: mean(xs), sd: sd(xs), min: Math.min(...xs), p90: quantile(xs, 0.9) };
    rows.push(row);
    console.log(`  ${rt.name.padEnd(13)} ${row.median.toFixed(2).padStart(10)} ${row.mean.toFixed(2).padStart(9)} ${row.sd.toFixed(2).padStart(7)} ${row.min.toFixed(2).padStart(7)} ${row.p90.toFixed(2).padStart(7)} ${String(row.runs).padStart(5)}`);
  }
  const pk = rows.find((r) => r.variant === v.name && r.runtime === 'pkit-runtime');
  for (const other of ['crun', 'runc']) {
    const o = rows.find((r) => r.variant === v.name && r.runtime === other);
    if (pk && o) console.log(`  pkit/${other}: ${(pk.median / o.median).toFixed(2)}x median, ${(pk.mean / o.mean).toFixed(2)}x mean`);
  }
}

if (args.includes('--hyperfine')) {
  const hf = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
  if (hf.status !== 0) console.log('\nhyperfine: not installed, cross-check skipped');
  else {
    console.log(`\ncross-check: ${hf.stdout.trim()} -N, ${RUNS} runs, fixed id per runtime`);
    for (const v of variants) {
      const out = join(lib.work, `hf-${v.name.replace(/[^\w]/g, '_')}.json`);
      const cmds = runtimes.map((rt) => rt.argv(['run', '--bundle', v.bundle, `hf-${rt.name}`]).join(' '));
      const r = spawnSync('hyperfine', ['-N', '--style', 'none', '--warmup', String(WARMUP), '--runs', String(RUNS), '--export-json', out, ...cmds], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (r.status !== 0) { console.log(`  ${v.name}: hyperfine failed (${r.status ?? r.signal}): ${r.stderr.trim()}`); continue; }
      const res = (JSON.parse(readFileSync(out, 'utf8')) as { results: { median: number; mean: number }[] }).results;
      const cells = res.map((x, i) => `${runtimes[i]!.name} ${(x.median * 1000).toFixed(2)}/${(x.mean * 1000).toFixed(2)}`);
      console.log(`  ${v.name.padEnd(13)} median/mean ms: ${cells.join(', ')}`);
    }
  }
}

for (const rt of runtimes) {
  const left = lib.leftovers(rt);
  if (left.length) console.log(`warning: ${rt.name} left state for ${left.length} container(s) in ${rt.root}: ${left.slice(0, 5).join(', ')}`);
}
if (failures.length) {
  console.log(`\n${failures.length} failed run(s) (not timed):`);
  for (const f of failures.slice(0, 10)) console.log(`  ${f}`);
}
const jsonFile = value('--json');
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ runs: RUNS, warmup: WARMUP, helper, skipped, baseline: { median: median(baseline), mean: mean(baseline) }, rows, failures }, null, 2));
