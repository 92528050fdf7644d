// The image config a working container will commit (`pbuild config`, and the Containerfile
// build's metadata instructions): kept in the container's record as `config.imageConfig`,
// started from the image's config by `from`, changed one step at a time by applyConfigChange,
// used by `pbuild run` (env, workdir, user) and by `commit`.
import { constants as osConstants } from 'node:os';
import { posix } from 'node:path';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import type { ContainerConfig, HealthConfig, ImageConfig } from '@pkit/storage/oci-types';
import type { Store } from '@pkit/storage/store';
import { readImageConfig } from '@pkit/runtime/container-run';
import { parseDuration } from '../containerfile/values.ts';

/** What `commit` takes from the working container besides its files. */
export interface WorkingConfig {
  config: ContainerConfig;
  author?: string;
  /** buildah's --created-by: the commit's history entry. */
  createdBy?: string;
  /** Annotations of the committed image's manifest. */
  annotations?: Record<string, string>;
}

/** One change, as a Containerfile instruction or a `pbuild config` flag makes it. */
export type ConfigChange =
  /** value undefined: removes KEY */
  | { kind: 'env'; key: string; value?: string }
  /** null: none */
  | { kind: 'cmd'; value: string[] | null }
  | { kind: 'entrypoint'; value: string[] | null }
  /** relative: to the current WorkingDir (WORKDIR) */
  | { kind: 'workingdir'; value: string }
  | { kind: 'user'; value: string }
  | { kind: 'label'; key: string; value?: string }
  /** "80", "80/tcp", "53/udp" */
  | { kind: 'port'; value: string; remove?: boolean }
  | { kind: 'volume'; value: string; remove?: boolean }
  | { kind: 'stopsignal'; value: string }
  | { kind: 'shell'; value: string[] }
  | { kind: 'onbuild'; value: string }
  /** null: removes the healthcheck; {Test: ["NONE"]} disables the base image's */
  | { kind: 'healthcheck'; value: HealthConfig | null }
  | { kind: 'author'; value: string }
  | { kind: 'createdby'; value: string }
  | { kind: 'annotation'; key: string; value?: string };

/** Fields only the Docker image format carries (buildah drops them with a warning for OCI). */
export const DOCKER_ONLY = ['Shell', 'OnBuild', 'Healthcheck'] as const;

export function initialWorkingConfig(image: ImageConfig): WorkingConfig {
  return { config: structuredClone(image.config ?? {}), ...(image.author !== undefined ? { author: image.author } : {}) };
}

/** The record's config; a container made before it was kept starts from its image's. */
export async function readWorkingConfig(store: Store, rec: ContainerRecord): Promise<WorkingConfig> {
  const kept = rec.config?.['imageConfig'] as WorkingConfig | undefined;
  if (kept) return structuredClone(kept);
  return initialWorkingConfig(await readImageConfig(store, rec.image));
}

export async function saveWorkingConfig(store: Store, rec: ContainerRecord, wc: WorkingConfig): Promise<ContainerRecord> {
  return store.containers.update(rec.id, { config: { ...rec.config, imageConfig: wc } });
}

function setKey<T>(map: Record<string, T> | undefined, key: string, value: T | undefined): Record<string, T> | undefined {
  const next = { ...map };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return Object.keys(next).length ? next : undefined;
}

function assign<K extends keyof ContainerConfig>(c: ContainerConfig, key: K, value: ContainerConfig[K] | undefined): void {
  if (value === undefined) delete c[key];
  else c[key] = value;
}

function checkSignal(value: string): string {
  const up = value.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  if (/^\d+$/.test(value) ? Number(value) >= 1 && Number(value) <= 64 : name in osConstants.signals || /^SIGRTM(IN|AX)([+-]\d+)?$/.test(name)) return value;
  throw new StoreError(`invalid stop signal "${value}": give a signal name (SIGTERM) or number`, 'PKIT_BAD_INPUT');
}

