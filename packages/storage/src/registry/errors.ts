// Errors of the registry client: one line each, naming what failed, where, and the fix.
import { NotFoundError, StoreError } from '../errors.ts';

/** One entry of a distribution-spec error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorEntry {
  code: string;
  message: string;
}

/** A registry answered with an error status. */
export class RegistryError extends StoreError {
  override name = 'RegistryError';
  readonly status: number;
  readonly errors: RegistryErrorEntry[];

  constructor(message: string, status: number, errors: RegistryErrorEntry[] = [], code = 'PKIT_REGISTRY') {
    super(message, code);
    this.status = status;
    this.errors = errors;
  }
}

/** 404: an unknown manifest, blob, repository or upload. */
export class RegistryNotFoundError extends NotFoundError {
  override name = 'RegistryNotFoundError';
  readonly status = 404;
  readonly errors: RegistryErrorEntry[];

  constructor(message: string, errors: RegistryErrorEntry[] = []) {
    super(message);
    this.errors = errors;
  }
}

/** Authentication is missing, wrong, or does not grant the access asked for. */
export class RegistryAuthError extends StoreError {
  override name = 'RegistryAuthError';
  readonly status: number;

  constructor(message: string, status = 401) {
    super(message, 'PKIT_REGISTRY_AUTH');
    this.status = status;
  }
}

/** The registry could not be reached (refused, DNS, timeout, reset, TLS). */
export class RegistryUnreachableError extends StoreError {
  override name = 'RegistryUnreachableError';
  /** The network error code (ECONNREFUSED, ENOTFOUND, ...), when there was one. */
  readonly errno: string | undefined;

  constructor(message: string, errno?: string, code = 'PKIT_REGISTRY_UNREACHABLE') {
    super(message, code);
    this.errno = errno;
  }
}

/**
 * Parses a registry's JSON error body into its entries; none when the body is not one.
 * Only the first 64 KiB are considered (the caller reads at most that much).
 */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof obj !== 'object' || obj === null) return [];
  const list = (obj as { errors?: unknown }).errors;
  if (!Array.isArray(list)) {
    // Some token servers answer {"details": "..."} or {"error": "..."}.
    const o = obj as Record<string, unknown>;
    const msg = typeof o.details === 'string' ? o.details : typeof o.error === 'string' ? o.error : typeof o.message === 'string' ? o.message : undefined;
    return msg ? [{ code: '', message: msg }] : [];
  }
  const out: RegistryErrorEntry[] = [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const r = e as Record<string, unknown>;
    const code = typeof r.code === 'string' ? r.code : '';
    let message = typeof r.message === 'string' ? r.message : '';
    if (!message && code) message = code.toLowerCase().replace(/_/g, ' ');
    if (message || code) out.push({ code, message: oneLine(message) });
  }
  return out;
}

/** Collapses whitespace (newlines in a server's message would break the one-line rule). */
export function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

/** "manifest unknown; blob unknown", or the HTTP status when the body said nothing useful. */
export function describeErrors(errors: RegistryErrorEntry[], status: number, statusText = ''): string {
  const msgs = [...new Set(errors.map((e) => e.message || e.code).filter((m) => m !== ''))];
  if (msgs.length > 0) return msgs.join('; ');
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
}
