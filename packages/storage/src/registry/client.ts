// A distribution-spec (OCI registry API v2) client over undici.
//
// - One keep-alive Agent per process and TLS mode (verifying / not verifying), shared by every
//   client; bodies are streamed both ways, a blob is never held in memory (a chunked upload
//   holds one chunk).
// - Endpoint: https with certificate verification; when tlsVerify is false or registries.conf
//   marks the host `insecure`, https without verification and then plain http (as skopeo).
//   Decided once per client by `GET /v2/`, whose 401 challenge also primes authentication.
// - Auth: anonymous, Basic, and the Bearer token flow (token per scope set, reused until it
//   expires); credentials from auth-file.ts, looked up per repository when first needed.
// - Retries (retryTimes, default 3) with exponential backoff and jitter on connection errors,
//   5xx and 429 (Retry-After honoured); "connection refused" twice at most; never on other 4xx.
//   A request whose body is a stream is never replayed: the upload code retries whole steps.
// - Blob downloads follow redirects (Authorization is only sent to the registry's own origin)
//   and resume with a Range request from the byte reached when the connection drops.
// - Errors are StoreErrors (registry/errors.ts) with one line: what, where, and the fix.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher } from 'undici';
import { findCredentials, type Credentials, type Env } from '../auth-file.ts';
import { digestOf, HashingStream, isDigest, parseDigest, type Digest } from '../digest.ts';
import { DigestMismatchError, StoreError } from '../errors.ts';
import { ACCEPTED_MANIFEST_TYPES, OCI_INDEX, OCI_MANIFEST } from '../media-types.ts';
import { loadRegistriesConf, isInsecure, type RegistriesConf } from '../registries-conf.ts';
import { baseMediaType, MAX_MANIFEST_BYTES } from '../validate.ts';
import { basicAuthorization, parseWWWAuthenticate, pickChallenge, repositoryScope, TokenCache, type Challenge } from './auth.ts';
import {
  describeErrors,
  oneLine,
  parseErrorBody,
  RegistryAuthError,
  RegistryError,
  RegistryNotFoundError,
  RegistryUnreachableError,
  type RegistryErrorEntry,
} from './errors.ts';

export interface RegistryClientOptions {
  /** false: accept any certificate and fall back to plain http (skopeo's --tls-verify=false). */
  tlsVerify?: boolean;
  /** Explicit credentials (--creds); no auth file is read then. */
  creds?: Credentials;
  /** An auth.json to read credentials from instead of the default search path. */
  authFile?: string;
  /** Attempts after the first for a failed request (default 3). */
  retryTimes?: number;
  /** Base delay of the exponential backoff in ms (default 200; x2 per attempt, with jitter). */
  retryDelay?: number;
  /**
   * Chunk size of chunked uploads; a larger OCI-Chunk-Min-Length wins. Unset (and no minimum
   * from the registry): a blob of unknown digest is streamed in one PATCH.
   */
  chunkSize?: number;
  /** Blobs with a known digest and a size below this go up in one PUT (default: any size). */
  monolithicMax?: number;
  /** registries.conf to consult for `insecure` (default: loadRegistriesConf()). */
  registriesConf?: RegistriesConf;
  /** Environment for the auth-file lookup (default process.env). */
  env?: Env;
}

export interface ManifestResult {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface ManifestHead {
  /** Docker-Content-Digest, when the registry sent it. */
  digest?: Digest;
  mediaType: string;
  size?: number;
}

export interface PingResult {
  /** The base URL in use: https://host/ or http://host/. */
  url: string;
  /** Whether TLS certificates are verified. */
  tlsVerified: boolean;
  /** "bearer", "basic", or undefined when the registry is open. */
  authScheme?: string;
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

interface Req {
  method: Method;
  /** A path below the endpoint ("/v2/...") or an absolute URL (upload locations, Link). */
  url: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Token scopes the request needs; [] for none. */
  scopes: string[];
  /** The repository, for credential lookup and messages. */
  repo?: string;
  /** Follow redirects (GET and HEAD). */
  follow?: boolean;
  /** Replay on transient failures (default: when the body is not a stream). */
  retry?: boolean;
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: URL;
}

interface Endpoint {
  base: URL;
  dispatcher: Agent;
  verified: boolean;
}

const DEFAULT_RETRY_TIMES = 3;
const DEFAULT_RETRY_DELAY = 200;
const DEFAULT_CHUNK = 8 * 1024 * 1024;
// A blob whose digest and size are known goes up as one streamed PUT, whatever its size, as
// skopeo does: no chunk is ever buffered, and no round trip is paid per chunk.
const DEFAULT_MONOLITHIC_MAX = Number.POSITIVE_INFINITY;
/** Retry-After longer than this is not waited for: the error is reported instead. */
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_TAGS_BODY = 16 * 1024 * 1024;
const MAX_TOKEN_BODY = 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// ---- one Agent per process and TLS mode ------------------------------------------------

const agents = new Map<boolean, Agent>();
let undiciModule: Promise<typeof import('undici')> | undefined;

/** undici, loaded on the first registry request: commands that never reach a registry skip it. */
function undici(): Promise<typeof import('undici')> {
  // A dynamic import of this CommonJS package gives its exports as `default` inside a bundle.
  undiciModule ??= import('undici').then((m) => ((m as { Agent?: unknown }).Agent ? m : (m as unknown as { default: typeof import('undici') }).default));
  return undiciModule;
}

async function agentFor(verify: boolean): Promise<Agent> {
  const { Agent } = await undici();
  let a = agents.get(verify);
  if (!a) {
    a = new Agent({ keepAliveTimeout: 30_000, connections: 16, connect: { rejectUnauthorized: verify } });
    agents.set(verify, a);
  }
  return a;
}

/** Closes the shared connection pools (tests; a CLI process just exits). */
export async function closeRegistryConnections(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close().catch(() => {})));
}

