// `pbuild containers`: buildah's listing of working containers, and with --all prun's containers
// too (BUILDER empty). Shapes as buildah 1.28 prints them: a fixed-width table (IDs cut to 12,
// image names to 32 unless --notruncate), --json, -q (full IDs), and Go templates in which
// each space separates columns ("table ..." adds headings).
import { BUILDAH_TABLE, alignColumns } from '@pkit/cli-common/table';
import { compileTemplate } from '@pkit/cli-common/go-template';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { isWorking } from './working.ts';

export interface ContainersRequest {
  root?: string | undefined;
  all: boolean;
  filters: string[];
  format?: string | undefined;
  json: boolean;
  noHeading: boolean;
  noTruncate: boolean;
  quiet: boolean;
}

interface Row {
  ContainerID: string;
  Builder: boolean;
  ImageID: string;
  ImageName: string;
  ContainerName: string;
}

/** The lines to print. */
export async function containersOutput(req: ContainersRequest): Promise<string[]> {
  if (req.quiet && req.format !== undefined) throw new StoreError('quiet and format are mutually exclusive', 'PKIT_USAGE');
  const keep = parseFilters(req.filters);
  const rows = (await listRows(req.root, req.all)).filter(keep);
  if (req.json) {
    // buildah prints null for no containers
    return [JSON.stringify(rows.length ? rows.map((r) => ({ id: r.ContainerID, builder: r.Builder, imageid: r.ImageID, imagename: r.ImageName, containername: r.ContainerName })) : null, null, 4)];
  }
  if (req.quiet) return rows.map((r) => r.ContainerID);
  if (req.format !== undefined) return templateLines(req.format, rows, req.noHeading);
  const lines = rows.map((r) => tableLine(r, req.noTruncate));
  if (!req.noHeading) lines.unshift(tableLine({ ContainerID: 'CONTAINER ID', Builder: 'BUILDER', ImageID: 'IMAGE ID', ImageName: 'IMAGE NAME', ContainerName: 'CONTAINER NAME' }, req.noTruncate, true));
  return lines;
}

async function listRows(root: string | undefined, all: boolean): Promise<Row[]> {
  const store = Store.open({ root });
  try {
    const names = await store.images.names();
    const rows: Row[] = [];
    for (const c of await store.containers.list()) {
      if (!all && !isWorking(c)) continue;
      rows.push({ ContainerID: c.id, Builder: isWorking(c), ImageID: c.image.slice('sha256:'.length), ImageName: imageName(c, names), ContainerName: c.name });
    }
    return rows;
  } finally {
    store.close();
  }
}

/** The image's name the container was made by when it still has it, else its first name (buildah shows the image's). */
function imageName(c: ContainerRecord, names: Array<{ name: string; id: string }>): string {
  const own = names.filter((n) => n.id === c.image).map((n) => n.name).sort();
  return own.find((n) => n === c.imageName || n.endsWith(`/${c.imageName}`) || n.endsWith(`/${c.imageName}:latest`)) ?? own[0] ?? '';
}

/** buildah's fixed columns: "%-12s  %-8v %-12s %-32s %s", or 64-wide IDs with --notruncate. */
function tableLine(r: Row | Record<keyof Row, string>, noTruncate: boolean, heading = false): string {
  const idWidth = noTruncate ? 64 : 12;
  const id = heading || noTruncate ? String(r.ContainerID) : String(r.ContainerID).slice(0, 12);
  const image = heading || noTruncate ? String(r.ImageID) : String(r.ImageID).slice(0, 12);
  const name = String(r.ImageName);
  const shown = heading || noTruncate || name.length <= 32 ? name : `${name.slice(0, 29)}...`;
  const builder = heading ? 'BUILDER' : r.Builder === true ? '   *' : '';
  return `${id.padEnd(idWidth)}${noTruncate ? ' ' : '  '}${builder.padEnd(8)} ${image.padEnd(idWidth)} ${shown.padEnd(32)} ${r.ContainerName}`;
}

const HEADINGS: Record<string, string> = { ContainerID: 'CONTAINER ID', Builder: 'BUILDER', ImageID: 'IMAGE ID', ImageName: 'IMAGE NAME', ContainerName: 'CONTAINER NAME' };

/** A Go template per container; as buildah's, every space of the template separates columns. */
function templateLines(format: string, rows: Row[], noHeading: boolean): string[] {
  const table = /^table(\s|$)/.test(format);
  // spaces between actions become column breaks; those inside an action stay
  const body = (table ? format.replace(/^table\s*/, '') : format).split(/(\{\{.*?\}\})/).map((part, i) => (i % 2 ? part : part.replace(/ /g, '\t'))).join('');
  const render = compileTemplate(body);
  const lines = rows.map((r) => render({ ...r, Builder: r.Builder ? '   *' : '' }));
  if (table && !noHeading) lines.unshift(render(new Proxy({}, { get: (_, k) => (typeof k === 'string' ? (HEADINGS[k] ?? k.toUpperCase()) : undefined), has: () => true })));
  const text = lines.join('\n');
  return text.includes('\t') ? [alignColumns(text.split('\n').map((l) => l.split('\t')), BUILDAH_TABLE)] : lines;
}

/** buildah's filters: id (prefix), name (substring), ancestor (image ID prefix or name); all must match. */
function parseFilters(filters: readonly string[]): (r: Row) => boolean {
  const tests = filters.map((f) => {
    const eq = f.indexOf('=');
    const key = eq === -1 ? f : f.slice(0, eq);
    const value = eq === -1 ? '' : f.slice(eq + 1);
    switch (key) {
      case 'id':
        return (r: Row) => r.ContainerID.startsWith(value);
      case 'name':
        return (r: Row) => r.ContainerName.includes(value);
      case 'ancestor':
        return (r: Row) => r.ImageID.startsWith(value.replace(/^sha256:/, '')) || matchesReference(r.ImageName, value);
      default:
        throw new StoreError(`invalid filter "${key}": use id=, name= or ancestor=`, 'PKIT_BAD_INPUT');
    }
  });
  return (r) => tests.every((t) => t(r));
}

/** buildah's ancestor match: the repository ends with the given one, and the tags are equal when one is given. */
function matchesReference(name: string, arg: string): boolean {
  if (name === '' || arg === '') return arg === '';
  const [repo, tag] = splitTag(name);
  const [argRepo, argTag] = splitTag(arg);
  return repo.endsWith(argRepo) && (argTag === undefined || argTag === tag);
}

function splitTag(ref: string): [string, string | undefined] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}
