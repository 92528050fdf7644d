// prun run's networks: slirp4netns by default (as rootless podman 4), none, host, pasta, and
// -p publishing to the host, as the unprivileged test user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { FIXTURE, ok, oneLineError, requireBuild, run, tempDir } from './helpers.ts';

let root = '';
const prun = (args: string[]) => run('prun', ['--root', root, ...args]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET http://127.0.0.1:PORT/PATH, retried while the container's server starts. */
async function fetchText(port: number, path: string): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
    } catch (err) {
      last = err;
      await sleep(100);
    }
  }
  throw last;
}

/** A free TCP port on 127.0.0.1 (closed again). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('setup: import busybox', () => {
  requireBuild();
  root = tempDir('pkit-net');
  ok(prun(['import', FIXTURE, 'busybox']), 'import');
});

test('the default network is slirp4netns: tap0 at 10.0.2.100, its DNS forwarder first in resolv.conf, the name in /etc/hosts', () => {
  const r = ok(prun(['run', '--rm', '--name', 'netdef', 'busybox', 'sh', '-c', 'ip -4 addr show tap0 | grep -o "inet [0-9./]*"; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hosts']));
  const [addr, resolv, hosts] = r.stdout.split('---\n');
  assert.is(addr, 'inet 10.0.2.100/24\n');
  assert.match(resolv!, /^nameserver 10\.0\.2\.3$/m);
  assert.match(hosts!, /^10\.0\.2\.100\s+\S+ netdef$/m);
});

test('--dns and --dns-search replace the servers and the search list', () => {
  const r = ok(prun(['run', '--rm', '--dns', '9.9.9.9', '--dns-search', 'example.org', 'busybox', 'cat', '/etc/resolv.conf']));
  assert.match(r.stdout, /^nameserver 9\.9\.9\.9$/m);
  assert.match(r.stdout, /^search example\.org$/m);
  assert.not.match(r.stdout, /10\.0\.2\.3/);
});

test('--network none: only lo, and it is up; --network host: the host\'s interfaces', () => {
  const none = ok(prun(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; ip link show lo | grep -c UP']));
  assert.is(none.stdout, 'lo\n1\n');
  const host = ok(prun(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']));
  assert.match(host.stdout, /lo/);
  assert.ok(host.stdout.trim().split('\n').length >= 2, host.stdout);
});

test('-p HOST:CTR publishes a container\'s server on the host; port and ps show the mapping', async () => {
  const port = await freePort();
  ok(prun(['run', '-d', '--name', 'web', '-p', `${port}:8080`, 'busybox', 'sh', '-c', 'echo served > /index.html; httpd -f -p 8080 -h /']));
  try {
    assert.is(await fetchText(port, '/index.html'), 'served\n');
    assert.is(ok(prun(['port', 'web'])).stdout, `8080/tcp -> 0.0.0.0:${port}\n`);
    assert.match(ok(prun(['ps'])).stdout, new RegExp(`0\\.0\\.0\\.0:${port}->8080/tcp`));
    // the port is taken now: a second container cannot have it, and leaves nothing behind
    const before = ok(prun(['ps', '-aq'])).stdout;
    oneLineError(prun(['run', '--rm', '-p', `${port}:80`, 'busybox', 'true']), /Address already in use/);
    assert.is(ok(prun(['ps', '-aq'])).stdout, before);
  } finally {
    ok(prun(['rm', '-f', 'web']));
  }
});

test('-p CTR alone picks a free host port, as podman', async () => {
  ok(prun(['run', '-d', '--name', 'rnd', '-p', '8080', 'busybox', 'sh', '-c', 'echo rnd > /i; httpd -f -p 8080 -h /']));
  try {
    const m = /-> 0\.0\.0\.0:(\d+)/.exec(ok(prun(['port', 'rnd'])).stdout);
    assert.ok(m, 'a host port is assigned');
    assert.is(await fetchText(Number(m![1]), '/i'), 'rnd\n');
  } finally {
    ok(prun(['rm', '-f', 'rnd']));
  }
});

test('bad --network and -p values fail before anything is created', () => {
  oneLineError(prun(['run', '--rm', '--network', 'bogus', 'busybox', 'true']), /bogus/);
  oneLineError(prun(['run', '--rm', '-p', '99999:80', 'busybox', 'true']), /99999/);
  oneLineError(prun(['run', '--rm', '-p', 'x:y', 'busybox', 'true']), /x:y|invalid/);
  assert.is(ok(prun(['ps', '-aq'])).stdout, '');
});

test('--network pasta: the container reaches a server on the host through a published port', async () => {
  const port = await freePort();
  ok(prun(['run', '-d', '--name', 'pweb', '--network', 'pasta', '-p', `${port}:8080`, 'busybox', 'sh', '-c', 'echo pasta > /p; httpd -f -p 8080 -h /']));
  try {
    assert.is(await fetchText(port, '/p'), 'pasta\n');
  } finally {
    ok(prun(['rm', '-f', 'pweb']));
  }
});

test.run();
