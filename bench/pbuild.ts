// pbuild against buildah on the same build, in the same run (issue 6's measure): a multi-stage
// Containerfile (several RUN and COPY steps) over a ~50 MB context, built cold, rebuilt with
// nothing changed, and rebuilt after one source file changed; `buildah bud --layers` for the
// anchor (its layer cache is what the rebuilds measure). Medians of interleaved runs.
//   node bench/pbuild.ts [--runs N]
// Run as root, it re-runs itself as the unprivileged test user (pkit-test), as the tests do.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const RUNS = Math.max(1, Number(args[args.indexOf('--runs') + 1] ?? 3) || 3);
const FIXTURE = join(REPO, 'test/bed/out/busybox-rootfs.tar');
const PBUILD = join(REPO, 'packages/pbuild/bin/pbuild');
const PRUN = join(REPO, 'packages/prun/bin/prun');
const NODE_DIR = dirname(process.execPath);
const BASE = 'localhost/pkit-bench-base';

if (process.getuid?.() === 0) {
  const uid = spawnSync('id', ['-u', 'pkit-test'], { encoding: 'utf8' }).stdout.trim();
  const r = spawnSync('runuser', ['-u', 'pkit-test', '--', 'env', `PATH=${NODE_DIR}:/usr/bin:/bin`, 'HOME=/home/pkit-test', `XDG_RUNTIME_DIR=/run/user/${uid}`,
    process.execPath, import.meta.filename, ...args], { stdio: 'inherit', cwd: tmpdir() });
  process.exit(r.status ?? 1);
}

const CONTAINERFILE = `FROM ${BASE} AS deps
WORKDIR /build
COPY vendor/ ./vendor/
RUN find vendor -type f | sort | xargs cat | md5sum > vendor.sum

FROM ${BASE} AS builder
WORKDIR /build
COPY --from=deps /build/vendor.sum ./
COPY src/ ./src/
RUN for f in src/*.txt; do wc -c "$f"; done > sizes.txt && tar cf app.tar src sizes.txt vendor.sum

FROM ${BASE}
ENV APP=/app
WORKDIR /app
COPY --from=builder /build/app.tar ./
RUN tar xf app.tar && rm app.tar && adduser -D -H app 2>/dev/null; true
COPY config.txt ./
USER nobody
CMD ["cat", "/app/sizes.txt"]
`;

/** The context: ~48 MB of vendored files, a few source files and a config file. */
function makeContext(dir: string): void {
  mkdirSync(join(dir, 'vendor'), { recursive: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (let i = 0; i < 48; i++) writeFileSync(join(dir, 'vendor', `lib${i}.bin`), randomBytes(1 << 20));
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'src', `file${i}.txt`), `source ${i}\n`.repeat(200));
  writeFileSync(join(dir, 'config.txt'), 'setting=1\n');
  writeFileSync(join(dir, 'Containerfile'), CONTAINERFILE);
}

function timed(cmd: string, argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, PATH: `${NODE_DIR}:${process.env.PATH ?? ''}` } });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-400)}`);
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = mkdtempSync(join(tmpdir(), 'pkit-bench-pbuild-'));
const ctx = join(work, 'ctx');
makeContext(ctx);
const samples: Record<string, number[]> = {};
const add = (k: string, v: number) => (samples[k] ??= []).push(v);
try {
  for (let run = 0; run < RUNS; run++) {
    const root = join(work, `store-${run}`);
    timed(PRUN, ['--root', root, 'import', FIXTURE, BASE]);
    timed('podman', ['import', '-q', FIXTURE, BASE]);
    const pbuild = () => timed(PBUILD, ['--root', root, 'build', '-q', '-t', 'pkit-bench-app', ctx]);
    const buildah = () => timed('buildah', ['bud', '-q', '--layers', '-t', 'pkit-bench-app', ctx]);
    writeFileSync(join(ctx, 'src', 'file0.txt'), `source 0 run ${run}\n`);
    add('pbuild cold', pbuild());
    add('buildah cold', buildah());
    add('pbuild no change', pbuild());
    add('buildah no change', buildah());
    writeFileSync(join(ctx, 'src', 'file1.txt'), `changed in run ${run}\n`);
    add('pbuild one file changed', pbuild());
    add('buildah one file changed', buildah());
    rmSync(root, { recursive: true, force: true });
    spawnSync('podman', ['rmi', '-f', 'pkit-bench-app', BASE], { stdio: 'ignore' });
    spawnSync('buildah', ['rmi', '--prune'], { stdio: 'ignore' });
  }
  console.log(`multi-stage build, ~48 MB context, ${RUNS} interleaved runs, rootless as ${process.env.USER ?? 'this user'}; medians in s`);
  for (const what of ['cold', 'no change', 'one file changed']) {
    const p = median(samples[`pbuild ${what}`]!);
    const b = median(samples[`buildah ${what}`]!);
    console.log(`${what.padEnd(18)} pbuild ${p.toFixed(2).padStart(6)}  buildah ${b.toFixed(2).padStart(6)}  ratio ${(p / b).toFixed(2)}x`);
  }
  console.log('aims: cold at most 1.0x buildah, no change at most 0.5x');
} finally {
  // the stores may hold files of subordinate owners: removed as root of the user namespace
  spawnSync(PRUN, ['unshare', 'rm', '-rf', work], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