/** Returns the config with `change` made (the argument is not modified). */
export function applyConfigChange(wc: WorkingConfig, change: ConfigChange): WorkingConfig {
  const next: WorkingConfig = structuredClone(wc);
  const c = next.config;
  switch (change.kind) {
    case 'env': {
      if (!change.key || change.key.includes('=')) throw new StoreError(`invalid environment variable name "${change.key}"`, 'PKIT_BAD_INPUT');
      const env = (c.Env ?? []).filter((e) => !e.startsWith(`${change.key}=`) && e !== change.key);
      const at = (c.Env ?? []).findIndex((e) => e.startsWith(`${change.key}=`));
      if (change.value !== undefined) {
        // a variable set again keeps its place (as buildah)
        if (at >= 0) env.splice(at, 0, `${change.key}=${change.value}`);
        else env.push(`${change.key}=${change.value}`);
      }
      assign(c, 'Env', env.length ? env : undefined);
      break;
    }
    case 'cmd':
      assign(c, 'Cmd', change.value ?? undefined);
      break;
    case 'entrypoint':
      assign(c, 'Entrypoint', change.value ?? undefined);
      break;
    case 'workingdir':
      assign(c, 'WorkingDir', change.value === '' ? undefined : posix.resolve(c.WorkingDir || '/', change.value));
      break;
    case 'user':
      assign(c, 'User', change.value || undefined);
      break;
    case 'label':
      assign(c, 'Labels', setKey(c.Labels, change.key, change.value));
      break;
    case 'port':
      assign(c, 'ExposedPorts', setKey(c.ExposedPorts, change.value, change.remove ? undefined : {}));
      break;
    case 'volume':
      assign(c, 'Volumes', setKey(c.Volumes, change.value, change.remove ? undefined : {}));
      break;
    case 'stopsignal':
      assign(c, 'StopSignal', change.value ? checkSignal(change.value) : undefined);
      break;
    case 'shell':
      assign(c, 'Shell', change.value.length ? change.value : undefined);
      break;
    case 'onbuild':
      assign(c, 'OnBuild', [...(c.OnBuild ?? []), change.value]);
      break;
    case 'healthcheck':
      assign(c, 'Healthcheck', change.value ?? undefined);
      break;
    case 'author':
      if (change.value) next.author = change.value;
      else delete next.author;
      break;
    case 'createdby':
      if (change.value) next.createdBy = change.value;
      else delete next.createdBy;
      break;
    case 'annotation': {
      const a = setKey(next.annotations, change.key, change.value);
      if (a) next.annotations = a;
      else delete next.annotations;
      break;
    }
  }
  return next;
}

export function applyConfigChanges(wc: WorkingConfig, changes: readonly ConfigChange[]): WorkingConfig {
  return changes.reduce(applyConfigChange, wc);
}

/** A JSON array of strings, or undefined when `text` is not one. */
export function jsonArray(text: string): string[] | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Words as a POSIX shell splits them: quotes and backslashes, no expansion. */
export function shellWords(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && '"\\$`'.includes(text[i + 1] ?? '-')) word += text[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\' && i + 1 < text.length) word += text[++i];
      else word += ch;
    }
  }
  if (quote) throw new StoreError(`unterminated quote in ${JSON.stringify(text)}`, 'PKIT_BAD_INPUT');
  if (inWord) out.push(word);
  return out;
}

