// Seccomp profiles in the containers format (/usr/share/containers/seccomp.json, the one
// podman and docker ship) converted to the runtime-spec `linux.seccomp` object, with the rules
// podman applies (containers/common pkg/seccomp): a rule is kept only when its `includes`
// conditions hold (every listed cap in the bounding set, the native arch listed) and its
// `excludes` do not (no listed cap in the bounding set, the native arch not listed); `archMap`
// contributes the native arch and its sub-architectures; errno names become numbers.
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Seccomp, SeccompAction, SeccompArg, SeccompSyscall } from './oci-spec.ts';

export interface ProfileFilter {
  caps?: string[];
  arches?: string[];
}

export interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: SeccompAction;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
  errnoRet?: number;
  errno?: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction | '';
  defaultErrnoRet?: number;
  defaultErrno?: string;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: ProfileSyscall[];
}

/** Where podman looks for its default profile: the admin's override first. */
export const SECCOMP_PROFILE_PATHS = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'];

/** libseccomp's name of the architecture Node runs on (the names used in `arches`). */
export function nativeSeccompArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    ia32: 'x86',
    arm: 'arm',
    arm64: 'arm64',
    ppc64: 'ppc64le', // Node on ppc64 is little-endian only
    s390x: 's390x',
    mips: 'mips',
    mipsel: 'mipsel',
    mips64el: 'mipsel64',
    riscv64: 'riscv64',
    loong64: 'loong64',
  };
  return map[nodeArch] ?? nodeArch;
}

/** libseccomp native arch -> the SCMP_ARCH_ name that archMap entries use (as podman). */
const NATIVE_TO_SCMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
};

/** An errno given by name ("EPERM") or number ("1"); names as on this machine. */
export function errnoValue(errno: string): number {
  if (/^\d+$/.test(errno)) return Number(errno);
  const v = (constants.errno as Record<string, number>)[errno];
  if (v === undefined) throw new Error(`seccomp profile: unknown errno ${errno}`);
  return v;
}

export interface SeccompConvertOptions {
  /** The container's bounding capability set (CAP_ names), which includes/excludes test. */
  bounding: string[];
  /** libseccomp native arch name (amd64, arm64, ...); default: this machine's. */
  arch?: string;
}

/**
 * Converts a containers-format profile to the runtime-spec object. Returns undefined for a
 * profile with neither a default action nor syscalls (podman: seccomp disabled).
 */
export function profileToSpec(profile: SeccompProfile, opts: SeccompConvertOptions): Seccomp | undefined {
  if (!profile.defaultAction && !(profile.syscalls && profile.syscalls.length)) return undefined;
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new Error("seccomp profile: 'architectures' and 'archMap' were both given; use one");
  }
  const arch = opts.arch ?? nativeSeccompArch();
  const bounding = new Set(opts.bounding);
  const out: Seccomp = { defaultAction: (profile.defaultAction || 'SCMP_ACT_ALLOW') as SeccompAction };
  const architectures: string[] = [...(profile.architectures ?? [])];
  const scmp = NATIVE_TO_SCMP[arch];
  for (const a of profile.archMap ?? []) {
    if (scmp !== undefined && a.architecture === scmp) {
      architectures.push(a.architecture, ...(a.subArchitectures ?? []));
      break;
    }
  }
  if (architectures.length) out.architectures = architectures;
  const defaultErrno = profile.defaultErrno ? errnoValue(profile.defaultErrno) : profile.defaultErrnoRet;
  if (defaultErrno !== undefined) out.defaultErrnoRet = defaultErrno;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;

  const syscalls: SeccompSyscall[] = [];
  for (const call of profile.syscalls ?? []) {
    const ex = call.excludes ?? {};
    const inc = call.includes ?? {};
    if (ex.arches?.length && ex.arches.includes(arch)) continue;
    if (ex.caps?.length && ex.caps.some((c) => bounding.has(c))) continue;
    if (inc.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => bounding.has(c))) continue;
    if (call.name && call.names?.length) {
      throw new Error("seccomp profile: 'name' and 'names' were both given in one rule; use one");
    }
    const names = call.name ? [call.name] : [...(call.names ?? [])];
    if (names.length === 0) continue;
    const errnoRet = call.errno ? errnoValue(call.errno) : call.errnoRet;
    const rule: SeccompSyscall = { names, action: call.action };
    if (errnoRet !== undefined) rule.errnoRet = errnoRet;
    if (call.args && call.args.length) {
      rule.args = call.args.map((a) => ({
        index: a.index,
        value: a.value,
        ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}),
        op: a.op,
      }));
    }
    syscalls.push(rule);
  }
  out.syscalls = syscalls;
  return out;
}

/** Reads and parses a profile file; errors name the file. */
export function loadSeccompProfile(path: string): SeccompProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`seccomp profile ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as SeccompProfile;
  } catch (err) {
    throw new Error(`seccomp profile ${path}: not valid JSON: ${(err as Error).message}`);
  }
}

/** The default profile podman would use here, or undefined when containers-common is absent. */
export function defaultSeccompProfilePath(paths: string[] = SECCOMP_PROFILE_PATHS): string | undefined {
  return paths.find((p) => existsSync(p));
}
