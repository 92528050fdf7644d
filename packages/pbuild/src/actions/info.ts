// `pbuild info`: buildah's JSON (host and store sections, --debug adds its own) over the facts
// prun info shows too (@pkit/cli-common/host-info).
import { hostFacts, storeFacts } from '@pkit/cli-common/host-info';

export function info(root: string | undefined, opts: { debug: boolean; version: string }): Record<string, unknown> {
  const host = hostFacts();
  const store = storeFacts(root);
  return {
    ...(opts.debug ? { debug: { 'git commit': '', 'node version': process.version, 'pbuild version': opts.version } } : {}),
    // keys in Go's map order (sorted), as buildah prints them
    host: {
      CgroupVersion: host.cgroupVersion,
      Distribution: { distribution: host.distribution.distribution, version: host.distribution.version },
      MemFree: host.memFree,
      MemTotal: host.memTotal,
      OCIRuntime: 'pkit-runtime',
      SwapFree: host.swapFree,
      SwapTotal: host.swapTotal,
      arch: host.arch,
      cpus: host.cpus,
      hostname: host.hostname,
      kernel: host.kernel,
      os: 'linux',
      rootless: host.rootless,
      uptime: uptime(host.uptime),
      variant: host.arch === 'arm64' ? 'v8' : '',
    },
    store: {
      ContainerStore: { number: store.containers.number },
      GraphDriverName: store.graphDriverName,
      GraphOptions: Object.entries(store.graphOptions).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`),
      GraphRoot: store.graphRoot,
      GraphStatus: store.graphStatus,
      ImageStore: { number: store.images },
      RunRoot: store.runRoot,
    },
  };
}

/** buildah's "5h 18m 8.86s (Approximately 0.21 days)". */
function uptime(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  return `${hours}h ${Math.floor(seconds / 60) % 60}m ${(seconds % 60).toFixed(2)}s (Approximately ${(hours / 24).toFixed(2)} days)`;
}
