// Parsing of manifests, indexes and image configs from untrusted bytes, and platform selection.
// Every failure is a StoreError whose one-line message names the field and what is wrong.
import { parseDigest } from './digest.ts';
import { NotFoundError, StoreError } from './errors.ts';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1_MANIFEST,
  DOCKER_SCHEMA1_SIGNED_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, IndexDescriptor, Platform } from './oci-types.ts';

/** Largest manifest or index accepted (as containers/image: 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest image config accepted (as containers/image: 8 MiB). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

const CODE = 'PKIT_BAD_MANIFEST';
const CONFIG_CODE = 'PKIT_BAD_CONFIG';

export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; value: ImageManifest }
  | { kind: 'index'; mediaType: string; value: ImageIndex };

type Kind = 'manifest' | 'index';

const KIND_OF: Record<string, Kind> = {
  [OCI_MANIFEST]: 'manifest',
  [DOCKER_MANIFEST]: 'manifest',
  [OCI_INDEX]: 'index',
  [DOCKER_MANIFEST_LIST]: 'index',
};

/** Content types that say nothing about the format: registries and files serve these too. */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream', 'binary/octet-stream']);

function isSchema1(type: string): boolean {
  return type === DOCKER_SCHEMA1_MANIFEST || type === DOCKER_SCHEMA1_SIGNED_MANIFEST;
}

function schema1Error(where: string): StoreError {
  return new StoreError(
    `manifest: ${where} is a Docker schema 1 manifest, which is not supported: push the image again with a current client to get a schema 2 or OCI manifest`,
    CODE,
  );
}

/** `application/foo+json; charset=utf-8` -> `application/foo+json`. */
export function baseMediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function decodeJson(bytes: Uint8Array, max: number, what: string, code: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new StoreError(`${what}: expected bytes`, code);
  if (bytes.byteLength > max) {
    throw new StoreError(`${what}: ${bytes.byteLength} bytes is larger than the limit of ${max} bytes`, code);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new StoreError(`${what}: not valid UTF-8`, code);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new StoreError(`${what}: invalid JSON: ${reason}`, code);
  }
}

/** A validation context: the prefix of every message ("manifest", "config") and the error code. */
interface Ctx {
  what: string;
  code: string;
}

function fail(ctx: Ctx, path: string, message: string): never {
  throw new StoreError(`${ctx.what}: ${path ? `${path} ` : ''}${message}`, ctx.code);
}

function checkString(ctx: Ctx, v: unknown, path: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): void {
  if (v === undefined && opts.optional) return;
  if (typeof v !== 'string') fail(ctx, path, `must be a string, got ${show(v)}`);
  if (opts.nonEmpty && v === '') fail(ctx, path, 'must not be empty');
}

function checkStringArray(ctx: Ctx, v: unknown, path: string, optional = true, nullable = false): void {
  if (v === undefined && optional) return;
  if (v === null && nullable) return;
  if (!Array.isArray(v)) fail(ctx, path, `must be an array of strings, got ${show(v)}`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') fail(ctx, `${path}[${i}]`, `must be a string, got ${show(item)}`);
  });
}

function checkStringMap(ctx: Ctx, v: unknown, path: string): void {
  if (v === undefined) return;
  if (!isObject(v)) fail(ctx, path, `must be an object of strings, got ${show(v)}`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') fail(ctx, `${path}[${JSON.stringify(k)}]`, `must be a string, got ${show(val)}`);
  }
}

function checkObject(ctx: Ctx, v: unknown, path: string, optional = true): void {
  if (v === undefined && optional) return;
  if (!isObject(v)) fail(ctx, path, `must be an object, got ${show(v)}`);
}

function digestReason(value: string): string {
  try {
    parseDigest(value);
    return '';
  } catch (err) {
    const msg = (err as Error).message;
    const i = msg.lastIndexOf('": ');
    return i === -1 ? msg : msg.slice(i + 3);
  }
}

function checkDigest(ctx: Ctx, v: unknown, path: string): void {
  if (typeof v !== 'string') fail(ctx, path, `must be a digest string, got ${show(v)}`);
  const reason = digestReason(v);
  if (reason) fail(ctx, path, `${show(v)} is not a valid digest (${reason})`);
}

function checkPlatform(ctx: Ctx, v: unknown, path: string): void {
  if (!isObject(v)) fail(ctx, path, `must be an object, got ${show(v)}`);
  checkString(ctx, v.architecture, `${path}.architecture`, { nonEmpty: true });
  checkString(ctx, v.os, `${path}.os`, { nonEmpty: true });
  checkString(ctx, v.variant, `${path}.variant`, { optional: true });
  checkString(ctx, v['os.version'], `${path}.os.version`, { optional: true });
  checkStringArray(ctx, v['os.features'], `${path}.os.features`);
  checkStringArray(ctx, v.features, `${path}.features`);
}

