// --network and -p parsing, and what each network mode puts into the spec.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import {
  NetworkError,
  PORTS_DISCARDED,
  assignHostPorts,
  checkPublish,
  formatPorts,
  networkSetup,
  networkWarnings,
  parseNetwork,
  parsePublish,
  pastaArgs,
  slirp4netnsArgs,
  type NetworkTools,
  type PortMapping,
} from '../../../packages/runtime/src/network.ts';
import { buildSpec } from '../../../packages/runtime/src/spec.ts';
import { HOST, baseOptions } from './helpers.ts';

const TOOLS: NetworkTools = { helper: '/opt/pkit/pkit-runtime', slirp4netns: '/usr/bin/slirp4netns', pasta: '/usr/bin/pasta' };
const tcp = (hostPort: number, containerPort: number, range = 1, hostIP = ''): PortMapping => ({ hostIP, hostPort, containerPort, range, protocol: 'tcp' });

function throwsNetwork(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, NetworkError);
    assert.match((err as Error).message, message);
    assert.not.match((err as Error).message, /\n/, 'one line');
    return;
  }
  assert.unreachable(`expected an error matching ${message}`);
}

// ---- --network ----------------------------------------------------------------------------

test('parseNetwork: the plain modes', () => {
  assert.equal(parseNetwork('none'), { mode: 'none' });
  assert.equal(parseNetwork('host'), { mode: 'host' });
  assert.equal(parseNetwork('slirp4netns'), { mode: 'slirp4netns' });
  assert.equal(parseNetwork('slirp4netns:'), { mode: 'slirp4netns' });
  assert.equal(parseNetwork('pasta'), { mode: 'pasta' });
  // private: a namespace of its own, podman 4 rootless: slirp4netns
  assert.equal(parseNetwork('private'), { mode: 'slirp4netns' });
  assert.equal(parseNetwork('private', 'pasta'), { mode: 'pasta' });
});

test('parseNetwork: slirp4netns options (podman names)', () => {
  assert.equal(parseNetwork('slirp4netns:allow_host_loopback=true,mtu=1500,cidr=10.0.3.0/24,enable_ipv6=false,outbound_addr=eth0,outbound_addr6=::1,port_handler=slirp4netns'), {
    mode: 'slirp4netns',
    slirp4netns: { allowHostLoopback: true, mtu: 1500, cidr: '10.0.3.0/24', enableIPv6: false, outboundAddr: 'eth0', outboundAddr6: '::1' },
  });
  throwsNetwork(() => parseNetwork('slirp4netns:foo=bar'), /^unknown option for slirp4netns: "foo=bar"/);
  throwsNetwork(() => parseNetwork('slirp4netns:allow_host_loopback'), /^unknown option for slirp4netns: "allow_host_loopback"/);
  throwsNetwork(() => parseNetwork('slirp4netns:allow_host_loopback=maybe'), /^invalid value of allow_host_loopback for slirp4netns: "maybe"/);
  throwsNetwork(() => parseNetwork('slirp4netns:mtu=abc'), /^invalid mtu "abc"/);
  throwsNetwork(() => parseNetwork('slirp4netns:mtu=70000'), /^invalid mtu "70000"/);
  throwsNetwork(() => parseNetwork('slirp4netns:cidr=bad'), /^invalid cidr "bad"/);
  throwsNetwork(() => parseNetwork('slirp4netns:cidr=10.0.2.0/31'), /^invalid cidr/);
  throwsNetwork(() => parseNetwork('slirp4netns:outbound_addr=::1'), /expected an IPv4 address or an interface/);
  throwsNetwork(() => parseNetwork('slirp4netns:port_handler=x'), /^unknown port_handler for slirp4netns: "x"/);
  throwsNetwork(() => parseNetwork('slirp4netns:port_handler=rootlesskit'), /port_handler=rootlesskit is not available in pkit/);
});

