// /etc/hosts, /etc/hostname and /etc/resolv.conf of a container, as podman 4.3 writes them for
// a rootless container (libpod createHosts/generateResolvConf, containers/common etchosts and
// resolvconf). The text functions are pure: what they need from the machine comes in as
// `EtcHostFacts` (readEtcHostFacts()). writeEtcFiles puts the files in a container directory
// and returns the bind mounts for the spec.
//
// /etc/hosts: --add-host entries, then the base file's entries (the host's /etc/hosts, podman
// 4.3's default base_hosts_file), then localhost (127.0.0.1 and ::1), host.containers.internal
// and the container's own address named by its hostname and name, each only with the names
// not already listed above. /etc/hostname: the hostname, no newline. /etc/resolv.conf: none
// with --network none or --dns none; else search/nameserver/options lines from the flags, the
// network's own DNS forwarder and the host's file (localhost servers dropped in a private
// network namespace).
import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { badInput as bad } from '@pkit/storage/errors';
import type { BindMount } from './spec.ts';

export type EtcNetworkMode = 'none' | 'host' | 'slirp4netns' | 'pasta';

/** slirp4netns' addresses with podman's default cidr 10.0.2.0/24. */
export const SLIRP4NETNS_CONTAINER_IP = '10.0.2.100';
export const SLIRP4NETNS_DNS = '10.0.2.3';
/** Used when no nameserver is left in a private network namespace (containers/common). */
const DEFAULT_DNS_V4 = ['8.8.8.8', '8.8.4.4'];
const DEFAULT_DNS_V6 = ['2001:4860:4860::8888', '2001:4860:4860::8844'];
/** A host resolv.conf with only this server is systemd-resolved's stub: its real file is used instead. */
const LOCAL_STUB_RESOLVERS = ['127.0.0.53'];
const HOST_CONTAINERS_INTERNAL = 'host.containers.internal';

/** What the files take from the machine (readEtcHostFacts). */
export interface EtcHostFacts {
  /** os.hostname(): the container's hostname with --network host. */
  hostname: string;
  /** The base hosts file's text: the host's /etc/hosts (podman 4.3's default), '' for none. */
  hosts: string;
  /** The host's /etc/resolv.conf text ('' when it has none). */
  resolvConf: string;
  /** systemd-resolved's /run/systemd/resolve/resolv.conf, used when the host's file only names its stub. */
  systemdResolvConf?: string;
  /** The host.containers.internal address: the host's first non-loopback IPv4 (else IPv6); none: no entry. */
  hostContainersInternalIp?: string;
}

export interface EtcFilesRequest {
  /** Container id: its first 12 characters are the default hostname. */
  id: string;
  name: string;
  /** --hostname. */
  hostname?: string;
  network: EtcNetworkMode;
  /**
   * The container's own address as its network set it up: the first one goes into /etc/hosts.
   * Default: slirp4netns 10.0.2.100, none 127.0.0.1, host and pasta none.
   */
  containerIps?: string[];
  /** The network's own DNS forwarder, listed before the host's servers. Default: slirp4netns 10.0.2.3. */
  networkNameservers?: string[];
  /** Whether the container has IPv6 (then the host's IPv6 nameservers are kept). Default false. */
  ipv6?: boolean;
  /** --add-host NAME:IP (validated by validateEtcRequest). */
  addHosts?: string[];
  /** --dns IP; ["none"]: no resolv.conf at all. */
  dns?: string[];
  /** --dns-search DOMAIN; "." clears the search list. */
  dnsSearch?: string[];
  /** --dns-option OPTION. */
  dnsOptions?: string[];
  /** --no-hosts: no /etc/hosts is made (the image's stays). */
  noHosts?: boolean;
}

const nonEmpty = (xs: string[] | undefined) => (xs ?? []).filter((x) => x !== '');


/** An IP address as Go's net.ParseIP takes it (no zone). */
function isIpAddress(s: string): boolean {
  return !s.includes('%') && isIP(s) !== 0;
}

/** `--add-host NAME:IP` (podman's check): the name up to the first ":", an IP after it. */
export function parseAddHost(value: string): { name: string; ip: string } {
  const colon = value.indexOf(':');
  if (colon <= 0) throw bad(`bad format for add-host: "${value}"`);
  const ip = value.slice(colon + 1);
  if (!isIpAddress(ip)) throw bad(`invalid IP address in add-host: "${ip}"`);
  return { name: value.slice(0, colon), ip };
}

