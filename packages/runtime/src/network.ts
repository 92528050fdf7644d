// Rootless container networking: podman's --network modes that pkit supports, -p publishing,
// and what a mode needs in the spec. none and host need nothing but the namespace choice;
// slirp4netns and pasta get a createRuntime hook, `pkit-runtime network-hook`
// (native/helper/nethook.c), that starts the tool on the container's network namespace before
// the container's process runs and stops it when the container's init exits.
// Everything here is pure except networkTools() and assignHostPorts(), which look at the host.
// The container's /etc/resolv.conf and /etc/hosts are etc-files.ts's: NetworkSetup says what
// the network adds to them.
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer, isIP } from 'node:net';
import { StoreError } from '@pkit/storage/errors';
import type { Hook, Hooks } from './oci-spec.ts';
import { HELPER_PATH, findInPath } from './run.ts';

/** A network error that names the problem and the fix (one line). */
export class NetworkError extends StoreError {
  override name = 'NetworkError';
  constructor(message: string) {
    super(message, 'PKIT_NETWORK');
  }
}

export type NetworkMode = 'none' | 'host' | 'slirp4netns' | 'pasta';
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** One `-p`: `range` consecutive host ports to as many container ports. */
export interface PortMapping {
  /** '' publishes on every address. */
  hostIP: string;
  /** The first host port; 0 until assignHostPorts() picked free ones (podman: random). */
  hostPort: number;
  containerPort: number;
  /** How many consecutive ports (1 for a single port). */
  range: number;
  protocol: PortProtocol;
}

/** `slirp4netns:OPTIONS` (podman's names); defaults as podman 4. */
export interface Slirp4netnsOptions {
  /** Reach the host's 127.0.0.1 through the gateway (10.0.2.2). Default false. */
  allowHostLoopback?: boolean;
  /** Default 65520. */
  mtu?: number;
  /** Default 10.0.2.0/24: the container is .100, the gateway .2, the DNS forwarder .3. */
  cidr?: string;
  /** Default true. */
  enableIPv6?: boolean;
  /** Outbound interface or IPv4 address. */
  outboundAddr?: string;
  /** Outbound interface or IPv6 address. */
  outboundAddr6?: string;
}

/** A parsed --network value. */
export interface NetworkConfig {
  mode: NetworkMode;
  /** mode slirp4netns: its options as given. */
  slirp4netns?: Slirp4netnsOptions;
  /** mode pasta: pasta(1) options as given (`pasta:--mtu,1500` -> ['--mtu', '1500']). */
  pastaOptions?: string[];
}

/** Where the programs of a user-mode network are (networkTools()). */
export interface NetworkTools {
  /** pkit-runtime: it runs as the createRuntime hook (`network-hook`), also under crun. */
  helper?: string;
  slirp4netns?: string;
  pasta?: string;
}

/**
 * What a network mode adds to the spec, and what the container's /etc files need from it
 * (etc-files.ts: networkNameservers, containerIps, ipv6).
 */
export interface NetworkSetup {
  mode: NetworkMode;
  /** A network namespace of its own (every mode but host). */
  privateNamespace: boolean;
  /** The createRuntime hook starting slirp4netns or pasta. */
  hooks?: Hooks;
  /** The network's own DNS forwarder, first in resolv.conf: slirp4netns 10.0.2.3 (cidr + 3), pasta 169.254.1.1. */
  nameservers?: string[];
  /** The container's address when the network fixes it in advance: slirp4netns 10.0.2.100 (cidr + 100). */
  containerIps?: string[];
  /** Whether the container gets IPv6 (the host's IPv6 nameservers are kept then). */
  ipv6: boolean;
}

/** podman's message when -p meets a mode without its own network. */
export const PORTS_DISCARDED = 'Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use';

/** The hook's time limit (seconds): slirp4netns and pasta are ready in milliseconds. */
export const NETWORK_HOOK_TIMEOUT = 30;
/** pasta's DNS forwarder as podman configures it (--dns-forward). */
export const PASTA_DNS_FORWARD = '169.254.1.1';
const SLIRP_DEFAULT_CIDR = '10.0.2.0/24';
const SLIRP_DEFAULT_MTU = 65520;

// ---- --network ------------------------------------------------------------------------

