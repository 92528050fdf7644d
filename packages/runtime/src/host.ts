// Facts about this machine that spec generation needs (spec.ts stays pure; this reads).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { capabilitiesFromMask } from './capabilities.ts';
import { defaultSeccompProfilePath, loadSeccompProfile, nativeSeccompArch } from './seccomp.ts';
import type { HostFacts } from './spec.ts';

/** Parses /proc/PID/limits into {soft, hard} per row title ("Max open files"); unlimited = Infinity. */
export function parseProcLimits(text: string): Map<string, { soft: number; hard: number }> {
  const out = new Map<string, { soft: number; hard: number }>();
  for (const line of text.split('\n').slice(1)) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const num = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
    out.set(m[1]!, { soft: num(m[2]!), hard: num(m[3]!) });
  }
  return out;
}

/** One capability set of the calling process (CapBnd, CapEff, ...), from /proc/self/status. */
export function currentCapabilitySet(field: 'CapBnd' | 'CapEff' | 'CapPrm', statusText: string = readFileSync('/proc/self/status', 'utf8')): string[] {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(statusText);
  if (!m) throw new Error(`/proc/self/status has no ${field} line`);
  return capabilitiesFromMask(m[1]!);
}

/** The calling process's bounding set. */
export function currentBoundingSet(statusText?: string): string[] {
  return currentCapabilitySet('CapBnd', statusText);
}

/** podman masks /sys/devices/system/cpu/cpu*∕thermal_throttle where they exist. */
function thermalThrottlePaths(): string[] {
  const base = '/sys/devices/system/cpu';
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^cpu\d+$/.test(n))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .map((n) => `${base}/${n}/thermal_throttle`)
    .filter((p) => existsSync(p));
}

function mqueueSupported(): boolean {
  try {
    return /\tmqueue$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return true;
  }
}

export interface HostFactsOptions {
  /** A seccomp profile file to use as the default instead of podman's locations. */
  seccompProfilePath?: string;
}

/** Reads everything `buildSpec` needs to know about this host. */
export function hostFacts(opts: HostFactsOptions = {}): HostFacts {
  const status = readFileSync('/proc/self/status', 'utf8');
  // As podman: limits are clamped to ours when we cannot raise them (rootless, or root
  // without CAP_SYS_RESOURCE as in many containers).
  const clamp = process.getuid!() !== 0 || !currentCapabilitySet('CapEff', status).includes('CAP_SYS_RESOURCE');
  const facts: HostFacts = {
    bounding: currentBoundingSet(status),
    arch: nativeSeccompArch(),
    mqueue: mqueueSupported(),
  };
  const masked = thermalThrottlePaths();
  if (masked.length) facts.extraMaskedPaths = masked;
  if (clamp) {
    const limits = parseProcLimits(readFileSync('/proc/self/limits', 'utf8'));
    const nofile = limits.get('Max open files');
    const nproc = limits.get('Max processes');
    facts.rlimits = {
      ...(nofile ? { nofile } : {}),
      ...(nproc ? { nproc } : {}),
    };
  }
  const path = opts.seccompProfilePath ?? defaultSeccompProfilePath();
  if (path) facts.seccompProfile = loadSeccompProfile(path);
  return facts;
}
