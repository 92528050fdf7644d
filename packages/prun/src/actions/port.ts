// `prun port`: a container's published ports, from its record (meta(rec).ports: the
// PortMapping list of @pkit/runtime's network module that `-p` produced), printed as podman
// 4.3 does: "80/tcp -> 0.0.0.0:8080", a range one line per port, tcp before udp before sctp,
// by host port. Only running containers publish anything.
import type { PortMapping } from '@pkit/runtime/network';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { engine, findContainer, isRunning, listContainers, meta } from './containers.ts';

export interface PortRequest {
  root: string | undefined;
  container?: string;
  /** PORT or PORT/PROTO: print only the host address of that container port. */
  port?: string;
  all: boolean;
}

const PROTOCOL_ORDER = ['tcp', 'udp', 'sctp'];

/** The record's mappings, defaults filled in (hostIP '' = every address, range 1, tcp). */
export function containerPorts(rec: ContainerRecord): PortMapping[] {
  const raw = meta(rec).ports;
  const list = (Array.isArray(raw) ? raw : []) as Array<Partial<PortMapping> & { hostIp?: string }>;
  return list
    .filter((p) => p && Number.isInteger(p.hostPort) && Number.isInteger(p.containerPort))
    .map((p) => ({ hostIP: p.hostIP ?? p.hostIp ?? '', hostPort: p.hostPort!, containerPort: p.containerPort!, range: p.range ?? 1, protocol: p.protocol ?? 'tcp' }))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => PROTOCOL_ORDER.indexOf(a.p.protocol) - PROTOCOL_ORDER.indexOf(b.p.protocol) || a.p.hostPort - b.p.hostPort || a.i - b.i)
    .map(({ p }) => p);
}

/** "IP:PORT"; an IPv6 address without brackets, as podman 4.3 prints it ("::1:8080"). */
function hostAddress(p: PortMapping, offset: number): string {
  return `${p.hostIP || '0.0.0.0'}:${p.hostPort + offset}`;
}

/** Every port of every mapping: "80/tcp -> 0.0.0.0:8080". */
export function portLines(ports: PortMapping[]): string[] {
  const out: string[] = [];
  for (const p of ports) {
    for (let i = 0; i < p.range; i++) out.push(`${p.containerPort + i}/${p.protocol} -> ${hostAddress(p, i)}`);
  }
  return out;
}

/** `PORT[/PROTO]` -> the host address it is published on (undefined: not published). */
export function lookupPort(ports: PortMapping[], query: string): string | undefined {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(query);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) {
    throw new StoreError(`invalid port "${query}": expected PORT or PORT/PROTO, e.g. 80 or 53/udp`, 'PKIT_BAD_INPUT');
  }
  const port = Number(m[1]);
  const proto = m[2] ?? 'tcp';
  for (const p of ports) {
    if (p.protocol === proto && port >= p.containerPort && port < p.containerPort + p.range) {
      return hostAddress(p, port - p.containerPort);
    }
  }
  return undefined;
}

export async function portAction(req: PortRequest): Promise<string[]> {
  if (req.all && req.container !== undefined) throw new StoreError('no arguments are needed with --all', 'PKIT_BAD_INPUT');
  if (!req.all && req.container === undefined) throw new StoreError('you must supply a running container name or id', 'PKIT_BAD_INPUT');
  const store = Store.open({ root: req.root });
  try {
    const e = engine(store);
    if (req.all) {
      const running = (await listContainers(e)).filter(isRunning).sort((a, b) => b.created.localeCompare(a.created));
      return running.flatMap((rec) => portLines(containerPorts(rec)).map((l) => `${rec.id.slice(0, 12)}\t${l}`));
    }
    const rec = await findContainer(e, req.container!);
    const ports = isRunning(rec) ? containerPorts(rec) : [];
    if (req.port === undefined) return portLines(ports);
    const found = lookupPort(ports, req.port);
    if (found === undefined) throw new StoreError(`failed to find published port "${req.port}"`, 'PKIT_NOT_FOUND');
    return [found];
  } finally {
    store.close();
  }
}
