// The flags `prun run` and `prun create` share (podman's names), and the split of their
// command line at IMAGE: everything after IMAGE is the container's command, flags included.
import { Flags } from '@oclif/core';
import type { ContainerRequest } from '../actions/container-request.ts';

const many = { multiple: true as const };

export const CONTAINER_FLAGS = {
  rm: Flags.boolean({ summary: 'Remove the container when it exits' }),
  interactive: Flags.boolean({ char: 'i', summary: 'Keep stdin open (else the container reads /dev/null)' }),
  tty: Flags.boolean({ char: 't', summary: 'Allocate a pseudo-terminal; its size follows this terminal' }),
  name: Flags.string({ summary: 'Name of the container (unique)' }),
  env: Flags.string({ char: 'e', summary: 'Set an environment variable (KEY=VALUE, or KEY to take it from here)', ...many }),
  'env-file': Flags.string({ summary: 'Read environment variables from a file (KEY=VALUE lines; # comments)', ...many }),
  workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container' }),
  user: Flags.string({ char: 'u', summary: 'User[:group] to run as: names from the image\'s /etc/passwd and /etc/group, or numbers' }),
  entrypoint: Flags.string({ summary: 'Override the image\'s entrypoint (a command, or a JSON array)' }),
  hostname: Flags.string({ char: 'h', summary: 'Container host name' }),
  volume: Flags.string({ char: 'v', summary: 'Bind mount or named volume: HOST-DIR:CTR-DIR[:OPTS], NAME:CTR-DIR[:OPTS], or CTR-DIR', ...many }),
  mount: Flags.string({ summary: 'Mount: type=bind|volume|tmpfs,source=...,destination=...[,ro]', ...many }),
  tmpfs: Flags.string({ summary: 'Mount a tmpfs: CTR-DIR[:OPTS]', ...many }),
  'read-only': Flags.boolean({ summary: 'Mount the root filesystem read-only (/tmp, /var/tmp and /run stay writable tmpfs)' }),
  network: Flags.string({ summary: 'Network: slirp4netns (default), pasta, none, host', aliases: ['net'] }),
  publish: Flags.string({ char: 'p', summary: 'Publish a port: [IP:][HOST-PORT:]CTR-PORT[/PROTO]', ...many }),
  'add-host': Flags.string({ summary: 'Add a line to /etc/hosts: HOST:IP', ...many }),
  dns: Flags.string({ summary: 'DNS server for /etc/resolv.conf', ...many }),
  'dns-search': Flags.string({ summary: 'DNS search domain for /etc/resolv.conf', ...many }),
  'dns-option': Flags.string({ summary: 'DNS option for /etc/resolv.conf', ...many }),
  memory: Flags.string({ char: 'm', summary: 'Memory limit (e.g. 256m, 1g)' }),
  cpus: Flags.string({ summary: 'Number of CPUs (e.g. 1.5)' }),
  'pids-limit': Flags.string({ summary: 'Maximum number of processes' }),
  'cap-add': Flags.string({ summary: 'Add a capability (e.g. NET_ADMIN, or ALL)', ...many }),
  'cap-drop': Flags.string({ summary: 'Drop a capability (e.g. CHOWN, or ALL)', ...many }),
  'security-opt': Flags.string({ summary: 'no-new-privileges[=true|false], seccomp=unconfined, seccomp=FILE', ...many }),
  init: Flags.boolean({ summary: 'Run a reaper as PID 1 that forwards signals and reaps zombies' }),
  pull: Flags.string({ summary: 'Pull the image: always, missing (default), never, newer', options: ['always', 'missing', 'never', 'newer'] }),
  runtime: Flags.string({ summary: 'OCI runtime: pkit-runtime (default), or crun/runc for foreground runs' }),
  cidfile: Flags.string({ summary: 'Write the container ID to this file' }),
  userns: Flags.string({ summary: 'User namespace: "" (default: the user is root inside) or keep-id (the user keeps its id)' }),
  'stop-signal': Flags.string({ summary: 'Signal that stops the container (default: the image\'s, else SIGTERM)' }),
  'stop-timeout': Flags.integer({ summary: 'Seconds to wait for the stop signal before SIGKILL (default 10)' }),
  label: Flags.string({ char: 'l', summary: 'Set a label on the container: KEY=VALUE', ...many }),
  'tls-verify': Flags.boolean({ summary: 'Verify TLS when pulling (default true)', allowNo: true }),
  quiet: Flags.boolean({ char: 'q', summary: 'Do not print pull progress' }),
};

// The split at IMAGE is shared with pbuild (unshare): one copy in @pkit/cli-common.
export { flagShapes, splitAtImage } from '@pkit/cli-common/split-argv';

type Parsed = { [K in keyof typeof CONTAINER_FLAGS]?: unknown } & { root?: string };

/** The parsed flags as a ContainerRequest (values still as typed; actions validate them). */
export function toRequest(flags: Parsed, image: string, command: string[]): ContainerRequest {
  const f = flags as Record<string, unknown>;
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(f[k]) ? (f[k] as string[]) : []);
  const req: ContainerRequest = {
    root: str('root'),
    image,
    command,
    rm: f['rm'] === true,
    interactive: f['interactive'] === true,
    tty: f['tty'] === true,
    env: list('env'),
    envFiles: list('env-file'),
    volumes: list('volume'),
    mounts: list('mount'),
    tmpfs: list('tmpfs'),
    readOnly: f['read-only'] === true,
    publish: list('publish'),
    addHosts: list('add-host'),
    dns: list('dns'),
    dnsSearch: list('dns-search'),
    dnsOptions: list('dns-option'),
    capAdd: list('cap-add'),
    capDrop: list('cap-drop'),
    securityOpts: list('security-opt'),
    labels: list('label'),
    init: f['init'] === true,
    quiet: f['quiet'] === true,
  };
  const optional: Array<[keyof ContainerRequest, string]> = [
    ['name', 'name'], ['workdir', 'workdir'], ['user', 'user'], ['entrypoint', 'entrypoint'], ['hostname', 'hostname'],
    ['network', 'network'], ['memory', 'memory'], ['cpus', 'cpus'], ['pidsLimit', 'pids-limit'], ['pull', 'pull'],
    ['runtime', 'runtime'], ['cidfile', 'cidfile'], ['userns', 'userns'], ['stopSignal', 'stop-signal'],
  ];
  for (const [key, flag] of optional) {
    const v = str(flag);
    if (v !== undefined) (req as unknown as Record<string, unknown>)[key] = v;
  }
  if (typeof f['stop-timeout'] === 'number') req.stopTimeout = f['stop-timeout'] as number;
  if (typeof f['tls-verify'] === 'boolean') req.tlsVerify = f['tls-verify'] as boolean;
  return req;
}
