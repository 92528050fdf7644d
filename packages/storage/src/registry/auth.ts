// Registry authentication pieces: WWW-Authenticate parsing, scopes, and the bearer-token
// cache. The HTTP exchanges themselves are in client.ts.

/** One challenge of a WWW-Authenticate header: `Bearer realm="...",service="..."`. */
export interface Challenge {
  /** Lower-cased: "bearer", "basic", ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses WWW-Authenticate header values (RFC 7235): several challenges per value are allowed,
 * quoted values may contain commas and backslash escapes, and a scheme may carry a token68
 * instead of parameters (kept as the `""` parameter).
 */
export function parseWWWAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const v of values) out.push(...parseOne(v));
  return out;
}

function parseOne(s: string): Challenge[] {
  const out: Challenge[] = [];
  const n = s.length;
  let i = 0;
  const skipWs = (p: number): number => {
    while (p < n && (s[p] === ' ' || s[p] === '\t')) p++;
    return p;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let v = '';
    while (i < n && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < n) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote
    return v;
  };
  let current: Challenge | undefined;
  while (i < n) {
    i = skipWs(i);
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const tok = readToken();
    if (tok === '') {
      i++; // a stray character
      continue;
    }
    const j = skipWs(i);
    if (current !== undefined && s[j] === '=' && s[j + 1] !== '=') {
      // name=value, a parameter of the current challenge
      i = skipWs(j + 1);
      current.params[tok.toLowerCase()] = s[i] === '"' ? readQuoted() : readToken();
      continue;
    }
    current = { scheme: tok.toLowerCase(), params: {} };
    out.push(current);
    // A token68 right after the scheme ("Negotiate YWJj==") rather than parameters.
    const m = TOKEN68.exec(s.slice(skipWs(i)));
    if (m) {
      current.params[''] = m[1]!;
      i = skipWs(i) + m[0].length;
    }
  }
  return out;
}

const TOKEN68 = /^([A-Za-z0-9\-._~+/]+=*)\s*(?:,|$)/;

/** The challenge to answer: Bearer when offered, else Basic, else the first. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic') ?? challenges[0];
}

/** `repository:<repo>:<actions>` */
export function repositoryScope(repo: string, actions: string): string {
  return `repository:${repo}:${actions}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Seconds a token is assumed valid when the server does not say (the token spec's default). */
export const DEFAULT_TOKEN_LIFETIME = 60;
/** Tokens are renewed this long before they expire, so a request does not race the expiry. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * Bearer tokens by the set of scopes they were issued for. A token issued for
 * `repository:r:pull,push` also serves a request needing only `repository:r:pull`.
 */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  static key(scopes: readonly string[]): string {
    return [...new Set(scopes)].sort().join(' ');
  }

  get(scopes: readonly string[]): string | undefined {
    const t = this.now();
    const exact = this.tokens.get(TokenCache.key(scopes));
    if (exact && exact.expiresAt - EXPIRY_MARGIN_MS > t) return exact.token;
    // A token with more actions on the same resources serves too.
    for (const [key, v] of this.tokens) {
      if (v.expiresAt - EXPIRY_MARGIN_MS <= t) continue;
      const granted = key.split(' ');
      if (scopes.every((s) => granted.some((g) => scopeCovers(g, s)))) return v.token;
    }
    return undefined;
  }

  set(scopes: readonly string[], token: string, expiresInSeconds: number | undefined): void {
    const secs = expiresInSeconds && expiresInSeconds > 0 ? expiresInSeconds : DEFAULT_TOKEN_LIFETIME;
    this.tokens.set(TokenCache.key(scopes), { token, expiresAt: this.now() + secs * 1000 });
  }

  delete(scopes: readonly string[]): void {
    this.tokens.delete(TokenCache.key(scopes));
  }
}

/** Whether scope `granted` (type:name:actions) includes every action of `wanted`. */
export function scopeCovers(granted: string, wanted: string): boolean {
  const g = splitScope(granted);
  const w = splitScope(wanted);
  if (!g || !w || g.type !== w.type || g.name !== w.name) return granted === wanted;
  if (g.actions.includes('*')) return true;
  return w.actions.every((a) => g.actions.includes(a));
}

function splitScope(s: string): { type: string; name: string; actions: string[] } | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first === -1 || last === first) return undefined;
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',') };
}

/** The `Basic` header value for a user and password. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
