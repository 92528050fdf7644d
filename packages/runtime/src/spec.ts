// OCI runtime spec generation: image config + run options + facts about the host -> config.json.
// Pure: everything read from the machine comes in through `HostFacts` (see host.ts), so the
// same inputs always give the same spec and tests can assert it whole.
//
// Defaults follow podman running rootless (pkg/specgen/generate, containers/common pkg/config),
// with one deliberate difference: no_new_privs is on by default (DESIGN.md: Security).
import type { ContainerConfig, ImageConfig } from '@pkit/storage/oci-types';
import { DEFAULT_CAPABILITIES, mergeCapabilities } from './capabilities.ts';
import { isMapped } from './idmap.ts';
import type { IDMappings } from './idmap.ts';
import { networkMode, networkSetup } from './network.ts';
import type { NetworkConfig, NetworkMode, NetworkTools, PortMapping } from './network.ts';
import type { Mount, Namespace, Resources, Rlimit, Spec } from './oci-spec.ts';
import { profileToSpec } from './seccomp.ts';
import type { SeccompProfile } from './seccomp.ts';

export const OCI_VERSION = '1.0.2';
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** podman's RLimitDefaultValue: the nofile/nproc limit given when the host allows it. */
export const RLIMIT_DEFAULT = 1_048_576;

/** podman's default masked paths (containers/common pkg/config/default_linux.go). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
  '/sys/fs/selinux',
  '/proc/interrupts',
];

/** podman's default read-only paths. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** What the spec depends on that only the host knows. Gather with `hostFacts()`. */
export interface HostFacts {
  /** The bounding set of the starting process (CAP_ names): caps outside it cannot be granted. */
  bounding: string[];
  /** RLIMIT_NOFILE/RLIMIT_NPROC ceilings when the host clamps them (rootless); absent: no clamp. */
  rlimits?: { nofile?: { soft: number; hard: number }; nproc?: { soft: number; hard: number } };
  /** libseccomp native arch name (amd64, arm64, ...). */
  arch: string;
  /** The default seccomp profile (podman's), when installed. */
  seccompProfile?: SeccompProfile;
  /** Extra masked paths found on this host (podman globs /sys/devices/system/cpu/cpu*∕thermal_throttle). */
  extraMaskedPaths?: string[];
  /** Whether the kernel has mqueue (/proc/filesystems); default true. */
  mqueue?: boolean;
}

export interface BindMount {
  type: 'bind';
  source: string;
  destination: string;
  /** Default false (read-write). */
  readOnly?: boolean;
  /** Extra mount options appended as given (e.g. "nosuid", "noexec"). */
  options?: string[];
}

export interface TmpfsMount {
  type: 'tmpfs';
  destination: string;
  /** Size in bytes. */
  size?: number;
  /** Octal mode string such as "1777". */
  mode?: string;
  readOnly?: boolean;
  options?: string[];
}

export type MountRequest = BindMount | TmpfsMount;

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface RlimitRequest {
  /** "nofile", "RLIMIT_NOFILE", "NOFILE" all mean RLIMIT_NOFILE. */
  type: string;
  soft: number;
  hard: number;
}

export interface RunOptions {
  /** Root filesystem path written into the spec (relative paths are relative to the bundle). */
  rootfs: string;
  /** From idmap.ts: the user namespace and its mappings; `userns: false` for root. */
  idmap: IDMappings;
  /** Command: replaces the image's Cmd (the image Entrypoint still applies, as podman). */
  args?: string[];
  /**
   * Replaces the image's Entrypoint (as podman): a non-empty override also drops the image's
   * Cmd; `[""]` runs no entrypoint and no image Cmd; `[]` runs no entrypoint but the image Cmd.
   */
  entrypoint?: string[];
  /** `KEY=VALUE` additions; they win over the image's Env. */
  env?: string[];
  cwd?: string;
  /** Already resolved to numbers; a string is "uid[:gid]". Default: the image's User, else 0:0. */
  user?: ProcessUser | string;
  /** HOME when neither the image nor `env` sets it; default "/root" for uid 0, else "/". */
  home?: string;
  hostname?: string;
  mounts?: MountRequest[];
  readOnly?: boolean;
  /** With readOnly: tmpfs on /tmp, /var/tmp, /run (podman's read_only_tmpfs); default true. */
  readOnlyTmpfs?: boolean;
  /**
   * none (default): a network namespace with only lo; host: the host's; slirp4netns and pasta
   * (or a parsed --network value, network.ts parseNetwork): a namespace that a createRuntime
   * hook connects before the container's process runs.
   */
  network?: NetworkMode | NetworkConfig;
  /** -p mappings (parsePublish), host ports assigned (assignHostPorts); slirp4netns and pasta only. */
  publish?: PortMapping[];
  /** Where pkit-runtime, slirp4netns and pasta are (networkTools()); needed by those two modes. */
  networkTools?: NetworkTools;
  /** A cgroup namespace (default true). */
  cgroupns?: boolean;
  terminal?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** Default true. */
  noNewPrivileges?: boolean;
  /** 'default' (HostFacts.seccompProfile), 'unconfined', or a parsed profile. Default 'default'. */
  seccomp?: 'default' | 'unconfined' | SeccompProfile;
  rlimits?: RlimitRequest[];
  resources?: { memory?: number; cpus?: number; pids?: number };
  /** /dev/shm size in bytes; default 64 MiB. */
  shmSize?: number;
  annotations?: Record<string, string>;
}

