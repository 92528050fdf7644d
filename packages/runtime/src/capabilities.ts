// Linux capability names and podman's rules for combining the default set with --cap-add and
// --cap-drop (containers/common pkg/capabilities).

/** Every capability the kernel knows, by number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** podman's default_capabilities (containers.conf), in its order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

/** "net_admin", "NET_ADMIN", "cap_net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL". Unknown names throw. */
export function normalizeCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(full)) throw new Error(`unknown capability "${name}"`);
  return full;
}

/**
 * The container's capability set: the defaults, minus drops, plus adds (podman's
 * MergeCapabilities: "ALL" in add means every capability, "ALL" in drop leaves only the adds;
 * a capability both added and dropped is an error).
 */
export function mergeCapabilities(base: readonly string[], add: string[] = [], drop: string[] = []): string[] {
  const adds = add.map(normalizeCapability);
  const drops = drop.map(normalizeCapability);
  const conflict = adds.find((c) => c !== 'ALL' && drops.includes(c));
  if (conflict) throw new Error(`capability ${conflict} is both added and dropped`);
  if (adds.includes('ALL')) {
    if (drops.includes('ALL')) throw new Error('capability ALL is both added and dropped');
    return ALL_CAPABILITIES.filter((c) => !drops.includes(c));
  }
  if (drops.includes('ALL')) return unique(adds);
  const out = base.map(normalizeCapability).filter((c) => !drops.includes(c));
  for (const c of adds) if (!out.includes(c)) out.push(c);
  return unique(out);
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** Decodes a capability mask as in /proc/PID/status (`CapBnd:\t000001ffffffffff`). */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}