test('parseNetwork: pasta options are split on commas; the ones pkit sets are refused', () => {
  assert.equal(parseNetwork('pasta:--mtu,1500,--ipv4-only'), { mode: 'pasta', pastaOptions: ['--mtu', '1500', '--ipv4-only'] });
  throwsNetwork(() => parseNetwork('pasta:-f'), /pasta option -f is set by pkit itself/);
  throwsNetwork(() => parseNetwork('pasta:--netns=/x'), /pasta option --netns is set by pkit itself/);
  throwsNetwork(() => parseNetwork('pasta:--pid,/tmp/p'), /pasta option --pid is set by pkit itself/);
});

test('parseNetwork: what pkit does not do', () => {
  throwsNetwork(() => parseNetwork('none:x'), /^invalid option for network none: "x"/);
  throwsNetwork(() => parseNetwork('host:x'), /^invalid option for network host/);
  throwsNetwork(() => parseNetwork('bridge'), /bridge is not available rootless/);
  throwsNetwork(() => parseNetwork('container:abc'), /not supported by pkit yet/);
  throwsNetwork(() => parseNetwork('ns:/run/netns/x'), /not supported by pkit yet/);
  throwsNetwork(() => parseNetwork('mynet'), /^unknown network "mynet": use none, host, private, slirp4netns\[:OPTIONS\] or pasta\[:OPTIONS\]$/);
});

// ---- -p -----------------------------------------------------------------------------------

test('parsePublish: the forms podman takes', () => {
  assert.equal(parsePublish('8080:80'), tcp(8080, 80));
  assert.equal(parsePublish('80'), tcp(0, 80));
  assert.equal(parsePublish(':80'), tcp(0, 80));
  assert.equal(parsePublish('127.0.0.1::80'), tcp(0, 80, 1, '127.0.0.1'));
  assert.equal(parsePublish('127.0.0.1:8080:80'), tcp(8080, 80, 1, '127.0.0.1'));
  assert.equal(parsePublish('0.0.0.0:8080:80'), tcp(8080, 80), '0.0.0.0 is every address');
  assert.equal(parsePublish('[::1]:8080:80'), tcp(8080, 80, 1, '::1'));
  assert.equal(parsePublish('8080-8081:80-81'), tcp(8080, 80, 2));
  assert.equal(parsePublish('80-82'), tcp(0, 80, 3));
  assert.equal(parsePublish('8080:80/udp'), { ...tcp(8080, 80), protocol: 'udp' });
  assert.equal(parsePublish('8080:80/TCP'), tcp(8080, 80));
  assert.equal(parsePublish('8080:80/sctp'), { ...tcp(8080, 80), protocol: 'sctp' });
});

test('parsePublish: bad specs, one line each (podman wording, the spec in front)', () => {
  const cases: [string, RegExp][] = [
    ['abc', /^-p abc: parsing container port: invalid port number "abc"$/],
    ['70000:80', /^-p 70000:80: parsing host port: port numbers must be between 1 and 65535 \(inclusive\), got 70000$/],
    ['0:80', /parsing host port: port numbers must be between 1 and 65535 \(inclusive\), got 0/],
    ['8080:0', /parsing container port: port numbers must be between 1 and 65535/],
    ['8080-8081:80', /host and container port ranges have different lengths: 2 vs 1/],
    ['8080:80-81', /host and container port ranges have different lengths: 1 vs 2/],
    ['80-80', /the end port of a range must be higher than the start port - 80 is not higher than 80/],
    ['8081-8080:80-81', /parsing host port: the end port of a range must be higher than the start port - 8080 is not higher than 8081/],
    ['65535-65536:1-2', /parsing host port: port numbers must be between 1 and 65535 \(inclusive\), got 65536/],
    ['80/foo', /unrecognized protocol "foo" in port mapping/],
    ['1.2.3:80:80', /cannot parse "1.2.3" as an IP address/],
    ['localhost:80:80', /cannot parse "localhost" as an IP address/],
    ['::1:8080:80', /invalid port format - format is \[\[hostIP:\]hostPort:\]containerPort/],
    ['[::1]8080:80', /invalid port format/],
    ['[1.2.3.4]:8080:80', /cannot parse "1.2.3.4" as an IPv6 address/],
    ['8080:', /must provide a non-empty container port to publish/],
  ];
  for (const [spec, re] of cases) throwsNetwork(() => parsePublish(spec), re);
});