const SLIRP_KEYS: Record<string, keyof Slirp4netnsOptions | 'port_handler'> = {
  allow_host_loopback: 'allowHostLoopback',
  mtu: 'mtu',
  cidr: 'cidr',
  enable_ipv6: 'enableIPv6',
  outbound_addr: 'outboundAddr',
  outbound_addr6: 'outboundAddr6',
  port_handler: 'port_handler',
};

function parseBool(key: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new NetworkError(`invalid value of ${key} for slirp4netns: "${value}" (true or false)`);
}

/** "10.0.2.0/24" -> its network address as a number and prefix length; undefined when invalid. */
function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 30 || prefix < 1) return undefined;
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function parseSlirpOptions(text: string): Slirp4netnsOptions {
  const out: Slirp4netnsOptions = {};
  for (const item of text.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    const field = SLIRP_KEYS[key];
    if (!field || value === undefined) {
      throw new NetworkError(`unknown option for slirp4netns: "${item}" (allow_host_loopback, mtu, cidr, enable_ipv6, outbound_addr, outbound_addr6, port_handler)`);
    }
    switch (field) {
      case 'allowHostLoopback':
      case 'enableIPv6':
        out[field] = parseBool(key, value);
        break;
      case 'mtu': {
        const n = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(n >= 68 && n <= 65521)) throw new NetworkError(`invalid mtu "${value}" (68 to 65521)`);
        out.mtu = n;
        break;
      }
      case 'cidr':
        if (!parseCidr(value)) throw new NetworkError(`invalid cidr "${value}" (an IPv4 network such as 10.0.2.0/24)`);
        out.cidr = value;
        break;
      case 'outboundAddr':
      case 'outboundAddr6':
        if (value === '' || /[\s,]/.test(value)) throw new NetworkError(`invalid ${key} "${value}" (an interface name or an address)`);
        if (isIP(value) !== 0 && isIP(value) !== (field === 'outboundAddr' ? 4 : 6)) {
          throw new NetworkError(`invalid ${key} "${value}": expected an IPv${field === 'outboundAddr' ? 4 : 6} address or an interface`);
        }
        out[field] = value;
        break;
      case 'port_handler':
        // podman's default, rootlesskit, is a separate forwarder pkit does not have;
        // slirp4netns publishes the ports itself (and keeps the source address).
        if (value === 'rootlesskit') {
          throw new NetworkError('port_handler=rootlesskit is not available in pkit: ports are published by slirp4netns itself (port_handler=slirp4netns)');
        }
        if (value !== 'slirp4netns') throw new NetworkError(`unknown port_handler for slirp4netns: "${value}" (slirp4netns)`);
        break;
    }
  }
  return out;
}

/** pasta options that network-hook sets itself. */
const PASTA_RESERVED = new Set(['-f', '--foreground', '-P', '--pid', '--netns', '--userns', '--netns-only', '-h', '--help', '--version']);

function parsePastaOptions(text: string): string[] {
  const opts = text.split(',').filter((o) => o !== '');
  for (const o of opts) {
    const name = o.startsWith('--') ? o.split('=')[0]! : o;
    if (PASTA_RESERVED.has(name)) throw new NetworkError(`pasta option ${name} is set by pkit itself: leave it out of --network pasta:...`);
  }
  return opts;
}

/**
 * Parses a --network value: none, host, slirp4netns[:OPTIONS], pasta[:OPTIONS], and private
 * (a network namespace of its own: `privateMode`, podman 4 rootless: slirp4netns).
 */
export function parseNetwork(value: string, privateMode: 'slirp4netns' | 'pasta' = 'slirp4netns'): NetworkConfig {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const options = colon < 0 ? undefined : value.slice(colon + 1);
  switch (name) {
    case 'none':
    case 'host':
    case 'private':
      if (options !== undefined && options !== '') throw new NetworkError(`invalid option for network ${name}: "${options}" (it takes none)`);
      return { mode: name === 'private' ? privateMode : name };
    case 'slirp4netns': {
      const slirp = parseSlirpOptions(options ?? '');
      return Object.keys(slirp).length ? { mode: 'slirp4netns', slirp4netns: slirp } : { mode: 'slirp4netns' };
    }
    case 'pasta': {
      const opts = parsePastaOptions(options ?? '');
      return opts.length ? { mode: 'pasta', pastaOptions: opts } : { mode: 'pasta' };
    }
    case 'bridge':
      throw new NetworkError('--network bridge is not available rootless in pkit: use slirp4netns or pasta');
    case 'container':
    case 'ns':
      throw new NetworkError(`--network ${name}:... is not supported by pkit yet: use none, host, slirp4netns or pasta`);
    default:
      throw new NetworkError(`unknown network "${value}": use none, host, private, slirp4netns[:OPTIONS] or pasta[:OPTIONS]`);
  }
}