/** Parses "uid[:gid]" with numbers only (names need the container's /etc/passwd: resolve first). */
export function parseUser(value: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!m) {
    throw new Error(
      `user "${value}": expected numeric uid[:gid] (user and group names must be resolved against the image's /etc/passwd first)`,
    );
  }
  const uid = Number(m[1]);
  if (uid > 0xffff_fffe) throw new Error(`user "${value}": uid out of range`);
  if (m[2] === undefined) return { uid };
  const gid = Number(m[2]);
  if (gid > 0xffff_fffe) throw new Error(`user "${value}": gid out of range`);
  return { uid, gid };
}

/** podman's makeCommand: Entrypoint (unless [""]) + (args, or the image Cmd when no entrypoint override). */
export function containerCommand(config: ContainerConfig, opts: { args?: string[]; entrypoint?: string[] }): string[] {
  const entrypoint = opts.entrypoint ?? config.Entrypoint ?? [];
  const out: string[] = [];
  if (!(entrypoint.length === 1 && entrypoint[0] === '')) out.push(...entrypoint);
  let command = opts.args ?? [];
  if (command.length === 0 && (opts.entrypoint === undefined || opts.entrypoint.length === 0)) command = config.Cmd ?? [];
  out.push(...command);
  if (out.length === 0) throw new Error('no command: the image has no Entrypoint or Cmd; give a command to run');
  return out;
}

/** Merges KEY=VALUE lists: later lists win, a key keeps the position it first appeared at. */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new Error(`environment entry "${entry}": expected KEY=VALUE`);
      map.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  }
  return [...map].map(([k, v]) => `${k}=${v}`);
}

function envHas(env: string[], key: string): boolean {
  return env.some((e) => e.startsWith(`${key}=`));
}

function processUser(opts: RunOptions, config: ContainerConfig): ProcessUser {
  if (typeof opts.user === 'object') return { ...opts.user };
  const text = opts.user ?? config.User ?? '';
  if (text !== '') {
    const u = parseUser(text);
    return { uid: u.uid, gid: u.gid ?? 0 };
  }
  if (opts.idmap.keepId) return { uid: opts.idmap.keepId.uid, gid: opts.idmap.keepId.gid };
  return { uid: 0, gid: 0 };
}

const RLIMIT_NAMES = [
  'AS', 'CORE', 'CPU', 'DATA', 'FSIZE', 'LOCKS', 'MEMLOCK', 'MSGQUEUE', 'NICE', 'NOFILE', 'NPROC',
  'RSS', 'RTPRIO', 'RTTIME', 'SIGPENDING', 'STACK',
];

export function rlimitName(type: string): string {
  const up = type.toUpperCase().replace(/^RLIMIT_/, '');
  if (!RLIMIT_NAMES.includes(up)) throw new Error(`unknown rlimit "${type}"`);
  return `RLIMIT_${up}`;
}

