// What the `prun volume` commands share: podman's JSON shape and table for volumes, --label and
// --opt parsing, a store that can remove data of subordinate owners, and the prune prompt.
import { createInterface } from 'node:readline';
import { StoreError, type Store, type Volume } from '@pkit/storage';

/** `KEY=VALUE` or `KEY` (empty value) pairs; the value may hold "=" (podman's labels and opts). */
export function parseKeyValues(values: string[], what: 'label' | 'option'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === '') throw new StoreError(`invalid ${what} format: "${v}": expected KEY=VALUE or KEY`, 'PKIT_BAD_INPUT');
    out[key] = eq === -1 ? '' : v.slice(eq + 1);
  }
  return out;
}

/** A volume as `podman volume inspect` shows it (fields in podman's order). */
export function inspectJson(v: Volume): Record<string, unknown> {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.created,
    Labels: v.labels,
    Scope: 'local',
    Options: v.options,
    ...(v.anonymous ? { Anonymous: true } : {}),
    MountCount: 0,
    ...(v.needsCopyUp ? { NeedsCopyUp: true } : {}),
    ...(v.needsChown ? { NeedsChown: true } : {}),
  };
}

/** A value as Go's text/template prints it (maps as map[k:v ...], keys sorted). */
function goValue(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, x]) => `${k}:${goValue(x)}`).join(' ')}]`;
  }
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  return String(v ?? '<no value>');
}

const HEADERS: Record<string, string> = { Name: 'VOLUME NAME', Driver: 'DRIVER', Mountpoint: 'MOUNTPOINT', CreatedAt: 'CREATED AT', Labels: 'LABELS', Scope: 'SCOPE', Options: 'OPTIONS' };

/** The heading line of a `table ...` template: each field by its column name. */
export function templateHeading(format: string): string | undefined {
  if (!/^table\s+/.test(format)) return undefined;
  return format
    .replace(/^table\s+/, '')
    .replaceAll('\\t', '\t')
    .replaceAll('\\n', '\n')
    .replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, f: string) => HEADERS[f] ?? f.toUpperCase());
}

/** `--format '{{.Name}}\t{{.Driver}}'`: fields of the inspect object; \t and \n as podman. */
export function renderTemplate(format: string, obj: Record<string, unknown>): string {
  const body = format.replace(/^table\s+/, '').replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  return body.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, field: string) => {
    if (!(field in obj) && !['Anonymous', 'NeedsCopyUp', 'NeedsChown'].includes(field)) {
      throw new StoreError(`template: can't evaluate field ${field} in the volume (fields: ${Object.keys(obj).join(', ')})`, 'PKIT_BAD_INPUT');
    }
    return goValue(obj[field] ?? false);
  });
}

/** podman's table: left-aligned columns at least 12 wide with 2 spaces of padding; '' for no volumes. */
export function volumeTable(volumes: readonly Volume[], heading: boolean): string {
  if (volumes.length === 0) return '';
  const rows = volumes.map((v) => [v.driver, v.name]);
  if (heading) rows.unshift(['DRIVER', 'VOLUME NAME']);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([d, n]) => `${d!.padEnd(Math.max(12, width + 2))}${n}`).join('\n');
}

/**
 * The store for removing volumes: data a container wrote may belong to subordinate ids, so the
 * tree remover runs as root of the user namespace when the helper and a subordinate range are there.
 */
export async function openVolumeStore(root: string | undefined): Promise<Store> {
  const { Store } = await import('@pkit/storage');
  const { rootlessStoreHooks } = await import('@pkit/runtime/store-hooks');
  const { helperPath } = await import('./containers.ts');
  let treeRemover;
  try {
    treeRemover = rootlessStoreHooks({ helper: helperPath() }).treeRemover;
  } catch {
    treeRemover = undefined; // no helper built: removal in this process
  }
  return Store.open({ root, ...(treeRemover ? { treeRemover } : {}) });
}

/** Asks on stdout (as podman), reads one line of stdin; yes only for y/yes. */
export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
  }
}