/** The mode of a RunOptions.network value (default none). */
export function networkMode(network: NetworkMode | NetworkConfig | undefined): NetworkMode {
  if (network === undefined) return 'none';
  return typeof network === 'string' ? network : network.mode;
}

// ---- -p -----------------------------------------------------------------------------------

function parsePortRange(text: string, what: 'host' | 'container'): { start: number; count: number } {
  const fail = (why: string): never => {
    throw new NetworkError(`parsing ${what} port: ${why}`);
  };
  const number = (s: string): number => {
    if (!/^\d+$/.test(s)) fail(`invalid port number "${s}"`);
    const n = Number(s);
    if (n < 1 || n > 65535) fail(`port numbers must be between 1 and 65535 (inclusive), got ${n}`);
    return n;
  };
  const dash = text.indexOf('-');
  if (dash < 0) return { start: number(text), count: 1 };
  const start = number(text.slice(0, dash));
  const end = number(text.slice(dash + 1));
  if (end <= start) fail(`the end port of a range must be higher than the start port - ${end} is not higher than ${start}`);
  return { start, count: end - start + 1 };
}

/**
 * Parses one `-p [[ip:][hostPort]:]containerPort[/protocol]` (podman's syntax: ranges such as
 * `8080-8081:80-81`, IPv6 host addresses in brackets, protocol tcp (default), udp or sctp).
 * An omitted host port gives hostPort 0: assignHostPorts() picks free ones.
 */
export function parsePublish(spec: string): PortMapping {
  try {
    let rest = spec;
    let protocol: PortProtocol = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      const p = rest.slice(slash + 1).toLowerCase();
      if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new NetworkError(`unrecognized protocol "${rest.slice(slash + 1)}" in port mapping (tcp, udp)`);
      protocol = p;
      rest = rest.slice(0, slash);
    }
    let hostIP = '';
    let fields: string[];
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0 || rest[close + 1] !== ':') throw new NetworkError('invalid port format - format is [[hostIP:]hostPort:]containerPort');
      hostIP = rest.slice(1, close);
      if (isIP(hostIP) !== 6) throw new NetworkError(`cannot parse "${hostIP}" as an IPv6 address`);
      fields = rest.slice(close + 2).split(':');
      if (fields.length !== 2) throw new NetworkError('invalid port format - format is [[hostIP:]hostPort:]containerPort');
      fields.unshift(hostIP);
    } else {
      fields = rest.split(':');
    }
    let hostPort = '';
    let containerPort: string;
    if (fields.length === 1) containerPort = fields[0]!;
    else if (fields.length === 2) [hostPort, containerPort] = fields as [string, string];
    else if (fields.length === 3) [hostIP, hostPort, containerPort] = fields as [string, string, string];
    else throw new NetworkError('invalid port format - format is [[hostIP:]hostPort:]containerPort');
    if (hostIP !== '' && isIP(hostIP) === 0) throw new NetworkError(`cannot parse "${hostIP}" as an IP address`);
    if (hostIP === '0.0.0.0') hostIP = ''; // podman: 0.0.0.0 is every address
    if (containerPort === '') throw new NetworkError('must provide a non-empty container port to publish');
    const ctr = parsePortRange(containerPort, 'container');
    const host = hostPort === '' ? { start: 0, count: ctr.count } : parsePortRange(hostPort, 'host');
    if (host.count !== ctr.count) throw new NetworkError(`host and container port ranges have different lengths: ${host.count} vs ${ctr.count}`);
    return { hostIP, hostPort: host.start, containerPort: ctr.start, range: ctr.count, protocol };
  } catch (err) {
    if (err instanceof NetworkError) throw new NetworkError(`-p ${spec}: ${err.message}`);
    throw err;
  }
}

