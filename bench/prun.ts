// prun against podman on the same work, in the same run (issue 5's measure, first part):
// `run --rm IMAGE true` with the image already in both stores, rootless, --network none, and
// `--version` against `node -e 0`.
//   node bench/prun.ts [--runs N]
// Run as root, it re-runs itself as the unprivileged test user (pkit-test), as the tests do.
// Pull timings (a ~300 MB image from the local registry) are still to come.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 20) || 20;
const FIXTURE = join(REPO, 'test/bed/out/busybox-rootfs.tar');
const PRUN = join(REPO, 'packages/prun/bin/prun');
const NODE_DIR = dirname(process.execPath);

if (process.getuid?.() === 0) {
  const uid = spawnSync('id', ['-u', 'pkit-test'], { encoding: 'utf8' }).stdout.trim();
  const r = spawnSync('runuser', ['-u', 'pkit-test', '--', 'env', `PATH=${NODE_DIR}:/usr/bin:/bin`, 'HOME=/home/pkit-test', `XDG_RUNTIME_DIR=/run/user/${uid}`,
    process.execPath, import.meta.filename, ...args], { stdio: 'inherit', cwd: tmpdir() });
  process.exit(r.status ?? 1);
}

function must(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const root = mkdtempSync(join(tmpdir(), 'pkit-bench-prun-'));
try {
  must(PRUN, ['--root', root, 'import', FIXTURE, 'benchbox']);
  must('podman', ['import', '-q', FIXTURE, 'localhost/benchbox']);
  const json = join(root, 'hyperfine.json');
  must('hyperfine', ['-N', '-w', '3', '-r', String(RUNS), '--export-json', json,
    '-n', 'prun run --rm', `${PRUN} --root ${root} run --rm benchbox true`,
    '-n', 'podman run --rm', 'podman run --rm --network none localhost/benchbox true',
    '-n', 'prun --version', `${PRUN} --version`,
    '-n', 'node -e 0', `${process.execPath} -e 0`]);
  const results = JSON.parse(readFileSync(json, 'utf8')).results as { command: string; median: number; mean: number }[];
  const by = (name: string) => results.find((r) => r.command === name)!;
  const ms = (s: number) => (s * 1000).toFixed(1).padStart(8);
  console.log(`${RUNS} runs each, hyperfine -N, rootless as ${process.env.USER ?? 'this user'}`);
  console.log('command              median ms  mean ms');
  for (const r of results) console.log(`${r.command.padEnd(20)} ${ms(r.median)} ${ms(r.mean)}`);
  console.log(`prun run / podman run: ${(by('prun run --rm').median / by('podman run --rm').median).toFixed(2)}x (aim: at most 0.5x)`);
  console.log(`prun --version / node -e 0: ${(by('prun --version').median / by('node -e 0').median).toFixed(2)}x`);
} finally {
  spawnSync('podman', ['rmi', '-f', 'localhost/benchbox'], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
}
