// prun against podman on the same work, in the same run (issue 5's measure, first part):
// `run --rm IMAGE true` with the image already in both stores, rootless, --network none and the
// default network (slirp4netns for both), and
// `--version` against `node -e 0`.
//   node bench/prun.ts [--runs N] [--pull-runs N] [--only pull|run] [--cache DIR] [--registry HOST:PORT]
// Run as root, it re-runs itself as the unprivileged test user (pkit-test), as the tests do.
// Pull: `prun pull` against `podman pull` of the ~290 MB synthetic image of bench/lib/big-image.ts
// (cached in --cache, shared with bench/pcopy.ts), pushed with skopeo to the test bed's open
// registry; each run into an empty store (prun: a fresh --root; podman: a fresh --root and
// --runroot), interleaved, after one warm-up run each; medians and their ratio.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildLayout, layoutDir, readLayout, registryAnswers, registryDigest, REF, type Image } from './lib/big-image.ts';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 20) || 20;
const FIXTURE = join(REPO, 'test/bed/out/busybox-rootfs.tar');
const PRUN = join(REPO, 'packages/prun/bin/prun');
const NODE_DIR = dirname(process.execPath);
const opt = (name: string, dflt: string): string => (args.includes(name) && args[args.indexOf(name) + 1] !== undefined ? args[args.indexOf(name) + 1]! : dflt);
const PULL_RUNS = Math.max(0, Number(opt('--pull-runs', '5')));
const ONLY = opt('--only', '');
const CACHE = opt('--cache', '/var/tmp/pkit-bench-pcopy');
const REGISTRY = opt('--registry', '127.0.0.1:5100');
const REGISTRIES_SH = join(REPO, 'test', 'bed', 'registries.sh');
let startedRegistry = false;

