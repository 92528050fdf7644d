// Shared set-up for the runtime helper tests: builds native/helper into a temp dir, unpacks
// the busybox fixture once, writes OCI bundles, and runs them under pkit-runtime or crun
// with the same calls, so every observation is asserted for both runtimes.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const REPO = process.env.PKIT_REPO || join(import.meta.dirname, '../../..');
const FIXTURE = process.env.PKIT_TEST_FIXTURE || join(REPO, 'test/bed/out/busybox-rootfs.tar');

export const work = mkdtempSync(join(tmpdir(), 'pkit-rt-'));
process.on('exit', () => { if (!process.env.PKIT_KEEP_TEST_DIRS) rmSync(work, { recursive: true, force: true }); });

let helperPath: string | undefined;
/** Builds the helper once per process (into a temp dir: the test user cannot write the repo). */
export function helper(): string {
  if (helperPath) return helperPath;
  const out = join(work, 'build');
  const { NODE_PATH: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [join(REPO, 'native/build-helper.mjs')], {
    encoding: 'utf8', env: { ...env, PKIT_NATIVE_BUILD_DIR: out },
  });
  if (r.status !== 0) throw new Error(`building the helper failed:\n${r.stderr}`);
  helperPath = join(out, 'pkit-runtime');
  return helperPath;
}

let rootfsPath: string | undefined;
/** The busybox root filesystem, unpacked once and shared read-only by every bundle. */
export function rootfs(): string {
  if (rootfsPath) return rootfsPath;
  const dir = join(work, 'rootfs');
  mkdirSync(dir);
  const r = spawnSync('tar', ['-xf', FIXTURE, '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unpacking ${FIXTURE} failed: ${r.stderr}`);
  rootfsPath = dir;
  return dir;
}

export const uid = process.getuid!();
export const gid = process.getgid!();

/** The first subordinate range of this user in /etc/sub{u,g}id, or undefined. */
export function subRange(file: '/etc/subuid' | '/etc/subgid'): { start: number; count: number } | undefined {
  if (!existsSync(file)) return undefined;
  const name = userInfo().username;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [who, start, count] = line.split(':');
    if (who === name || who === String(uid)) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

/** podman's seccomp.json (containers/common format) reduced to a plain OCI linux.seccomp:
 * entries whose includes/excludes depend on capabilities the test config does not have,
 * or on another architecture, are left out. */
export function ociSeccomp(caps: string[]): unknown | undefined {
  const file = '/usr/share/containers/seccomp.json';
  if (!existsSync(file)) return undefined;
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const arches = ['amd64', 'x86_64', 'x32', 'x86'];
  const syscalls = [];
  for (const s of p.syscalls ?? []) {
    const inc = s.includes ?? {}, exc = s.excludes ?? {};
    if (inc.arches && !inc.arches.some((a: string) => arches.includes(a))) continue;
    if (inc.caps && !inc.caps.every((c: string) => caps.includes(c))) continue;
    if (exc.caps && exc.caps.some((c: string) => caps.includes(c))) continue;
    if (exc.arches && exc.arches.some((a: string) => arches.includes(a))) continue;
    syscalls.push({ names: s.names, action: s.action, ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}), ...(s.args?.length ? { args: s.args } : {}) });
  }
  const archMap = (p.archMap ?? []).find((a: { architecture: string }) => a.architecture === 'SCMP_ARCH_X86_64');
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: archMap ? [archMap.architecture, ...archMap.subArchitectures] : ['SCMP_ARCH_X86_64'],
    syscalls,
  };
}

export const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export interface BundleOptions {
  args: string[];
  multiRange?: boolean;
  seccomp?: boolean;
  pidNs?: boolean;
  mutate?: (config: Record<string, any>) => void;
}

/** A bundle whose config.json is what `crun spec --rootless` writes, adjusted: no terminal,
 * explicit id mappings, no linux.resources (cgroups untouched), a hostname, an rlimit with
 * distinct soft/hard values, and the shared read-only rootfs. */
export function bundle(o: BundleOptions): string {
  const dir = mkdtempSync(join(work, 'bundle-'));
  const sub = subRange('/etc/subuid'), subg = subRange('/etc/subgid');
  const uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  const gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  if (o.multiRange) {
    if (!sub || !subg) throw new Error('no subordinate ids for this user in /etc/subuid and /etc/subgid');
    uidMappings.push({ containerID: 1, hostID: sub.start, size: sub.count });
    gidMappings.push({ containerID: 1, hostID: subg.start, size: subg.count });
  }
  const namespaces = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'user' }, { type: 'mount' }];
  const config: Record<string, any> = {
    ociVersion: '1.0.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], inheritable: [], permitted: [...CAPS], ambient: [] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs(), readonly: true },
    hostname: 'pkit-box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      uidMappings, gidMappings,
      namespaces: o.pidNs === false ? namespaces.filter((n) => n.type !== 'pid') : namespaces,
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (o.seccomp) {
    const sc = ociSeccomp(CAPS);
    if (sc) config.linux.seccomp = sc;
  }
  o.mutate?.(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

export interface Runtime {
  name: string;
  available: boolean;
  /** argv for a verb: ['run', '--bundle', b, id] and so on */
  argv(verb: string[]): string[];
}

let counter = 0;
export const nextId = (p = 'c') => `${p}-${process.pid}-${++counter}`;

export function runtimes(): Runtime[] {
  const pkitRoot = join(work, 'state-pkit');
  const crunRoot = join(work, 'state-crun');
  const crun = spawnSync('crun', ['--version'], { encoding: 'utf8' });
  return [
    { name: 'pkit-runtime', available: true, argv: (v) => [helper(), '--root', pkitRoot, ...v] },
    // crun: cgroups disabled (this host's hybrid v1/v2 layout; and no resources are asked).
    { name: 'crun', available: crun.status === 0, argv: (v) => ['crun', '--root', crunRoot, '--cgroup-manager=disabled', ...v] },
  ];
}

export function runSync(rt: Runtime, verb: string[], input?: Buffer | string, timeout = 30_000): SpawnSyncReturns<Buffer> {
  const [cmd, ...args] = rt.argv(verb);
  return spawnSync(cmd!, args, { input: input ?? '', timeout, maxBuffer: 64 << 20 });
}

/** Runs a container to completion: {status, stdout, stderr}. */
export function runContainer(rt: Runtime, o: BundleOptions, input?: Buffer | string) {
  const b = bundle(o);
  const r = runSync(rt, ['run', '--bundle', b, nextId()], input);
  return { status: r.status, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr.toString(), raw: r.stdout };
}

/** Starts `run` in the background; resolves with the exit code. */
export function runAsync(rt: Runtime, verb: string[]) {
  const [cmd, ...args] = rt.argv(verb);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, done, out: () => stdout };
}

export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