test('checkPublish: identical entries merge, overlapping host ports conflict', () => {
  assert.equal(checkPublish([tcp(8080, 80), tcp(8080, 80)]), [tcp(8080, 80)]);
  // same port, other protocol or other address: fine
  const udp = { ...tcp(8080, 80), protocol: 'udp' as const };
  assert.equal(checkPublish([tcp(8080, 80), udp]), [tcp(8080, 80), udp]);
  assert.equal(checkPublish([tcp(8080, 80, 1, '127.0.0.1'), tcp(8080, 81, 1, '127.0.0.2')]).length, 2);
  throwsNetwork(() => checkPublish([tcp(8080, 80, 3), tcp(8081, 90)]), /^conflicting port mappings for host port 8081 \(protocol tcp\)$/);
  throwsNetwork(() => checkPublish([tcp(8080, 80), tcp(8080, 81, 1, '127.0.0.1')]), /conflicting port mappings for host port 8080/);
  // ports still to be chosen never conflict
  assert.equal(checkPublish([tcp(0, 80), tcp(0, 81)]).length, 2);
});

test('formatPorts: as podman ps shows them', () => {
  assert.is(formatPorts([tcp(41215, 90, 2), tcp(37923, 80, 1, '127.0.0.1'), { ...tcp(53, 53, 1, '::1'), protocol: 'udp' }]),
    '0.0.0.0:41215-41216->90-91/tcp, 127.0.0.1:37923->80/tcp, [::1]:53->53/udp');
});

test('networkWarnings: -p with none or host is discarded with podman\'s warning', () => {
  assert.equal(networkWarnings('none', [tcp(8080, 80)]), [PORTS_DISCARDED]);
  assert.equal(networkWarnings({ mode: 'host' }, [tcp(8080, 80)]), [PORTS_DISCARDED]);
  assert.equal(networkWarnings('slirp4netns', [tcp(8080, 80)]), []);
  assert.equal(networkWarnings('none', []), []);
});

function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host, exclusive: true }, () => resolve(s));
  });
}

test('assignHostPorts: free ports for the omitted ones, consecutive for a range, given ones kept', async () => {
  const out = await assignHostPorts([tcp(0, 80, 3, '127.0.0.1'), tcp(0, 81, 1, '127.0.0.1'), tcp(9, 82, 1, '127.0.0.1'), { ...tcp(0, 53), protocol: 'udp' }]);
  assert.is(out.length, 4);
  assert.ok(out[0]!.hostPort > 0 && out[0]!.hostPort + 2 <= 65535);
  assert.is(out[2]!.hostPort, 9);
  assert.ok(out[3]!.hostPort > 0);
  const taken = [out[0]!.hostPort, out[0]!.hostPort + 1, out[0]!.hostPort + 2, out[1]!.hostPort];
  assert.is(new Set(taken).size, 4, 'no port given twice');
  // and they are really free: every one of them can be listened on now
  const servers = [];
  for (const p of taken) servers.push(await listen(p));
  for (const s of servers) s.close();
  assert.equal({ ...out[0]!, hostPort: 0 }, tcp(0, 80, 3, '127.0.0.1'));
});

test('assignHostPorts: an address that is not the host\'s is one line', async () => {
  try {
    await assignHostPorts([tcp(0, 80, 1, '192.0.2.254')]);
    assert.unreachable('should fail');
  } catch (err) {
    assert.instance(err, NetworkError);
    assert.match((err as Error).message, /^-p 80\/tcp: cannot bind a tcp port on 192\.0\.2\.254: is it an address of this host\?$/);
  }
});

// ---- what the spec gets ---------------------------------------------------------------------

test('slirp4netnsArgs: podman 4\'s defaults and options', () => {
  assert.equal(slirp4netnsArgs(), ['--disable-host-loopback', '--mtu=65520', '--enable-sandbox', '--enable-seccomp', '--enable-ipv6']);
  assert.equal(slirp4netnsArgs({ allowHostLoopback: true, mtu: 1500, enableIPv6: false, cidr: '10.0.3.0/24', outboundAddr: 'eth0', outboundAddr6: 'eth1' }),
    ['--mtu=1500', '--enable-sandbox', '--enable-seccomp', '--cidr=10.0.3.0/24', '--outbound-addr=eth0', '--outbound-addr6=eth1']);
});

