// The facts `prun info` and `pbuild info` both report, read from the machine and the store's
// directories; each CLI arranges them in its tool's shape (podman's, buildah's). Only the
// storage paths module is imported, so no transport, registry or tar code loads for it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch, cpus, freemem, hostname, release, totalmem, uptime } from 'node:os';
import { delimiter, join } from 'node:path';
import { resolveStorePaths } from '@pkit/storage/paths';

/** The first `name` on PATH, else where distributions put the network helpers. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  for (const p of [`/usr/bin/${name}`, `/usr/libexec/podman/${name}`]) if (existsSync(p)) return p;
  return undefined;
}

/** Go's name for this machine's architecture (amd64, arm64, ...). */
export function goArch(): string {
  return arch() === 'x64' ? 'amd64' : arch();
}

export interface HostFacts {
  arch: string;
  cgroupVersion: 'v1' | 'v2';
  cgroupControllers: string[];
  cpus: number;
  /** From /etc/os-release: ID, VERSION_ID, VERSION_CODENAME. */
  distribution: { distribution: string; version: string; codename: string };
  hostname: string;
  kernel: string;
  memTotal: number;
  memFree: number;
  swapTotal: number;
  swapFree: number;
  /** Seconds since boot. */
  uptime: number;
  rootless: boolean;
  seccompProfilePath: string | undefined;
}

export function hostFacts(): HostFacts {
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const swap = meminfo();
  return {
    arch: goArch(),
    cgroupVersion: cgroupV2 ? 'v2' : 'v1',
    cgroupControllers: cgroupV2 ? readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(/\s+/).filter(Boolean) : [],
    cpus: cpus().length,
    distribution: osRelease(),
    hostname: hostname(),
    kernel: release(),
    memTotal: totalmem(),
    memFree: freemem(),
    swapTotal: swap['SwapTotal'] ?? 0,
    swapFree: swap['SwapFree'] ?? 0,
    uptime: uptime(),
    rootless: process.getuid?.() !== 0,
    seccompProfilePath: ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'].find((p) => existsSync(p)),
  };
}

function osRelease(): HostFacts['distribution'] {
  const out: Record<string, string> = {};
  try {
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^(\w+)=("?)(.*)\2$/.exec(line);
      if (m) out[m[1]!] = m[3]!;
    }
  } catch {
    // no os-release: empty fields
  }
  return { distribution: out['ID'] ?? '', version: out['VERSION_ID'] ?? '', codename: out['VERSION_CODENAME'] ?? '' };
}

/** /proc/meminfo's values in bytes. */
function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)(?: kB)?$/.exec(line);
      if (m) out[m[1]!] = Number(m[2]) * (line.endsWith('kB') ? 1024 : 1);
    }
  } catch {
    // not Linux's /proc: no swap figures
  }
  return out;
}

export interface StoreFacts {
  graphRoot: string;
  runRoot: string;
  volumePath: string;
  containers: { number: number; paused: number; running: number; stopped: number };
  images: number;
  graphDriverName: string;
  graphOptions: Record<string, string>;
  graphStatus: Record<string, string>;
}

/** The store's paths and counts, from its directories (no lock: a count, not a transaction). */
export function storeFacts(root: string | undefined): StoreFacts {
  const paths = resolveStorePaths({ root });
  return {
    graphRoot: paths.root,
    runRoot: paths.runRoot,
    volumePath: join(paths.root, 'volumes'),
    containers: containerCounts(paths.root),
    images: count(join(paths.root, 'images')),
    graphDriverName: 'overlay',
    graphOptions: { 'overlay.mount_program': '', 'overlay.userxattr': 'true' },
    graphStatus: { 'Native Overlay Diff': 'true', 'Supports d_type': 'true', 'Using metacopy': 'false', 'Overlay mode': 'kernel overlay, userxattr (rootless)' },
  };
}

function count(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

function containerCounts(root: string): StoreFacts['containers'] {
  const out = { number: 0, paused: 0, running: 0, stopped: 0 };
  const dir = join(root, 'containers');
  let ids: string[] = [];
  try {
    ids = readdirSync(dir);
  } catch {
    return out;
  }
  for (const id of ids) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, id, 'container.json'), 'utf8')) as { state?: string };
      out.number++;
      if (rec.state === 'running') out.running++;
      else if (rec.state === 'paused') out.paused++;
      else out.stopped++;
    } catch {
      // a container being created or removed
    }
  }
  return out;
}
