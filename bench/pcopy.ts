// Benchmark: `pcopy copy` against `skopeo copy` on the same image and the same paths.
//
//   node bench/pcopy.ts [--runs N] [--warmup W] [--cache DIR] [--registry HOST:PORT]
//                       [--paths reg-oci,oci-reg,reg-local] [--skopeo-shared-cache]
//                       [--cpu-prof DIR] [--json FILE] [--keep]
//
// 1. Builds once (cached under /var/tmp/pkit-bench-pcopy, reused while it checks out) a
//    deterministic ~290 MB (compressed) image of 5 tar+gzip layers, written directly as an OCI
//    layout: small-file trees, a few large partly compressible files, and mixes of both.
// 2. Pushes it with skopeo into the test bed's open registry (127.0.0.1:5100) under a
//    repository prefix unique to this run (`bench-<random>/src:1`); starts the registry with
//    test/bed/registries.sh when nothing answers there (and stops it again at the end).
// 3. Times, interleaved (the tool that goes first alternates from run to run), N runs per path
//    after W untimed warm-up runs, `-q` for both tools:
//      reg-oci    docker:// -> oci:DIR (a fresh layout dir each run)
//      oci-reg    oci:LAYOUT -> docker:// into a repository new to the registry each run, so
//                 every blob is uploaded (HEAD 404, no mount source)
//      reg-local  pcopy docker:// -> local: (a fresh --root store each run). skopeo's
//                 counterpart would be containers-storage:, which the issue leaves aside; the
//                 row has no ratio of its own, and the note under the table sets it against
//                 skopeo's reg-oci (the nearest equivalent, not the same work: the local store
//                 also unpacks every layer).
// 4. Prints median wall time, MB/s (image bytes: manifest + config + compressed layers, over
//    the median time), peak RSS (median and max over the runs) and skopeo_time/pcopy_time
//    (> 1: pcopy faster). The aim is pcopy >= skopeo on every path and peak RSS < 150 MB.
//
// Fairness. skopeo (containers/image) remembers in its blob-info cache where each blob was
// seen in a registry (as root /var/lib/containers/cache/blob-info-cache-v1.boltdb, shared by
// every skopeo on the machine) and then *mounts* it from there instead of uploading, for any
// source transport: after pushing `src:1` it would push oci-reg by cross-repository mounts
// and skip the upload that pcopy (which mounts only for docker -> docker) does. So each skopeo
// run gets an empty cache of its own: as root a private mount namespace with a tmpfs over the
// cache dir (`unshare -m`), otherwise XDG_DATA_HOME pointing at a fresh dir.
// `--skopeo-shared-cache` turns this off, to see skopeo as it behaves by default.
//
// Measuring. Wall time is taken here around a synchronous spawn (the process, from exec to
// exit). Peak RSS comes from GNU time (`/usr/bin/time -f %M -o FILE`): the kernel's
// ru_maxrss of the waited child, which is exact, costs nothing while running and counts the
// high-water mark even of a short spike. It is the largest single process of the tree, not a
// sum (neither tool runs helpers on these paths as root). Without /usr/bin/time the process
// is spawned asynchronously and /proc/PID/status VmHWM (the same high-water mark) is read every
// 20 ms until it exits; the last read before exit is within 20 ms of the end.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { LAYERS, REF, buildLayout, layoutDir, registryAnswers, registryDigest, type Desc } from './lib/big-image.ts';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const RUNS = Math.max(1, Number(opt('--runs', '3')));
const WARMUP = Math.max(0, Number(opt('--warmup', '1')));
const CACHE = opt('--cache', '/var/tmp/pkit-bench-pcopy');
const REGISTRY = opt('--registry', '127.0.0.1:5100');
const PATHS = opt('--paths', 'reg-oci,oci-reg,reg-local').split(',').filter(Boolean);
const SHARED_CACHE = argv.includes('--skopeo-shared-cache');
const CPU_PROF = opt('--cpu-prof', '');
const JSON_OUT = opt('--json', '');
const KEEP = argv.includes('--keep');
const LAYOUT = layoutDir(CACHE);
const NODE = process.execPath;
const PCOPY = join(REPO, 'packages', 'pcopy', 'bin', 'pcopy');
const TIME = '/usr/bin/time';
const MB = 1e6;
const MiB = 1 << 20;

// --- running and measuring -----------------------------------------------------------------------

interface Sample {
  seconds: number;
  rssMiB: number;
}

