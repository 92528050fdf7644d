// `prun top`: the processes of a running container, read from the host's /proc (those whose
// /proc/PID/ns/pid is the container init's), shown with podman 4.3's (psgo's) descriptors and
// formats: PIDs as the container sees them (the last NSpid), ids through the container's
// mappings and named from its own /etc/passwd and /etc/group, durations as Go prints them.
// Descriptors psgo does not know (or ps options such as -eo) run `ps` inside the container,
// as podman does.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readImageGroup, readImagePasswd } from '@pkit/runtime/image-user';
import { type IDMapping, type Spec } from '@pkit/runtime/oci-spec';
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { initPid, readSpec, toContainerId } from './container-fs.ts';
import { engine, findContainer, isRunning } from './containers.ts';

/** USER_HZ: what the kernel counts /proc/PID/stat times in (100 on every Linux ABI). */
const CLOCK_TICKS = 100;

export interface Proc {
  hostPid: number;
  pid: number;
  /** Fields of /proc/PID/stat after "(comm)": [0] state, [1] ppid, [2] pgrp, ... */
  stat: string[];
  comm: string;
  status: Map<string, string>;
  cmdline: Buffer;
  label: string;
}

interface Context {
  /** host pid -> pid in the container */
  inner: Map<number, number>;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  users: Map<number, string>;
  groups: Map<number, string>;
  /** Seconds since boot (/proc/uptime) and the wall clock, both read once. */
  uptime: number;
  nowNs: bigint;
  lastCap: number;
}

type Column = (p: Proc, c: Context) => string;

interface Descriptor {
  code?: string;
  normal: string;
  header: string;
  fn: Column;
}

export const DEFAULT_DESCRIPTORS = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

// ---- reading /proc ----------------------------------------------------------------------

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readProc(hostPid: number): Proc | undefined {
  const statText = readText(`/proc/${hostPid}/stat`);
  const statusText = readText(`/proc/${hostPid}/status`);
  if (statText === undefined || statusText === undefined) return undefined; // gone meanwhile
  const open = statText.indexOf('(');
  const close = statText.lastIndexOf(')');
  const status = new Map<string, string>();
  for (const line of statusText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) status.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const nspid = (status.get('NSpid') ?? String(hostPid)).split(/\s+/);
  let cmdline: Buffer;
  try {
    cmdline = readFileSync(`/proc/${hostPid}/cmdline`);
  } catch {
    cmdline = Buffer.alloc(0);
  }
  const label = readText(`/proc/${hostPid}/attr/current`)?.replace(/\0/g, '').trim();
  return {
    hostPid,
    pid: Number(nspid.at(-1)),
    stat: statText.slice(close + 2).trim().split(' '),
    comm: statText.slice(open + 1, close),
    status,
    cmdline,
    label: label || '?',
  };
}

/** The processes that share the pid namespace of host pid `init`, by their pid inside. */
export function namespaceProcesses(init: number): Proc[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${init}/ns/pid`);
  } catch (err) {
    throw new StoreError(`cannot read the pid namespace of the container's process ${init}: ${(err as Error).message}`, 'PKIT_STATE');
  }
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) !== ns) continue;
    } catch {
      continue; // gone, or not ours to look at
    }
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out.sort((a, b) => a.pid - b.pid);
}

// ---- formats ----------------------------------------------------------------------------

/** Go's time.Duration.String() for a non-negative number of nanoseconds. */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  if (ns < 1000n) return `${ns}ns`;
  const frac = (v: bigint, unit: bigint, digits: number) => {
    const whole = v / unit;
    const rest = (v % unit).toString().padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : `${whole}`;
  };
  if (ns < 1_000_000n) return `${frac(ns, 1000n, 3)}µs`;
  if (ns < 1_000_000_000n) return `${frac(ns, 1_000_000n, 6)}ms`;
  const h = ns / 3_600_000_000_000n;
  const m = (ns / 60_000_000_000n) % 60n;
  const s = frac(ns % 60_000_000_000n, 1_000_000_000n, 9);
  if (h > 0n) return `${h}h${m}m${s}s`;
  if (m > 0n) return `${m}m${s}s`;
  return `${s}s`;
}

/** Go's default time format ("2006-01-02 15:04:05 -0700 MST") in the local zone. */
export function goTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zoneOffset = `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  let zone = off === 0 ? 'UTC' : zoneOffset;
  try {
    zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? zone;
    if (/^GMT[+-]/.test(zone) || zone === 'GMT') zone = off === 0 ? 'UTC' : zoneOffset;
  } catch {
    // no Intl time zone data: the numeric form
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zoneOffset} ${zone}`;
}