// ---- network errors ----------------------------------------------------------------------

type NetKind = 'refused' | 'transient' | 'tls-protocol' | 'tls-cert' | 'fatal';

const TRANSIENT = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'PKIT_SHORT_BODY',
]);
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first error code along the `cause` chain. */
function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && typeof e === 'object' && e !== null; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && c !== 'UND_ERR' && c !== 'ERR_INVALID_ARG_TYPE') return c;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorText(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.join(': ');
}

function classify(err: unknown): NetKind {
  const code = errorCode(err) ?? '';
  const text = errorText(err);
  if (code === 'ECONNREFUSED') return 'refused';
  if (CERT_CODES.has(code) || /certificate/i.test(text)) return 'tls-cert';
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || /wrong version number|ssl3_get_record|packet length too long/i.test(text)) {
    return 'tls-protocol';
  }
  if (TRANSIENT.has(code)) return 'transient';
  if (/other side closed|socket hang up/i.test(text)) return 'transient';
  return 'fatal';
}

function reasonOf(err: unknown): string {
  const code = errorCode(err) ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'host not found (check the registry name)';
    case 'EAI_AGAIN':
      return 'name resolution failed (temporary DNS failure)';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'the server stopped answering (timeout)';
    case 'ECONNRESET':
      return 'connection reset';
    case 'UND_ERR_SOCKET':
      return 'connection closed by the server';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'network unreachable';
    default:
      return oneLine(errorText(err) || String(err), 200);
  }
}

// ---- small body helpers --------------------------------------------------------------------

async function drain(body: Res['body']): Promise<void> {
  try {
    await body.dump({ limit: 256 * 1024 });
  } catch {
    // the connection is simply not reused
  }
}

/** Reads at most `max` bytes; `onTooBig` throws when more arrive (the rest is not read). */
async function readCapped(body: Readable, max: number, onTooBig: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > max) throw onTooBig();
      chunks.push(chunk);
    }
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  return Buffer.concat(chunks, n);
}

async function readText(body: Readable, max = MAX_ERROR_BODY): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = max - n;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      n += Math.min(room, chunk.length);
      if (n >= max) break;
    }
  } catch {
    // a broken error body: report what we have
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(res: Res, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After: seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** The `rel="next"` target of a Link header, if any. */
export function parseLinkNext(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  for (const v of Array.isArray(value) ? value : [value]) {
    const re = /<([^>]*)>([^,<]*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(v)) !== null) {
      if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2]!)) return m[1];
    }
  }
  return undefined;
}