const isRoot = process.getuid?.() === 0;
const SKOPEO_CACHE_DIR = '/var/lib/containers/cache';
let scratch = '';
let seq = 0;

function fail(what: string, r: Pick<SpawnSyncReturns<string>, 'status' | 'signal' | 'stderr'>): never {
  throw new Error(`${what} failed (${r.status ?? r.signal}): ${String(r.stderr).trim().slice(-2000)}`);
}

/** Runs argv to completion; wall time measured here, peak RSS by GNU time or VmHWM sampling. */
async function measure(label: string, argvIn: string[], env: NodeJS.ProcessEnv = process.env, wrap: string[] = []): Promise<Sample> {
  spawnSync('sync'); // the previous run's dirty pages are not this run's cost
  if (existsSync(TIME)) {
    const out = join(scratch, `time-${seq++}`);
    const cmd = [...wrap, TIME, '-f', '%e %M', '-o', out, ...argvIn];
    const t0 = performance.now();
    const r = spawnSync(cmd[0]!, cmd.slice(1), { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * MiB });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) fail(label, r);
    const kib = Number(readFileSync(out, 'utf8').trim().split(/\s+/).pop());
    return { seconds, rssMiB: kib / 1024 };
  }
  const cmd = [...wrap, ...argvIn];
  const t0 = performance.now();
  const child = spawn(cmd[0]!, cmd.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  // With a wrapper (unshare, sh) the measured process is the last exec of the same pid.
  let hwm = 0;
  const sample = (): void => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hwm = Math.max(hwm, Number(m[1]));
    } catch {}
  };
  const timer = setInterval(sample, 20);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  if (status !== 0) fail(label, { status, signal, stderr });
  return { seconds, rssMiB: hwm / 1024 };
}

let cacheIsolation: 'unshare' | 'xdg' | 'shared' = 'shared';

function chooseCacheIsolation(): void {
  if (SHARED_CACHE) return;
  if (!isRoot) {
    cacheIsolation = 'xdg';
    return;
  }
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs ${SKOPEO_CACHE_DIR} && true`], { encoding: 'utf8' });
  if (r.status === 0 && existsSync(SKOPEO_CACHE_DIR)) cacheIsolation = 'unshare';
  else process.stderr.write(`warning: cannot give skopeo a private blob-info cache (unshare -m: ${String(r.stderr).trim()}); it may mount blobs instead of uploading\n`);
}

function skopeo(label: string, args: string[]): Promise<Sample> {
  const cmd = ['skopeo', ...args];
  if (cacheIsolation === 'unshare') {
    const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs ${SKOPEO_CACHE_DIR} && exec "$@"`, 'sh'];
    return measure(label, cmd, process.env, wrap);
  }
  if (cacheIsolation === 'xdg') {
    const data = join(scratch, `xdg-${seq++}`);
    mkdirSync(data);
    return measure(label, cmd, { ...process.env, XDG_DATA_HOME: data });
  }
  return measure(label, cmd);
}

function pcopy(label: string, args: string[]): Promise<Sample> {
  const prof = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF, '--cpu-prof-name', `${label.replace(/[^a-z0-9-]+/gi, '_')}-${seq}.cpuprofile`] : [];
  // Run as a user runs it: the bin itself, whose shebang sets pkit's Node flags, with this
  // Node first on PATH. Profiling needs node on the command line: the same flags then.
  if (prof.length) return measure(label, [NODE, '--max-semi-space-size=1', ...prof, PCOPY, ...args]);
  return measure(label, [PCOPY, ...args], { ...process.env, PATH: `${dirname(NODE)}:${process.env.PATH ?? ''}` });
}

type Tool = 'pcopy' | 'skopeo';
interface Path {
  id: string;
  title: string;
  tools: Tool[];
  run(tool: Tool, i: number): Promise<Sample>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  for (const [what, ok] of [
    ['pcopy build (run `bash scripts/build.sh`)', existsSync(join(REPO, 'packages', 'pcopy', 'dist', 'pcopy.mjs'))],
    ['skopeo', spawnSync('skopeo', ['--version']).status === 0],
  ] as const) {
    if (!ok) {
      console.error(`bench/pcopy: ${what} is missing`);
      process.exit(1);
    }
  }
  if (Number(process.versions.node.split('.')[0]) < 22) {
    console.error(`bench/pcopy: run with the pinned Node (export PATH=${REPO}/node_modules/.bin:$PATH), not ${process.version}`);
    process.exit(1);
  }
  const image = await buildLayout(CACHE);