function checkDescriptorIn(ctx: Ctx, v: unknown, path: string): asserts v is Descriptor {
  if (!isObject(v)) fail(ctx, path, `must be a descriptor object, got ${show(v)}`);
  checkString(ctx, v.mediaType, `${path}.mediaType`, { nonEmpty: true });
  checkDigest(ctx, v.digest, `${path}.digest`);
  const size = v.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail(ctx, `${path}.size`, `must be a non-negative integer, got ${show(size)}`);
  }
  if (v.urls !== undefined) {
    checkStringArray(ctx, v.urls, `${path}.urls`);
    (v.urls as string[]).forEach((u, i) => {
      if (!/^https?:\/\//i.test(u)) fail(ctx, `${path}.urls[${i}]`, `${show(u)} is not an http or https URL`);
    });
  }
  checkStringMap(ctx, v.annotations, `${path}.annotations`);
  checkString(ctx, v.data, `${path}.data`, { optional: true });
  checkString(ctx, v.artifactType, `${path}.artifactType`, { optional: true });
  if (v.platform !== undefined) checkPlatform(ctx, v.platform, `${path}.platform`);
}

/**
 * Validates one descriptor (e.g. an entry of an OCI layout's index.json); `path` names it in
 * messages, `what` is the message prefix.
 */
export function validateDescriptor(v: unknown, path = 'descriptor', what = 'manifest'): Descriptor {
  checkDescriptorIn({ what, code: CODE }, v, path);
  return v;
}

function detectKind(ctx: Ctx, obj: Json): Kind {
  const hasManifests = obj.manifests !== undefined;
  const hasImageFields = obj.config !== undefined || obj.layers !== undefined;
  if (hasManifests && hasImageFields) {
    fail(ctx, '', 'is ambiguous: it has both "manifests" (an index) and "config"/"layers" (an image manifest)');
  }
  if (hasManifests) return 'index';
  if (hasImageFields) return 'manifest';
  fail(ctx, '', 'has neither "manifests" (an index) nor "config" and "layers" (an image manifest)');
}

function validateManifestBody(ctx: Ctx, obj: Json): void {
  checkDescriptorIn(ctx, obj.config, 'config');
  if (!Array.isArray(obj.layers)) fail(ctx, 'layers', `must be an array, got ${show(obj.layers)}`);
  obj.layers.forEach((l, i) => checkDescriptorIn(ctx, l, `layers[${i}]`));
}

function validateIndexBody(ctx: Ctx, obj: Json): void {
  if (!Array.isArray(obj.manifests)) fail(ctx, 'manifests', `must be an array, got ${show(obj.manifests)}`);
  obj.manifests.forEach((m, i) => checkDescriptorIn(ctx, m, `manifests[${i}]`));
}

/**
 * Parses a manifest or index. `contentType` is what the server or file said (parameters are
 * ignored; generic types such as application/json count as unknown). The body's `mediaType`,
 * when present, must agree with it; when both are absent (allowed by OCI) the kind is
 * detected from the fields, as OCI manifest or OCI index.
 */
export function parseManifestBytes(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const ctx: Ctx = { what: 'manifest', code: CODE };
  const declared = contentType === undefined ? '' : baseMediaType(contentType);
  const declaredKnown = !GENERIC_TYPES.has(declared);
  if (declaredKnown) {
    if (isSchema1(declared)) throw schema1Error(`content type "${declared}"`);
    if (KIND_OF[declared] === undefined) fail(ctx, '', `content type "${declared}" is not a supported manifest media type`);
  }

  const obj = decodeJson(bytes, MAX_MANIFEST_BYTES, 'manifest', CODE);
  if (!isObject(obj)) fail(ctx, '', `must be a JSON object, got ${show(obj)}`);

  const bodyType = obj.mediaType;
  if (bodyType !== undefined && typeof bodyType !== 'string') fail(ctx, 'mediaType', `must be a string, got ${show(bodyType)}`);
  if (obj.schemaVersion === 1 || (bodyType !== undefined && isSchema1(bodyType))) throw schema1Error('the body');
  if (obj.schemaVersion !== 2) fail(ctx, 'schemaVersion', `must be 2, got ${show(obj.schemaVersion)}`);
  if (bodyType !== undefined && KIND_OF[bodyType] === undefined) {
    fail(ctx, 'mediaType', `"${bodyType}" is not a supported manifest media type`);
  }
  if (declaredKnown && bodyType !== undefined && bodyType !== declared) {
    fail(ctx, 'mediaType', `"${bodyType}" does not match the content type "${declared}"`);
  }

  const structural = detectKind(ctx, obj);
  const mediaType = bodyType ?? (declaredKnown ? declared : structural === 'index' ? OCI_INDEX : OCI_MANIFEST);
  const kind = KIND_OF[mediaType]!;
  if (kind !== structural) {
    const has = structural === 'index' ? '"manifests"' : '"config" and "layers"';
    fail(ctx, '', `is declared as ${mediaType} (an ${kind === 'index' ? 'index' : 'image manifest'}) but has ${has}`);
  }

  if (kind === 'manifest') {
    validateManifestBody(ctx, obj);
  } else {
    validateIndexBody(ctx, obj);
  }
  checkString(ctx, obj.artifactType, 'artifactType', { optional: true });
  if (obj.subject !== undefined) checkDescriptorIn(ctx, obj.subject, 'subject');
  checkStringMap(ctx, obj.annotations, 'annotations');

  return kind === 'manifest'
    ? { kind, mediaType, value: obj as unknown as ImageManifest }
    : { kind, mediaType, value: obj as unknown as ImageIndex };
}

