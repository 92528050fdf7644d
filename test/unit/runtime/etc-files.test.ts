// /etc/hosts, /etc/hostname, /etc/resolv.conf: the expected texts are what podman 4.3 wrote on
// this machine for the same inputs (rootless, `podman run --network X ... cat /etc/hosts ...`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import {
  containerHostname,
  hostnameFileText,
  hostsFileText,
  readEtcHostFacts,
  resolvConfText,
  validateEtcRequest,
  writeEtcFiles,
  type EtcFilesRequest,
  type EtcHostFacts,
} from '../../../packages/runtime/src/etc-files.ts';

const FACTS: EtcHostFacts = {
  hostname: 'vm',
  hosts: '127.0.0.1 localhost\n127.0.0.1 runsc\n127.0.0.1 vm\n',
  resolvConf: 'nameserver 10.255.255.53\n',
  hostContainersInternalIp: '192.0.2.2',
};
const ID = '8ba782148d4b0123456789abcdef0123456789abcdef0123456789abcdef0123';
const BASE_LINES = '127.0.0.1\tlocalhost\n127.0.0.1\trunsc\n127.0.0.1\tvm\n192.0.2.2\thost.containers.internal\n';

function req(extra: Partial<EtcFilesRequest> = {}): EtcFilesRequest {
  return { id: ID, name: 'youthful_hellman', network: 'none', ...extra };
}

test('--network none: the host\'s hosts entries, the container on 127.0.0.1, no resolv.conf', () => {
  const r = req();
  assert.is(hostsFileText(r, FACTS), `${BASE_LINES}127.0.0.1\t8ba782148d4b youthful_hellman\n`);
  assert.is(resolvConfText(r, FACTS), undefined);
  assert.is(hostnameFileText(r, FACTS), '8ba782148d4b');
});

test('--network host: no container entry, the host\'s name and nameservers', () => {
  const r = req({ network: 'host' });
  assert.is(hostsFileText(r, FACTS), BASE_LINES);
  assert.is(resolvConfText(r, FACTS), 'nameserver 10.255.255.53\n');
  assert.is(hostnameFileText(r, FACTS), 'vm');
});

test('--network slirp4netns: the container on 10.0.2.100, slirp\'s DNS first, then the host\'s', () => {
  const r = req({ network: 'slirp4netns', name: 'romantic_wu', id: 'b481bd82af3a' + ID.slice(12) });
  assert.is(hostsFileText(r, FACTS), `${BASE_LINES}10.0.2.100\tb481bd82af3a romantic_wu\n`);
  assert.is(resolvConfText(r, FACTS), 'nameserver 10.0.2.3\nnameserver 10.255.255.53\n');
  // The network layer's own values win over slirp4netns' defaults.
  const custom = req({ network: 'slirp4netns', containerIps: ['10.5.0.100'], networkNameservers: ['10.5.0.3'] });
  assert.match(hostsFileText(custom, FACTS), /\n10\.5\.0\.100\t8ba782148d4b youthful_hellman\n$/);
  assert.is(resolvConfText(custom, FACTS), 'nameserver 10.5.0.3\nnameserver 10.255.255.53\n');
});

test('--add-host entries come first and take their names from the generated lines', () => {
  const r = req({ network: 'host', hostname: 'foo', addHosts: ['localhost:5.6.7.8'] });
  assert.is(hostsFileText(r, FACTS), `5.6.7.8\tlocalhost\n${BASE_LINES}`);
  assert.is(hostnameFileText(r, FACTS), 'foo');
  // names are kept as typed (podman 4.3 does not split "a;b"), IPv6 after the first colon
  const r2 = req({ addHosts: ['a.b:1.2.3.4', 'x y:::1'], hostname: 'foo', name: 'c1' });
  assert.is(hostsFileText(r2, FACTS), `1.2.3.4\ta.b\n::1\tx y\n${BASE_LINES}127.0.0.1\tfoo c1\n`);
});

