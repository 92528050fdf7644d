// The bearer-token flow against a real docker-registry configured for token auth. The test is
// its own token issuer: a Node server that checks Basic credentials and signs RS256 JWTs with
// a key and self-signed certificate made by openssl, which the registry trusts
// (rootcertbundle). The registry runs on a free 127.0.0.1 port and is stopped by its PID.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../../packages/storage/src/digest.ts';
import { OCI_CONFIG, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../packages/storage/src/media-types.ts';
import { closeRegistryConnections, RegistryClient } from '../../packages/storage/src/registry/client.ts';
import { deleteImage, openDockerSource } from '../../packages/storage/src/transports/docker.ts';

const REGISTRY_BIN = process.env.PKIT_REGISTRY_BIN ?? '/usr/bin/docker-registry';
const USER = 'tokenuser';
const PASS = 'tokenpass';
const SERVICE = 'pkit-registry';
const ISSUER = 'pkit-issuer';

const work = mkdtempSync(join(tmpdir(), 'pkit-e2e-token-'));
const ENV = { HOME: join(work, 'home') };
const noAuthFile = join(work, 'no-auth.json');
writeFileSync(noAuthFile, '{}');

let registryProc: ChildProcess | undefined;
let issuer: Server | undefined;
let registry = '';
let key: KeyObject;
let certDerB64 = '';

interface Hit {
  user: string | undefined;
  scopes: string[];
}
const hits: Hit[] = [];

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function jwt(sub: string, access: { type: string; name: string; actions: string[] }[]): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5c: [certDerB64] };
  const claims = { iss: ISSUER, sub, aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}