function checkContainerConfig(ctx: Ctx, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) fail(ctx, path, `must be an object, got ${show(v)}`);
  for (const key of ['User', 'WorkingDir', 'StopSignal']) checkString(ctx, v[key], `${path}.${key}`, { optional: true });
  checkStringArray(ctx, v.Env, `${path}.Env`, true, true);
  checkStringArray(ctx, v.Entrypoint, `${path}.Entrypoint`, true, true);
  checkStringArray(ctx, v.Cmd, `${path}.Cmd`, true, true);
  checkStringArray(ctx, v.Shell, `${path}.Shell`, true, true);
  checkStringArray(ctx, v.OnBuild, `${path}.OnBuild`, true, true);
  if (v.Labels !== null) checkStringMap(ctx, v.Labels, `${path}.Labels`);
  if (v.ExposedPorts !== null) checkObject(ctx, v.ExposedPorts, `${path}.ExposedPorts`);
  if (v.Volumes !== null) checkObject(ctx, v.Volumes, `${path}.Volumes`);
  if (Array.isArray(v.Env)) {
    (v.Env as string[]).forEach((e, i) => {
      if (e.indexOf('=') <= 0) fail(ctx, `${path}.Env[${i}]`, `${show(e)} is not NAME=value`);
    });
  }
}

/** Parses and validates an image config (OCI or Docker). */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const ctx: Ctx = { what: 'config', code: CONFIG_CODE };
  const obj = decodeJson(bytes, MAX_CONFIG_BYTES, 'config', CONFIG_CODE);
  if (!isObject(obj)) fail(ctx, '', `must be a JSON object, got ${show(obj)}`);
  checkString(ctx, obj.architecture, 'architecture', { nonEmpty: true });
  checkString(ctx, obj.os, 'os', { nonEmpty: true });
  checkString(ctx, obj.variant, 'variant', { optional: true });
  checkString(ctx, obj['os.version'], 'os.version', { optional: true });
  checkStringArray(ctx, obj['os.features'], 'os.features');
  checkString(ctx, obj.created, 'created', { optional: true });
  checkString(ctx, obj.author, 'author', { optional: true });
  checkContainerConfig(ctx, obj.config, 'config');

  const rootfs = obj.rootfs;
  if (!isObject(rootfs)) fail(ctx, 'rootfs', `must be an object, got ${show(rootfs)}`);
  if (rootfs.type !== 'layers') fail(ctx, 'rootfs.type', `must be "layers", got ${show(rootfs.type)}`);
  if (!Array.isArray(rootfs.diff_ids)) fail(ctx, 'rootfs.diff_ids', `must be an array, got ${show(rootfs.diff_ids)}`);
  rootfs.diff_ids.forEach((d, i) => checkDigest(ctx, d, `rootfs.diff_ids[${i}]`));

  if (obj.history !== undefined && obj.history !== null) {
    if (!Array.isArray(obj.history)) fail(ctx, 'history', `must be an array, got ${show(obj.history)}`);
    obj.history.forEach((h, i) => {
      const path = `history[${i}]`;
      if (!isObject(h)) fail(ctx, path, `must be an object, got ${show(h)}`);
      for (const key of ['created', 'author', 'created_by', 'comment']) checkString(ctx, h[key], `${path}.${key}`, { optional: true });
      if (h.empty_layer !== undefined && typeof h.empty_layer !== 'boolean') {
        fail(ctx, `${path}.empty_layer`, `must be a boolean, got ${show(h.empty_layer)}`);
      }
    });
  }
  return obj as unknown as ImageConfig;
}

// ---------------------------------------------------------------------------------------------
// Platforms