test('a base file without localhost gets 127.0.0.1 and ::1 localhost; comments and bare IPs are dropped', () => {
  const facts = { ...FACTS, hosts: '# c\n10.9.9.9 foo bar # trailing\n10.9.9.8\n\n' };
  const r = req({ hostname: 'foo', name: 'affectionate_dirac', addHosts: ['a;b:1.2.3.4'] });
  assert.is(
    hostsFileText(r, facts),
    '1.2.3.4\ta;b\n10.9.9.9\tfoo bar\n127.0.0.1\tlocalhost\n::1\tlocalhost\n192.0.2.2\thost.containers.internal\n127.0.0.1\taffectionate_dirac\n',
  );
  // The image's own /etc/hosts as the base (podman's base_hosts_file=image).
  const image = { ...FACTS, hosts: '# image hosts\n10.1.1.1 imgentry imgalias\n127.0.0.1 localhost\n' };
  assert.is(
    hostsFileText(req({ id: 'd2c9141ec274' + ID.slice(12), name: 'flamboyant_banach' }), image),
    '10.1.1.1\timgentry imgalias\n127.0.0.1\tlocalhost\n192.0.2.2\thost.containers.internal\n127.0.0.1\td2c9141ec274 flamboyant_banach\n',
  );
  // No host.containers.internal address: no such line.
  const { hostContainersInternalIp: _ip, ...noIp } = FACTS;
  assert.not.match(hostsFileText(req(), noIp), /host\.containers\.internal/);
});

test('--dns, --dns-search, --dns-option replace the host\'s values', () => {
  const r = req({ network: 'slirp4netns', dns: ['9.9.9.9', '2001:db8::1'], dnsSearch: ['a.com', 'b.org'], dnsOptions: ['ndots:2', 'rotate'] });
  assert.is(resolvConfText(r, FACTS), 'search a.com b.org\nnameserver 9.9.9.9\nnameserver 2001:db8::1\noptions ndots:2 rotate\n');
  // "." clears the search list; empty values are ignored
  assert.is(resolvConfText(req({ network: 'slirp4netns', dnsSearch: ['.'], dns: [''] }), FACTS), 'nameserver 10.0.2.3\nnameserver 10.255.255.53\n');
  // --dns none: no resolv.conf at all
  assert.is(resolvConfText(req({ network: 'host', dns: ['none'] }), FACTS), undefined);
  // search and options of the host are kept unless replaced
  const facts = { ...FACTS, resolvConf: 'search lan\nsearch corp.example\noptions ndots:5\nnameserver 10.1.1.1\n' };
  assert.is(resolvConfText(req({ network: 'host', dns: ['1.1.1.1'] }), facts), 'search corp.example\nnameserver 1.1.1.1\noptions ndots:5\n');
});

test('in a private network namespace the host\'s localhost servers are dropped (IPv6 ones too without IPv6)', () => {
  const facts = { ...FACTS, resolvConf: '# local\nnameserver 127.0.0.1\nnameserver ::1\nnameserver 2001:db8::53\nsearch x.org\noptions ndots:5\n' };
  const slirp = req({ network: 'slirp4netns' });
  assert.is(resolvConfText(slirp, facts), 'search x.org\nnameserver 10.0.2.3\nnameserver 8.8.8.8\nnameserver 8.8.4.4\noptions ndots:5\n');
  assert.is(resolvConfText({ ...slirp, ipv6: true }, facts), 'search x.org\nnameserver 10.0.2.3\nnameserver 2001:db8::53\noptions ndots:5\n');
  // the host's network namespace keeps them all
  assert.is(resolvConfText(req({ network: 'host' }), facts), 'search x.org\nnameserver 127.0.0.1\nnameserver ::1\nnameserver 2001:db8::53\noptions ndots:5\n');
});

test('systemd-resolved\'s stub is replaced by its real file in a private network namespace', () => {
  const facts = { ...FACTS, resolvConf: 'nameserver 127.0.0.53\nsearch lan\n', systemdResolvConf: 'nameserver 192.168.1.1\nsearch lan\n' };
  assert.is(resolvConfText(req({ network: 'slirp4netns' }), facts), 'search lan\nnameserver 10.0.2.3\nnameserver 192.168.1.1\n');
  assert.is(resolvConfText(req({ network: 'host' }), facts), 'search lan\nnameserver 127.0.0.53\n');
});