function withDigestParam(location: URL, digest: Digest): URL {
  const u = new URL(location);
  u.search = `${u.search ? `${u.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  return u;
}

function isStream(body: Req['body']): body is Readable {
  return body instanceof Readable;
}

/** Reads a stream in chunks of exactly `size` bytes (the last one shorter), holding one chunk. */
/**
 * A blob body that resumes: the response's bytes are passed on as they come (no generator or
 * copy per chunk); when the connection drops mid-body, a Range request continues from the byte
 * reached, up to `retryTimes`. Ends with exactly `size` bytes (when known), or errors.
 */
class ResumingBody extends Readable {
  private res: Res | undefined;
  private offset = 0;
  private skip = 0;
  private resumes = 0;
  private readonly size: number | undefined;
  private readonly what: string;
  private readonly retryTimes: number;
  private readonly reopen: (offset: number, resumes: number) => Promise<{ res: Res; skip: number }>;

  constructor(first: Res, size: number | undefined, what: string, retryTimes: number, reopen: (offset: number, resumes: number) => Promise<{ res: Res; skip: number }>) {
    super({ highWaterMark: 256 * 1024 });
    this.size = size;
    this.what = what;
    this.retryTimes = retryTimes;
    this.reopen = reopen;
    this.attach(first);
  }

  private attach(res: Res): void {
    this.res = res;
    const body = res.body;
    const mine = () => this.res === res && !this.destroyed;
    body.on('data', (raw: Buffer) => {
      if (!mine()) return;
      let chunk = raw;
      if (this.skip > 0) {
        if (chunk.length <= this.skip) {
          this.skip -= chunk.length;
          return;
        }
        chunk = chunk.subarray(this.skip);
        this.skip = 0;
      }
      this.offset += chunk.length;
      if (this.size !== undefined && this.offset > this.size) {
        this.destroy(new DigestMismatchError(`${this.what}: the registry sent more than the expected ${this.size} bytes`));
        return;
      }
      if (!this.push(chunk)) body.pause();
    });
    body.on('end', () => {
      if (!mine()) return;
      if (this.size === undefined || this.offset === this.size) this.push(null);
      else void this.resume_(Object.assign(new Error(`the body ended after ${this.offset} of ${this.size} bytes`), { code: 'PKIT_SHORT_BODY' }));
    });
    body.on('error', (err) => {
      if (mine()) void this.resume_(err);
    });
  }

  override _read(): void {
    this.res?.body.resume();
  }

  /** Continues after a failure of the current response, or fails the stream. */
  private async resume_(err: unknown): Promise<void> {
    const res = this.res;
    this.res = undefined;
    res?.body.destroy();
    if (err instanceof StoreError || classify(err) !== 'transient' || this.resumes >= this.retryTimes) {
      const tries = this.resumes > 0 ? `, after ${this.resumes} resume${this.resumes > 1 ? 's' : ''}` : '';
      this.destroy(err instanceof StoreError ? err : new RegistryUnreachableError(`${this.what}: download failed at byte ${this.offset}${tries}: ${reasonOf(err)}`, errorCode(err)));
      return;
    }
    this.resumes++;
    try {
      const { res: next, skip } = await this.reopen(this.offset, this.resumes);
      if (this.destroyed) {
        next.body.destroy();
        return;
      }
      this.skip = skip;
      this.attach(next);
    } catch (e) {
      this.destroy(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const res = this.res;
    this.res = undefined;
    if (res && !res.body.readableEnded) res.body.destroy();
    cb(err);
  }
}

/** Counts what passes through. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

async function* chunksOf(src: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const data of src) {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(size - fill, data.length - off);
      data.copy(buf, fill, off, off + n);
      fill += n;
      off += n;
      if (fill === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

// ---- the client --------------------------------------------------------------------------

export class RegistryClient {
  /** The registry as named in references and auth files (docker.io, host:port). */
  readonly registry: string;
  /** The host the API is served from (registry-1.docker.io for docker.io). */
  readonly host: string;
  private readonly opts: RegistryClientOptions;
  private readonly retryTimes: number;
  private readonly retryDelay: number;
  private endpointP: Promise<Endpoint> | undefined;
  private challenge: Challenge | undefined;
  private readonly tokens = new TokenCache();
  private readonly creds = new Map<string, Promise<Credentials | undefined>>();
  private readonly tokenFetches = new Map<string, Promise<string>>();

  constructor(registry: string, opts: RegistryClientOptions = {}) {
    this.registry = registry;
    this.host = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
    this.opts = opts;
    this.retryTimes = Math.max(0, opts.retryTimes ?? DEFAULT_RETRY_TIMES);
    this.retryDelay = Math.max(0, opts.retryDelay ?? DEFAULT_RETRY_DELAY);
  }

  // ---- endpoint --------------------------------------------------------------------------

  private insecure(): boolean {
    if (this.opts.tlsVerify === false) return true;
    const conf = this.opts.registriesConf ?? loadRegistriesConf();
    return isInsecure(conf, this.registry) || (this.host !== this.registry && isInsecure(conf, this.host));
  }

  private endpoint(): Promise<Endpoint> {
    if (!this.endpointP) {
      this.endpointP = this.detectEndpoint();
      this.endpointP.catch(() => {
        this.endpointP = undefined; // a later call tries again
      });
    }
    return this.endpointP;
  }

  private async detectEndpoint(): Promise<Endpoint> {
    const insecure = this.insecure();
    const candidates: Endpoint[] = insecure
      ? [
          { base: new URL(`https://${this.host}/`), dispatcher: await agentFor(false), verified: false },
          { base: new URL(`http://${this.host}/`), dispatcher: await agentFor(false), verified: false },
        ]
      : [{ base: new URL(`https://${this.host}/`), dispatcher: await agentFor(true), verified: true }];
    let firstErr: unknown;
    for (const ep of candidates) {
      try {
        const res = await this.exchange(ep, new URL('/v2/', ep.base), { method: 'GET', url: '/v2/', scopes: [], follow: true }, undefined);
        if (res.status === 401) this.challenge = pickChallenge(parseWWWAuthenticate(res.headers['www-authenticate']));
        await drain(res.body);
        return ep;
      } catch (err) {
        firstErr ??= err;
        if (!insecure) {
          if (err instanceof RegistryUnreachableError && err.code === 'PKIT_REGISTRY_TLS_PROTOCOL') {
            throw new RegistryUnreachableError(
              `cannot reach registry ${this.registry} over HTTPS: it does not speak TLS (a plain-HTTP registry?): use --tls-verify=false, or set insecure = true for it in registries.conf`,
              err.errno,
              'PKIT_REGISTRY_TLS',
            );
          }
          throw err;
        }
        // insecure: https failed, try http; report the http failure when it fails too, unless
        // https got further (it answered TLS) and http says nothing better.
        if (ep.base.protocol === 'http:') {
          const useFirst = firstErr instanceof RegistryUnreachableError && firstErr.errno !== 'ECONNREFUSED' && firstErr.code !== 'PKIT_REGISTRY_TLS_PROTOCOL';
          throw useFirst ? firstErr : err;
        }
      }
    }
    throw firstErr;
  }

  /** Checks the registry answers the API, choosing https or http; says which auth it wants. */
  async ping(): Promise<PingResult> {
    const ep = await this.endpoint();
    const out: PingResult = { url: ep.base.href, tlsVerified: ep.verified };
    if (this.challenge) out.authScheme = this.challenge.scheme;
    return out;
  }

  /**
   * Checks that the credentials are accepted (`pcopy login`): GET /v2/ with them, through the
   * token flow when the registry uses one. Throws a RegistryAuthError when they are not.
   */
  async checkAuth(): Promise<void> {
    const res = await this.send({ method: 'GET', url: '/v2/', scopes: [] });
    if (res.status !== 200) throw await this.httpError(res, this.registry);
    await drain(res.body);
  }

  // ---- the request pipeline --------------------------------------------------------------

  private backoff(attempt: number): number {
    const base = this.retryDelay * 2 ** (attempt - 1);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** Network exchange with retries and redirects; no auth logic beyond sending `auth`. */
  private async exchange(ep: Endpoint, url: URL, req: Req, auth: string | undefined): Promise<Res> {
    const replayable = req.retry ?? !isStream(req.body);
    let u = url;
    let attempt = 0;
    let redirects = 0;
    for (;;) {
      const headers: Record<string, string> = { 'user-agent': 'pkit', ...req.headers };
      if (auth && u.origin === ep.base.origin) headers.authorization = auth;
      if (req.body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['content-length'] = '0';
      let res: Dispatcher.ResponseData;
      try {
        res = await (await undici()).request(u, { dispatcher: ep.dispatcher, method: req.method, headers, body: req.body });
      } catch (err) {
        // The body stream's own failure (a VerifyingStream's mismatch) is the error to report.
        if (isStream(req.body) && req.body.errored && errorCode(req.body.errored) !== 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') throw req.body.errored;
        const kind = classify(err);
        const max = kind === 'refused' ? Math.min(2, this.retryTimes) : this.retryTimes;
        if (replayable && (kind === 'transient' || kind === 'refused') && attempt < max) {
          attempt++;
          await sleep(this.backoff(attempt));
          continue;
        }
        throw this.networkError(err, u, kind);
      }
      const r: Res = { status: res.statusCode, headers: res.headers, body: res.body, url: u };
      const location = header(r, 'location');
      if (req.follow && REDIRECTS.has(r.status) && location) {
        await drain(r.body);
        if (++redirects > MAX_REDIRECTS) {
          throw new RegistryError(`${this.registry}: too many redirects (more than ${MAX_REDIRECTS}) from ${url.href}`, r.status);
        }
        u = new URL(location, u);
        continue;
      }
      if ((r.status >= 500 || r.status === 429) && r.status !== 501 && r.status !== 505 && replayable && attempt < this.retryTimes) {
        const after = parseRetryAfter(header(r, 'retry-after'));
        if (after === undefined || after <= MAX_RETRY_AFTER_MS) {
          await drain(r.body);
          attempt++;
          await sleep(after ?? this.backoff(attempt));
          continue;
        }
      }
      return r;
    }
  }

  private networkError(err: unknown, u: URL, kind: NetKind): StoreError {
    const where = u.host === this.host ? this.registry : u.host;
    const errno = errorCode(err);
    if (errno === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      return new DigestMismatchError(`upload to ${where}: size mismatch, the data is not as long as its declared size`);
    }
    if (kind === 'tls-protocol') {
      return new RegistryUnreachableError(`cannot reach registry ${where} over HTTPS: TLS handshake failed (${reasonOf(err)})`, errno, 'PKIT_REGISTRY_TLS_PROTOCOL');
    }
    if (kind === 'tls-cert') {
      return new RegistryUnreachableError(
        `cannot reach registry ${where}: its TLS certificate is not trusted (${errno ?? reasonOf(err)}): add its CA to the system trust store, or use --tls-verify=false`,
        errno,
        'PKIT_REGISTRY_TLS',
      );
    }
    return new RegistryUnreachableError(`cannot reach registry ${where}: ${reasonOf(err)}`, errno);
  }

  private credentialsFor(repo: string | undefined): Promise<Credentials | undefined> {
    const key = repo ?? '';
    let p = this.creds.get(key);
    if (!p) {
      const lookup: { creds?: Credentials; authFile?: string; env?: Env } = {};
      if (this.opts.creds) lookup.creds = this.opts.creds;
      if (this.opts.authFile) lookup.authFile = this.opts.authFile;
      if (this.opts.env) lookup.env = this.opts.env;
      p = findCredentials(this.registry, repo, lookup);
      this.creds.set(key, p);
    }
    return p;
  }

  /** The Authorization value for a request, or undefined for anonymous. */
  private async authorization(ep: Endpoint, scopes: string[], repo: string | undefined, fresh: boolean): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await this.credentialsFor(repo);
      return c ? basicAuthorization(c.username, c.password) : undefined;
    }
    if (ch.scheme !== 'bearer') return undefined;
    if (!fresh) {
      const cached = this.tokens.get(scopes);
      if (cached) return `Bearer ${cached}`;
    } else {
      this.tokens.delete(scopes);
    }
    // One token request per scope set at a time, even with parallel blob requests.
    const key = `${TokenCache.key(scopes)}\n${fresh ? 'fresh' : ''}`;
    let p = this.tokenFetches.get(key);
    if (!p) {
      p = this.fetchToken(ep, ch, scopes, repo).finally(() => this.tokenFetches.delete(key));
      this.tokenFetches.set(key, p);
    }
    return `Bearer ${await p}`;
  }

  private loginHint(): string {
    return `(use --creds or "pcopy login ${this.registry}")`;
  }

  private authFailed(): RegistryAuthError {
    return new RegistryAuthError(`authentication to ${this.registry} failed: invalid username or password ${this.loginHint()}`);
  }

  private async fetchToken(ep: Endpoint, ch: Challenge, scopes: string[], repo: string | undefined): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryAuthError(`${this.registry} asks for a bearer token but names no realm to get it from`);
    let u: URL;
    try {
      u = new URL(realm);
    } catch {
      throw new RegistryAuthError(`${this.registry} names an invalid token realm "${oneLine(realm, 100)}"`);
    }
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const creds = await this.credentialsFor(repo);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (creds) headers.authorization = basicAuthorization(creds.username, creds.password);
    // The realm is another origin as a rule: send the credentials there explicitly.
    const realmEp: Endpoint = { base: new URL(u.origin), dispatcher: ep.dispatcher, verified: ep.verified };
    const res = await this.exchange(realmEp, u, { method: 'GET', url: u, headers, scopes: [], follow: true }, undefined);
    if (res.status === 401 || res.status === 403) {
      const text = await readText(res.body);
      if (creds) throw this.authFailed();
      const why = describeErrors(parseErrorBody(text), res.status);
      throw new RegistryAuthError(`authentication required for ${this.registry}${repo ? `/${repo}` : ''}: the token server refused anonymous access (${why}) ${this.loginHint()}`, res.status);
    }
    if (res.status !== 200) {
      const text = await readText(res.body);
      throw new RegistryAuthError(`token request to ${u.origin} for ${this.registry} failed: ${describeErrors(parseErrorBody(text), res.status)}`, res.status);
    }
    const body = await readCapped(res.body, MAX_TOKEN_BODY, () => new RegistryAuthError(`token response from ${u.origin} is larger than ${MAX_TOKEN_BODY} bytes`));
    let obj: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      obj = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryAuthError(`token response from ${u.origin} for ${this.registry} is not JSON`);
    }
    const token = typeof obj.token === 'string' && obj.token !== '' ? obj.token : typeof obj.access_token === 'string' ? obj.access_token : '';
    if (!token) throw new RegistryAuthError(`token response from ${u.origin} for ${this.registry} has no token`);
    const expires = typeof obj.expires_in === 'number' ? obj.expires_in : undefined;
    this.tokens.set(scopes, token, expires);
    return token;
  }

  /** Sends a request with authentication: answers one 401 challenge, then gives up. */
  private async send(req: Req): Promise<Res> {
    const ep = await this.endpoint();
    const url = typeof req.url === 'string' ? new URL(req.url, ep.base) : req.url;
    const auth = await this.authorization(ep, req.scopes, req.repo, false);
    const res = await this.exchange(ep, url, req, auth);
    if (res.status !== 401) return res;

    const challenge = pickChallenge(parseWWWAuthenticate(res.headers['www-authenticate']));
    const text = await readText(res.body);
    const errors = parseErrorBody(text);
    if (challenge) this.challenge = challenge;
    const creds = await this.credentialsFor(req.repo);
    const unauthorized = (): RegistryAuthError => this.unauthorizedError(req, errors, challenge, !!creds);
    // A stream body is gone; a Basic challenge answered with the same credentials fails again.
    if (!challenge || isStream(req.body)) throw unauthorized();
    if (challenge.scheme === 'basic' && (auth !== undefined || !creds)) throw unauthorized();
    const scopes = [...req.scopes];
    for (const s of (challenge.params.scope ?? '').split(' ')) if (s && !scopes.includes(s)) scopes.push(s);
    const auth2 = await this.authorization(ep, scopes, req.repo, true);
    if (auth2 === undefined) throw unauthorized();
    const res2 = await this.exchange(ep, url, req, auth2);
    if (res2.status !== 401) return res2;
    const ch2 = pickChallenge(parseWWWAuthenticate(res2.headers['www-authenticate']));
    const errors2 = parseErrorBody(await readText(res2.body));
    throw this.unauthorizedError(req, errors2.length ? errors2 : errors, ch2 ?? challenge, !!creds);
  }

  private unauthorizedError(req: Req, errors: RegistryErrorEntry[], ch: Challenge | undefined, hadCreds: boolean): RegistryAuthError {
    const what = `${this.registry}${req.repo ? `/${req.repo}` : ''}`;
    const why = describeErrors(errors, 401, 'Unauthorized');
    if (!hadCreds) {
      const detail = /^(authentication required|unauthorized|HTTP 401)/i.test(why) ? '' : `: ${why}`;
      return new RegistryAuthError(`authentication required for ${what}${detail} ${this.loginHint()}`);
    }
    if (ch?.scheme === 'bearer' && (ch.params.error === 'insufficient_scope' || ch.params.error === undefined)) {
      return new RegistryAuthError(`access to ${what} denied: ${why} (the account may lack permission, or the repository does not exist)`);
    }
    return this.authFailed();
  }

  /** The StoreError for a response the caller did not expect. */
  private async httpError(res: Res, what: string, repo?: string): Promise<StoreError> {
    const errors = parseErrorBody(await readText(res.body));
    const why = describeErrors(errors, res.status);
    switch (res.status) {
      case 404:
        return new RegistryNotFoundError(`${what}: ${why}`, errors);
      case 401:
        return this.unauthorizedError({ method: 'GET', url: '', scopes: [], repo }, errors, this.challenge, !!(await this.credentialsFor(repo)));
      case 403:
        return new RegistryAuthError(`access to ${what} denied: ${why}`, 403);
      case 405:
        return new RegistryError(`${what}: ${why}: the registry does not allow this operation`, 405, errors, 'PKIT_REGISTRY_UNSUPPORTED');
      case 429:
        return new RegistryError(`${what}: ${why}: too many requests, try again later`, 429, errors);
      default:
        return new RegistryError(`${what}: ${why}`, res.status, errors);
    }
  }

  private pull(repo: string): string[] {
    return [repositoryScope(repo, 'pull')];
  }

  private push(repo: string): string[] {
    return [repositoryScope(repo, 'pull,push')];
  }

  private refName(repo: string, ref: string): string {
    return `${this.registry}/${repo}${isDigest(ref) ? '@' : ':'}${ref}`;
  }

  // ---- manifests -------------------------------------------------------------------------

  /**
   * A manifest or index by tag or digest, read up to MAX_MANIFEST_BYTES. Verified against the
   * digest when `ref` is one, and against Docker-Content-Digest when the registry sends it.
   */
  async getManifest(repo: string, ref: string, accept: readonly string[] = ACCEPTED_MANIFEST_TYPES): Promise<ManifestResult> {
    const what = this.refName(repo, ref);
    const res = await this.send({
      method: 'GET',
      url: `/v2/${repo}/manifests/${ref}`,
      headers: { accept: accept.join(', ') },
      scopes: this.pull(repo),
      repo,
      follow: true,
    });
    if (res.status !== 200) throw await this.httpError(res, what, repo);
    const declared = Number(header(res, 'content-length'));
    const tooBig = (n: number | string) =>
      new StoreError(`${what}: the manifest is ${n} bytes, larger than the limit of ${MAX_MANIFEST_BYTES} bytes`, 'PKIT_BAD_MANIFEST');
    if (Number.isFinite(declared) && declared > MAX_MANIFEST_BYTES) {
      res.body.destroy();
      throw tooBig(declared);
    }
    const bytes = await readCapped(res.body, MAX_MANIFEST_BYTES, () => tooBig('more than'));
    let digest: Digest;
    if (isDigest(ref)) {
      const actual = digestOf(bytes, parseDigest(ref).algorithm);
      if (actual !== ref) throw new DigestMismatchError(`${what}: the registry sent a manifest whose digest is ${actual}`);
      digest = ref;
    } else {
      digest = digestOf(bytes);
    }
    const claimed = header(res, 'docker-content-digest');
    if (claimed && isDigest(claimed)) {
      const actual = digestOf(bytes, parseDigest(claimed).algorithm);
      if (actual !== claimed) {
        throw new DigestMismatchError(`${what}: the manifest's content hashes to ${actual}, but the registry says ${claimed}`);
      }
      if (!isDigest(ref) && parseDigest(claimed).algorithm !== 'sha256') digest = claimed;
    }
    return { bytes, mediaType: manifestMediaType(header(res, 'content-type'), bytes), digest };
  }

  /** HEAD of a manifest; undefined when the registry does not have it. */
  async headManifest(repo: string, ref: string, accept: readonly string[] = ACCEPTED_MANIFEST_TYPES): Promise<ManifestHead | undefined> {
    const res = await this.send({
      method: 'HEAD',
      url: `/v2/${repo}/manifests/${ref}`,
      headers: { accept: accept.join(', ') },
      scopes: this.pull(repo),
      repo,
      follow: true,
    });
    if (res.status !== 200 && res.status !== 404) throw await this.httpError(res, this.refName(repo, ref), repo);
    await drain(res.body);
    if (res.status === 404) return undefined;
    const out: ManifestHead = { mediaType: baseMediaType(header(res, 'content-type') ?? '') };
    const d = header(res, 'docker-content-digest');
    if (d && isDigest(d)) out.digest = d;
    const len = Number(header(res, 'content-length'));
    if (Number.isFinite(len)) out.size = len;
    return out;
  }

  /** Stores a manifest under a tag or its digest; returns its digest. */
  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const what = this.refName(repo, ref);
    let digest = digestOf(bytes);
    if (isDigest(ref)) {
      const actual = digestOf(bytes, parseDigest(ref).algorithm);
      if (actual !== ref) throw new DigestMismatchError(`${what}: the manifest to store hashes to ${actual}`);
      digest = ref;
    }
    const res = await this.send({
      method: 'PUT',
      url: `/v2/${repo}/manifests/${ref}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: this.push(repo),
      repo,
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await this.httpError(res, what, repo);
    await drain(res.body);
    const claimed = header(res, 'docker-content-digest');
    if (claimed && isDigest(claimed) && parseDigest(claimed).algorithm === parseDigest(digest).algorithm && claimed !== digest) {
      throw new DigestMismatchError(`${what}: the registry stored the manifest as ${claimed}, expected ${digest}`);
    }
    return digest;
  }

  /** Deletes a manifest by digest (the registry must have deletion enabled). */
  async deleteManifest(repo: string, digest: Digest): Promise<void> {
    const what = `${this.registry}/${repo}@${digest}`;
    const res = await this.send({ method: 'DELETE', url: `/v2/${repo}/manifests/${digest}`, scopes: [repositoryScope(repo, 'delete')], repo });
    if (res.status === 202 || res.status === 200 || res.status === 204) {
      await drain(res.body);
      return;
    }
    if (res.status === 405) {
      const errors = parseErrorBody(await readText(res.body));
      throw new RegistryError(
        `${what}: deletion is not enabled on this registry (${describeErrors(errors, 405)}); for a distribution registry set storage.delete.enabled: true`,
        405,
        errors,
        'PKIT_REGISTRY_UNSUPPORTED',
      );
    }
    throw await this.httpError(res, what, repo);
  }

  // ---- blobs -----------------------------------------------------------------------------

  private blobRequest(repo: string, digest: Digest, from: number): Promise<Res> {
    const headers: Record<string, string> = {};
    if (from > 0) headers.range = `bytes=${from}-`;
    return this.send({ method: 'GET', url: `/v2/${repo}/blobs/${digest}`, headers, scopes: this.pull(repo), repo, follow: true });
  }

  /**
   * A blob's bytes as a stream, following redirects; a dropped connection is resumed with a
   * Range request from the byte reached (up to retryTimes). The stream yields exactly the
   * blob's bytes, or errors. The caller verifies the digest (the copy's VerifyingStream).
   */
  async getBlob(repo: string, desc: { digest: Digest; size?: number }): Promise<Readable> {
    const what = `${this.registry}/${repo}@${desc.digest}`;
    const first = await this.blobRequest(repo, desc.digest, 0);
    if (first.status !== 200) throw await this.httpError(first, what, repo);
    return new ResumingBody(first, desc.size, what, this.retryTimes, async (offset, resumes) => {
      await sleep(this.backoff(resumes));
      const res = await this.blobRequest(repo, desc.digest, offset);
      if (res.status === 206) {
        const range = header(res, 'content-range') ?? '';
        const m = /^bytes\s+(\d+)-/i.exec(range);
        if (!m || Number(m[1]) !== offset) {
          res.body.destroy();
          throw new RegistryError(`${what}: the resumed download starts at the wrong place (Content-Range "${oneLine(range, 80)}", wanted byte ${offset})`, 206);
        }
        return { res, skip: 0 };
      }
      if (res.status === 200) return { res, skip: offset }; // Range ignored: read past what we have
      throw await this.httpError(res, what, repo);
    });
  }

  /** The blob's size when the repository has it (HEAD), else undefined. */
  async hasBlob(repo: string, digest: Digest): Promise<number | undefined> {
    const res = await this.send({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}`, scopes: this.pull(repo), repo, follow: true });
    if (res.status !== 200 && res.status !== 404) throw await this.httpError(res, `${this.registry}/${repo}@${digest}`, repo);
    await drain(res.body);
    if (res.status === 404) return undefined;
    const len = Number(header(res, 'content-length'));
    return Number.isFinite(len) ? len : 0;
  }

  /**
   * Cross-repository mount: true when the registry made the blob of `fromRepo` available in
   * `repo` (201); false when it opened an upload instead (202), which is cancelled.
   */
  async mountBlob(repo: string, digest: Digest, fromRepo: string): Promise<boolean> {
    const what = `${this.registry}/${repo}@${digest}`;
    const res = await this.send({
      method: 'POST',
      url: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`,
      scopes: [...this.push(repo), repositoryScope(fromRepo, 'pull')],
      repo,
    });
    if (res.status !== 201 && res.status !== 202) throw await this.httpError(res, what, repo);
    await drain(res.body);
    if (res.status === 201) return true;
    if (res.status === 202) {
      const loc = header(res, 'location');
      if (loc) await this.cancelUpload(new URL(loc, res.url), repo);
    }
    return false;
  }

  private async cancelUpload(location: URL, repo: string): Promise<void> {
    try {
      const res = await this.send({ method: 'DELETE', url: location, scopes: this.push(repo), repo, retry: false });
      await drain(res.body);
    } catch {
      // best effort: the registry purges abandoned uploads
    }
  }

  /**
   * Uploads a blob from a stream: one PUT when the digest is known and the size is below
   * monolithicMax, else PATCH chunks (honouring OCI-Chunk-Min-Length and each new Location)
   * and a closing PUT ?digest=. Without a digest it is computed while streaming.
   */
  async putBlob(repo: string, stream: Readable, blob: { digest?: Digest; size?: number } = {}): Promise<{ digest: Digest; size: number }> {
    const what = `${this.registry}/${repo}${blob.digest ? `@${blob.digest}` : ' (blob upload)'}`;
    const start = await this.send({ method: 'POST', url: `/v2/${repo}/blobs/uploads/`, scopes: this.push(repo), repo });
    if (start.status !== 202) {
      stream.destroy();
      throw await this.httpError(start, what, repo);
    }
    await drain(start.body);
    const loc = header(start, 'location');
    if (!loc) {
      stream.destroy();
      throw new RegistryError(`${what}: the registry started an upload without a Location`, start.status);
    }
    let location = new URL(loc, start.url);
    try {
      const monolithicMax = this.opts.monolithicMax ?? DEFAULT_MONOLITHIC_MAX;
      if (blob.digest !== undefined && blob.size !== undefined && blob.size < monolithicMax) {
        const res = await this.send({
          method: 'PUT',
          url: withDigestParam(location, blob.digest),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
          body: stream,
          scopes: this.push(repo),
          repo,
        });
        if (res.status !== 201) throw await this.httpError(res, what, repo);
        await drain(res.body);
        this.checkStoredDigest(res, blob.digest, what);
        return { digest: blob.digest, size: blob.size };
      }

      const minChunk = Number(header(start, 'oci-chunk-min-length')) || 0;
      const hasher = blob.digest === undefined ? new HashingStream() : undefined;
      let src: Readable = stream;
      if (hasher) {
        stream.on('error', (e) => hasher.destroy(e));
        src = stream.pipe(hasher);
      }
      if (this.opts.chunkSize === undefined && minChunk === 0) {
        // One streamed PATCH (no Content-Range), then the closing PUT with the digest.
        const counter = new ByteCounter();
        src.on('error', (e) => counter.destroy(e));
        const res = await this.send({
          method: 'PATCH',
          url: location,
          headers: { 'content-type': 'application/octet-stream' },
          body: src.pipe(counter),
          scopes: this.push(repo),
          repo,
        });
        if (res.status !== 202 && res.status !== 204) throw await this.httpError(res, what, repo);
        await drain(res.body);
        const next = header(res, 'location');
        if (next) location = new URL(next, res.url);
        if (blob.size !== undefined && counter.bytes !== blob.size) {
          throw new DigestMismatchError(`${what}: size mismatch, got ${counter.bytes} bytes, expected ${blob.size}`);
        }
        const digest = blob.digest ?? hasher!.digest;
        const done = await this.send({ method: 'PUT', url: withDigestParam(location, digest), scopes: this.push(repo), repo });
        if (done.status !== 201) throw await this.httpError(done, what, repo);
        await drain(done.body);
        this.checkStoredDigest(done, digest, what);
        return { digest, size: counter.bytes };
      }
      const chunkSize = Math.max(this.opts.chunkSize ?? DEFAULT_CHUNK, minChunk, 1);
      let offset = 0;
      for await (const chunk of chunksOf(src as AsyncIterable<Buffer>, chunkSize)) {
        location = await this.patchChunk(repo, location, offset, chunk, what);
        offset += chunk.length;
      }
      if (blob.size !== undefined && offset !== blob.size) {
        throw new DigestMismatchError(`${what}: size mismatch, got ${offset} bytes, expected ${blob.size}`);
      }
      const digest = blob.digest ?? hasher!.digest;
      const res = await this.send({ method: 'PUT', url: withDigestParam(location, digest), scopes: this.push(repo), repo });
      if (res.status !== 201) throw await this.httpError(res, what, repo);
      await drain(res.body);
      this.checkStoredDigest(res, digest, what);
      return { digest, size: offset };
    } catch (err) {
      stream.destroy();
      await this.cancelUpload(location, repo);
      throw err;
    }
  }

  private checkStoredDigest(res: Res, digest: Digest, what: string): void {
    const claimed = header(res, 'docker-content-digest');
    if (claimed && isDigest(claimed) && parseDigest(claimed).algorithm === parseDigest(digest).algorithm && claimed !== digest) {
      throw new DigestMismatchError(`${what}: the registry stored the blob as ${claimed}, expected ${digest}`);
    }
  }

  /**
   * Sends one chunk; returns the next Location. After a failure the upload's status says
   * whether the chunk arrived, so a chunk is never appended twice.
   */
  private async patchChunk(repo: string, location: URL, offset: number, chunk: Buffer, what: string): Promise<URL> {
    let attempt = 0;
    for (;;) {
      let failure: unknown;
      try {
        const res = await this.send({
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(chunk.length),
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk,
          scopes: this.push(repo),
          repo,
          retry: false,
        });
        if (res.status === 202 || res.status === 204) {
          await drain(res.body);
          const loc = header(res, 'location');
          return loc ? new URL(loc, res.url) : location;
        }
        if (res.status < 500 && res.status !== 429) throw await this.httpError(res, what, repo);
        failure = await this.httpError(res, what, repo);
      } catch (err) {
        if (!(err instanceof RegistryUnreachableError) || err.code !== 'PKIT_REGISTRY_UNREACHABLE') throw err;
        failure = err;
      }
      if (attempt >= this.retryTimes) throw failure;
      attempt++;
      await sleep(this.backoff(attempt));
      const status = await this.uploadStatus(repo, location, what);
      if (status.location) location = status.location;
      // distribution 2.x reports an empty upload as "0-0", like one holding a byte.
      const end = offset === 0 && status.end === 1 && chunk.length > 1 ? 0 : status.end;
      if (end === offset + chunk.length) return location;
      if (end !== offset) {
        throw new RegistryError(`${what}: the upload is at byte ${status.end} after a failed chunk at ${offset}; cannot resume`, 416);
      }
    }
  }

  /** GET on an upload: how many bytes it holds (Range: 0-<last>) and its current Location. */
  private async uploadStatus(repo: string, location: URL, what: string): Promise<{ end: number; location?: URL }> {
    const res = await this.send({ method: 'GET', url: location, scopes: this.push(repo), repo });
    if (res.status !== 204 && res.status !== 200) throw await this.httpError(res, what, repo);
    await drain(res.body);
    const m = /^(?:bytes=)?(\d+)-(\d+)$/.exec((header(res, 'range') ?? '').trim());
    const out: { end: number; location?: URL } = { end: m ? Number(m[2]) + 1 : 0 };
    const loc = header(res, 'location');
    if (loc) out.location = new URL(loc, res.url);
    return out;
  }

  // ---- tags ------------------------------------------------------------------------------

  /** Every tag of a repository, following `Link: <...>; rel="next"` pages. */
  async listTags(repo: string): Promise<string[]> {
    const what = `${this.registry}/${repo}`;
    const tags: string[] = [];
    const seen = new Set<string>();
    let next: string | URL = `/v2/${repo}/tags/list`;
    for (let page = 0; page < 100_000; page++) {
      const res: Res = await this.send({ method: 'GET', url: next, headers: { accept: 'application/json' }, scopes: this.pull(repo), repo, follow: true });
      if (res.status !== 200) throw await this.httpError(res, what, repo);
      const body = await readCapped(res.body, MAX_TAGS_BODY, () => new StoreError(`${what}: the tag list page is larger than ${MAX_TAGS_BODY} bytes`, 'PKIT_REGISTRY'));
      let obj: { tags?: unknown };
      try {
        obj = JSON.parse(body.toString('utf8'));
      } catch {
        throw new RegistryError(`${what}: the registry's tag list is not JSON`, res.status);
      }
      if (obj.tags !== null && obj.tags !== undefined) {
        if (!Array.isArray(obj.tags) || obj.tags.some((t) => typeof t !== 'string')) {
          throw new RegistryError(`${what}: the registry's tag list has no "tags" array of strings`, res.status);
        }
        tags.push(...(obj.tags as string[]));
      }
      const link = parseLinkNext(res.headers.link);
      if (!link) return tags;
      const u = new URL(link, res.url);
      if (seen.has(u.href)) return tags;
      seen.add(u.href);
      next = u;
    }
    return tags;
  }
}

/** The manifest's media type: the Content-Type, or the body's own when that says nothing. */
function manifestMediaType(contentType: string | undefined, bytes: Buffer): string {
  const declared = baseMediaType(contentType ?? '');
  if (declared !== '' && declared !== 'application/json' && declared !== 'text/plain' && declared !== 'application/octet-stream') return declared;
  try {
    const obj = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (typeof obj.mediaType === 'string' && obj.mediaType !== '') return obj.mediaType;
    return Array.isArray(obj.manifests) ? OCI_INDEX : OCI_MANIFEST;
  } catch {
    return declared || OCI_MANIFEST;
  }
}