/** What to run on: the OCI platform triple. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const OS_ALIASES: Record<string, string> = { macos: 'darwin', win32: 'windows' };

/**
 * containerd-style normalisation: arch aliases (x86_64 -> amd64, aarch64 -> arm64, i386 -> 386,
 * armhf -> arm/v7, armel -> arm/v6), default variants made explicit or dropped so equal
 * platforms compare equal (arm64 with v8 or no variant; amd64 with v1 or none; arm with
 * no variant is v7).
 */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  let os = p.os.toLowerCase();
  os = OS_ALIASES[os] ?? os;
  let arch = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (arch) {
    case 'i386':
    case 'i686':
    case 'x86':
    case 'ia32':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'x64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'armv5l':
    case 'armv6l':
    case 'armv7l':
    case 'armv8l':
      variant = `v${arch[4]}`;
      arch = 'arm';
      break;
    case 'arm':
      if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      if (variant === '') variant = 'v7';
      break;
  }
  return variant === '' ? { os, architecture: arch } : { os, architecture: arch, variant };
}

/** The platform this process runs on, in OCI terms. */
export function currentPlatform(arch: string = process.arch, platform: string = process.platform, littleEndian = true): PlatformSpec {
  const os = OS_ALIASES[platform] ?? platform;
  switch (arch) {
    case 'x64':
      return { os, architecture: 'amd64' };
    case 'arm64':
      return { os, architecture: 'arm64' };
    case 'arm':
      return { os, architecture: 'arm', variant: 'v7' };
    case 'ia32':
      return { os, architecture: '386' };
    case 'ppc64':
      return { os, architecture: littleEndian ? 'ppc64le' : 'ppc64' };
    case 'mipsel':
      return { os, architecture: 'mipsle' };
    case 'loong64':
    case 'riscv64':
    case 's390x':
    default:
      return { os, architecture: arch };
  }
}

/** `linux/arm64/v8` -> {os, architecture, variant}; a missing os part means linux. */
export function parsePlatform(s: string): PlatformSpec {
  const parts = s.trim().split('/');
  const bad = (): never => {
    throw new StoreError(`invalid platform "${s}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`, 'PKIT_BAD_PLATFORM');
  };
  if (parts.some((p) => p === '' || !/^[A-Za-z0-9_.-]+$/.test(p))) bad();
  if (parts.length === 1) return { os: 'linux', architecture: parts[0]! };
  if (parts.length === 2) return { os: parts[0]!, architecture: parts[1]! };
  if (parts.length === 3) return { os: parts[0]!, architecture: parts[1]!, variant: parts[2]! };
  return bad();
}

export function formatPlatform(p: PlatformSpec | Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** True when `have` is the same platform as `want` after normalisation (variants included). */
export function platformMatches(want: PlatformSpec, have: PlatformSpec | Platform | undefined): boolean {
  if (!have || typeof have.os !== 'string' || typeof have.architecture !== 'string') return false;
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * Variants a host of `want` can also run, best first (containerd's compatibility lists):
 * arm v8 > v7 > v6 > v5 (32-bit arm), amd64 v4 > v3 > v2 > v1.
 */
function compatibleVariants(want: PlatformSpec): string[] {
  const v = want.variant ?? '';
  if (want.architecture === 'arm') {
    const n = /^v([5-8])$/.exec(v);
    if (!n) return [v];
    const out: string[] = [];
    for (let i = Number(n[1]); i >= 5; i--) out.push(`v${i}`);
    return out;
  }
  if (want.architecture === 'amd64') {
    const n = /^v([1-4])$/.exec(v || 'v1');
    if (!n) return [v];
    const out: string[] = [];
    for (let i = Number(n[1]); i >= 2; i--) out.push(`v${i}`);
    out.push('');
    return out;
  }
  return [v];
}

/**
 * Chooses the index entry for `want` (default: this machine): an exact match if there is one,
 * else the best compatible variant. Entries without a platform are ignored. Throws
 * NotFoundError listing the platforms the index has.
 */
export function selectPlatform(index: ImageIndex, want: PlatformSpec = currentPlatform()): IndexDescriptor {
  const w = normalizePlatform(want);
  const order = compatibleVariants(w);
  let best: IndexDescriptor | undefined;
  let bestRank = Infinity;
  for (const m of index.manifests) {
    const p = m.platform;
    if (!p || typeof p.os !== 'string' || typeof p.architecture !== 'string') continue;
    const n = normalizePlatform(p);
    if (n.os !== w.os || n.architecture !== w.architecture) continue;
    const rank = order.indexOf(n.variant ?? '');
    if (rank !== -1 && rank < bestRank) {
      best = m;
      bestRank = rank;
    }
  }
  if (best) return best;
  const available = [
    ...new Set(
      index.manifests
        .map((m) => m.platform)
        .filter((p): p is Platform => !!p && p.os !== 'unknown' && p.architecture !== 'unknown')
        .map(formatPlatform),
    ),
  ];
  throw new NotFoundError(
    `no image for platform ${formatPlatform(w)} in the index; ${available.length ? `available: ${available.join(', ')}` : 'it lists no platforms'}`,
  );
}