test('bad flags are one-line errors in podman\'s words', () => {
  const cases: [Partial<EtcFilesRequest>, RegExp][] = [
    [{ addHosts: ['a'] }, /^bad format for add-host: "a"$/],
    [{ addHosts: [':1.1.1.1'] }, /^bad format for add-host: ":1.1.1.1"$/],
    [{ addHosts: ['a=1.2.3.4'] }, /^bad format for add-host: "a=1.2.3.4"$/],
    [{ addHosts: ['a:b'] }, /^invalid IP address in add-host: "b"$/],
    [{ addHosts: ['a:1.1.1.1:2'] }, /^invalid IP address in add-host: "1.1.1.1:2"$/],
    [{ addHosts: ['a:host-gateway'] }, /^invalid IP address in add-host: "host-gateway"$/],
    [{ network: 'host', dns: ['foo'] }, /^foo is not an ip address$/],
    [{ network: 'host', dns: ['1.2.3'] }, /^1\.2\.3 is not an ip address$/],
    [{ network: 'host', dnsSearch: ['a b'] }, /^a b is not a valid domain$/],
    [{ network: 'host', dnsSearch: ['-x'] }, /^-x is not a valid domain$/],
    [{ network: 'none', dns: ['9.9.9.9'] }, /^conflicting options: dns and the network mode: none$/],
    [{ network: 'none', dnsSearch: ['foo.com'] }, /^conflicting options: dns/],
    [{ network: 'none', dnsOptions: ['ndots:1'] }, /^conflicting options: dns/],
  ];
  for (const [extra, pattern] of cases) {
    try {
      validateEtcRequest(req(extra));
    } catch (err) {
      assert.instance(err, StoreError);
      assert.match((err as Error).message, pattern);
      continue;
    }
    assert.unreachable(`should fail: ${JSON.stringify(extra)}`);
  }
  validateEtcRequest(req({ network: 'host', dns: ['::1', ''], dnsSearch: ['.', 'example.com.', 'a-b.c'], addHosts: ['h:::1'] }));
});

test('writeEtcFiles writes the three files and returns their bind mounts', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'pkit-etc-')), 'userdata');
  try {
    const mounts = await writeEtcFiles(dir, req({ network: 'slirp4netns', hostname: 'web' }), { facts: FACTS });
    assert.equal(mounts, [
      { type: 'bind', source: join(dir, 'hosts'), destination: '/etc/hosts' },
      { type: 'bind', source: join(dir, 'hostname'), destination: '/etc/hostname' },
      { type: 'bind', source: join(dir, 'resolv.conf'), destination: '/etc/resolv.conf' },
    ]);
    assert.is(readFileSync(join(dir, 'hostname'), 'utf8'), 'web');
    assert.match(readFileSync(join(dir, 'hosts'), 'utf8'), /\n10\.0\.2\.100\tweb youthful_hellman\n$/);
    assert.is(readFileSync(join(dir, 'resolv.conf'), 'utf8'), 'nameserver 10.0.2.3\nnameserver 10.255.255.53\n');
    assert.is(statSync(join(dir, 'hosts')).mode & 0o777, 0o644);

    // none: no resolv.conf; a user mount on /etc/hosts and --no-hosts leave hosts alone
    const none = await writeEtcFiles(join(dir, 'b'), req(), { facts: FACTS, skip: ['/etc/hosts'] });
    assert.equal(none.map((m) => m.destination), ['/etc/hostname']);
    const noHosts = await writeEtcFiles(join(dir, 'c'), req({ network: 'host', noHosts: true }), { facts: FACTS });
    assert.equal(noHosts.map((m) => m.destination), ['/etc/hostname', '/etc/resolv.conf']);
    // a bad flag writes nothing
    try {
      await writeEtcFiles(join(dir, 'd'), req({ addHosts: ['nope'] }), { facts: FACTS });
      assert.unreachable('should fail');
    } catch (err) {
      assert.instance(err, StoreError);
    }
    assert.throws(() => statSync(join(dir, 'd')));
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('the host facts come from this machine', () => {
  const facts = readEtcHostFacts();
  assert.is(facts.hostname, hostname());
  assert.is(facts.hosts, readFileSync('/etc/hosts', 'utf8'));
  assert.is(containerHostname({ id: ID, network: 'host' }, facts), hostname());
  if (facts.hostContainersInternalIp !== undefined) assert.not.match(facts.hostContainersInternalIp, /^127\./);
});

test.run();
