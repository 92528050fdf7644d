// The registry client against small in-test HTTP servers: auth flows, retries, resume,
// redirects, size caps, digests, pagination, uploads; and the auth-file module.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import {
  authFilePaths,
  authKeyCandidates,
  defaultAuthFile,
  findCredentials,
  normalizeAuthKey,
  removeCredentials,
  saveCredentials,
} from '../../../packages/storage/src/auth-file.ts';
import { parseWWWAuthenticate, pickChallenge, scopeCovers, TokenCache } from '../../../packages/storage/src/registry/auth.ts';
import {
  closeRegistryConnections,
  parseLinkNext,
  parseRetryAfter,
  RegistryClient,
  type RegistryClientOptions,
} from '../../../packages/storage/src/registry/client.ts';
import type { RegistriesConf } from '../../../packages/storage/src/registries-conf.ts';
import { MAX_MANIFEST_BYTES } from '../../../packages/storage/src/validate.ts';
import { OCI_MANIFEST } from '../../../packages/storage/src/media-types.ts';
import { rejects, tempDir } from './helpers.ts';

// ---- a tiny registry server ---------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

interface TestServer {
  host: string;
  origin: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function serve(handler: Handler, opts: { readBody?: boolean } = {}): Promise<TestServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const done = () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      Promise.resolve(handler(req, res, body)).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    };
    if (opts.readBody === false) return done();
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const s: TestServer = {
    host: `127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  servers.push(s);
  return s;
}

function json(res: ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
  res.end(body);
}

function regError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  json(res, status, { errors: [{ code, message, detail: null }] }, headers);
}

const home = tempDir('pkit-regclient-home');
/** Options for a client that reads no real auth file and retries fast. */
function opts(extra: RegistryClientOptions = {}): RegistryClientOptions {
  return { tlsVerify: false, retryDelay: 5, env: { HOME: home }, ...extra };
}

const pathOf = (s: Seen) => new URL(s.url, 'http://x').pathname;
const countPath = (srv: TestServer, p: string) => srv.seen.filter((s) => pathOf(s) === p).length;

test.after.each(async () => {
  while (servers.length) await servers.pop()!.close();
});
test.after(async () => {
  await closeRegistryConnections();
  rmSync(home, { recursive: true, force: true });
});

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf('{}'), size: 2 }, layers: [] }));
const MANIFEST_DIGEST = digestOf(MANIFEST);

function sendManifest(res: ServerResponse, bytes = MANIFEST, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(bytes.length), 'docker-content-digest': digestOf(bytes), ...headers });
  res.end(bytes);
}

// ---- WWW-Authenticate ---------------------------------------------------------------------

test('parseWWWAuthenticate: bearer with quoted values containing commas', () => {
  const ch = parseWWWAuthenticate('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"');
  assert.equal(ch, [
    { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' } },
  ]);
});

test('parseWWWAuthenticate: several challenges, escapes, unquoted values, token68, arrays', () => {
  const ch = parseWWWAuthenticate(['Basic realm="a \\"quoted\\" realm", charset=UTF-8, Bearer realm="https://x/t",error="insufficient_scope"', 'Negotiate YWJjZA==']);
  assert.is(ch.length, 3);
  assert.equal(ch[0], { scheme: 'basic', params: { realm: 'a "quoted" realm', charset: 'UTF-8' } });
  assert.equal(ch[1], { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope' } });
  assert.equal(ch[2], { scheme: 'negotiate', params: { '': 'YWJjZA==' } });
  assert.is(pickChallenge(ch)!.scheme, 'bearer');
  assert.equal(parseWWWAuthenticate(undefined), []);
  assert.equal(parseWWWAuthenticate('Basic'), [{ scheme: 'basic', params: {} }]);
});

test('scopes: a pull,push token covers pull; the cache expires tokens', () => {
  assert.ok(scopeCovers('repository:a:pull,push', 'repository:a:pull'));
  assert.not.ok(scopeCovers('repository:a:pull', 'repository:a:push'));
  assert.not.ok(scopeCovers('repository:a:pull,push', 'repository:b:pull'));
  assert.ok(scopeCovers('repository:a:*', 'repository:a:delete'));
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  cache.set(['repository:a:pull,push'], 'T', 300);
  assert.is(cache.get(['repository:a:pull']), 'T');
  assert.is(cache.get(['repository:b:pull']), undefined);
  now += 299_000;
  assert.is(cache.get(['repository:a:pull']), undefined, 'renewed shortly before expiry');
});

test('parseLinkNext and parseRetryAfter', () => {
  assert.is(parseLinkNext('</v2/r/tags/list?n=2&last=b>; rel="next"'), '/v2/r/tags/list?n=2&last=b');
  assert.is(parseLinkNext('<https://x/prev>; rel="prev", <https://x/next>; rel=next'), 'https://x/next');
  assert.is(parseLinkNext('<https://x/prev>; rel="prev"'), undefined);
  assert.is(parseLinkNext(undefined), undefined);
  assert.is(parseRetryAfter('3'), 3000);
  assert.is(parseRetryAfter(new Date(10_000).toUTCString(), 5_000), 5000);
  assert.is(parseRetryAfter('soon'), undefined);
});

// ---- auth flows ---------------------------------------------------------------------------

test('bearer flow: token requested with service, scope and Basic credentials, reused per scope', async () => {
  const tokenHits: URL[] = [];
  const issuer = await serve((req, res) => {
    const u = new URL(req.url!, 'http://x');
    tokenHits.push(u);
    if (req.headers.authorization !== `Basic ${Buffer.from('alice:secret').toString('base64')}`) return json(res, 401, { details: 'bad creds' });
    json(res, 200, { access_token: `tok-${tokenHits.length}`, expires_in: 300 });
  });
  const reg = await serve((req, res) => {
    const realm = `Bearer realm="${issuer.origin}/token",service="test-registry"`;
    const p = new URL(req.url!, 'http://x').pathname;
    if (!req.headers.authorization?.startsWith('Bearer tok-')) {
      return regError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': p === '/v2/' ? realm : `${realm},scope="repository:app:pull"` });
    }
    if (p === '/v2/') return json(res, 200, {});
    if (req.method === 'GET' && p === '/v2/app/manifests/1') return sendManifest(res);
    if (req.method === 'PUT' && p === '/v2/app/manifests/2') {
      res.writeHead(201, { 'docker-content-digest': MANIFEST_DIGEST }).end();
      return;
    }
    regError(res, 404, 'NOT_FOUND', 'not found');
  });
  const c = new RegistryClient(reg.host, opts({ creds: { username: 'alice', password: 'secret' } }));
  assert.equal((await c.ping()).authScheme, 'bearer');
  const m1 = await c.getManifest('app', '1');
  const m2 = await c.getManifest('app', '1');
  assert.is(m1.digest, MANIFEST_DIGEST);
  assert.is(m2.mediaType, OCI_MANIFEST);
  assert.is(tokenHits.length, 1, 'one token for two pulls');
  assert.is(tokenHits[0]!.searchParams.get('service'), 'test-registry');
  assert.equal(tokenHits[0]!.searchParams.getAll('scope'), ['repository:app:pull']);
  assert.is(await c.putManifest('app', '2', MANIFEST, OCI_MANIFEST), MANIFEST_DIGEST);
  assert.is(tokenHits.length, 2, 'a push needs a new token');
  assert.equal(tokenHits[1]!.searchParams.getAll('scope'), ['repository:app:pull,push']);
  await c.getManifest('app', '1');
  assert.is(tokenHits.length, 2, 'the pull,push token serves pulls');
  // Only one unauthenticated probe (the ping), every later request carried a token.
  assert.is(reg.seen.filter((s) => !s.headers.authorization).length, 1);
});

test('bearer flow: wrong credentials give one clear line', async () => {
  const issuer = await serve((_req, res) => json(res, 401, { details: 'incorrect username or password' }));
  const reg = await serve((_req, res) => regError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': `Bearer realm="${issuer.origin}/token",service="s"` }));
  const c = new RegistryClient(reg.host, opts({ creds: { username: 'alice', password: 'wrong' } }));
  const err = await rejects(c.getManifest('app', '1'), /^authentication to 127\.0\.0\.1:\d+ failed: invalid username or password \(use --creds or "pcopy login 127\.0\.0\.1:\d+"\)$/);
  assert.is((err as { code?: string }).code, 'PKIT_REGISTRY_AUTH');
});

test('bearer flow: anonymous token without access is "authentication required"', async () => {
  const issuer = await serve((_req, res) => json(res, 200, { token: 'anon' }));
  const reg = await serve((_req, res) =>
    regError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': `Bearer realm="${issuer.origin}/token",service="s",error="insufficient_scope"` }),
  );
  const c = new RegistryClient(reg.host, opts());
  await rejects(c.listTags('app'), /^authentication required for 127\.0\.0\.1:\d+\/app \(use --creds or "pcopy login 127\.0\.0\.1:\d+"\)$/);
});

test('basic auth: right credentials pass, wrong ones fail once with a clear message', async () => {
  const good = `Basic ${Buffer.from('bob:pw:with:colons').toString('base64')}`;
  const reg = await serve((req, res) => {
    if (req.headers.authorization !== good) return regError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="test"' });
    json(res, 200, { name: 'app', tags: ['a', 'b'] });
  });
  const ok = new RegistryClient(reg.host, opts({ creds: { username: 'bob', password: 'pw:with:colons' } }));
  assert.equal(await ok.listTags('app'), ['a', 'b']);
  const before = reg.seen.length;
  const bad = new RegistryClient(reg.host, opts({ creds: { username: 'bob', password: 'nope' } }));
  await rejects(bad.listTags('app'), /^authentication to 127\.0\.0\.1:\d+ failed: invalid username or password \(use --creds/);
  assert.is(reg.seen.length - before, 2, 'ping + one request, no retry loop');
  const anon = new RegistryClient(reg.host, opts());
  await rejects(anon.listTags('app'), /^authentication required for 127\.0\.0\.1:\d+\/app \(use --creds/);
});

test('credentials come from the auth file when none are given', async () => {
  const dir = tempDir('pkit-authfile');
  const reg = await serve((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('carol:pw').toString('base64')}`) {
      return regError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="test"' });
    }
    json(res, 200, { name: 'ns/app', tags: ['x'] });
  });
  const file = join(dir, 'auth.json');
  writeFileSync(file, JSON.stringify({ auths: { [`${reg.host}/ns`]: { auth: Buffer.from('carol:pw').toString('base64') }, [reg.host]: { auth: Buffer.from('carol:wrong').toString('base64') } } }));
  const c = new RegistryClient(reg.host, opts({ authFile: file }));
  assert.equal(await c.listTags('ns/app'), ['x'], 'the more specific key wins');
  rmSync(dir, { recursive: true, force: true });
});