function rlimits(opts: RunOptions, host: HostFacts): Rlimit[] {
  const out = new Map<string, Rlimit>();
  const clamp = (v: number, ceil: number | undefined) => (ceil === undefined ? v : Math.min(v, ceil));
  // podman raises its own soft nofile limit to the hard one at start, so both end up at the
  // hard limit (capped at 1048576); nproc keeps the soft limit.
  const nofileHard = clamp(RLIMIT_DEFAULT, host.rlimits?.nofile?.hard);
  out.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: nofileHard, soft: nofileHard });
  out.set('RLIMIT_NPROC', {
    type: 'RLIMIT_NPROC',
    hard: clamp(RLIMIT_DEFAULT, host.rlimits?.nproc?.hard),
    soft: clamp(RLIMIT_DEFAULT, host.rlimits?.nproc?.soft),
  });
  for (const r of opts.rlimits ?? []) {
    const type = rlimitName(r.type);
    if (r.soft > r.hard) throw new Error(`rlimit ${type}: soft limit ${r.soft} is above the hard limit ${r.hard}`);
    out.set(type, { type, hard: r.hard, soft: r.soft });
  }
  return [...out.values()];
}

function userMounts(requests: MountRequest[]): Mount[] {
  for (const m of requests) {
    if (!m.destination.startsWith('/')) throw new Error(`mount destination "${m.destination}" must be an absolute path`);
  }
  // Parents before children, otherwise in the given order (podman sorts by depth).
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  const sorted = requests.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i);
  return sorted.map(({ m }) => {
    if (m.type === 'bind') {
      if (!m.source.startsWith('/')) throw new Error(`bind mount source "${m.source}" must be an absolute path`);
      return {
        destination: m.destination,
        type: 'bind',
        source: m.source,
        options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw', ...(m.options ?? [])],
      };
    }
    const options = [m.readOnly ? 'ro' : 'rw', 'nosuid', 'nodev', 'noexec'];
    if (m.mode !== undefined) {
      if (!/^[0-7]{3,4}$/.test(m.mode)) throw new Error(`tmpfs ${m.destination}: mode "${m.mode}" must be octal`);
      options.push(`mode=${m.mode}`);
    }
    if (m.size !== undefined) options.push(`size=${m.size}`);
    options.push(...(m.options ?? []));
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options };
  });
}

