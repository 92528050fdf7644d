// RUN --network=none|host in a working container made with the default network (slirp4netns,
// as podman build's RUN has): the run's spec gets what buildSpec makes for the other mode.
import type { ContainerRecord } from '@pkit/storage/container-store';
import { writeEtcFiles } from '@pkit/runtime/etc-files';
import type { Mount, Spec } from '@pkit/runtime/oci-spec';

const ETC_FILES = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/**
 * Changes `run` (the container's spec for one command) to the network of `alt` (the spec
 * buildSpec made for that mode): namespaces, createRuntime hook, sysctl, masked paths and /sys
 * mounts; /etc/hosts, /etc/hostname and /etc/resolv.conf are written into `etcDir` for the mode
 * (none has no resolv.conf of its own, as podman's).
 */
export async function useNetwork(run: Spec, rec: ContainerRecord, mode: 'none' | 'host', alt: Spec, etcDir: string): Promise<void> {
  if (alt.hooks) run.hooks = alt.hooks;
  else delete run.hooks;
  run.linux.namespaces = alt.linux.namespaces;
  run.linux.maskedPaths = alt.linux.maskedPaths;
  if (alt.linux.sysctl) run.linux.sysctl = alt.linux.sysctl;
  else delete run.linux.sysctl;
  const sys = new Map(alt.mounts.filter((m) => m.destination === '/sys' || m.destination === '/sys/fs/cgroup').map((m) => [m.destination, m]));
  const etc = await writeEtcFiles(etcDir, { id: rec.id, name: rec.name, network: mode, ...(run.hostname !== undefined ? { hostname: run.hostname } : {}) });
  const etcBy = new Map(etc.map((m) => [m.destination, m.source]));
  const mounts: Mount[] = [];
  for (const m of run.mounts) {
    if (sys.has(m.destination)) mounts.push(sys.get(m.destination)!);
    else if (!ETC_FILES.includes(m.destination)) mounts.push(m);
    else if (etcBy.has(m.destination)) mounts.push({ ...m, source: etcBy.get(m.destination)! });
  }
  for (const [destination, source] of etcBy) {
    if (!mounts.some((m) => m.destination === destination)) mounts.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate', 'rw'] });
  }
  run.mounts = mounts;
}
