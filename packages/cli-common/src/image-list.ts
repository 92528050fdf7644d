// What `prun images` and `pbuild images` share: choosing the images to show (--filter, podman's
// name matching) and one row per name, split into repository and tag. Each CLI prints the rows
// in its anchor's table, JSON and template shapes.
import { StoreError } from '@pkit/storage/errors';
import { lookupCandidates } from '@pkit/storage/image-lookup';
import { splitRepoTag, type ImageSummary } from '@pkit/storage/image-list';

/** podman's IMAGE argument: a name without a tag lists every tag of that repository. */
export function imagesNamed(images: ImageSummary[], query: string): ImageSummary[] {
  const tagged = /:[^/]*$/.test(query) || query.includes('@');
  const key = (n: string) => (tagged ? n : splitRepoTag(n)[0]);
  const wanted = lookupCandidates(query).map(key);
  return images.filter((i) => i.names.some((n) => wanted.includes(key(n)) || n === query));
}

/** `--filter` (repeatable): dangling=true|false, reference=PATTERN (`*` within a path part, `?`). */
export function filterImages(images: ImageSummary[], filters: readonly string[]): ImageSummary[] {
  let out = images;
  for (const f of filters) {
    const eq = f.indexOf('=');
    const [key, value] = eq === -1 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)];
    if (key === 'dangling') out = out.filter((i) => (i.names.length === 0) === (value === 'true'));
    else if (key === 'reference') {
      // podman matches the pattern against the name, with and without its registry
      const re = new RegExp(`^${value.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
      const hit = (n: string) => [n, splitRepoTag(n)[0]].some((x) => re.test(x) || re.test(x.replace(/^[^/]*\//, '')));
      out = out.map((i) => ({ ...i, names: i.names.filter(hit) })).filter((i) => i.names.length > 0);
    } else throw new StoreError(`invalid filter "${f}": use dangling=true|false or reference=PATTERN`, 'PKIT_BAD_INPUT');
  }
  return out;
}

export interface ImageRow {
  repository: string;
  tag: string;
  image: ImageSummary;
}

/** One row per name; an unnamed image is one `<none>` `<none>` row. */
export function imageRows(images: ImageSummary[]): ImageRow[] {
  return images.flatMap((image) =>
    image.names.length === 0
      ? [{ repository: '<none>', tag: '<none>', image }]
      : image.names.map((n) => {
          const [repository, tag] = splitRepoTag(n);
          return { repository, tag, image };
        }),
  );
}

/**
 * Intermediate images (podman and buildah hide them unless --all): unnamed ones another image
 * was built on (its `parent`, or layers that extend this one's).
 */
export function intermediates(records: readonly ImageSummary[]): Set<string> {
  const out = new Set<string>();
  for (const x of records) {
    if (x.names.length) continue;
    const child = records.find(
      (y) => y.id !== x.id && (y.parent === x.id || (y.layers.length > x.layers.length && x.layers.every((l, n) => y.layers[n] === l))),
    );
    if (child) out.add(x.id);
  }
  return out;
}