// containers/common's domain check: labels of letters, digits and inner hyphens, a letter somewhere.
const DOMAIN_RE = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*\.?$/;

/** `--dns-search DOMAIN` ("." allowed: it clears the list). */
export function checkDnsSearch(value: string): void {
  if (value === '.') return;
  if (!/[a-zA-Z]/.test(value) || !DOMAIN_RE.test(value) || value.length >= 255) throw bad(`${value} is not a valid domain`);
}

/** Every flag of the request checked, with podman's messages; throws the first problem. */
export function validateEtcRequest(req: EtcFilesRequest): void {
  for (const h of req.addHosts ?? []) parseAddHost(h);
  const dns = nonEmpty(req.dns);
  for (const d of dns) {
    if (d === 'none' && dns.length === 1) continue;
    if (!isIpAddress(d)) throw bad(`${d} is not an ip address`);
  }
  for (const s of nonEmpty(req.dnsSearch)) checkDnsSearch(s);
  if (req.network === 'none' && (dns.length || nonEmpty(req.dnsSearch).length || nonEmpty(req.dnsOptions).length)) {
    throw bad('conflicting options: dns and the network mode: none');
  }
}

/** The container's hostname: --hostname, else the host's with --network host, else the id's first 12 characters. */
export function containerHostname(req: Pick<EtcFilesRequest, 'id' | 'hostname' | 'network'>, facts: Pick<EtcHostFacts, 'hostname'>): string {
  if (req.hostname) return req.hostname;
  return req.network === 'host' ? facts.hostname : req.id.slice(0, 12);
}

interface HostEntry {
  ip: string;
  names: string[];
}

/** Entries of a hosts file: comments dropped, lines without a name skipped. */
export function parseHostsText(text: string): HostEntry[] {
  const out: HostEntry[] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).split(/\s+/).filter(Boolean);
    if (fields.length >= 2) out.push({ ip: fields[0]!, names: fields.slice(1) });
  }
  return out;
}

function containerAddress(req: EtcFilesRequest): string | undefined {
  if (req.containerIps?.length) return req.containerIps[0];
  if (req.network === 'slirp4netns') return SLIRP4NETNS_CONTAINER_IP;
  if (req.network === 'none') return '127.0.0.1';
  return undefined;
}

/** /etc/hosts text. */
export function hostsFileText(req: EtcFilesRequest, facts: EtcHostFacts): string {
  const user: HostEntry[] = [
    ...(req.addHosts ?? []).map((h) => {
      const { name, ip } = parseAddHost(h);
      return { ip, names: [name] };
    }),
    ...parseHostsText(facts.hosts),
  ];
  const special: HostEntry[] = [
    { ip: '127.0.0.1', names: ['localhost'] },
    { ip: '::1', names: ['localhost'] },
  ];
  if (facts.hostContainersInternalIp) special.push({ ip: facts.hostContainersInternalIp, names: [HOST_CONTAINERS_INTERNAL] });
  const own = req.network === 'host' ? undefined : containerAddress(req);
  if (own !== undefined) special.push({ ip: own, names: [containerHostname(req, facts), req.name] });

  const taken = new Set(user.flatMap((e) => e.names));
  const line = (e: HostEntry) => `${e.ip}\t${e.names.join(' ')}\n`;
  let out = user.map(line).join('');
  for (const e of special) {
    const free = e.names.filter((n) => !taken.has(n));
    if (free.length) out += line({ ip: e.ip, names: free });
  }
  return out;
}

/** /etc/hostname text (podman 4.3 writes no newline). */
export function hostnameFileText(req: EtcFilesRequest, facts: EtcHostFacts): string {
  return containerHostname(req, facts);
}

interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** nameserver lines, and the last search and options lines, of a resolv.conf. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).trim().split(/\s+/).filter(Boolean);
    if (fields[0] === 'nameserver' && fields[1] !== undefined) out.nameservers.push(fields[1]);
    else if (fields[0] === 'search') out.search = fields.slice(1);
    else if (fields[0] === 'options') out.options = fields.slice(1);
  }
  return out;
}

const isLocalhostServer = (ns: string) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ns) || ns === '::1';

