// What `prun run` and `prun create` were asked for, and its translation into the runtime's
// RunOptions. Every value typed by the user is checked here, before anything is created, so
// a bad flag leaves nothing behind.
import { readFileSync } from 'node:fs';
import { badInput } from '@pkit/storage/errors';
import type { SeccompProfile } from '@pkit/runtime/seccomp';
import type { RunOptions } from '@pkit/runtime/spec';

export interface ContainerRequest {
  root: string | undefined;
  image: string;
  command: string[];
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  name?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  volumes: string[];
  mounts: string[];
  tmpfs: string[];
  readOnly: boolean;
  network?: string;
  publish: string[];
  addHosts: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  capAdd: string[];
  capDrop: string[];
  securityOpts: string[];
  init: boolean;
  pull?: string;
  runtime?: string;
  cidfile?: string;
  userns?: string;
  stopSignal?: string;
  stopTimeout?: number;
  labels: string[];
  tlsVerify?: boolean;
  quiet: boolean;
}

export { badInput };

/** `-e KEY=VALUE`; `-e KEY` takes KEY from our environment, and is dropped when unset (podman). */
export function envEntries(values: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw badInput(`invalid environment variable "${v}": expected KEY=VALUE or KEY`);
    if (eq > 0) out.push(v);
    else if (env[v] !== undefined) out.push(`${v}=${env[v]}`);
  }
  return out;
}

/** `--env-file`: KEY=VALUE lines; blank lines and # comments skipped; a bare KEY as with -e. */
export function envFileEntries(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw badInput(`--env-file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trimStart()).filter((l) => l !== '' && !l.startsWith('#'));
  return envEntries(lines, env);
}

/** `--entrypoint X`: a JSON array, else one word; "" runs no entrypoint (podman). */
export function parseEntrypoint(value: string): string[] {
  if (value.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw badInput(`--entrypoint ${value}: expected a command or a JSON array of strings`);
    }
    return parsed as string[];
  }
  return [value];
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `--memory 256m`: bytes, with podman's units (b, k, m, g, t; an optional trailing "b"). */
export function parseBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw badInput(`${flag} ${value}: expected a size such as 512m or 2g`);
  const n = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (n <= 0) throw badInput(`${flag} ${value}: must be more than 0`);
  return n;
}

function parseCpus(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw badInput(`--cpus ${value}: expected a positive number of CPUs such as 1.5`);
  return n;
}

function parsePids(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1 || n === 0) throw badInput(`--pids-limit ${value}: expected a positive integer, or -1 for no limit`);
  return n;
}

/** `--security-opt`: the options podman takes that mean something here. */
export function securityOptions(values: string[]): Pick<RunOptions, 'noNewPrivileges' | 'seccomp'> {
  const out: Pick<RunOptions, 'noNewPrivileges' | 'seccomp'> = {};
  for (const v of values) {
    const [key, val] = v.includes('=') ? [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] : v.includes(':') ? [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)] : [v, undefined];
    if (key === 'no-new-privileges') {
      if (val !== undefined && val !== 'true' && val !== 'false') throw badInput(`--security-opt ${v}: expected no-new-privileges[=true|false]`);
      out.noNewPrivileges = val !== 'false';
    } else if (key === 'seccomp') {
      if (!val) throw badInput(`--security-opt ${v}: expected seccomp=unconfined or seccomp=PROFILE.json`);
      out.seccomp = val === 'unconfined' ? 'unconfined' : readSeccompProfile(val);
    } else if (key === 'label' || key === 'apparmor' || key === 'mask' || key === 'unmask') {
      // SELinux and AppArmor are not used by pkit; podman ignores them too where unsupported.
    } else {
      throw badInput(`--security-opt ${v}: unknown option (supported: no-new-privileges, seccomp=unconfined, seccomp=FILE)`);
    }
  }
  return out;
}

function readSeccompProfile(path: string): SeccompProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw badInput(`--security-opt seccomp=${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as SeccompProfile;
  } catch (e) {
    throw badInput(`--security-opt seccomp=${path}: not JSON: ${(e as Error).message}`);
  }
}

/** `--label KEY=VALUE` (a bare KEY gets an empty value, as podman). */
export function parseLabels(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw badInput(`--label ${v}: expected KEY=VALUE`);
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** The RunOptions that follow from the request alone (no image, mounts or network yet). */
export function baseRunOptions(req: ContainerRequest): Omit<RunOptions, 'rootfs' | 'idmap'> {
  const env = [...req.envFiles.flatMap((f) => envFileEntries(f)), ...envEntries(req.env)];
  const resources: NonNullable<RunOptions['resources']> = {};
  if (req.memory !== undefined) resources.memory = parseBytes(req.memory, '--memory');
  if (req.cpus !== undefined) resources.cpus = parseCpus(req.cpus);
  if (req.pidsLimit !== undefined) {
    const p = parsePids(req.pidsLimit);
    if (p !== -1) resources.pids = p;
  }
  return {
    ...(req.command.length ? { args: req.command } : {}),
    ...(req.entrypoint !== undefined ? { entrypoint: parseEntrypoint(req.entrypoint) } : {}),
    ...(env.length ? { env } : {}),
    ...(req.workdir !== undefined ? { cwd: req.workdir } : {}),
    ...(req.hostname !== undefined ? { hostname: req.hostname } : {}),
    ...(req.readOnly ? { readOnly: true } : {}),
    ...(req.tty ? { terminal: true } : {}),
    ...(req.capAdd.length ? { capAdd: req.capAdd } : {}),
    ...(req.capDrop.length ? { capDrop: req.capDrop } : {}),
    ...(Object.keys(resources).length ? { resources } : {}),
    ...securityOptions(req.securityOpts),
  };
}
