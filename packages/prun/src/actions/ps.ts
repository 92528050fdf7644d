// `prun ps`: the containers as podman lists them: a table, JSON, or a Go template per row;
// --filter name=, id=, status=, label=, ancestor=, exited= (several keys must all match; several
// values of one key, any of them).
import { type ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { humanAge } from '@pkit/storage/human';
import { Store } from '@pkit/storage/store';
import { compileTemplate, isTemplate } from '@pkit/cli-common/go-template';
import { readContainerSpec } from '@pkit/runtime/bundle';
import { formatPorts, type PortMapping } from '@pkit/runtime/network';
import { engine, listContainers, meta } from './containers.ts';

export interface PsRequest {
  root: string | undefined;
  all: boolean;
  quiet: boolean;
  format?: string;
  noTrunc: boolean;
  noHeading: boolean;
  filters: string[];
  last?: number;
  latest: boolean;
}

interface Row {
  c: ContainerRecord;
  command: string[];
  exitCode: number;
}

function status(c: ContainerRecord, exitCode: number): string {
  const m = meta(c);
  const age = (t: string | undefined) => humanAge(new Date(t ?? c.created));
  if (c.state === 'running') return `Up ${age(m.startedAt)}`;
  if (c.state === 'created') return 'Created';
  if (c.state === 'paused') return 'Paused';
  return `Exited (${exitCode}) ${age(m.finishedAt)}`;
}

/** "0.0.0.0:8080->80/tcp, ..." as podman's PORTS column. */
function portsText(c: ContainerRecord): string {
  return formatPorts((meta(c).ports ?? []) as PortMapping[]);
}

/** The parsed --filter values, checked before anything is read. */
function parseFilters(values: string[]): Map<string, string[]> {
  const keys = ['name', 'id', 'status', 'label', 'ancestor', 'exited'];
  const out = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq > 0 ? v.slice(0, eq) : '';
    if (!keys.includes(key)) throw new StoreError(`invalid filter "${v}": use one of ${keys.map((k) => `${k}=`).join(', ')}`, 'PKIT_BAD_INPUT');
    out.set(key, [...(out.get(key) ?? []), v.slice(eq + 1)]);
  }
  return out;
}

function matches(r: Row, filters: Map<string, string[]>): boolean {
  const { c } = r;
  const labels = meta(c).labels ?? {};
  const test: Record<string, (v: string) => boolean> = {
    name: (v) => new RegExp(v).test(c.name),
    id: (v) => c.id.startsWith(v),
    status: (v) => (v === 'stopped' ? c.state === 'exited' : c.state === v),
    label: (v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
    },
    ancestor: (v) => c.imageName === v || c.image.slice(7).startsWith(v) || c.imageName.split(':')[0] === v,
    exited: (v) => c.state === 'exited' && r.exitCode === Number(v),
  };
  for (const [key, values] of filters) if (!values.some((v) => test[key]!(v))) return false;
  return true;
}

/** Left-aligned columns with 2 spaces of padding, as podman's tabwriter output. */
export function formatTable(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('').trimEnd()).join('\n');
}

export async function psAction(req: PsRequest): Promise<string> {
  const filters = parseFilters(req.filters);
  let render: ((d: unknown) => string) | undefined;
  if (req.format !== undefined && req.format !== 'json' && req.format !== 'table') {
    if (!isTemplate(req.format)) throw new StoreError(`unknown --format "${req.format}": use json, table, or a Go template such as {{.Names}}`, 'PKIT_BAD_INPUT');
    render = compileTemplate(req.format.replace(/^table\s+/, ''));
  }
  const store = Store.open({ root: req.root });
  let rows: Row[];
  try {
    const all = await listContainers(engine(store));
    let shown = req.all || filters.size || req.latest || req.last !== undefined ? all : all.filter((c) => c.state === 'running');
    if (req.latest) shown = shown.slice(-1);
    if (req.last !== undefined) shown = shown.slice(-req.last);
    rows = await Promise.all(
      shown.map(async (c) => {
        // The command as run: the bundle's process.args (image defaults applied).
        let command: string[] = meta(c).command ?? [];
        if (!command.length) {
          try {
            const args = readContainerSpec(store, c.id).process?.args;
            if (Array.isArray(args)) command = args;
          } catch {
            // no bundle (yet): no command shown
          }
        }
        return { c, command, exitCode: meta(c).exitCode ?? 0 };
      }),
    );
  } finally {
    store.close();
  }
  rows = rows.filter((r) => matches(r, filters));
  const id = (full: string) => (req.noTrunc ? full : full.slice(0, 12));
  if (req.format === 'json') {
    return JSON.stringify(
      rows.map(({ c, command, exitCode }) => ({
        AutoRemove: meta(c).autoRemove === true,
        Command: command,
        CreatedAt: humanAge(new Date(c.created)),
        Exited: c.state === 'exited' || c.state === 'stopped',
        ExitedAt: meta(c).finishedAt ? Math.floor(Date.parse(meta(c).finishedAt!) / 1000) : -62135596800,
        ExitCode: exitCode,
        Id: c.id,
        Image: c.imageName,
        ImageID: c.image.slice('sha256:'.length),
        Labels: meta(c).labels ?? null,
        Mounts: [],
        Names: [c.name],
        Pid: c.state === 'running' ? (meta(c).pid ?? 0) : 0,
        Ports: null,
        StartedAt: meta(c).startedAt ? Math.floor(Date.parse(meta(c).startedAt!) / 1000) : 0,
        State: c.state,
        Status: status(c, exitCode),
        Created: Math.floor(new Date(c.created).getTime() / 1000),
      })),
      null,
      4,
    );
  }
  if (req.quiet) return rows.map((r) => id(r.c.id)).join('\n');
  if (render) {
    return rows
      .map(({ c, command, exitCode }) =>
        render({
          ID: id(c.id),
          Names: c.name,
          Image: c.imageName,
          ImageID: c.image.slice('sha256:'.length),
          Command: command.join(' '),
          CreatedAt: c.created,
          CreatedHuman: humanAge(new Date(c.created)),
          RunningFor: humanAge(new Date(c.created)),
          Status: status(c, exitCode),
          State: status(c, exitCode), // podman 4.3's template State is the status text
          ExitCode: exitCode,
          Ports: portsText(c),
          Labels: meta(c).labels ?? {},
          Pid: c.state === 'running' ? (meta(c).pid ?? 0) : 0,
        }),
      )
      .join('\n');
  }
  const table = rows.map(({ c, command, exitCode }) => {
    const cmd = command.join(' ');
    return [id(c.id), c.imageName, req.noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 17)}...`, humanAge(new Date(c.created)), status(c, exitCode), portsText(c), c.name];
  });
  const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
  return formatTable(req.noHeading ? table : [header, ...table]);
}
