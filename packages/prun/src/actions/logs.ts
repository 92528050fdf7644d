// `prun logs`: the container's k8s-file log (containers/<id>/ctr.log), written by the monitor
// for detached containers and by `prun run` for foreground ones.
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { followLog, readLog, type LogRecord } from '@pkit/runtime/detached';
import { engine, findContainer, isRunning, logPath, waitStopped } from './containers.ts';

export interface LogsRequest {
  root: string | undefined;
  container: string;
  follow: boolean;
  tail: number;
  timestamps: boolean;
  since?: string;
  until?: string;
}

/** --since/--until: RFC 3339, Unix seconds (with fraction), or a duration before now (10m, 1h30m, 45s). */
export function parseTime(value: string, flag: string, now = Date.now()): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(v);
  if (dur && v !== '') {
    const [, h, m, s, ms] = dur;
    return now - ((Number(h ?? 0) * 60 + Number(m ?? 0)) * 60 + Number(s ?? 0)) * 1000 - Number(ms ?? 0);
  }
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  throw new StoreError(`${flag} ${value}: expected an RFC 3339 time, Unix seconds, or a duration such as 10m`, 'PKIT_BAD_INPUT');
}

function writeRecord(r: LogRecord, timestamps: boolean, atLineStart: { stdout: boolean; stderr: boolean }): void {
  const out = r.stream === 'stdout' ? process.stdout : process.stderr;
  const prefix = timestamps && atLineStart[r.stream] ? `${r.time} ` : '';
  out.write(`${prefix}${r.text}${r.partial ? '' : '\n'}`);
  atLineStart[r.stream] = !r.partial;
}

export async function logsAction(req: LogsRequest): Promise<void> {
  const since = req.since !== undefined ? parseTime(req.since, '--since') : undefined;
  const until = req.until !== undefined ? parseTime(req.until, '--until') : undefined;
  const store = Store.open({ root: req.root });
  try {
    const e = engine(store);
    const rec = await findContainer(e, req.container);
    const path = logPath(e, rec.id);
    const inRange = (r: LogRecord) => {
      const t = Date.parse(r.time);
      return (since === undefined || t >= since) && (until === undefined || t <= until);
    };
    const atLineStart = { stdout: true, stderr: true };
    // --tail counts whole lines: a line is its P records and the F that ends it.
    const all: LogRecord[] = [];
    let total = 0;
    for await (const r of readLog(path)) {
      total++;
      if (inRange(r)) all.push(r);
    }
    const lines: LogRecord[][] = [];
    let cur: LogRecord[] = [];
    for (const r of all) {
      cur.push(r);
      if (!r.partial) { lines.push(cur); cur = []; }
    }
    if (cur.length) lines.push(cur);
    const shown = req.tail >= 0 ? lines.slice(Math.max(0, lines.length - req.tail)) : lines;
    for (const r of shown.flat()) writeRecord(r, req.timestamps, atLineStart);
    if (!req.follow || !isRunning(rec)) return;
    // Follow: everything after what was printed, until the container stops.
    const stopped = waitStopped(e, rec);
    let skip = total;
    for await (const r of followLog(path, stopped)) {
      if (skip > 0) { skip--; continue; }
      if (inRange(r)) writeRecord(r, req.timestamps, atLineStart);
    }
  } finally {
    store.close();
  }
}