function sameScope(a: string, b: string): boolean {
  return a === '' || b === '' || a === b;
}

/**
 * Checks a -p list: identical entries are merged (as podman), host ports given twice for the
 * same protocol and address are an error. Returns the merged list.
 */
export function checkPublish(ports: PortMapping[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of ports) {
    if (out.some((q) => q.hostIP === p.hostIP && q.hostPort === p.hostPort && q.containerPort === p.containerPort && q.range === p.range && q.protocol === p.protocol)) continue;
    if (p.hostPort !== 0) {
      for (const q of out) {
        if (q.hostPort === 0 || q.protocol !== p.protocol || !sameScope(q.hostIP, p.hostIP)) continue;
        const lo = Math.max(p.hostPort, q.hostPort);
        const hi = Math.min(p.hostPort + p.range, q.hostPort + q.range) - 1;
        if (lo <= hi) throw new NetworkError(`conflicting port mappings for host port ${lo} (protocol ${p.protocol})`);
      }
    }
    out.push({ ...p });
  }
  return out;
}

/** podman ps style: `0.0.0.0:8080-8081->80-81/tcp, 127.0.0.1:9000->90/udp`. */
export function formatPorts(ports: PortMapping[]): string {
  const span = (start: number, n: number) => (n > 1 ? `${start}-${start + n - 1}` : `${start}`);
  return ports
    .map((p) => {
      const ip = p.hostIP === '' ? '0.0.0.0' : isIP(p.hostIP) === 6 ? `[${p.hostIP}]` : p.hostIP;
      return `${ip}:${span(p.hostPort, p.range)}->${span(p.containerPort, p.range)}/${p.protocol}`;
    })
    .join(', ');
}

/** One line for the user when publishing makes no sense in this mode (podman warns and goes on). */
export function networkWarnings(network: NetworkMode | NetworkConfig | undefined, publish: PortMapping[] | undefined): string[] {
  const mode = networkMode(network);
  return publish?.length && (mode === 'none' || mode === 'host') ? [PORTS_DISCARDED] : [];
}

type Closer = () => void;

// node:dgram is loaded by assignHostPorts only: spec generation (which imports this module) never needs it.
let createSocket: typeof import('node:dgram').createSocket;

function tryBind(protocol: 'tcp' | 'udp', host: string, port: number): Promise<Closer | undefined> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
      s.once('error', () => { s.close(); resolve(undefined); });
      s.bind({ port, address: host, exclusive: true }, () => resolve(() => s.close()));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host, exclusive: true }, () => resolve(() => srv.close()));
  });
}

function boundPort(protocol: 'tcp' | 'udp', host: string): Promise<{ port: number; close: Closer } | undefined> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      s.once('error', () => { s.close(); resolve(undefined); });
      s.bind({ port: 0, address: host, exclusive: true }, () => resolve({ port: s.address().port, close: () => s.close() }));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const a = srv.address();
      resolve(a && typeof a === 'object' ? { port: a.port, close: () => srv.close() } : undefined);
    });
  });
}

/**
 * Gives every mapping without a host port (hostPort 0) free host ports, as podman does when
 * the container is created: the kernel's pick for the first, the following ones checked free.
 * The ports are held until all are chosen, so two mappings never get the same one.
 */
export async function assignHostPorts(ports: PortMapping[]): Promise<PortMapping[]> {
  if (ports.some((p) => p.hostPort === 0 && p.protocol === 'udp')) createSocket ??= (await import('node:dgram')).createSocket;
  const held: Closer[] = [];
  try {
    const out: PortMapping[] = [];
    for (const p of ports) {
      if (p.hostPort !== 0) {
        out.push({ ...p });
        continue;
      }
      const proto = p.protocol === 'udp' ? 'udp' : 'tcp';
      const host = p.hostIP === '' ? '0.0.0.0' : p.hostIP;
      let chosen: number | undefined;
      for (let attempt = 0; attempt < 20 && chosen === undefined; attempt++) {
        const first = await boundPort(proto, host);
        if (!first) throw new NetworkError(`-p ${p.containerPort}/${p.protocol}: cannot bind a ${proto} port on ${host}: is it an address of this host?`);
        const mine = [first.close];
        let ok = first.port + p.range - 1 <= 65535;
        for (let k = 1; ok && k < p.range; k++) {
          const c = await tryBind(proto, host, first.port + k);
          if (c) mine.push(c);
          else ok = false;
        }
        if (ok) {
          chosen = first.port;
          held.push(...mine);
        } else {
          for (const c of mine) c();
        }
      }
      if (chosen === undefined) throw new NetworkError(`cannot find ${p.range} free consecutive host ports for ${p.containerPort}/${p.protocol}: give the host ports with -p`);
      out.push({ ...p, hostPort: chosen });
    }
    return out;
  } finally {
    for (const c of held) c();
  }
}