/** The controlling terminal's name from /proc/PID/stat's tty_nr ("?" for none). */
export function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return '?';
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `tty${minor}`;
  if (major === 4) return `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return 'console';
  return '?';
}

const CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** A capability mask as psgo shows it: "full", "none" or sorted names. */
export function capNames(hex: string | undefined, lastCap: number): string {
  const mask = BigInt(`0x${hex || '0'}`);
  if (mask === 0n) return 'none';
  if (mask === (1n << BigInt(lastCap + 1)) - 1n) return 'full';
  const names: string[] = [];
  for (let i = 0; i <= 63; i++) if (mask & (1n << BigInt(i))) names.push(CAPS[i] ?? `CAP_${i}`);
  return names.sort().join(',');
}

// ---- descriptors ------------------------------------------------------------------------

const field = (p: Proc, i: number) => p.stat[i] ?? '';
const ids = (p: Proc, key: 'Uid' | 'Gid') => (p.status.get(key) ?? '').split(/\s+/).map(Number);
const overflow = (key: 'uid' | 'gid') => Number(readText(`/proc/sys/kernel/overflow${key}`)?.trim() ?? 65534);

function inside(maps: IDMapping[], hostId: number | undefined, key: 'uid' | 'gid'): number {
  if (hostId === undefined || Number.isNaN(hostId)) return overflow(key);
  return toContainerId(maps, hostId) ?? overflow(key);
}
const userName = (c: Context, id: number) => c.users.get(id) ?? String(id);
const groupName = (c: Context, id: number) => c.groups.get(id) ?? String(id);
const innerPid = (c: Context, hostPid: number) => String(c.inner.get(hostPid) ?? 0);
// Ages on the boot clock, not from /proc/stat's btime (psgo's way): a wall clock set after
// boot would make btime + start ticks wrong by that much.
const elapsedNs = (p: Proc, c: Context) => BigInt(Math.max(0, Math.round((c.uptime - Number(field(p, 19)) / CLOCK_TICKS) * 1e9)));
const startSeconds = (p: Proc, c: Context) => Math.floor(Number(c.nowNs - elapsedNs(p, c)) / 1e9);
const cpuSeconds = (p: Proc) => Math.floor((Number(field(p, 11)) + Number(field(p, 12))) / CLOCK_TICKS);

function args(p: Proc): string {
  if (p.cmdline.length === 0) return `[${p.status.get('Name') ?? p.comm}]`;
  return p.cmdline.toString('utf8').replace(/\0+$/, '').split('\0').join(' ');
}

const DESCRIPTORS: Descriptor[] = [
  { code: '%C', normal: 'pcpu', header: '%CPU', fn: (p, c) => ((100 * cpuSeconds(p)) / Math.max(Number(elapsedNs(p, c)) / 1e9, 1e-9)).toFixed(3) },
  { code: '%G', normal: 'group', header: 'GROUP', fn: (p, c) => groupName(c, inside(c.gidMappings, ids(p, 'Gid')[1], 'gid')) },
  { normal: 'groups', header: 'GROUPS', fn: (p, c) => (p.status.get('Groups') ?? '').split(/\s+/).filter(Boolean).map((g) => groupName(c, inside(c.gidMappings, Number(g), 'gid'))).join(',') },
  { code: '%P', normal: 'ppid', header: 'PPID', fn: (p, c) => innerPid(c, Number(p.status.get('PPid') ?? field(p, 1))) },
  { code: '%U', normal: 'user', header: 'USER', fn: (p, c) => userName(c, inside(c.uidMappings, ids(p, 'Uid')[1], 'uid')) },
  { normal: 'uid', header: 'UID', fn: (p, c) => String(inside(c.uidMappings, ids(p, 'Uid')[1], 'uid')) },
  { code: '%a', normal: 'args', header: 'COMMAND', fn: (p) => args(p) },
  { code: '%c', normal: 'comm', header: 'COMMAND', fn: (p) => p.comm },
  { code: '%g', normal: 'rgroup', header: 'RGROUP', fn: (p, c) => groupName(c, inside(c.gidMappings, ids(p, 'Gid')[0], 'gid')) },
  { code: '%n', normal: 'nice', header: 'NI', fn: (p) => field(p, 16) },
  { code: '%p', normal: 'pid', header: 'PID', fn: (p) => String(p.pid) },
  { code: '%r', normal: 'pgid', header: 'PGID', fn: (p, c) => innerPid(c, Number(field(p, 2))) },
  { code: '%t', normal: 'etime', header: 'ELAPSED', fn: (p, c) => goDuration(elapsedNs(p, c)) },
  { code: '%u', normal: 'ruser', header: 'RUSER', fn: (p, c) => userName(c, inside(c.uidMappings, ids(p, 'Uid')[0], 'uid')) },
  { code: '%x', normal: 'time', header: 'TIME', fn: (p) => goDuration(BigInt(cpuSeconds(p)) * 1_000_000_000n) },
  { code: '%y', normal: 'tty', header: 'TTY', fn: (p) => ttyName(Number(field(p, 4))) },
  { code: '%z', normal: 'vsz', header: 'VSZ', fn: (p) => String(Math.floor(Number(field(p, 20)) / 1024)) },
  { normal: 'capamb', header: 'AMBIENT CAPS', fn: (p, c) => capNames(p.status.get('CapAmb'), c.lastCap) },
  { normal: 'capinh', header: 'INHERITED CAPS', fn: (p, c) => capNames(p.status.get('CapInh'), c.lastCap) },
  { normal: 'capprm', header: 'PERMITTED CAPS', fn: (p, c) => capNames(p.status.get('CapPrm'), c.lastCap) },
  { normal: 'capeff', header: 'EFFECTIVE CAPS', fn: (p, c) => capNames(p.status.get('CapEff'), c.lastCap) },
  { normal: 'capbnd', header: 'BOUNDING CAPS', fn: (p, c) => capNames(p.status.get('CapBnd'), c.lastCap) },
  { normal: 'seccomp', header: 'SECCOMP', fn: (p) => ({ '0': 'disabled', '1': 'strict', '2': 'filter' })[p.status.get('Seccomp') ?? ''] ?? '?' },
  { normal: 'label', header: 'LABEL', fn: (p) => p.label },
  { normal: 'hpid', header: 'HPID', fn: (p) => String(p.hostPid) },
  { normal: 'huser', header: 'HUSER', fn: (p) => String(ids(p, 'Uid')[1] ?? '?') },
  { normal: 'huid', header: 'HUID', fn: (p) => String(ids(p, 'Uid')[1] ?? '?') },
  { normal: 'hgroup', header: 'HGROUP', fn: (p) => String(ids(p, 'Gid')[1] ?? '?') },
  { normal: 'hgroups', header: 'HGROUPS', fn: (p) => (p.status.get('Groups') ?? '').split(/\s+/).filter(Boolean).join(',') },
  { normal: 'rss', header: 'RSS', fn: (p) => (p.status.get('VmRSS') ?? '0').replace(/\s*kB$/, '') },
  { normal: 'state', header: 'STATE', fn: (p) => (p.status.get('State') ?? '?').slice(0, 1) },
  { normal: 'stime', header: 'STIME', fn: (p, c) => goTime(startSeconds(p, c)) },
];

/** The descriptors asked for, or undefined when one is unknown (then ps runs in the container). */
export function translateDescriptors(names: string[]): Descriptor[] | undefined {
  const out: Descriptor[] = [];
  for (const raw of names.length ? names : DEFAULT_DESCRIPTORS) {
    const n = raw.trim();
    const d = DESCRIPTORS.find((x) => x.normal === n || x.code === n);
    if (!d) return undefined;
    out.push(d);
  }
  return out;
}

function layerDirs(spec: Spec): string[] {
  const root = spec.mounts?.[0];
  if (root?.type !== 'overlay') return [];
  const opt = (k: string) => root.options?.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  return [opt('upperdir'), ...(opt('lowerdir') ?? '').split(':')].filter((d): d is string => !!d);
}

function uptime(): number {
  const up = Number(readText('/proc/uptime')?.split(' ')[0]);
  if (!Number.isFinite(up)) throw new StoreError('cannot read the time since boot from /proc/uptime', 'PKIT_STATE');
  return up;
}

export interface TopRequest {
  root: string | undefined;
  container: string;
  descriptors: string[];
}

/** The table's rows (header first), or `ps` arguments when the descriptors are ps's own. */
export async function topAction(req: TopRequest): Promise<{ rows: string[][] } | { ps: string[] }> {
  const descriptors = translateDescriptors(req.descriptors);
  const store = Store.open({ root: req.root });
  try {
    const e = engine(store);
    const rec = await findContainer(e, req.container);
    if (!isRunning(rec)) throw new StoreError('top can only be used on running containers', 'PKIT_STATE');
    // podman splits each descriptor like a shell would before handing them to ps.
    if (!descriptors) return { ps: req.descriptors.flatMap((d) => d.split(/\s+/).filter(Boolean)) };
    const init = initPid(e, rec);
    if (!init) throw new StoreError('top can only be used on running containers', 'PKIT_STATE');
    const spec = readSpec(e, rec.id);
    const procs = namespaceProcesses(init);
    const layers = layerDirs(spec);
    const passwd = (await readImagePasswd(layers).catch(() => undefined)) ?? [];
    const group = (await readImageGroup(layers).catch(() => undefined)) ?? [];
    const ctx: Context = {
      inner: new Map(procs.map((p) => [p.hostPid, p.pid])),
      uidMappings: spec.linux?.uidMappings ?? [],
      gidMappings: spec.linux?.gidMappings ?? [],
      // The first entry of an id wins, as getpwuid's scan.
      users: new Map([...passwd].reverse().map((u) => [u.uid, u.name])),
      groups: new Map([...group].reverse().map((g) => [g.gid, g.name])),
      uptime: uptime(),
      nowNs: BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)),
      lastCap: Number(readText('/proc/sys/kernel/cap_last_cap')?.trim() ?? 40),
    };
    const rows = [descriptors.map((d) => d.header), ...procs.map((p) => descriptors.map((d) => d.fn(p, ctx)))];
    return { rows };
  } finally {
    store.close();
  }
}
