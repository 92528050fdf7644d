// Values inside instructions that have their own syntax: EXPOSE port specs, HEALTHCHECK
// durations (Go's time.ParseDuration), STOPSIGNAL names, tmpfs sizes. Each parser throws
// ValueError with a reason; the caller adds the place.
import { isIP } from 'node:net';

export class ValueError extends Error {}

// ---- EXPOSE ---------------------------------------------------------------------------------

function portNumber(s: string, what: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new ValueError(`invalid ${what} port "${s}": not a number`);
  const n = Number(s);
  if (n < 0 || n > 65535) throw new ValueError(`invalid ${what} port "${s}": out of range (0-65535)`);
  return n;
}

function portRange(s: string): [number, number] {
  if (s === '') throw new ValueError('empty port');
  const dash = s.indexOf('-', 1);
  const start = portNumber(dash < 0 ? s : s.slice(0, dash), 'start');
  if (dash < 0 || s.slice(0, dash) === s.slice(dash + 1)) return [start, start];
  const end = portNumber(s.slice(dash + 1), 'end');
  if (end < start) throw new ValueError(`invalid port range ${s}: the end is below the start`);
  return [start, end];
}

/**
 * One EXPOSE word as `port/proto` entries: `80`, `80/udp`, `8000-8002/tcp` (a range gives one
 * entry per port). buildkit also accepts (and warns about) `[ip:]host:container` forms; the
 * container part is what counts.
 */
export function parsePortSpec(raw: string): string[] {
  const parts = raw.split(':');
  let container = parts[parts.length - 1]!;
  const host = parts.length >= 2 ? parts[parts.length - 2]! : '';
  let ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const slash = container.indexOf('/');
  let proto = 'tcp';
  if (slash >= 0) {
    proto = container.slice(slash + 1).toLowerCase();
    container = container.slice(0, slash);
    if (proto === '') proto = 'tcp';
  }
  if (container === '') throw new ValueError(`invalid port "${raw}": no port given`);
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') {
    throw new ValueError(`invalid port "${raw}": unknown protocol "${proto}" (expected tcp, udp or sctp)`);
  }
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && isIP(ip) === 0) throw new ValueError(`invalid port "${raw}": invalid IP address ${ip}`);
  let start: number;
  let end: number;
  try {
    [start, end] = portRange(container);
  } catch (err) {
    throw new ValueError(`invalid port "${raw}": ${(err as Error).message}`);
  }
  if (host !== '') {
    try {
      const [hs, he] = portRange(host);
      if (he - hs !== end - start && end !== start) throw new ValueError(`ranges of different length: ${container} and ${host}`);
    } catch (err) {
      throw new ValueError(`invalid port "${raw}": ${(err as Error).message}`);
    }
  }
  if (end - start > 65535) throw new ValueError(`invalid port "${raw}"`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

// ---- HEALTHCHECK durations --------------------------------------------------------------------

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds: `1h30m`, `1.5s`, `300ms`, `0`. */
export function parseDuration(s: string): number {
  const bad = (): never => {
    throw new ValueError(`invalid duration "${s}" (expected a number with a unit, e.g. 30s, 1m30s, 500ms)`);
  };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (rest !== '') {
    const m = re.exec(rest)!;
    const [all, int = '', frac = '', unit = ''] = m;
    if ((int === '' && frac === '') || all === '') bad();
    if (unit === '') throw new ValueError(`invalid duration "${s}": missing unit (one of ns, us, ms, s, m, h)`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new ValueError(`invalid duration "${s}": unknown unit "${unit}" (one of ns, us, ms, s, m, h)`);
    total += Number(`${int || '0'}.${frac || '0'}`) * scale;
    rest = rest.slice(all.length);
  }
  if (total > 9223372036854775807) throw new ValueError(`invalid duration "${s}": too large`);
  return sign * Math.round(total);
}

// ---- STOPSIGNAL ---------------------------------------------------------------------------

const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'UNUSED', 'URG',
  'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
]);

/** A signal as STOPSIGNAL takes it: a name with or without SIG (any case), or a number. */
export function checkSignal(raw: string): void {
  if (/^[+-]?\d+$/.test(raw)) {
    if (Number(raw) !== 0) return;
  } else {
    const name = raw.toUpperCase().replace(/^SIG/, '');
    if (SIGNALS.has(name)) return;
    const rt = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
    if (rt && Number(rt[1]) >= 1 && Number(rt[1]) <= 15) return;
  }
  throw new ValueError(`invalid signal "${raw}" (expected a name like SIGTERM or a number)`);
}

// ---- sizes ------------------------------------------------------------------------------------

/** A memory size like docker's RAMInBytes: `64m`, `1g`, `512KiB`, `100` (bytes); 1k = 1024. */
export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(raw);
  if (!m) throw new ValueError(`invalid size "${raw}" (expected e.g. 64m, 1g, 512k)`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number.parseFloat(m[1]!) * mult);
}

/** Go's strconv.ParseBool. */
export function parseBool(raw: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  return undefined;
}