// ---- the tools ----------------------------------------------------------------------------

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds slirp4netns and pasta on $PATH and pkit-runtime (the hook) where it is built. */
export function networkTools(opts: { helper?: string; env?: NodeJS.ProcessEnv } = {}): NetworkTools {
  const path = (opts.env ?? process.env).PATH ?? '';
  const helper = opts.helper ?? HELPER_PATH;
  const tools: NetworkTools = {};
  if (executable(helper)) tools.helper = helper;
  const slirp = findInPath('slirp4netns', path);
  if (slirp) tools.slirp4netns = slirp;
  const pasta = findInPath('pasta', path);
  if (pasta) tools.pasta = pasta;
  return tools;
}

// ---- the spec -----------------------------------------------------------------------------

/** podman 4's slirp4netns arguments (network-hook adds -c, -e, -r, --api-socket, PID, tap0). */
export function slirp4netnsArgs(o: Slirp4netnsOptions = {}): string[] {
  const args: string[] = [];
  if (!o.allowHostLoopback) args.push('--disable-host-loopback');
  args.push(`--mtu=${o.mtu ?? SLIRP_DEFAULT_MTU}`, '--enable-sandbox', '--enable-seccomp');
  if (o.enableIPv6 !== false) args.push('--enable-ipv6');
  if (o.cidr) args.push(`--cidr=${o.cidr}`);
  if (o.outboundAddr) args.push(`--outbound-addr=${o.outboundAddr}`);
  if (o.outboundAddr6) args.push(`--outbound-addr6=${o.outboundAddr6}`);
  return args;
}

function hasOption(opts: string[], short: string, long: string): boolean {
  return opts.some((o) => o === short || o === long || o.startsWith(`${long}=`) || (o.startsWith(short) && o.length > short.length && !o.startsWith('--')));
}

/** The value of a pasta option given as `--opt value` or `--opt=value`. */
function optionValue(opts: string[], long: string): string | undefined {
  for (let i = 0; i < opts.length; i++) {
    if (opts[i] === long) return opts[i + 1];
    if (opts[i]!.startsWith(`${long}=`)) return opts[i]!.slice(long.length + 1);
  }
  return undefined;
}

/**
 * podman 5's pasta arguments: --config-net; -t/-u per published port, else `-t none`/`-u none`
 * (no automatic forwarding), `-T none -U none` unless given; --dns-forward 169.254.1.1 unless
 * given; --no-map-gw unless `--map-gw` (podman's pseudo-option, removed here); --quiet.
 * (podman >= 5.3 also passes --map-guest-addr, which the installed pasta (2023-03) lacks.)
 */
export function pastaArgs(options: string[] = [], publish: PortMapping[] = []): string[] {
  const user = options.filter((o) => o !== '--map-gw');
  const args = ['--config-net'];
  const ports: string[] = [];
  for (const p of publish) {
    const addr = p.hostIP === '' ? '' : `${p.hostIP}/`;
    ports.push(p.protocol === 'udp' ? '-u' : '-t', `${addr}${p.hostPort}-${p.hostPort + p.range - 1}:${p.containerPort}-${p.containerPort + p.range - 1}`);
  }
  args.push(...ports);
  if (!publish.some((p) => p.protocol === 'tcp') && !hasOption(user, '-t', '--tcp-ports')) args.push('-t', 'none');
  if (!publish.some((p) => p.protocol === 'udp') && !hasOption(user, '-u', '--udp-ports')) args.push('-u', 'none');
  if (!hasOption(user, '-T', '--tcp-ns')) args.push('-T', 'none');
  if (!hasOption(user, '-U', '--udp-ns')) args.push('-U', 'none');
  if (optionValue(user, '--dns-forward') === undefined) args.push('--dns-forward', PASTA_DNS_FORWARD);
  if (!options.includes('--map-gw') && !user.includes('--no-map-gw')) args.push('--no-map-gw');
  if (!hasOption(user, '-q', '--quiet') && !hasOption(user, '-d', '--debug')) args.push('--quiet');
  return [...args, ...user];
}