function keyValue(text: string, what: string): { key: string; value?: string } {
  const eq = text.indexOf('=');
  if (eq < 0) {
    if (text.endsWith('-') && text.length > 1) return { key: text.slice(0, -1) };
    throw new StoreError(`${what} "${text}": expected KEY=VALUE (or KEY- to remove it)`, 'PKIT_BAD_INPUT');
  }
  if (eq === 0) throw new StoreError(`${what} "${text}": the name is empty`, 'PKIT_BAD_INPUT');
  return { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

/** The timings buildah gives a --healthcheck that sets none: 30s interval and timeout, 3 retries. */
const HEALTHCHECK_DEFAULTS = { Interval: 30e9, Timeout: 30e9, Retries: 3 };

/**
 * buildah's --healthcheck: "NONE", "CMD-SHELL command", "CMD [json]" or "CMD word..." (split on
 * blanks), "" removes it; with the --healthcheck-* timings (Go durations), else buildah's defaults.
 */
export function parseHealthcheck(text: string, timings: { interval?: string; timeout?: string; startPeriod?: string; retries?: number } = {}): HealthConfig | null {
  const t = text.trim();
  if (t === '') return null;
  if (t.toUpperCase() === 'NONE') return { Test: ['NONE'] };
  const m = /^(CMD-SHELL|CMD)\s+(.*)$/is.exec(t);
  const kind = m?.[1]?.toUpperCase();
  const rest = m?.[2] ?? t;
  const test = kind === 'CMD' ? ['CMD', ...(jsonArray(rest) ?? rest.split(/\s+/).filter(Boolean))] : ['CMD-SHELL', rest];
  const duration = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    try {
      return parseDuration(v);
    } catch (err) {
      throw new StoreError(`--healthcheck-${flag} ${(err as Error).message}`, 'PKIT_BAD_INPUT');
    }
  };
  const startPeriod = duration('start-period', timings.startPeriod);
  return {
    Test: test,
    Interval: duration('interval', timings.interval) ?? HEALTHCHECK_DEFAULTS.Interval,
    Timeout: duration('timeout', timings.timeout) ?? HEALTHCHECK_DEFAULTS.Timeout,
    ...(startPeriod ? { StartPeriod: startPeriod } : {}),
    Retries: timings.retries ?? HEALTHCHECK_DEFAULTS.Retries,
  };
}

/** `pbuild config` flags, in buildah's order, as changes. */
export interface ConfigFlags {
  env?: string[];
  cmd?: string;
  entrypoint?: string;
  workingdir?: string;
  user?: string;
  label?: string[];
  port?: string[];
  volume?: string[];
  'stop-signal'?: string;
  shell?: string;
  author?: string;
  'created-by'?: string;
  annotation?: string[];
  onbuild?: string[];
  healthcheck?: string;
  'healthcheck-interval'?: string;
  'healthcheck-timeout'?: string;
  'healthcheck-start-period'?: string;
  'healthcheck-retries'?: number;
}

export function configFlagChanges(f: ConfigFlags): ConfigChange[] {
  const out: ConfigChange[] = [];
  if (f.author !== undefined) out.push({ kind: 'author', value: f.author });
  if (f['created-by'] !== undefined) out.push({ kind: 'createdby', value: f['created-by'] });
  if (f.user !== undefined) out.push({ kind: 'user', value: f.user });
  if (f.shell !== undefined) {
    const shell = jsonArray(f.shell) ?? shellWords(f.shell);
    out.push({ kind: 'shell', value: shell });
  }
  for (const p of f.port ?? []) out.push(p.endsWith('-') ? { kind: 'port', value: p.slice(0, -1), remove: true } : { kind: 'port', value: p });
  for (const e of f.env ?? []) out.push({ kind: 'env', ...keyValue(e, 'environment variable') });
  if (f.entrypoint !== undefined) {
    // buildah: JSON is the exec form; anything else runs through /bin/sh -c; "" removes it
    const t = f.entrypoint;
    out.push({ kind: 'entrypoint', value: t === '' ? null : (jsonArray(t) ?? ['/bin/sh', '-c', t]) });
  }
  if (f.cmd !== undefined) {
    const t = f.cmd;
    out.push({ kind: 'cmd', value: t === '' ? null : (jsonArray(t) ?? shellWords(t)) });
  }
  for (const v of f.volume ?? []) out.push(v.endsWith('-') && v.length > 1 ? { kind: 'volume', value: v.slice(0, -1), remove: true } : { kind: 'volume', value: v });
  if (f.workingdir !== undefined) out.push({ kind: 'workingdir', value: f.workingdir });
  for (const l of f.label ?? []) out.push({ kind: 'label', ...keyValue(l, 'label') });
  for (const a of f.annotation ?? []) out.push({ kind: 'annotation', ...keyValue(a, 'annotation') });
  if (f['stop-signal'] !== undefined) out.push({ kind: 'stopsignal', value: f['stop-signal'] });
  for (const o of f.onbuild ?? []) out.push({ kind: 'onbuild', value: o });
  if (f.healthcheck !== undefined) {
    const timings = {
      ...(f['healthcheck-interval'] !== undefined ? { interval: f['healthcheck-interval'] } : {}),
      ...(f['healthcheck-timeout'] !== undefined ? { timeout: f['healthcheck-timeout'] } : {}),
      ...(f['healthcheck-start-period'] !== undefined ? { startPeriod: f['healthcheck-start-period'] } : {}),
      ...(f['healthcheck-retries'] !== undefined ? { retries: f['healthcheck-retries'] } : {}),
    };
    out.push({ kind: 'healthcheck', value: parseHealthcheck(f.healthcheck, timings) });
  }
  return out;
}

/** `pbuild config C ...`: the changes made and kept; warnings for what the OCI format drops. */
export async function configure(store: Store, rec: ContainerRecord, changes: readonly ConfigChange[]): Promise<{ config: WorkingConfig; warnings: string[] }> {
  const config = applyConfigChanges(await readWorkingConfig(store, rec), changes);
  await saveWorkingConfig(store, rec, config);
  const warnings: string[] = [];
  for (const ch of changes) {
    if (ch.kind === 'shell') warnings.push(`SHELL is not supported for OCI image format, ${JSON.stringify(ch.value)} will be ignored unless the image is committed with --format docker`);
    if (ch.kind === 'onbuild') warnings.push(`ONBUILD is not supported for OCI image format, ${ch.value} will be ignored unless the image is committed with --format docker`);
    if (ch.kind === 'healthcheck') warnings.push('HEALTHCHECK is not supported for OCI image format and will be ignored unless the image is committed with --format docker');
  }
  return { config, warnings };
}

/** buildah's `inspect` of a working container (the fields pbuild has). */
export async function inspectWorking(store: Store, rec: ContainerRecord): Promise<Record<string, unknown>> {
  const { findImage } = await import('@pkit/storage/image-lookup');
  const base = await findImage(store, rec.image);
  const configBytes = (await store.blobs.readBytes(base.id, 4 << 20)).toString('utf8');
  const manifestBytes = (await store.blobs.readBytes(base.manifestDigest, 4 << 20)).toString('utf8');
  const baseConfig = JSON.parse(configBytes) as ImageConfig;
  const names = (await store.images.names()).filter((n) => n.id === base.id).map((n) => n.name).sort();
  const wc = await readWorkingConfig(store, rec);
  const config = { ...wc.config };
  for (const k of DOCKER_ONLY) delete config[k];
  const oci: ImageConfig = { ...baseConfig, config };
  if (wc.author) oci.author = wc.author;
  else delete oci.author;
  return {
    Type: 'buildah 0.0.1',
    FromImage: names.find((n) => n.endsWith(`/${rec.imageName}`) || n.endsWith(`/${rec.imageName}:latest`)) ?? names[0] ?? rec.imageName,
    FromImageID: base.id.slice('sha256:'.length),
    FromImageDigest: base.manifestDigest,
    Config: configBytes,
    Manifest: manifestBytes,
    Container: rec.name,
    ContainerID: rec.id,
    MountPoint: '',
    ProcessLabel: '',
    MountLabel: '',
    ImageAnnotations: wc.annotations ?? {},
    ImageCreatedBy: wc.createdBy ?? '',
    OCIv1: oci,
  };
}
