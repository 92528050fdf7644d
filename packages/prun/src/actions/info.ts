// The work of `prun info`: podman's shape (host, store, registries, version), from the machine
// and the store's directories. It imports only the storage paths module and the runtime's
// id-mapping code, so no transport, registry or tar code loads for it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch, cpus, freemem, hostname, release, totalmem } from 'node:os';
import { delimiter, join } from 'node:path';
import { resolveStorePaths } from '@pkit/storage/paths';

function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  for (const p of [`/usr/bin/${name}`, `/usr/libexec/podman/${name}`]) if (existsSync(p)) return p;
  return undefined;
}

function count(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

function containerCounts(root: string): { number: number; paused: number; running: number; stopped: number } {
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

/** The mapping podman would use: container 0 -> the user, then the /etc/subuid ranges. */
async function idMappings(): Promise<{ uidmap: unknown[]; gidmap: unknown[] }> {
  const { computeIDMappings, currentIdmapHost } = await import('@pkit/runtime/idmap');
  const m = computeIDMappings(currentIdmapHost());
  const conv = (maps: Array<{ containerID: number; hostID: number; size: number }>) => maps.map((x) => ({ container_id: x.containerID, host_id: x.hostID, size: x.size }));
  return { uidmap: conv(m.uidMappings), gidmap: conv(m.gidMappings) };
}

function osRelease(): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^(\w+)=("?)(.*)\2$/.exec(line);
      if (m) out[m[1]!] = m[3]!;
    }
    return { distribution: out['ID'] ?? '', version: out['VERSION_ID'] ?? '', codename: out['VERSION_CODENAME'] ?? '' };
  } catch {
    return {};
  }
}

export async function info(root: string | undefined, helper: string | undefined): Promise<Record<string, unknown>> {
  const paths = resolveStorePaths({ root });
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const slirp = findExecutable('slirp4netns');
  const pasta = findExecutable('pasta');
  const seccompProfile = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'].find((p) => existsSync(p));
  const goArch = arch() === 'x64' ? 'amd64' : arch();
  return {
    host: {
      arch: goArch,
      cgroupManager: 'cgroupfs',
      cgroupVersion: cgroupV2 ? 'v2' : 'v1',
      cgroupControllers: cgroupV2 ? readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(/\s+/).filter(Boolean) : [],
      cpus: cpus().length,
      distribution: osRelease(),
      hostname: hostname(),
      idMappings: await idMappings(),
      kernel: release(),
      logDriver: 'k8s-file',
      memFree: freemem(),
      memTotal: totalmem(),
      networkBackend: slirp ? 'slirp4netns' : pasta ? 'pasta' : 'none',
      networkBackends: { slirp4netns: slirp ?? null, pasta: pasta ?? null },
      ociRuntime: { name: 'pkit-runtime', path: helper ?? '' },
      os: 'linux',
      security: { rootless: process.getuid?.() !== 0, seccompEnabled: seccompProfile !== undefined, seccompProfilePath: seccompProfile ?? '' },
      ...(slirp ? { slirp4netns: { executable: slirp } } : {}),
      ...(pasta ? { pasta: { executable: pasta } } : {}),
    },
    store: {
      containerStore: containerCounts(paths.root),
      graphDriverName: 'overlay',
      graphOptions: { 'overlay.mount_program': '', 'overlay.userxattr': 'true' },
      graphRoot: paths.root,
      graphStatus: { 'Native Overlay Diff': 'true', 'Supports d_type': 'true', 'Using metacopy': 'false', 'Overlay mode': 'kernel overlay, userxattr (rootless)' },
      imageStore: { number: count(join(paths.root, 'images')) },
      runRoot: paths.runRoot,
      volumePath: join(paths.root, 'volumes'),
    },
    version: { Version: '0.1.0', NodeVersion: process.version, OsArch: `linux/${goArch}`, Os: 'linux' },
  };
}

/** podman info's default output: YAML. Enough of it for nested maps, lists and scalars. */
export function toYaml(v: unknown, indent = ''): string {
  const scalar = (x: unknown) => (typeof x === 'string' ? (x === '' || /[:#\n"'{}[\],&*!|>%@`]|^\s|\s$/.test(x) ? JSON.stringify(x) : x) : x === null || x === undefined ? 'null' : String(x));
  if (Array.isArray(v)) {
    if (!v.length) return ' []\n';
    return `\n${v.map((x) => (x && typeof x === 'object' ? `${indent}- ${toYaml(x, `${indent}  `).trimStart()}` : `${indent}- ${scalar(x)}\n`)).join('')}`;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.length) return ' {}\n';
    const body = entries
      .map(([k, x]) => (x && typeof x === 'object' ? `${indent}${k}:${toYaml(x, `${indent}  `)}` : `${indent}${k}: ${scalar(x)}\n`))
      .join('');
    return indent === '' ? body : `\n${body}`;
  }
  return ` ${scalar(v)}\n`;
}