/** The issuer: Basic credentials checked; a known user gets what it asks for, anonymous nothing. */
function startIssuer(): Promise<number> {
  issuer = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = u.searchParams.getAll('scope');
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (name !== USER || rest.join(':') !== PASS || u.searchParams.get('service') !== SERVICE) {
        hits.push({ user: name, scopes });
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = name;
    }
    hits.push({ user, scopes });
    const access = user
      ? scopes.map((s) => {
          const [type, ...mid] = s.split(':');
          const actions = mid.pop()!.split(',');
          return { type: type!, name: mid.join(':'), actions };
        })
      : [];
    const token = jwt(user ?? '', access);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  return new Promise((r) => issuer!.listen(0, '127.0.0.1', () => r((issuer!.address() as AddressInfo).port)));
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpGet(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

function stopRegistry(): void {
  if (registryProc?.pid && registryProc.exitCode === null) {
    try {
      process.kill(registryProc.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
process.on('exit', stopRegistry);

test.before(async () => {
  try {
    await setUp();
  } catch (err) {
    // uvu does not report a failing before hook: say it, so the 0 passed tests are explained.
    console.error(`registry-token: set-up failed: ${(err as Error).message}`);
    throw err;
  }
});

async function setUp(): Promise<void> {
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${ISSUER}`, '-days', '2', '-keyout', join(work, 'k.pem'), '-out', join(work, 'cert.pem')], {
    encoding: 'utf8',
  });
  assert.is(gen.status, 0, `openssl: ${gen.stderr}`);
  key = createPrivateKey(readFileSync(join(work, 'k.pem')));
  certDerB64 = readFileSync(join(work, 'cert.pem'), 'utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const issuerPort = await startIssuer();
  const port = await freePort();
  registry = `127.0.0.1:${port}`;
  mkdirSync(join(work, 'data'));
  writeFileSync(
    join(work, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(work, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${registry}`,
      '  secret: pkit-token-test',
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${issuerPort}/token`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${join(work, 'cert.pem')}`,
      '',
    ].join('\n'),
  );
  const log = openSync(join(work, 'registry.log'), 'a');
  registryProc = spawn(REGISTRY_BIN, ['serve', join(work, 'config.yml')], { stdio: ['ignore', log, log] });
  let spawnError: Error | undefined;
  registryProc.on('error', (err) => (spawnError = err));
  const deadline = Date.now() + 20_000;
  while ((await httpStatus(`http://${registry}/v2/`)) !== 401) {
    if (spawnError) throw new Error(`cannot start ${REGISTRY_BIN}: ${spawnError.message}`);
    if (registryProc.exitCode !== null || Date.now() > deadline) {
      throw new Error(`docker-registry did not come up on ${registry}: ${readFileSync(join(work, 'registry.log'), 'utf8').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.after(async () => {
  stopRegistry();
  if (registryProc && registryProc.exitCode === null) await new Promise((r) => registryProc!.once('exit', r));
  await new Promise<void>((r) => (issuer ? issuer.close(() => r()) : r()));
  await closeRegistryConnections();
  rmSync(work, { recursive: true, force: true });
});

const layer = Buffer.from(`layer bytes ${randomBytes(8).toString('hex')}`);
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: OCI_LAYER_TAR_GZIP, digest: digestOf(layer), size: layer.length }],
  }),
);

const opts = (extra: object = {}) => ({ tlsVerify: false, env: ENV, retryDelay: 20, ...extra });

test('the registry asks for a bearer token from our issuer', async () => {
  const p = await new RegistryClient(registry, opts()).ping();
  assert.is(p.authScheme, 'bearer');
});

test('push and pull with credentials through the token flow; tokens are reused', async () => {
  const c = new RegistryClient(registry, opts({ creds: { username: USER, password: PASS } }));
  const before = hits.length;
  await c.putBlob('team/app', Readable.from([layer]), { digest: digestOf(layer), size: layer.length });
  await c.putBlob('team/app', Readable.from([config]), {}); // chunked path, digest computed
  assert.is(await c.putManifest('team/app', 'v1', manifest, OCI_MANIFEST), digestOf(manifest));
  const pushHits = hits.slice(before);
  assert.is(pushHits.length, 1, `one token for the whole push, got ${JSON.stringify(pushHits)}`);
  assert.equal(pushHits[0], { user: USER, scopes: ['repository:team/app:pull,push'] });

  const m = await c.getManifest('team/app', 'v1');
  assert.is(m.digest, digestOf(manifest));
  const chunks: Buffer[] = [];
  for await (const ch of await c.getBlob('team/app', { digest: digestOf(layer), size: layer.length })) chunks.push(ch as Buffer);
  assert.ok(Buffer.concat(chunks).equals(layer));
  assert.equal(await c.listTags('team/app'), ['v1']);
  assert.is(hits.length - before, 1, 'the pull,push token served the pulls too');

  // A fresh client pulling: one token with pull scope, reused for every request.
  const puller = new RegistryClient(registry, opts({ creds: { username: USER, password: PASS } }));
  const b2 = hits.length;
  await puller.getManifest('team/app', 'v1');
  await puller.hasBlob('team/app', digestOf(layer));
  await puller.getManifest('team/app', digestOf(manifest));
  assert.equal(hits.slice(b2), [{ user: USER, scopes: ['repository:team/app:pull'] }]);
});

test('anonymous pull is denied with a clear message', async () => {
  const src = await openDockerSource(`${registry}/team/app:v1`, { tlsVerify: false, authFile: noAuthFile });
  try {
    await src.manifest();
    assert.unreachable('anonymous access must fail');
  } catch (err) {
    assert.match((err as Error).message, new RegExp(`^authentication required for ${registry.replace(/\./g, '\\.')}/team/app.* \\(use --creds or "pcopy login ${registry.replace(/\./g, '\\.')}"\\)$`));
  }
  assert.ok(hits.some((h) => h.user === undefined), 'an anonymous token was asked for');
});

test('wrong credentials fail at the token server with one clear line', async () => {
  const c = new RegistryClient(registry, opts({ creds: { username: USER, password: 'nope' } }));
  try {
    await c.getManifest('team/app', 'v1');
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, `authentication to ${registry} failed: invalid username or password (use --creds or "pcopy login ${registry}")`);
  }
});

test('the docker transport with creds; delete through the token flow (delete scope)', async () => {
  const src = await openDockerSource(`${registry}/team/app:v1`, { tlsVerify: false, creds: { username: USER, password: PASS } });
  assert.is((await src.manifest()).digest, digestOf(manifest));
  const b = hits.length;
  const d = await deleteImage(`${registry}/team/app:v1`, { tlsVerify: false, creds: { username: USER, password: PASS } });
  assert.is(d, digestOf(manifest));
  assert.equal(
    hits.slice(b).map((h) => h.scopes),
    [['repository:team/app:pull'], ['repository:team/app:delete']],
  );
  const c = new RegistryClient(registry, opts({ creds: { username: USER, password: PASS } }));
  assert.is(await c.headManifest('team/app', 'v1'), undefined);
});

test.run();
