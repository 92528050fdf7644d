// Fixed inputs for plan-level spec tests: the spec is a pure function of these.
import { ALL_CAPABILITIES } from '../../../packages/runtime/src/capabilities.ts';
import type { IDMappings } from '../../../packages/runtime/src/idmap.ts';
import { computeIDMappings } from '../../../packages/runtime/src/idmap.ts';
import type { SeccompProfile } from '../../../packages/runtime/src/seccomp.ts';
import type { HostFacts, RunOptions } from '../../../packages/runtime/src/spec.ts';

/** A small profile in the containers format with the interesting rule kinds. */
export const PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  defaultErrno: 'ENOSYS',
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW', args: [], includes: {}, excludes: {} },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, valueTwo: 0, op: 'SCMP_CMP_EQ' }], includes: {}, excludes: {} },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }], includes: {}, excludes: {} },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', args: [], includes: { arches: ['amd64', 'x32'] }, excludes: {} },
    { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', args: [], includes: { arches: ['arm', 'arm64'] }, excludes: {} },
    { names: ['bpf', 'setns'], action: 'SCMP_ACT_ALLOW', args: [], includes: { caps: ['CAP_SYS_ADMIN'] }, excludes: {} },
    { names: ['bpf', 'setns'], action: 'SCMP_ACT_ERRNO', args: [], includes: {}, excludes: { caps: ['CAP_SYS_ADMIN'] }, errnoRet: 1, errno: 'EPERM' },
    { names: ['chroot'], action: 'SCMP_ACT_ALLOW', args: [], includes: { caps: ['CAP_SYS_CHROOT'] }, excludes: {} },
    { names: ['chroot'], action: 'SCMP_ACT_ERRNO', args: [], includes: {}, excludes: { caps: ['CAP_SYS_CHROOT'] }, errnoRet: 1, errno: 'EPERM' },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 16, valueTwo: 0, op: 'SCMP_CMP_EQ' }], includes: {}, excludes: { caps: ['CAP_AUDIT_WRITE'] }, errnoRet: 22, errno: 'EINVAL' },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: null, includes: { caps: ['CAP_AUDIT_WRITE'] }, excludes: {} },
  ],
};

export const HOST: HostFacts = {
  bounding: [...ALL_CAPABILITIES],
  arch: 'amd64',
  seccompProfile: PROFILE,
  rlimits: { nofile: { soft: 1024, hard: 20000 }, nproc: { soft: 4000, hard: 5000 } },
  mqueue: true,
};

const FILES: Record<string, string> = {
  '/etc/subuid': 'alice:100000:65536\n',
  '/etc/subgid': 'alice:100000:65536\n',
};

export function rootlessIdmap(): IDMappings {
  return computeIDMappings({ uid: 1001, gid: 1001, userName: 'alice', subuidPath: '/etc/subuid', subgidPath: '/etc/subgid', readFile: (p) => FILES[p] });
}

export function keepIdmap(): IDMappings {
  return computeIDMappings(
    { uid: 1001, gid: 1001, userName: 'alice', subuidPath: '/etc/subuid', subgidPath: '/etc/subgid', readFile: (p) => FILES[p] },
    { mode: 'keep-id' },
  );
}

export function singleIdmap(): IDMappings {
  return computeIDMappings({ uid: 1001, gid: 1001, userName: 'alice', subuidPath: '/etc/subuid', subgidPath: '/etc/subgid', readFile: () => undefined });
}

export function rootIdmap(): IDMappings {
  return computeIDMappings({ uid: 0, gid: 0, userName: 'root', subuidPath: '/x', subgidPath: '/x', readFile: () => undefined });
}

export function baseOptions(over: Partial<RunOptions> = {}): RunOptions {
  return { rootfs: '/tmp/rootfs', idmap: rootlessIdmap(), args: ['sh'], ...over };
}
