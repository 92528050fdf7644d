// Image references, after the docker distribution/reference grammar:
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ registry "/" ] path-component ( "/" path-component )*
//   registry  := host [ ":" port ]   (a DNS name, an IPv4 address or "[" IPv6 "]")
//   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag       := [\w][\w.-]{0,127}
// The first component is a registry only when it contains "." or ":" or is "localhost";
// otherwise the whole name is a path (a short name, resolved through registries.conf).
import { parseDigest, type Digest } from './digest.ts';
import { StoreError } from './errors.ts';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
export const NAME_TOTAL_LENGTH_MAX = 255;

/** A fully-qualified reference: docker.io/library/busybox with tag and/or digest. */
export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

/** A reference as written: `registry` is absent for a short name. */
export interface RawReference {
  registry?: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[0-9a-fA-F:.]+(?:%[\w.-]+)?\]$/;
const HEX64 = /^[a-f0-9]{64}$/;

function refError(s: string, message: string): StoreError {
  return new StoreError(`invalid reference "${s}": ${message}`, 'PKIT_BAD_REFERENCE');
}

/** Whether the first component of a name is a registry host rather than a path component. */
function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function validRegistry(host: string): boolean {
  let h = host;
  let port: string | undefined;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return false;
    const rest = h.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    h = h.slice(0, end + 1);
    if (!IPV6.test(h)) return false;
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1) {
      port = h.slice(colon + 1);
      h = h.slice(0, colon);
    }
    if (!h.split('.').every((c) => DOMAIN_COMPONENT.test(c))) return false;
  }
  if (port !== undefined && !/^[0-9]+$/.test(port)) return false;
  return true;
}

/** Parses a reference as written, with no defaults filled in. */
export function splitReference(s: string): RawReference {
  if (typeof s !== 'string' || s === '') throw refError(String(s ?? ''), 'empty reference');
  if (/\s/.test(s)) throw refError(s, 'contains whitespace');

  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    const d = rest.slice(at + 1);
    try {
      parseDigest(d);
    } catch (err) {
      throw refError(s, (err as Error).message);
    }
    digest = d as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw refError(s, `invalid tag "${tag}": a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`);
    }
  }

  const name = rest;
  if (name === '') throw refError(s, 'missing repository name');
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw refError(s, `repository name is ${name.length} characters, longer than the maximum of ${NAME_TOTAL_LENGTH_MAX}`);
  }

  const components = name.split('/');
  let registry: string | undefined;
  if (components.length > 1 && looksLikeRegistry(components[0]!)) {
    registry = components.shift()!;
    if (!validRegistry(registry)) throw refError(s, `invalid registry "${registry}": expected host[:port]`);
  }
  for (const c of components) {
    if (c === '') throw refError(s, 'empty path component in repository name');
    if (!PATH_COMPONENT.test(c)) {
      const lower = c.toLowerCase();
      if (lower !== c && PATH_COMPONENT.test(lower)) {
        const hint = (registry ? `${registry}/` : '') + components.join('/').toLowerCase();
        throw refError(s, `repository name must be lowercase (did you mean "${hint}"?)`);
      }
      throw refError(s, `invalid repository path component "${c}": use lowercase letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
  const repository = components.join('/');
  if (HEX64.test(repository)) {
    throw refError(s, 'a repository name cannot be a 64-character hexadecimal string (that is an image ID)');
  }

  const out: RawReference = { repository };
  if (registry !== undefined) out.registry = registry;
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

export interface ParseReferenceOptions {
  /** Add the tag "latest" when there is neither a tag nor a digest (default true). */
  defaultTag?: boolean;
}

/**
 * Normalises a registry and repository to their fully-qualified docker form:
 * no registry or index.docker.io -> docker.io, and a one-component docker.io repository
 * gets "library/".
 */
export function normalizeName(registry: string | undefined, repository: string): { registry: string; repository: string } {
  let reg = registry ?? DEFAULT_REGISTRY;
  if (reg === 'index.docker.io') reg = DEFAULT_REGISTRY;
  let repo = repository;
  if (reg === DEFAULT_REGISTRY && !repo.includes('/')) repo = `library/${repo}`;
  return { registry: reg, repository: repo };
}

/**
 * Parses a reference into its fully-qualified form, the docker way: a short name is taken as
 * being on docker.io (use registries.conf's resolveShortName to resolve it otherwise).
 */
export function parseReference(s: string, opts: ParseReferenceOptions = {}): Reference {
  const raw = splitReference(s);
  const { registry, repository } = normalizeName(raw.registry, raw.repository);
  const ref: Reference = { registry, repository };
  if (raw.tag !== undefined) ref.tag = raw.tag;
  if (raw.digest !== undefined) ref.digest = raw.digest;
  if (ref.tag === undefined && ref.digest === undefined && opts.defaultTag !== false) ref.tag = DEFAULT_TAG;
  return ref;
}

/** `registry/repository[:tag][@digest]`; the registry is left out when empty or absent. */
export function formatReference(ref: Reference | RawReference): string {
  let s = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** `registry/repository`, with neither tag nor digest. */
export function referenceName(ref: Reference | RawReference): string {
  return ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
}

/**
 * The short form docker prints: docker.io/library/busybox:latest -> busybox:latest,
 * docker.io/foo/bar -> foo/bar; other registries are kept.
 */
export function familiarName(ref: Reference | string): string {
  const r = typeof ref === 'string' ? parseReference(ref, { defaultTag: false }) : ref;
  const { registry, repository } = normalizeName(r.registry, r.repository);
  if (registry !== DEFAULT_REGISTRY) return formatReference(r);
  const repo = repository.startsWith('library/') && repository.indexOf('/', 8) === -1 ? repository.slice(8) : repository;
  return formatReference({ repository: repo, tag: r.tag, digest: r.digest });
}

/** True for a valid reference with no registry part ("busybox", "library/busybox:1"). */
export function isShortName(s: string): boolean {
  try {
    return splitReference(s).registry === undefined;
  } catch {
    return false;
  }
}