  let startedRegistry = false;
  if (!(await registryAnswers(REGISTRY))) {
    process.stderr.write(`no registry at ${REGISTRY}: starting the test bed's\n`);
    const r = spawnSync('bash', [join(REPO, 'test', 'bed', 'registries.sh'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
    if (r.status !== 0) fail('registries.sh start', r);
    startedRegistry = true;
  }
  mkdirSync(CACHE, { recursive: true });
  scratch = mkdtempSync(join(CACHE, `run-${process.pid}-`));
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const pushed: string[] = [];
  chooseCacheIsolation();

  try {
    const src = `${prefix}/src`;
    process.stderr.write(`pushing the image to docker://${REGISTRY}/${src}:1 with skopeo ...\n`);
    const push = spawnSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${LAYOUT}:${REF}`, `docker://${REGISTRY}/${src}:1`], { encoding: 'utf8' });
    if (push.status !== 0) fail('skopeo push of the source image', push);
    pushed.push(`${src}:1`);
    if ((await registryDigest(REGISTRY, src, '1')) !== image.manifest.digest) throw new Error(`the registry does not hold ${src}:1 as ${image.manifest.digest}`);
    const srcRef = `docker://${REGISTRY}/${src}:1`;

    const allPaths: Path[] = [
      {
        id: 'reg-oci',
        title: 'registry -> oci',
        tools: ['pcopy', 'skopeo'],
        async run(tool, i) {
          const dir = join(scratch, `oci-${tool}-${i}`);
          const args = ['copy', '-q', '--src-tls-verify=false', srcRef, `oci:${dir}:${REF}`];
          const s = await (tool === 'pcopy' ? pcopy(`reg-oci-${i}`, args) : skopeo(`skopeo reg-oci ${i}`, args));
          const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Desc[] };
          if (!index.manifests.some((m) => m.digest === image.manifest.digest)) throw new Error(`${tool} reg-oci: ${dir} lacks ${image.manifest.digest}`);
          return s;
        },
      },
      {
        id: 'oci-reg',
        title: 'oci -> registry',
        tools: ['pcopy', 'skopeo'],
        async run(tool, i) {
          const repo = `${prefix}/push-${tool}-${i}`;
          const args = ['copy', '-q', '--dest-tls-verify=false', `oci:${LAYOUT}:${REF}`, `docker://${REGISTRY}/${repo}:1`];
          pushed.push(`${repo}:1`);
          const s = await (tool === 'pcopy' ? pcopy(`oci-reg-${i}`, args) : skopeo(`skopeo oci-reg ${i}`, args));
          if ((await registryDigest(REGISTRY, repo, '1')) !== image.manifest.digest) throw new Error(`${tool} oci-reg: ${repo}:1 is not ${image.manifest.digest}`);
          return s;
        },
      },
      {
        id: 'reg-local',
        title: 'registry -> local',
        tools: ['pcopy'],
        async run(_tool, i) {
          const root = join(scratch, `store-${i}`);
          return pcopy(`reg-local-${i}`, ['copy', '-q', '--src-tls-verify=false', '--root', root, srcRef, `local:${prefix}/img:1`]);
        },
      },
    ];
    const paths = allPaths.filter((p) => PATHS.includes(p.id));

    const samples = new Map<string, Sample[]>();
    const key = (p: Path, t: Tool): string => `${p.id}/${t}`;
    for (let i = -WARMUP; i < RUNS; i++) {
      for (const p of paths) {
        const order = i % 2 === 0 ? p.tools : [...p.tools].reverse();
        for (const tool of order) {
          const s = await p.run(tool, i + WARMUP);
          if (i >= 0) {
            const list = samples.get(key(p, tool)) ?? [];
            list.push(s);
            samples.set(key(p, tool), list);
          }
          process.stderr.write(`${i < 0 ? 'warm-up' : `run ${i + 1}/${RUNS}`} ${p.id} ${tool}: ${s.seconds.toFixed(2)} s, ${s.rssMiB.toFixed(0)} MiB\n`);
        }
      }
    }

    interface Row {
      path: string;
      tool: Tool;
      seconds: number;
      mbps: number;
      rssMedianMiB: number;
      rssMaxMiB: number;
      ratio?: number;
      runs: Sample[];
    }
    const rows: Row[] = [];
    for (const p of paths) {
      for (const tool of p.tools) {
        const xs = samples.get(key(p, tool))!;
        const seconds = median(xs.map((s) => s.seconds));
        rows.push({
          path: p.title,
          tool,
          seconds,
          mbps: image.bytes / MB / seconds,
          rssMedianMiB: median(xs.map((s) => s.rssMiB)),
          rssMaxMiB: Math.max(...xs.map((s) => s.rssMiB)),
          runs: xs,
        });
      }
      const pc = rows.find((r) => r.path === p.title && r.tool === 'pcopy');
      const sk = rows.find((r) => r.path === p.title && r.tool === 'skopeo');
      if (pc && sk) pc.ratio = sk.ratio = sk.seconds / pc.seconds;
    }

    const skopeoVersion = spawnSync('skopeo', ['--version'], { encoding: 'utf8' }).stdout.trim();
    console.log(`\nimage: ${LAYERS.length} gzip layers, ${(image.bytes / MB).toFixed(1)} MB (${LAYOUT}); registry ${REGISTRY} (repos ${prefix}/...)`);
    console.log(`pcopy on Node ${process.version}, ${skopeoVersion}; median of ${RUNS} interleaved runs after ${WARMUP} warm-up; -q for both`);
    console.log(`skopeo blob-info cache: ${{ unshare: 'empty and private per run (tmpfs in a mount namespace)', xdg: 'empty and private per run (XDG_DATA_HOME)', shared: 'the shared default (may mount instead of upload)' }[cacheIsolation]}`);
    console.log(`peak RSS: ${existsSync(TIME) ? 'ru_maxrss via /usr/bin/time' : 'VmHWM sampled every 20 ms'}\n`);
    const head = `${'path'.padEnd(18)} ${'tool'.padEnd(7)} ${'median s'.padStart(9)} ${'MB/s'.padStart(7)} ${'RSS MiB med'.padStart(12)} ${'max'.padStart(6)} ${'skopeo/pcopy'.padStart(13)}`;
    console.log(head);
    console.log('-'.repeat(head.length));
    for (const r of rows) {
      console.log(
        `${r.path.padEnd(18)} ${r.tool.padEnd(7)} ${r.seconds.toFixed(2).padStart(9)} ${r.mbps.toFixed(0).padStart(7)} ${r.rssMedianMiB.toFixed(0).padStart(12)} ${r.rssMaxMiB.toFixed(0).padStart(6)} ${(r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`).padStart(13)}`,
      );
    }
    const local = rows.find((r) => r.path === 'registry -> local');
    const skOci = rows.find((r) => r.path === 'registry -> oci' && r.tool === 'skopeo');
    if (local) {
      console.log(
        `\nregistry -> local: skopeo's counterpart (containers-storage:) is left aside${skOci ? `; against skopeo registry -> oci, the nearest equivalent but less work (no unpacking), skopeo/pcopy = ${(skOci.seconds / local.seconds).toFixed(2)}x` : ''}`,
      );
    }
    const aims: string[] = [];
    for (const r of rows.filter((x) => x.tool === 'pcopy')) {
      const speed = r.ratio === undefined ? '' : r.ratio >= 1 ? 'at least as fast as skopeo' : `SLOWER than skopeo (${r.ratio.toFixed(2)}x)`;
      const mem = (r.rssMaxMiB * MiB) / MB < 150 ? `peak RSS ${((r.rssMaxMiB * MiB) / MB).toFixed(0)} MB < 150 MB` : `peak RSS ${((r.rssMaxMiB * MiB) / MB).toFixed(0)} MB OVER 150 MB`;
      aims.push(`  ${r.path}: ${[speed, mem].filter(Boolean).join(', ')}`);
    }
    console.log(`\naim (pcopy >= skopeo on every path, peak RSS < 150 MB):\n${aims.join('\n')}`);
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ image, registry: REGISTRY, runs: RUNS, warmup: WARMUP, cacheIsolation, rows }, null, 2));
  } finally {
    for (const ref of pushed) {
      spawnSync('skopeo', ['delete', '--tls-verify=false', `docker://${REGISTRY}/${ref}`], { stdio: 'ignore' });
    }
    if (!KEEP) rmSync(scratch, { recursive: true, force: true });
    else process.stderr.write(`kept ${scratch}\n`);
    for (const n of readdirSync(CACHE)) if (n.startsWith(`${LAYOUT.split('/').pop()}.tmp-`)) rmSync(join(CACHE, n), { recursive: true, force: true });
    if (startedRegistry) spawnSync('bash', [join(REPO, 'test', 'bed', 'registries.sh'), 'stop'], { stdio: 'inherit' });
  }
}

await main();