function defaultMounts(opts: RunOptions, host: HostFacts): Mount[] {
  const rootlessHostNet = opts.idmap.userns && networkMode(opts.network) === 'host';
  const gid5 = !opts.idmap.userns || isMapped(opts.idmap.gidMappings, 5);
  const shmSize = opts.shmSize ?? 64 * 1024 * 1024;
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // gid=5 (tty) only when gid 5 exists inside, as podman; the kernel refuses it otherwise.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(gid5 ? ['gid=5'] : [])],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    },
  ];
  if (host.mqueue !== false) {
    mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
  }
  if (rootlessHostNet) {
    // sysfs can only be mounted by the owner of the network namespace: bind the host's (podman).
    mounts.push({ destination: '/sys', type: 'bind', source: '/sys', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'ro', 'rbind'] });
    mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: '/sys/fs/cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'ro'] });
  } else {
    mounts.push({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    mounts.push({
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    });
  }
  if (opts.readOnly && opts.readOnlyTmpfs !== false) {
    for (const d of ['/tmp', '/var/tmp']) {
      mounts.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
    }
    mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
  }
  return mounts;
}

function resources(req: RunOptions['resources']): Resources | undefined {
  if (!req) return undefined;
  const out: Resources = {};
  if (req.memory !== undefined) {
    if (!(Number.isInteger(req.memory) && req.memory > 0)) throw new Error(`memory limit ${req.memory}: expected a positive number of bytes`);
    out.memory = { limit: req.memory };
  }
  if (req.cpus !== undefined) {
    if (!(req.cpus > 0)) throw new Error(`cpus ${req.cpus}: expected a positive number`);
    const period = 100_000;
    out.cpu = { quota: Math.round(req.cpus * period), period };
  }
  if (req.pids !== undefined) {
    if (!Number.isInteger(req.pids) || req.pids === 0 || req.pids < -1) throw new Error(`pids limit ${req.pids}: expected a positive integer or -1`);
    out.pids = { limit: req.pids };
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Builds config.json for a container from its image config and the run options.
 * Throws (with a message naming the option) on invalid input; never reads the machine.
 */
export function buildSpec(image: ImageConfig | ContainerConfig | undefined, opts: RunOptions, host: HostFacts): Spec {
  const config: ContainerConfig = (image && 'rootfs' in image ? image.config : image) ?? {};
  const user = processUser(opts, config);
  const args = containerCommand(config, opts);
  const cwd = opts.cwd ?? (config.WorkingDir || '/');
  if (!cwd.startsWith('/')) throw new Error(`working directory "${cwd}" must be an absolute path`);

  // Env: defaults < image < run options; then HOME and HOSTNAME when nothing set them.
  const defaults = [DEFAULT_PATH_ENV, 'container=pkit', ...(opts.terminal ? ['TERM=xterm'] : [])];
  let env = mergeEnv(defaults, config.Env ?? [], opts.env ?? []);
  if (!envHas(env, 'HOME')) env = [...env, `HOME=${opts.home ?? (user.uid === 0 ? '/root' : '/')}`];
  if (opts.hostname && !envHas(env, 'HOSTNAME')) env = [...env, `HOSTNAME=${opts.hostname}`];

  // Capabilities (podman): the merged set, limited to the host's bounding set, is the bounding
  // set; uid 0 gets it as effective/permitted; another user only what was explicitly added.
  const hostBounding = new Set(host.bounding);
  const caps = mergeCapabilities(DEFAULT_CAPABILITIES, opts.capAdd, opts.capDrop).filter((c) => hostBounding.has(c));
  let userCaps: string[] = [];
  if (user.uid !== 0) userCaps = mergeCapabilities([], opts.capAdd, []).filter((c) => hostBounding.has(c));
  const capabilities =
    user.uid === 0
      ? { bounding: caps, effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] }
      : { bounding: caps, effective: userCaps, permitted: [...userCaps], inheritable: [...userCaps], ambient: [...userCaps] };

  const net = networkSetup(opts.network, opts.publish, opts.networkTools);
  const namespaces: Namespace[] = [{ type: 'pid' }];
  if (net.privateNamespace) namespaces.push({ type: 'network' });
  namespaces.push({ type: 'ipc' }, { type: 'uts' }, { type: 'mount' });
  if (opts.cgroupns !== false) namespaces.push({ type: 'cgroup' });
  if (opts.idmap.userns) namespaces.push({ type: 'user' });

  // User mounts replace a default mount at the same destination.
  const extra = userMounts(opts.mounts ?? []);
  const taken = new Set(extra.map((m) => m.destination));
  const mounts = [...defaultMounts(opts, host).filter((m) => !taken.has(m.destination)), ...extra];

  const maskedPaths = [...DEFAULT_MASKED_PATHS, ...(host.extraMaskedPaths ?? [])];
  if (opts.idmap.userns && net.mode === 'host') maskedPaths.push('/sys/kernel');

  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: opts.terminal ?? false,
      user: { uid: user.uid, gid: user.gid, umask: 0o022, ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}) },
      args,
      env,
      cwd,
      capabilities,
      rlimits: rlimits(opts, host),
      noNewPrivileges: opts.noNewPrivileges ?? true,
    },
    root: { path: opts.rootfs, readonly: opts.readOnly ?? false },
    ...(opts.hostname ? { hostname: opts.hostname } : {}),
    mounts,
    ...(opts.annotations && Object.keys(opts.annotations).length ? { annotations: { ...opts.annotations } } : {}),
    ...(net.hooks ? { hooks: net.hooks } : {}),
    linux: {
      namespaces,
      maskedPaths,
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  if (opts.idmap.userns) {
    spec.linux.uidMappings = opts.idmap.uidMappings.map((m) => ({ ...m }));
    spec.linux.gidMappings = opts.idmap.gidMappings.map((m) => ({ ...m }));
  }
  // containers.conf default_sysctls: let any gid of the container use ICMP echo sockets.
  if (net.privateNamespace) spec.linux.sysctl = { 'net.ipv4.ping_group_range': '0 0' };
  const res = resources(opts.resources);
  if (res) spec.linux.resources = res;

  const seccomp = opts.seccomp ?? 'default';
  if (seccomp !== 'unconfined') {
    const profile = seccomp === 'default' ? host.seccompProfile : seccomp;
    if (!profile) {
      throw new Error(
        'no default seccomp profile (/usr/share/containers/seccomp.json): install containers-common, or run with --security-opt seccomp=unconfined',
      );
    }
    const converted = profileToSpec(profile, { bounding: caps, arch: host.arch });
    if (converted) spec.linux.seccomp = converted;
  }
  return spec;
}