// ---- retries ------------------------------------------------------------------------------

test('retries 503 and 429 (Retry-After) then succeeds', async () => {
  let n = 0;
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    n++;
    if (n === 1) return regError(res, 503, 'UNAVAILABLE', 'busy');
    if (n === 2) return regError(res, 429, 'TOOMANYREQUESTS', 'slow down', { 'retry-after': '0' });
    sendManifest(res);
  });
  const c = new RegistryClient(reg.host, opts());
  const m = await c.getManifest('app', 'v1');
  assert.is(m.digest, MANIFEST_DIGEST);
  assert.is(n, 3);
});

test('gives up after retryTimes on 5xx with the registry message', async () => {
  let n = 0;
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    n++;
    regError(res, 500, 'UNKNOWN', 'storage backend down');
  });
  const c = new RegistryClient(reg.host, opts({ retryTimes: 2 }));
  await rejects(c.getManifest('app', 'v1'), /^127\.0\.0\.1:\d+\/app:v1: storage backend down$/);
  assert.is(n, 3);
});

test('no retry on 404; the message names the reference', async () => {
  let n = 0;
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    n++;
    regError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
  });
  const c = new RegistryClient(reg.host, opts());
  const err = await rejects(c.getManifest('busybox', 'nope'), /^127\.0\.0\.1:\d+\/busybox:nope: manifest unknown$/);
  assert.is((err as { code?: string }).code, 'PKIT_NOT_FOUND');
  assert.is(n, 1);
  assert.is(await c.headManifest('busybox', 'nope'), undefined);
  assert.is(await c.hasBlob('busybox', digestOf('x')), undefined);
});

