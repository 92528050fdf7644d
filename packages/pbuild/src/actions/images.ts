// `pbuild images`: the store's images in buildah's shapes (table, --json, -q, Go templates). The
// choice of images and the rows per name are prun's too (@pkit/cli-common/image-list); what
// differs is buildah's: IMAGE resolves to one image shown with all its names, intermediate
// images (unnamed, with a child) are hidden unless --all, tables are padded by 3.
import { BUILDAH_TABLE, alignColumns } from '@pkit/cli-common/table';
import { filterImages, imageRows, intermediates, type ImageRow } from '@pkit/cli-common/image-list';
import { compileTemplate } from '@pkit/cli-common/go-template';
import { StoreError } from '@pkit/storage/errors';
import { humanAge, humanSize } from '@pkit/storage/human';
import { listImages, type ImageSummary } from '@pkit/storage/image-list';
import { findImage } from '@pkit/storage/image-lookup';
import { Store } from '@pkit/storage/store';

export interface ImagesRequest {
  root?: string | undefined;
  image?: string | undefined;
  all: boolean;
  digests: boolean;
  filters: string[];
  format?: string | undefined;
  json: boolean;
  noTrunc: boolean;
  noHeading: boolean;
  quiet: boolean;
}

/** The lines to print. */
export async function imagesOutput(req: ImagesRequest): Promise<string[]> {
  const store = Store.open({ root: req.root });
  let images: ImageSummary[];
  try {
    images = await listImages(store);
    if (req.image !== undefined) {
      const id = (await findImage(store, req.image)).id;
      images = images.filter((i) => i.id === id);
    } else if (!req.all) {
      const hidden = intermediates(images);
      images = images.filter((i) => !hidden.has(i.id));
    }
  } finally {
    store.close();
  }
  images = filterImages(images, req.filters);
  const id = (i: ImageSummary) => (req.noTrunc ? i.id : i.id.slice(7, 19));

  if (req.json || req.format === 'json') return [JSON.stringify(images.map((i) => jsonEntry(i, id(i))), null, 4)];
  if (req.format !== undefined && req.format !== 'table') return templateLines(req.format, imageRows(images), id);
  if (req.quiet) return [...new Set(images.map(id))];
  const header = ['REPOSITORY', 'TAG', ...(req.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  const rows = imageRows(images).map(({ repository, tag, image: i }) => [repository, tag, ...(req.digests ? [i.digest] : []), id(i), humanAge(new Date(i.created)), humanSize(i.size)]);
  const table = alignColumns(req.noHeading ? rows : [header, ...rows], BUILDAH_TABLE);
  return table ? [table] : [];
}

function jsonEntry(i: ImageSummary, id: string) {
  return {
    id,
    names: i.names.length ? i.names : null,
    digest: i.digest,
    createdat: humanAge(new Date(i.created)),
    size: humanSize(i.size),
    created: Math.floor(new Date(i.created).getTime() / 1000),
    createdatraw: i.created,
    readonly: false,
    history: null,
  };
}

const HEADINGS: Record<string, string> = { Name: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Digest: 'DIGEST', CreatedAt: 'CREATED', Created: 'CREATED', CreatedAtRaw: 'CREATED AT', Size: 'SIZE', ReadOnly: 'READ ONLY', History: 'HISTORY' };

/** A Go template per name; "table ..." adds headings. Tabs align into columns, as buildah's writer. */
function templateLines(format: string, rows: ImageRow[], id: (i: ImageSummary) => string): string[] {
  if (!format.includes('{{')) throw new StoreError(`unknown --format "${format}": use json or a Go template such as {{.Name}}:{{.Tag}}`, 'PKIT_BAD_INPUT');
  const table = /^table\s/.test(format);
  // In a table, the space between two fields separates columns.
  const body = table ? format.replace(/^table\s+/, '').replace(/\}\}[ \t]+\{\{/g, '}}\t{{') : format;
  let render: (data: unknown) => string;
  try {
    render = compileTemplate(body);
  } catch (err) {
    throw new StoreError(`bad --format template: ${(err as Error).message}`, 'PKIT_BAD_INPUT');
  }
  const lines = rows.map(({ repository, tag, image: i }) =>
    render({
      Name: repository,
      Tag: tag,
      ID: id(i),
      Digest: i.digest,
      CreatedAt: humanAge(new Date(i.created)),
      Created: Math.floor(new Date(i.created).getTime() / 1000),
      CreatedAtRaw: goTime(i.created),
      Size: humanSize(i.size),
      ReadOnly: false,
      History: '',
    }),
  );
  if (table) lines.unshift(render(new Proxy({}, { get: (_, k) => (typeof k === 'string' ? (HEADINGS[k] ?? k.toUpperCase()) : undefined), has: () => true })));
  const text = lines.join('\n');
  return text.includes('\t') ? [alignColumns(text.split('\n').map((l) => l.split('\t')), BUILDAH_TABLE)] : lines;
}

/** An RFC 3339 time as Go's time.String prints it: "2026-11-22 07:28:54.76739506 +0000 UTC". */
function goTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4]!.replace(':', '')} ${m[4]!.replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac} ${zone}`;
}