function publishArg(p: PortMapping): string {
  return `${p.protocol},${p.hostIP},${p.hostPort},${p.containerPort},${p.range}`;
}

function checkPublishable(mode: 'slirp4netns' | 'pasta', ports: PortMapping[]): void {
  for (const p of ports) {
    const shown = formatPorts([p]);
    if (p.hostPort === 0) throw new NetworkError(`publish ${shown}: no host port chosen yet (assignHostPorts)`);
    if (p.protocol === 'sctp') throw new NetworkError(`publish ${shown}: sctp ports cannot be published rootless (${mode} forwards tcp and udp)`);
    if (mode === 'slirp4netns' && isIP(p.hostIP) === 6) throw new NetworkError(`publish ${shown}: slirp4netns publishes on IPv4 addresses only: use --network pasta`);
  }
}

function missing(tool: 'slirp4netns' | 'pasta'): NetworkError {
  const pkg = tool === 'pasta' ? 'passt' : 'slirp4netns';
  const other = tool === 'pasta' ? 'slirp4netns' : 'pasta';
  return new NetworkError(`${tool} not found: install the ${pkg} package, or use --network ${other} or none`);
}

function hook(tools: NetworkTools, tool: 'slirp4netns' | 'pasta', publish: PortMapping[], args: string[]): Hooks {
  const path = tools[tool];
  if (!path) throw missing(tool);
  if (!tools.helper) throw new NetworkError(`--network ${tool} needs pkit-runtime (its network hook): build it with pnpm install`);
  const h: Hook = {
    path: tools.helper,
    args: ['pkit-runtime', 'network-hook', tool, ...publish.flatMap((p) => ['--publish', publishArg(p)]), '--', path, ...args],
    timeout: NETWORK_HOOK_TIMEOUT,
  };
  return { createRuntime: [h] };
}

/**
 * What the spec needs for a network: the namespace choice, for slirp4netns and pasta the
 * createRuntime hook (with the ports to publish), and the network's own nameserver.
 * Throws a one-line NetworkError for a missing tool or a port the mode cannot publish.
 * With none or host, publish is ignored (see networkWarnings).
 */
export function networkSetup(network: NetworkMode | NetworkConfig | undefined, publish: PortMapping[] = [], tools: NetworkTools = {}): NetworkSetup {
  const config: NetworkConfig = typeof network === 'object' ? network : { mode: network ?? 'none' };
  switch (config.mode) {
    case 'none':
      return { mode: 'none', privateNamespace: true, ipv6: false };
    case 'host':
      return { mode: 'host', privateNamespace: false, ipv6: true };
    case 'slirp4netns': {
      const ports = checkPublish(publish);
      checkPublishable('slirp4netns', ports);
      const o = config.slirp4netns ?? {};
      const cidr = parseCidr(o.cidr ?? SLIRP_DEFAULT_CIDR);
      if (!cidr) throw new NetworkError(`invalid cidr "${o.cidr}"`);
      return {
        mode: 'slirp4netns',
        privateNamespace: true,
        hooks: hook(tools, 'slirp4netns', ports, slirp4netnsArgs(o)),
        nameservers: [ipv4(cidr.base + 3)],
        containerIps: [ipv4(cidr.base + 100)],
        ipv6: o.enableIPv6 !== false,
      };
    }
    case 'pasta': {
      const ports = checkPublish(publish);
      checkPublishable('pasta', ports);
      const user = config.pastaOptions ?? [];
      const args = pastaArgs(user, ports);
      return {
        mode: 'pasta',
        privateNamespace: true,
        hooks: hook(tools, 'pasta', ports, args),
        nameservers: [optionValue(args, '--dns-forward') ?? PASTA_DNS_FORWARD],
        ipv6: !hasOption(user, '-4', '--ipv4-only'),
      };
    }
  }
}