test('unreachable registry: connection refused after a couple of tries', async () => {
  const s = await serve(() => {});
  const host = s.host;
  await servers.pop()!.close();
  const c = new RegistryClient(host, opts());
  await rejects(c.ping(), /^cannot reach registry 127\.0\.0\.1:\d+: connection refused$/);
});

const EMPTY_CONF: RegistriesConf = { files: [], mainPath: '', unqualifiedSearchRegistries: [], shortNameMode: 'enforcing', aliases: {}, registries: [], credentialHelpers: [] };

test('TLS: a self-signed certificate is refused by default, accepted with tlsVerify false (no http fallback)', async () => {
  const dir = tempDir('pkit-tls');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')]);
  assert.is(gen.status, 0);
  const server = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => json(res, 200, {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const strict = new RegistryClient(host, { env: { HOME: home }, registriesConf: EMPTY_CONF, retryDelay: 5 });
    await rejects(strict.ping(), /^cannot reach registry 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): add its CA to the system trust store, or use --tls-verify=false$/);
    const loose = new RegistryClient(host, opts());
    assert.equal(await loose.ping(), { url: `https://${host}/`, tlsVerified: false });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TLS: https to a plain-http registry says to use --tls-verify=false; insecure in registries.conf falls back to http', async () => {
  const reg = await serve((_req, res) => json(res, 200, {}));
  const strict = new RegistryClient(reg.host, { env: { HOME: home }, registriesConf: EMPTY_CONF, retryDelay: 5 });
  await rejects(strict.ping(), /over HTTPS: it does not speak TLS \(a plain-HTTP registry\?\): use --tls-verify=false, or set insecure = true for it in registries\.conf$/);
  const conf: RegistriesConf = {
    ...EMPTY_CONF,
    registries: [{ prefix: reg.host, location: reg.host, insecure: true, blocked: false, mirrorByDigestOnly: false, mirrors: [], file: 'test' }],
  };
  const viaConf = new RegistryClient(reg.host, { env: { HOME: home }, registriesConf: conf, retryDelay: 5 });
  assert.is((await viaConf.ping()).url, `${reg.origin}/`);
});

// ---- blobs --------------------------------------------------------------------------------

function blobData(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('getBlob resumes with a Range request after the connection drops mid-body', async () => {
  const data = blobData(300_000);
  const digest = digestOf(data);
  let gets = 0;
  const ranges: (string | undefined)[] = [];
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    gets++;
    ranges.push(req.headers.range);
    if (gets === 1) {
      res.writeHead(200, { 'content-length': String(data.length), 'content-type': 'application/octet-stream' });
      res.write(data.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')!;
    const from = Number(m[1]);
    res.writeHead(206, { 'content-length': String(data.length - from), 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` });
    res.end(data.subarray(from));
  });
  const c = new RegistryClient(reg.host, opts());
  const got = await readAll(await c.getBlob('app', { digest, size: data.length }));
  assert.is(got.length, data.length);
  assert.ok(got.equals(data));
  assert.is(gets, 2);
  assert.is(ranges[0], undefined);
  assert.match(ranges[1]!, /^bytes=[1-9]\d*-$/);
});

test('getBlob: a server ignoring Range (200) is read past the bytes already given', async () => {
  const data = blobData(200_000);
  let gets = 0;
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    gets++;
    res.writeHead(200, { 'content-length': String(data.length) });
    if (gets === 1) res.write(data.subarray(0, 50_000), () => setTimeout(() => res.socket?.destroy(), 20));
    else res.end(data);
  });
  const c = new RegistryClient(reg.host, opts());
  const got = await readAll(await c.getBlob('app', { digest: digestOf(data), size: data.length }));
  assert.ok(got.equals(data));
});

test('getBlob fails with one line when every resume breaks too', async () => {
  const data = blobData(100_000);
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    res.writeHead(200, { 'content-length': String(data.length) });
    res.write(data.subarray(0, 10), () => setTimeout(() => res.socket?.destroy(), 10));
  });
  const c = new RegistryClient(reg.host, opts({ retryTimes: 2 }));
  const s = await c.getBlob('app', { digest: digestOf(data), size: data.length });
  await rejects(readAll(s), /^127\.0\.0\.1:\d+\/app@sha256:[0-9a-f]{64}: download failed at byte \d+, after 2 resumes: /);
});

test('getBlob follows redirects to blob storage without sending the registry credentials there', async () => {
  const data = blobData(10_000);
  const digest = digestOf(data);
  const storage = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': String(data.length) });
    res.end(data);
  });
  const reg = await serve((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      return regError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="r"' });
    }
    if (req.url === '/v2/') return json(res, 200, {});
    res.writeHead(307, { location: `${storage.origin}/bucket/blob?sig=abc` }).end();
  });
  const c = new RegistryClient(reg.host, opts({ creds: { username: 'u', password: 'p' } }));
  const got = await readAll(await c.getBlob('app', { digest, size: data.length }));
  assert.ok(got.equals(data));
  assert.is(storage.seen.length, 1);
  assert.is(storage.seen[0]!.url, '/bucket/blob?sig=abc');
  assert.is(storage.seen[0]!.headers.authorization, undefined);
});

// ---- manifests ----------------------------------------------------------------------------

test('a manifest larger than the cap is refused from its Content-Length, before reading it', async () => {
  let wrote = 0;
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(MAX_MANIFEST_BYTES + 1) });
    res.write(Buffer.alloc(1000, 0x20));
    wrote += 1000; // and never ends
  });
  const c = new RegistryClient(reg.host, opts());
  await rejects(c.getManifest('app', 'big'), /^127\.0\.0\.1:\d+\/app:big: the manifest is \d+ bytes, larger than the limit of 4194304 bytes$/);
  assert.is(wrote, 1000);
});

test('a chunked manifest growing past the cap is refused without waiting for its end', async () => {
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    res.writeHead(200, { 'content-type': OCI_MANIFEST }); // chunked, no length
    const piece = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < 5; i++) res.write(piece); // 5 MiB, then the response stays open
  });
  const c = new RegistryClient(reg.host, opts());
  await rejects(c.getManifest('app', 'big'), /larger than the limit of 4194304 bytes/);
});

test('a manifest fetched by digest is verified', async () => {
  const other = Buffer.from(MANIFEST.toString().replace('"layers":[]', '"layers": []'));
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(other.length) });
    res.end(other);
  });
  const c = new RegistryClient(reg.host, opts());
  const err = await rejects(c.getManifest('app', MANIFEST_DIGEST), /^127\.0\.0\.1:\d+\/app@sha256:[0-9a-f]{64}: the registry sent a manifest whose digest is sha256:/);
  assert.is((err as { code?: string }).code, 'PKIT_DIGEST_MISMATCH');
});

test('Docker-Content-Digest is checked when present; a generic content type is sniffed', async () => {
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    if (req.url!.endsWith('/bad')) return sendManifest(res, MANIFEST, { 'docker-content-digest': digestOf('something else') });
    sendManifest(res, MANIFEST, { 'content-type': 'application/json' });
  });
  const c = new RegistryClient(reg.host, opts());
  await rejects(c.getManifest('app', 'bad'), /the manifest's content hashes to sha256:[0-9a-f]+, but the registry says sha256:/);
  const ok = await c.getManifest('app', 'good');
  assert.is(ok.mediaType, OCI_MANIFEST);
  assert.ok(ok.bytes.equals(MANIFEST));
  const accept = reg.seen.at(-1)!.headers.accept!;
  assert.match(accept, /application\/vnd\.oci\.image\.index\.v1\+json/);
  assert.match(accept, /application\/vnd\.docker\.distribution\.manifest\.v2\+json/);
});

// ---- tags ---------------------------------------------------------------------------------

test('listTags follows Link rel="next" pagination', async () => {
  const pages: Record<string, { tags: string[]; next?: string }> = {
    '': { tags: ['a', 'b'], next: '/v2/app/tags/list?n=2&last=b' },
    b: { tags: ['c', 'd'], next: '/v2/app/tags/list?n=2&last=d' },
    d: { tags: ['e'] },
  };
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    const u = new URL(req.url!, 'http://x');
    const p = pages[u.searchParams.get('last') ?? '']!;
    json(res, 200, { name: 'app', tags: p.tags }, p.next ? { link: `<${p.next}>; rel="next"` } : {});
  });
  const c = new RegistryClient(reg.host, opts());
  assert.equal(await c.listTags('app'), ['a', 'b', 'c', 'd', 'e']);
  assert.is(countPath(reg, '/v2/app/tags/list'), 3);
});

// ---- uploads ------------------------------------------------------------------------------

interface UploadState {
  data: Buffer[];
  patches: { url: string; length: number; range: string | undefined }[];
  puts: string[];
  deletes: string[];
}

/** A registry that stores uploads, moving the Location on every PATCH. */
async function uploadServer(minChunk?: number, failPatch?: number): Promise<{ srv: TestServer; st: UploadState }> {
  const st: UploadState = { data: [], patches: [], puts: [], deletes: [] };
  let next = 0;
  let patchCount = 0;
  const srv = await serve((req, res, body) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/v2/') return json(res, 200, {});
    if (req.method === 'POST' && u.pathname === '/v2/app/blobs/uploads/') {
      const h: Record<string, string> = { location: `/v2/app/blobs/uploads/s${next++}?_state=abc%3D%3D`, 'content-length': '0' };
      if (minChunk) h['oci-chunk-min-length'] = String(minChunk);
      res.writeHead(202, h).end();
      return;
    }
    if (req.method === 'PATCH') {
      patchCount++;
      if (failPatch === patchCount) {
        // store the chunk, then fail the response: the client must notice it arrived
        st.data.push(body);
        regError(res, 503, 'UNAVAILABLE', 'flaky');
        return;
      }
      st.data.push(body);
      st.patches.push({ url: req.url!, length: body.length, range: req.headers['content-range'] });
      const size = st.data.reduce((n, b) => n + b.length, 0);
      res.writeHead(202, { location: `/v2/app/blobs/uploads/s${next++}?_state=x`, range: `0-${size - 1}`, 'content-length': '0' }).end();
      return;
    }
    if (req.method === 'GET' && u.pathname.startsWith('/v2/app/blobs/uploads/')) {
      const size = st.data.reduce((n, b) => n + b.length, 0);
      res.writeHead(204, { location: req.url!, range: `0-${Math.max(0, size - 1)}` }).end();
      return;
    }
    if (req.method === 'PUT') {
      st.puts.push(req.url!);
      if (body.length) st.data.push(body);
      const all = Buffer.concat(st.data);
      const want = u.searchParams.get('digest');
      if (digestOf(all) !== want) return regError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
      res.writeHead(201, { 'docker-content-digest': want, location: `/v2/app/blobs/${want}` }).end();
      return;
    }
    if (req.method === 'DELETE') {
      st.deletes.push(req.url!);
      res.writeHead(204).end();
      return;
    }
    regError(res, 404, 'NOT_FOUND', 'not found');
  });
  return { srv, st };
}

test('putBlob: a small blob with a known digest goes up in one PUT', async () => {
  const { srv, st } = await uploadServer();
  const data = blobData(50_000);
  const c = new RegistryClient(srv.host, opts());
  const r = await c.putBlob('app', Readable.from([data.subarray(0, 20_000), data.subarray(20_000)]), { digest: digestOf(data), size: data.length });
  assert.equal(r, { digest: digestOf(data), size: data.length });
  assert.is(st.patches.length, 0);
  assert.is(st.puts.length, 1);
  assert.match(st.puts[0]!, /^\/v2\/app\/blobs\/uploads\/s0\?_state=abc%3D%3D&digest=sha256%3A[0-9a-f]{64}$/);
});

test('putBlob: chunked PATCHes honour OCI-Chunk-Min-Length and each new Location; digest computed', async () => {
  const { srv, st } = await uploadServer(40_000);
  const data = blobData(100_000);
  const c = new RegistryClient(srv.host, opts({ chunkSize: 16_000 }));
  const pieces = [];
  for (let i = 0; i < data.length; i += 7_000) pieces.push(data.subarray(i, i + 7_000));
  const r = await c.putBlob('app', Readable.from(pieces), {});
  assert.equal(r, { digest: digestOf(data), size: data.length });
  assert.equal(st.patches.map((p) => p.length), [40_000, 40_000, 20_000]);
  assert.equal(st.patches.map((p) => p.range), ['0-39999', '40000-79999', '80000-99999']);
  assert.equal(st.patches.map((p) => new URL(p.url, 'http://x').pathname), ['/v2/app/blobs/uploads/s0', '/v2/app/blobs/uploads/s1', '/v2/app/blobs/uploads/s2']);
  assert.is(new URL(st.puts[0]!, 'http://x').pathname, '/v2/app/blobs/uploads/s3', 'the final PUT goes to the last Location');
  assert.ok(Buffer.concat(st.data).equals(data));
});

test('putBlob: an unknown digest without a chunk size streams one PATCH, then PUT ?digest=', async () => {
  const { srv, st } = await uploadServer();
  const data = blobData(100_000);
  const c = new RegistryClient(srv.host, opts());
  const pieces = [];
  for (let i = 0; i < data.length; i += 7_000) pieces.push(data.subarray(i, i + 7_000));
  const r = await c.putBlob('app', Readable.from(pieces), {});
  assert.equal(r, { digest: digestOf(data), size: data.length });
  assert.is(st.patches.length, 1);
  assert.is(st.patches[0]!.length, data.length);
  assert.is(st.puts.length, 1);
  assert.match(st.puts[0]!, /digest=sha256%3A[0-9a-f]{64}$/);
  assert.ok(Buffer.concat(st.data).equals(data));
});

test('putBlob: a chunk whose answer was lost is not sent twice (upload status checked)', async () => {
  const { srv, st } = await uploadServer(undefined, 2);
  const data = blobData(30_000);
  const c = new RegistryClient(srv.host, opts({ chunkSize: 10_000 }));
  const r = await c.putBlob('app', Readable.from([data]), { digest: digestOf(data) });
  assert.is(r.digest, digestOf(data));
  assert.ok(Buffer.concat(st.data).equals(data), 'each byte once');
});

test('putBlob: a failing source stream cancels the upload and rejects with its error', async () => {
  const { srv, st } = await uploadServer();
  const c = new RegistryClient(srv.host, opts({ chunkSize: 1000 }));
  const src = new Readable({ read() {} });
  src.push(blobData(2500));
  setTimeout(() => src.destroy(new Error('source broke')), 20);
  await rejects(c.putBlob('app', src, {}), /source broke/);
  assert.is(st.deletes.length, 1);
});

test('putBlob: one-PUT upload of a failing stream, or of fewer bytes than declared, stores nothing', async () => {
  const { srv, st } = await uploadServer();
  const c = new RegistryClient(srv.host, opts());
  const src = new Readable({ read() {} });
  src.push(blobData(1000));
  setTimeout(() => src.destroy(new Error('verification failed')), 20);
  await rejects(c.putBlob('app', src, { digest: digestOf(blobData(5000)), size: 5000 }), /^verification failed$/);
  const short = blobData(100);
  await rejects(c.putBlob('app', Readable.from([short]), { digest: digestOf(blobData(200)), size: 200 }), /size mismatch/);
  assert.is(st.deletes.length, 2, 'both upload sessions cancelled');
  assert.is(st.puts.filter((u) => u.includes('digest=')).length, st.puts.length);
});

test('mountBlob: 201 is true; 202 cancels the opened upload and is false', async () => {
  const d = digestOf('layer');
  const deletes: string[] = [];
  const reg = await serve((req, res) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/v2/') return json(res, 200, {});
    if (req.method === 'DELETE') {
      deletes.push(u.pathname);
      return void res.writeHead(204).end();
    }
    if (u.searchParams.get('from') === 'has') return void res.writeHead(201, { location: `/v2/dst/blobs/${d}` }).end();
    res.writeHead(202, { location: '/v2/dst/blobs/uploads/xyz' }).end();
  });
  const c = new RegistryClient(reg.host, opts());
  assert.is(await c.mountBlob('dst', d, 'has'), true);
  assert.is(await c.mountBlob('dst', d, 'hasnot'), false);
  assert.equal(deletes, ['/v2/dst/blobs/uploads/xyz']);
  const post = reg.seen.find((s) => s.method === 'POST')!;
  const q = new URL(post.url, 'http://x').searchParams;
  assert.is(q.get('mount'), d);
  assert.is(q.get('from'), 'has');
});

test('deleteManifest: 405 says deletion is not enabled', async () => {
  const reg = await serve((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    regError(res, 405, 'UNSUPPORTED', 'The operation is unsupported.');
  });
  const c = new RegistryClient(reg.host, opts());
  await rejects(c.deleteManifest('app', MANIFEST_DIGEST), /deletion is not enabled on this registry/);
});

// ---- auth files ---------------------------------------------------------------------------

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('authFilePaths: order, $REGISTRY_AUTH_FILE exclusive, missing XDG_RUNTIME_DIR skipped', () => {
  assert.equal(
    authFilePaths({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/1' }).map((p) => p.path),
    ['/run/user/1/containers/auth.json', '/h/.config/containers/auth.json', '/h/.docker/config.json', '/h/.dockercfg'],
  );
  assert.equal(
    authFilePaths({ HOME: '/h', XDG_CONFIG_HOME: '/cfg', DOCKER_CONFIG: '/dk' }).map((p) => p.path),
    ['/cfg/containers/auth.json', '/dk/config.json', '/h/.dockercfg'],
  );
  assert.equal(authFilePaths({ HOME: '/h', REGISTRY_AUTH_FILE: '/a.json' }).map((p) => p.path), ['/a.json']);
  assert.equal(authFilePaths({ HOME: '/h', REGISTRY_AUTH_FILE: '/a.json' }, '/b.json').map((p) => p.path), ['/b.json']);
  assert.is(authFilePaths({ HOME: '/h' }).at(-1)!.legacy, true);
  assert.is(defaultAuthFile({ HOME: '/h' }), '/h/.config/containers/auth.json');
  assert.is(defaultAuthFile({ HOME: '/h', XDG_RUNTIME_DIR: '/r' }), '/r/containers/auth.json');
});

test('auth keys: normalisation and candidates from most specific to host', () => {
  assert.is(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
  assert.is(normalizeAuthKey('http://Reg.example.com:5000/'), 'reg.example.com:5000');
  assert.is(normalizeAuthKey('registry-1.docker.io'), 'docker.io');
  assert.is(normalizeAuthKey('quay.io/ns/repo'), 'quay.io/ns/repo');
  assert.equal(authKeyCandidates('quay.io', 'ns/sub/repo'), ['quay.io/ns/sub/repo', 'quay.io/ns/sub', 'quay.io/ns', 'quay.io']);
});

test('findCredentials: first file with a match wins; docker and legacy formats; specific keys', async () => {
  const dir = tempDir('pkit-authlookup');
  const env = { HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run') };
  mkdirSync(join(dir, 'run/containers'), { recursive: true });
  mkdirSync(join(dir, 'home/.config/containers'), { recursive: true });
  mkdirSync(join(dir, 'home/.docker'), { recursive: true });
  writeFileSync(join(dir, 'run/containers/auth.json'), JSON.stringify({ auths: { 'reg.io/team': { auth: b64('run-team:1') } } }));
  writeFileSync(
    join(dir, 'home/.config/containers/auth.json'),
    JSON.stringify({ auths: { 'reg.io': { auth: b64('cfg:2') }, 'other.io': { auth: b64('cfg-other:3') } } }),
  );
  writeFileSync(join(dir, 'home/.docker/config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:4') }, 'docker-only.io': { auth: b64('dk:5') } } }));
  writeFileSync(join(dir, 'home/.dockercfg'), JSON.stringify({ 'https://legacy.io': { auth: b64('old:6'), email: 'x@y' } }));
  const f = (reg: string, repo?: string) => findCredentials(reg, repo, { env });
  assert.equal(await f('reg.io', 'team/app'), { username: 'run-team', password: '1' });
  assert.equal(await f('reg.io', 'solo/app'), { username: 'cfg', password: '2' });
  assert.equal(await f('other.io', 'x'), { username: 'cfg-other', password: '3' });
  assert.equal(await f('docker.io', 'library/busybox'), { username: 'hub', password: '4' });
  assert.equal(await f('docker-only.io'), { username: 'dk', password: '5' });
  assert.equal(await f('legacy.io', 'a/b'), { username: 'old', password: '6' });
  assert.is(await f('none.io', 'a'), undefined);
  // Explicit creds win; an auth file given explicitly is used alone.
  assert.equal(await findCredentials('reg.io', 'team/app', { env, creds: { username: 'c', password: 'd' } }), { username: 'c', password: 'd' });
  const only = join(dir, 'only.json');
  writeFileSync(only, JSON.stringify({ auths: { 'x.io': { auth: b64('x:y') } } }));
  assert.is(await findCredentials('reg.io', 'team/app', { env, authFile: only }), undefined);
  assert.equal(await findCredentials('x.io', undefined, { env: { ...env, REGISTRY_AUTH_FILE: only } }), { username: 'x', password: 'y' });
  await rejects(findCredentials('x.io', undefined, { env, authFile: join(dir, 'missing.json') }), /auth file .*missing\.json does not exist/);
  // No XDG_RUNTIME_DIR: still works.
  assert.equal(await findCredentials('reg.io', 'team/app', { env: { HOME: env.HOME } }), { username: 'cfg', password: '2' });
  writeFileSync(join(dir, 'bad.json'), '{ not json');
  await rejects(findCredentials('x.io', undefined, { env, authFile: join(dir, 'bad.json') }), /auth file .*bad\.json: invalid JSON/);
  rmSync(dir, { recursive: true, force: true });
});

test('saveCredentials: 0600 file in a 0700 dir, other entries kept; removeCredentials', async () => {
  const dir = tempDir('pkit-authsave');
  const env = { HOME: join(dir, 'home') };
  const path = await saveCredentials('reg.io', 'me', 'pw', undefined, env);
  assert.is(path, join(dir, 'home/.config/containers/auth.json'));
  assert.is(statSync(path).mode & 0o777, 0o600);
  assert.is(statSync(join(dir, 'home/.config/containers')).mode & 0o777, 0o700);
  // Another tool's entries and fields survive.
  const obj = JSON.parse(readFileSync(path, 'utf8'));
  obj.auths['other.io'] = { auth: b64('o:p') };
  obj.credHelpers = { 'x.io': 'helper' };
  writeFileSync(path, JSON.stringify(obj), { mode: 0o644 });
  await saveCredentials('https://reg.io/', 'me2', 'pw2', path);
  const after = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(Object.keys(after.auths).sort(), ['other.io', 'reg.io']);
  assert.is(after.auths['reg.io'].auth, b64('me2:pw2'));
  assert.equal(after.credHelpers, { 'x.io': 'helper' });
  assert.is(statSync(path).mode & 0o777, 0o600);
  assert.equal(await findCredentials('reg.io', 'a', { env }), { username: 'me2', password: 'pw2' });
  assert.is(await removeCredentials('reg.io', path), true);
  assert.is(await removeCredentials('reg.io', path), false);
  assert.equal(Object.keys(JSON.parse(readFileSync(path, 'utf8')).auths), ['other.io']);
  // The runtime dir is the default when set.
  const run = join(dir, 'run');
  mkdirSync(run);
  const p2 = await saveCredentials('a.io', 'u', 'p', undefined, { HOME: env.HOME, XDG_RUNTIME_DIR: run });
  assert.is(p2, join(run, 'containers/auth.json'));
  rmSync(dir, { recursive: true, force: true });
});

test.run();