test('pastaArgs: podman 5\'s defaults, -t/-u per published port, the user\'s options win', () => {
  assert.equal(pastaArgs(), ['--config-net', '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--dns-forward', '169.254.1.1', '--no-map-gw', '--quiet']);
  assert.equal(pastaArgs([], [tcp(8080, 80, 2), { ...tcp(5353, 53, 1, '127.0.0.1'), protocol: 'udp' }, tcp(9000, 90, 1, '::1')]),
    ['--config-net', '-t', '8080-8081:80-81', '-u', '127.0.0.1/5353-5353:53-53', '-t', '::1/9000-9000:90-90', '-T', 'none', '-U', 'none', '--dns-forward', '169.254.1.1', '--no-map-gw', '--quiet']);
  // --map-gw is podman's pseudo-option: it only drops --no-map-gw; given -T/-U/--dns-forward replace the defaults
  assert.equal(pastaArgs(['--map-gw', '-T', '5201', '--dns-forward', '10.0.2.3', '-4']),
    ['--config-net', '-t', 'none', '-u', 'none', '-U', 'none', '--quiet', '-T', '5201', '--dns-forward', '10.0.2.3', '-4']);
});

test('networkSetup none/host: a namespace or not, no hook', () => {
  assert.equal(networkSetup('none'), { mode: 'none', privateNamespace: true, ipv6: false });
  assert.equal(networkSetup(undefined), { mode: 'none', privateNamespace: true, ipv6: false });
  assert.equal(networkSetup({ mode: 'host' }, [tcp(8080, 80)]), { mode: 'host', privateNamespace: false, ipv6: true });
});

test('networkSetup slirp4netns: the createRuntime hook, whole', () => {
  const s = networkSetup(parseNetwork('slirp4netns:allow_host_loopback=true,cidr=10.0.3.0/24'), [tcp(8080, 80, 2), { ...tcp(5353, 53, 1, '127.0.0.1'), protocol: 'udp' }], TOOLS);
  assert.equal(s, {
    mode: 'slirp4netns',
    privateNamespace: true,
    hooks: {
      createRuntime: [{
        path: '/opt/pkit/pkit-runtime',
        args: ['pkit-runtime', 'network-hook', 'slirp4netns', '--publish', 'tcp,,8080,80,2', '--publish', 'udp,127.0.0.1,5353,53,1', '--',
          '/usr/bin/slirp4netns', '--mtu=65520', '--enable-sandbox', '--enable-seccomp', '--enable-ipv6', '--cidr=10.0.3.0/24'],
        timeout: 30,
      }],
    },
    nameservers: ['10.0.3.3'],
    containerIps: ['10.0.3.100'],
    ipv6: true,
  });
  const plain = networkSetup('slirp4netns', [], TOOLS);
  assert.equal([plain.nameservers, plain.containerIps, plain.ipv6], [['10.0.2.3'], ['10.0.2.100'], true]);
  assert.not.ok(networkSetup(parseNetwork('slirp4netns:enable_ipv6=false'), [], TOOLS).ipv6);
});

test('networkSetup pasta: the hook carries pasta\'s -t/-u and the ports', () => {
  const s = networkSetup({ mode: 'pasta' }, [tcp(8080, 80)], TOOLS);
  assert.equal(s.hooks, {
    createRuntime: [{
      path: '/opt/pkit/pkit-runtime',
      args: ['pkit-runtime', 'network-hook', 'pasta', '--publish', 'tcp,,8080,80,1', '--', '/usr/bin/pasta',
        '--config-net', '-t', '8080-8080:80-80', '-u', 'none', '-T', 'none', '-U', 'none', '--dns-forward', '169.254.1.1', '--no-map-gw', '--quiet'],
      timeout: 30,
    }],
  });
  assert.equal(s.nameservers, ['169.254.1.1']);
  assert.is(s.containerIps, undefined, 'pasta copies the host\'s address: not known here');
  assert.ok(s.ipv6);
  const v4 = networkSetup(parseNetwork('pasta:--ipv4-only,--dns-forward,10.0.2.3'), [], TOOLS);
  assert.equal(v4.nameservers, ['10.0.2.3']);
  assert.not.ok(v4.ipv6);
});

