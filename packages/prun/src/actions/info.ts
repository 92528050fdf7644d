// The work of `prun info`: podman's shape (host, store, registries, version) over the facts
// @pkit/cli-common/host-info reads (pbuild info shows the same ones in buildah's shape). It
// imports only the storage paths module and the runtime's id-mapping code, so no transport,
// registry or tar code loads for it.
import { findExecutable, hostFacts, storeFacts } from '@pkit/cli-common/host-info';

/** The mapping podman would use: container 0 -> the user, then the /etc/subuid ranges. */
async function idMappings(): Promise<{ uidmap: unknown[]; gidmap: unknown[] }> {
  const { computeIDMappings, currentIdmapHost } = await import('@pkit/runtime/idmap');
  const m = computeIDMappings(currentIdmapHost());
  const conv = (maps: Array<{ containerID: number; hostID: number; size: number }>) => maps.map((x) => ({ container_id: x.containerID, host_id: x.hostID, size: x.size }));
  return { uidmap: conv(m.uidMappings), gidmap: conv(m.gidMappings) };
}

export async function info(root: string | undefined, helper: string | undefined): Promise<Record<string, unknown>> {
  const host = hostFacts();
  const store = storeFacts(root);
  const slirp = findExecutable('slirp4netns');
  const pasta = findExecutable('pasta');
  return {
    host: {
      arch: host.arch,
      cgroupManager: 'cgroupfs',
      cgroupVersion: host.cgroupVersion,
      cgroupControllers: host.cgroupControllers,
      cpus: host.cpus,
      distribution: host.distribution,
      hostname: host.hostname,
      idMappings: await idMappings(),
      kernel: host.kernel,
      logDriver: 'k8s-file',
      memFree: host.memFree,
      memTotal: host.memTotal,
      networkBackend: slirp ? 'slirp4netns' : pasta ? 'pasta' : 'none',
      networkBackends: { slirp4netns: slirp ?? null, pasta: pasta ?? null },
      ociRuntime: { name: 'pkit-runtime', path: helper ?? '' },
      os: 'linux',
      security: { rootless: host.rootless, seccompEnabled: host.seccompProfilePath !== undefined, seccompProfilePath: host.seccompProfilePath ?? '' },
      ...(slirp ? { slirp4netns: { executable: slirp } } : {}),
      ...(pasta ? { pasta: { executable: pasta } } : {}),
    },
    store: {
      containerStore: store.containers,
      graphDriverName: store.graphDriverName,
      graphOptions: store.graphOptions,
      graphRoot: store.graphRoot,
      graphStatus: store.graphStatus,
      imageStore: { number: store.images },
      runRoot: store.runRoot,
      volumePath: store.volumePath,
    },
    version: { Version: '0.1.0', NodeVersion: process.version, OsArch: `linux/${host.arch}`, Os: 'linux' },
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