// As root: the image layout is generated into the shared cache, and the registry started, before
// the unprivileged user takes over (it can neither write the cache nor start the registry there).
if (process.getuid?.() === 0 && ONLY !== 'run' && PULL_RUNS > 0) {
  await buildLayout(CACHE);
  if (!(await registryAnswers(REGISTRY))) {
    const r = spawnSync('bash', [REGISTRIES_SH, 'start'], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('test/bed/registries.sh start failed');
    startedRegistry = true;
  }
}

if (process.getuid?.() === 0) {
  const uid = spawnSync('id', ['-u', 'pkit-test'], { encoding: 'utf8' }).stdout.trim();
  const r = spawnSync('runuser', ['-u', 'pkit-test', '--', 'env', `PATH=${NODE_DIR}:/usr/bin:/bin`, 'HOME=/home/pkit-test', `XDG_RUNTIME_DIR=/run/user/${uid}`,
    process.execPath, import.meta.filename, ...args], { stdio: 'inherit', cwd: tmpdir() });
  if (startedRegistry) spawnSync('bash', [REGISTRIES_SH, 'stop'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

function must(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

if (ONLY !== 'run' && PULL_RUNS > 0) await pullBench();
if (ONLY === 'pull') process.exit(0);

const root = mkdtempSync(join(tmpdir(), 'pkit-bench-prun-'));
try {
  must(PRUN, ['--root', root, 'import', FIXTURE, 'benchbox']);
  must('podman', ['import', '-q', FIXTURE, 'localhost/benchbox']);
  const json = join(root, 'hyperfine.json');
  must('hyperfine', ['-N', '-w', '3', '-r', String(RUNS), '--export-json', json,
    '-n', 'prun run --rm --network none', `${PRUN} --root ${root} run --rm --network none benchbox true`,
    '-n', 'podman run --rm --network none', 'podman run --rm --network none localhost/benchbox true',
    '-n', 'prun run --rm', `${PRUN} --root ${root} run --rm benchbox true`,
    '-n', 'podman run --rm', 'podman run --rm localhost/benchbox true',
    '-n', 'prun --version', `${PRUN} --version`,
    '-n', 'node -e 0', `${process.execPath} -e 0`]);
  const results = JSON.parse(readFileSync(json, 'utf8')).results as { command: string; median: number; mean: number }[];
  const by = (name: string) => results.find((r) => r.command === name)!;
  const ms = (s: number) => (s * 1000).toFixed(1).padStart(8);
  console.log(`${RUNS} runs each, hyperfine -N, rootless as ${process.env.USER ?? 'this user'}`);
  console.log('command              median ms  mean ms');
  for (const r of results) console.log(`${r.command.padEnd(20)} ${ms(r.median)} ${ms(r.mean)}`);
  for (const net of [' --network none', '']) {
    const ratio = by(`prun run --rm${net}`).median / by(`podman run --rm${net}`).median;
    console.log(`prun run / podman run (${net ? 'network none' : 'default network: slirp4netns'}): ${ratio.toFixed(2)}x (aim: at most 0.5x)`);
  }
  console.log(`prun --version / node -e 0: ${(by('prun --version').median / by('node -e 0').median).toFixed(2)}x`);
} finally {
  spawnSync('podman', ['rmi', '-f', 'localhost/benchbox'], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
}

// --- pull -----------------------------------------------------------------------------------

interface PullSample {
  seconds: number;
  /** Peak RSS of the tool's own process (ru_maxrss via /usr/bin/time), MiB; NaN without it. */
  rssMiB: number;
}

/** Runs one pull as a timed child process (its peak RSS through /usr/bin/time when there); returns its stdout too. */
function timedPull(cmd: string[], env: NodeJS.ProcessEnv = process.env): PullSample & { stdout: string } {
  const timeFile = join(tmpdir(), `pkit-bench-time-${process.pid}`);
  const wrap = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%M', '-o', timeFile] : [];
  const argv = [...wrap, ...cmd];
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rssMiB = wrap.length ? Number(readFileSync(timeFile, 'utf8').trim().split(/\s+/).pop()) / 1024 : Number.NaN;
  rmSync(timeFile, { force: true });
  return { seconds, rssMiB, stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function pullBench(): Promise<void> {
  // The shared cache when it holds the layout (made by root or by bench/pcopy.ts), else a private one.
  const cache = readLayout(layoutDir(CACHE)) ? CACHE : join(tmpdir(), `pkit-bench-prun-cache-${process.getuid?.()}`);
  const image: Image = await buildLayout(cache);
  const layout = layoutDir(cache);
  if (!(await registryAnswers(REGISTRY))) throw new Error(`no registry at ${REGISTRY}: start it with bash test/bed/registries.sh start (or run this bench as root)`);
  const repo = `bench-prun-${randomBytes(4).toString('hex')}/big`;
  const ref = `${REGISTRY}/${repo}:1`;
  const push = spawnSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:${REF}`, `docker://${ref}`], { encoding: 'utf8' });
  if (push.status !== 0) throw new Error(`skopeo push of the bench image failed: ${push.stderr}`);
  if ((await registryDigest(REGISTRY, repo, '1')) !== image.manifest.digest) throw new Error(`the registry does not hold ${ref} as ${image.manifest.digest}`);
  const scratch = mkdtempSync(join(tmpdir(), 'pkit-bench-pull-'));
  const id = image.config.digest.slice('sha256:'.length);
  const env = { ...process.env, PATH: `${NODE_DIR}:${process.env.PATH ?? ''}` };
  const tools = {
    'prun pull': (i: number): PullSample => {
      const store = join(scratch, `prun-${i}`);
      try {
        const s = timedPull([PRUN, '--root', store, 'pull', '-q', '--tls-verify=false', ref], env);
        if (s.stdout.trim() !== id) throw new Error(`prun pull printed ${s.stdout.trim()}, not ${id}`);
        return s;
      } finally {
        rmSync(store, { recursive: true, force: true });
      }
    },
    'podman pull': (i: number): PullSample => {
      const store = ['--root', join(scratch, `podman-${i}`), '--runroot', join(scratch, `podman-run-${i}`)];
      try {
        const s = timedPull(['podman', ...store, 'pull', '-q', '--tls-verify=false', ref]);
        if (s.stdout.trim() !== id) throw new Error(`podman pull printed ${s.stdout.trim()}, not ${id}`);
        return s;
      } finally {
        // its layers hold files of subordinate owners: removed inside its user namespace
        spawnSync('podman', [...store, 'unshare', 'rm', '-rf', store[1]!, store[3]!], { stdio: 'ignore' });
      }
    },
  };
  const names = Object.keys(tools) as (keyof typeof tools)[];
  const samples = new Map<string, PullSample[]>(names.map((n) => [n, []]));
  try {
    for (let i = -1; i < PULL_RUNS; i++) {
      for (const name of i % 2 === 0 ? names : [...names].reverse()) {
        const s = tools[name](i + 1);
        if (i >= 0) samples.get(name)!.push(s);
        process.stderr.write(`${i < 0 ? 'warm-up' : `run ${i + 1}/${PULL_RUNS}`} ${name}: ${s.seconds.toFixed(2)} s, ${s.rssMiB.toFixed(0)} MiB\n`);
      }
    }
  } finally {
    spawnSync('skopeo', ['delete', '--tls-verify=false', `docker://${ref}`], { stdio: 'ignore' });
    rmSync(scratch, { recursive: true, force: true });
  }
  const mb = image.bytes / 1e6;
  console.log(`pull of a ${mb.toFixed(1)} MB image (${image.layers.length} gzip layers, ${(image.tarBytes / 1e6).toFixed(0)} MB unpacked) from ${REGISTRY} into an empty store each run`);
  console.log(`median of ${PULL_RUNS} interleaved runs after 1 warm-up each, rootless as ${process.env.USER ?? 'this user'}; -q for both`);
  console.log('command        median s    MB/s  peak RSS MiB (median)');
  for (const name of names) {
    const xs = samples.get(name)!;
    const t = median(xs.map((s) => s.seconds));
    console.log(`${name.padEnd(14)} ${t.toFixed(2).padStart(8)} ${(mb / t).toFixed(0).padStart(7)} ${median(xs.map((s) => s.rssMiB)).toFixed(0).padStart(12)}`);
  }
  const ratio = median(samples.get('prun pull')!.map((s) => s.seconds)) / median(samples.get('podman pull')!.map((s) => s.seconds));
  console.log(`prun pull / podman pull: ${ratio.toFixed(2)}x (below 1: prun is faster)\n`);
}