test('networkSetup: what cannot work is one line before anything starts', () => {
  throwsNetwork(() => networkSetup('slirp4netns', [], { helper: '/h' }), /^slirp4netns not found: install the slirp4netns package, or use --network pasta or none$/);
  throwsNetwork(() => networkSetup('pasta', [], { helper: '/h' }), /^pasta not found: install the passt package/);
  throwsNetwork(() => networkSetup('pasta', [], { pasta: '/usr/bin/pasta' }), /needs pkit-runtime \(its network hook\)/);
  throwsNetwork(() => networkSetup('slirp4netns', [tcp(8080, 80, 1, '::1')], TOOLS), /publish \[::1\]:8080->80\/tcp: slirp4netns publishes on IPv4 addresses only: use --network pasta/);
  throwsNetwork(() => networkSetup('pasta', [{ ...tcp(8080, 80), protocol: 'sctp' }], TOOLS), /sctp ports cannot be published rootless/);
  throwsNetwork(() => networkSetup('pasta', [tcp(0, 80)], TOOLS), /no host port chosen yet \(assignHostPorts\)/);
  throwsNetwork(() => networkSetup('pasta', [tcp(8080, 80, 2), tcp(8081, 81)], TOOLS), /conflicting port mappings for host port 8081/);
  // IPv6 host addresses are fine with pasta
  assert.ok(networkSetup('pasta', [tcp(8080, 80, 1, '::1')], TOOLS).hooks);
});

test('buildSpec: slirp4netns and pasta get a namespace, the hook and the ping sysctl; the rest stays', () => {
  const none = buildSpec(undefined, baseOptions({ network: 'none', seccomp: 'unconfined' }), HOST);
  for (const network of ['slirp4netns', 'pasta'] as const) {
    const spec = buildSpec(undefined, baseOptions({ network, publish: [tcp(8080, 80)], networkTools: TOOLS, seccomp: 'unconfined' }), HOST);
    assert.equal(spec.hooks, networkSetup(network, [tcp(8080, 80)], TOOLS).hooks);
    assert.equal(spec.linux.namespaces, none.linux.namespaces);
    assert.equal(spec.linux.sysctl, { 'net.ipv4.ping_group_range': '0 0' });
    assert.equal(spec.mounts, none.mounts, 'sysfs of its own, as with none');
    assert.equal({ ...spec, hooks: undefined }, { ...none, hooks: undefined });
  }
  assert.is(none.hooks, undefined);
  const parsed = buildSpec(undefined, baseOptions({ network: parseNetwork('slirp4netns:mtu=1500'), networkTools: TOOLS, seccomp: 'unconfined' }), HOST);
  assert.ok(parsed.hooks!.createRuntime![0]!.args!.includes('--mtu=1500'));
  // a parsed host network behaves as 'host'
  const host = buildSpec(undefined, baseOptions({ network: { mode: 'host' }, seccomp: 'unconfined' }), HOST);
  assert.not.ok(host.linux.namespaces.some((n) => n.type === 'network'));
  assert.ok(host.linux.maskedPaths!.includes('/sys/kernel'));
  // -p with none/host: ignored by the spec (the caller shows networkWarnings)
  assert.equal(buildSpec(undefined, baseOptions({ network: 'none', publish: [tcp(8080, 80)], seccomp: 'unconfined' }), HOST), none);
  // a missing tool fails the spec, one line
  throwsNetwork(() => buildSpec(undefined, baseOptions({ network: 'pasta', networkTools: { helper: '/h' } }), HOST), /^pasta not found/);
  // plain data
  const spec = buildSpec(undefined, baseOptions({ network: 'pasta', networkTools: TOOLS }), HOST);
  assert.equal(JSON.parse(JSON.stringify(spec)), spec);
});

test.run();