/** /etc/resolv.conf text, or undefined when the container gets none (--network none, --dns none). */
export function resolvConfText(req: EtcFilesRequest, facts: EtcHostFacts): string | undefined {
  const dns = nonEmpty(req.dns);
  if (req.network === 'none' || (dns.length === 1 && dns[0] === 'none')) return undefined;
  const searchFlags = nonEmpty(req.dnsSearch);
  const options = nonEmpty(req.dnsOptions);
  const search = searchFlags.includes('.') ? [] : searchFlags;

  let nameservers = dns;
  let keepHostServers = false;
  if (nameservers.length === 0) {
    keepHostServers = true;
    nameservers = req.networkNameservers ?? (req.network === 'slirp4netns' ? [SLIRP4NETNS_DNS] : []);
  }
  let host: ResolvConf = { nameservers: [], search: [], options: [] };
  if (keepHostServers || !searchFlags.length || !options.length) {
    const hostNetns = req.network === 'host';
    let text = facts.resolvConf;
    const listed = parseResolvConf(text).nameservers;
    if (!hostNetns && listed.length === 1 && LOCAL_STUB_RESOLVERS.includes(listed[0]!) && facts.systemdResolvConf !== undefined) {
      text = facts.systemdResolvConf;
    }
    host = parseResolvConf(text);
    if (!hostNetns) {
      // localhost is the container's own in its network namespace: the host's servers there are unreachable.
      let servers = host.nameservers.filter((ns) => !isLocalhostServer(ns));
      if (!req.ipv6) servers = servers.filter((ns) => !ns.includes(':'));
      if (servers.length === 0) servers = req.ipv6 ? [...DEFAULT_DNS_V4, ...DEFAULT_DNS_V6] : [...DEFAULT_DNS_V4];
      host.nameservers = servers;
    }
  }
  if (keepHostServers) nameservers = [...nameservers, ...host.nameservers];
  const finalSearch = searchFlags.length ? search : host.search;
  const finalOptions = options.length ? options : host.options;

  let out = '';
  if (finalSearch.length) out += `search ${finalSearch.join(' ')}\n`;
  for (const ns of nameservers) out += `nameserver ${ns}\n`;
  if (finalOptions.length) out += `options ${finalOptions.join(' ')}\n`;
  return out;
}

/** The host's first non-loopback IPv4 address, else IPv6 (podman's rootless host.containers.internal). */
export function hostContainersInternalIp(): string | undefined {
  let v6: string | undefined;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') return a.address;
      if (!a.address.toLowerCase().startsWith('fe80:')) v6 ??= a.address;
    }
  }
  return v6;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Reads what the files need from this machine. */
export function readEtcHostFacts(): EtcHostFacts {
  const systemd = readOr('/run/systemd/resolve/resolv.conf', '\0');
  const ip = hostContainersInternalIp();
  return {
    hostname: osHostname(),
    hosts: readOr('/etc/hosts', ''),
    resolvConf: readOr('/etc/resolv.conf', ''),
    ...(systemd !== '\0' ? { systemdResolvConf: systemd } : {}),
    ...(ip !== undefined ? { hostContainersInternalIp: ip } : {}),
  };
}

export interface WriteEtcFilesOptions {
  /** Default: readEtcHostFacts(). */
  facts?: EtcHostFacts;
  /** Destinations the user mounts something on (-v ...:/etc/hosts): those files are not made. */
  skip?: readonly string[];
}

/**
 * Validates the request, writes `hosts`, `hostname` and `resolv.conf` into `dir` (created if
 * needed, e.g. containers/<id>/userdata) and returns the bind mounts that put them on
 * /etc/hosts, /etc/hostname and /etc/resolv.conf (only those made).
 */
export async function writeEtcFiles(dir: string, req: EtcFilesRequest, opts: WriteEtcFilesOptions = {}): Promise<BindMount[]> {
  validateEtcRequest(req);
  const facts = opts.facts ?? readEtcHostFacts();
  const skip = new Set(opts.skip ?? []);
  const files: [string, string | undefined][] = [
    ['hosts', req.noHosts ? undefined : hostsFileText(req, facts)],
    ['hostname', hostnameFileText(req, facts)],
    ['resolv.conf', resolvConfText(req, facts)],
  ];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mounts: BindMount[] = [];
  for (const [file, text] of files) {
    const destination = `/etc/${file}`;
    if (text === undefined || skip.has(destination)) continue;
    const source = join(dir, file);
    await writeFile(source, text);
    // readable by every user of the container, whatever our umask
    await chmod(source, 0o644);
    mounts.push({ type: 'bind', source, destination });
  }
  return mounts;
}
