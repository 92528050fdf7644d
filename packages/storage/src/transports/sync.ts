// `pcopy sync`: many images from a registry repository or a directory tree of `dir:` images to a
// registry namespace or a directory, named as skopeo sync (1.9) names them. Two steps:
// `planSync` lists the (source, destination) pairs; `runSync` copies them one by one with the one
// copy routine (copyByReference).
//
// Naming (skopeo's):
// - `--src docker SOURCE`: SOURCE is `registry/repo[:tag|@digest]` (normalized as docker does:
//   `busybox` is docker.io/library/busybox). With a tag or digest, that image; without, every
//   tag of the repository, in the registry's order. Each image's "suffix" is its full reference,
//   `registry/repo:tag`.
// - `--src dir SOURCE`: SOURCE is a directory tree; every directory holding a `manifest.json`
//   is a `dir:` image (its subdirectories are not searched), its suffix is its path relative to
//   SOURCE; SOURCE itself may be an image (its suffix: its own last path component).
// - The destination is `DESTINATION/<last component of the suffix>`, or with `--scoped`
//   `DESTINATION/<suffix>`: `--src docker reg/ns/app` -> `DEST/app:1`, scoped
//   `DEST/reg/ns/app:1`; a dir image `SOURCE/a/app:1` -> `DEST/app:1`, scoped `DEST/a/app:1`.
//   A docker destination is a registry reference (an untagged name becomes :latest), a dir one
//   a path.
// - dir -> dir is refused (as skopeo: use rsync).
//
// Deviations from skopeo, on purpose:
// - Two images that would land on the same destination are refused before anything is copied
//   (skopeo copies both, and the second silently replaces the first): use --scoped.
// - An existing `dir:` destination is not refused (skopeo: "Refusing to overwrite destination
//   directory"), so a sync can be rerun: an image already there with the same manifest is
//   skipped, a different one replaced at commit (dir.ts).
// - Whether an image is already at the destination is checked for every pair (skopeo does it
//   inside the copy, "Skipping: image already present at destination"): the destination's
//   manifest digest (registry HEAD, or the dir's manifest.json) against the source's (HEAD, or
//   the index's entry for the platform the copy would take). Anything uncertain means: copy
//   (blobs already there are skipped by the copy anyway).
import { readdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Digest } from '../digest.ts';
import { StoreError, isErrno } from '../errors.ts';
import { INDEX_MEDIA_TYPES } from '../media-types.ts';
import { formatReference, parseReference, type Reference } from '../reference.ts';
import { currentPlatform, parseManifestBytes, selectPlatform, type PlatformSpec } from '../validate.ts';
import type { CopyOptions, CopyProgress, CopyResult } from './copy.ts';
import { isDockerSource, listTags as registryTags } from './docker.ts';
import { copyByReference, openSource, type CopyByReferenceOptions } from './index.ts';
import type { TransportOptions } from './types.ts';

export type SyncTransport = 'docker' | 'dir';
export const SYNC_SOURCE_TRANSPORTS: readonly SyncTransport[] = ['docker', 'dir'];
export const SYNC_DESTINATION_TRANSPORTS: readonly SyncTransport[] = ['docker', 'dir'];

/** One image to copy: both ends as full transport references (`docker://...`, `dir:...`). */
export interface SyncItem {
  source: string;
  destination: string;
}

export interface PlanSyncOptions {
  /** Transport of SOURCE (`--src`). */
  src: string;
  /** Transport of DESTINATION (`--dest`). */
  dest: string;
  /** Name each image with its full source path under DESTINATION (`--scoped`). */
  scoped?: boolean;
  /** Options to reach the source registry (tag listing). */
  srcOptions?: TransportOptions;
  /** Lists a repository's tags (`registry/repo`); default: the registry's tag list. */
  listTags?: (repository: string, opts: TransportOptions) => Promise<string[]>;
}

const CODE = 'PKIT_SYNC';

function syncError(message: string, code = CODE): StoreError {
  return new StoreError(message, code);
}

function checkTransport(which: 'source' | 'destination', t: string, allowed: readonly SyncTransport[]): SyncTransport {
  if (!(allowed as readonly string[]).includes(t)) {
    throw syncError(`"${t}" is not a valid ${which} transport for sync: use ${allowed.join(' or ')}`, 'PKIT_BAD_REFERENCE');
  }
  return t as SyncTransport;
}

/** A source image and the path that names it at the destination (before --scoped trimming). */
interface SourceImage {
  ref: string;
  suffix: string;
}

/**
 * The (source, destination) pairs a sync copies, in order: a repository's tags in the
 * registry's order, a directory tree's images in path order. Lists tags (docker) or walks the
 * tree (dir); copies nothing. Fails when nothing is found, or when two images would land on the
 * same destination.
 */
export async function planSync(source: string, destination: string, opts: PlanSyncOptions): Promise<SyncItem[]> {
  const src = checkTransport('source', opts.src, SYNC_SOURCE_TRANSPORTS);
  const dest = checkTransport('destination', opts.dest, SYNC_DESTINATION_TRANSPORTS);
  if (src === 'dir' && dest === 'dir') throw syncError("sync from 'dir' to 'dir' is not implemented: use rsync instead");
  if (source === '') throw syncError('sync: the SOURCE argument is empty', 'PKIT_BAD_REFERENCE');
  if (destination === '') throw syncError('sync: the DESTINATION argument is empty', 'PKIT_BAD_REFERENCE');
  const images = src === 'docker' ? await dockerImages(source, opts) : await dirImages(source);
  if (images.length === 0) throw syncError(`no images to sync found in "${source}"`, 'PKIT_NOT_FOUND');

  const items: SyncItem[] = [];
  const seen = new Map<string, string>();
  for (const img of images) {
    const suffix = opts.scoped ? img.suffix : posix.basename(img.suffix);
    const target = posix.join(destination, suffix);
    const to = dest === 'docker' ? `docker://${dockerDestination(target, img.ref)}` : `dir:${target}`;
    const key = dest === 'dir' ? `dir:${posix.normalize(target)}` : to;
    const other = seen.get(key);
    if (other !== undefined) {
      throw syncError(`${other} and ${img.ref} would both be copied to ${to}: use --scoped to keep their full paths`, 'PKIT_SYNC_CONFLICT');
    }
    seen.set(key, img.ref);
    items.push({ source: img.ref, destination: to });
  }
  return items;
}

function dockerDestination(target: string, from: string): string {
  try {
    return formatReference(parseReference(target));
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    throw syncError(`cannot name the destination of ${from}: ${err.message}`, 'PKIT_BAD_REFERENCE');
  }
}

async function dockerImages(source: string, opts: PlanSyncOptions): Promise<SourceImage[]> {
  const spec = source.replace(/^docker:\/\//, '');
  const ref = parseReference(spec, { defaultTag: false });
  const image = (r: Reference): SourceImage => {
    const name = formatReference(r);
    return { ref: `docker://${name}`, suffix: name };
  };
  if (ref.tag !== undefined || ref.digest !== undefined) return [image(ref)];
  const repo = `${ref.registry}/${ref.repository}`;
  const list = opts.listTags ?? registryTags;
  const tags = await list(repo, opts.srcOptions ?? {});
  const out: SourceImage[] = [];
  for (const tag of tags) {
    // A tag the reference grammar refuses cannot be named at either end: left out, as skopeo.
    let tagged: Reference;
    try {
      tagged = parseReference(`${repo}:${tag}`);
    } catch {
      continue;
    }
    out.push(image(tagged));
  }
  return out;
}

async function dirImages(source: string): Promise<SourceImage[]> {
  const st = await stat(source).catch((err: unknown) => {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw syncError(`invalid source directory "${source}": it does not exist`, 'PKIT_NOT_FOUND');
    throw err;
  });
  if (!st.isDirectory()) throw syncError(`invalid source directory "${source}": not a directory`, 'PKIT_BAD_REFERENCE');
  if (await hasManifest(source)) {
    return [{ ref: `dir:${source}`, suffix: posix.basename(posix.resolve(source)) }];
  }
  const out: SourceImage[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(posix.join(source, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (!e.isDirectory()) continue; // symbolic links are not followed, as filepath.WalkDir
      const sub = rel === '' ? e.name : `${rel}/${e.name}`;
      if (await hasManifest(posix.join(source, sub))) out.push({ ref: `dir:${posix.join(source, sub)}`, suffix: sub });
      else await walk(sub);
    }
  };
  await walk('');
  return out;
}

async function hasManifest(dir: string): Promise<boolean> {
  try {
    return !(await stat(posix.join(dir, 'manifest.json'))).isDirectory();
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Running a plan

export interface SyncEvents {
  /** Before image `index` (0-based) of `total` is looked at. */
  imageStart?(item: SyncItem, index: number, total: number): void;
  /** The destination already holds the image (same manifest digest): nothing copied. */
  imageSkipped?(item: SyncItem, index: number, total: number, digest: Digest): void;
  imageCopied?(item: SyncItem, index: number, total: number, result: CopyResult): void;
  imageFailed?(item: SyncItem, index: number, total: number, error: Error): void;
  /** Progress of the copy of one image (blobs, manifest); called once per copied image. */
  copyProgress?(item: SyncItem): CopyProgress | undefined;
}

export interface RunSyncOptions extends Omit<CopyOptions, 'progress'> {
  src?: TransportOptions;
  dst?: TransportOptions;
  /** Go on after an image fails (`--keep-going`); default: stop at the first failure. */
  keepGoing?: boolean;
  /** Skip an image whose destination has the same manifest already (default true). */
  skipExisting?: boolean;
  events?: SyncEvents;
  /** The copy of one image (tests); default copyByReference. */
  copy?: (src: string, dst: string, opts: CopyByReferenceOptions) => Promise<CopyResult>;
}

export type SyncOutcome = 'copied' | 'skipped' | 'failed' | 'not-attempted';

export interface SyncResult {
  item: SyncItem;
  outcome: SyncOutcome;
  /** The manifest digest now at the destination (copied or skipped). */
  digest?: Digest;
  error?: Error;
}

export interface SyncSummary {
  total: number;
  copied: number;
  skipped: number;
  failed: number;
  /** Images after a failure when the sync stopped there (no --keep-going). */
  notAttempted: number;
  /** Whether the sync stopped at a failed image (no --keep-going). */
  stopped: boolean;
  results: SyncResult[];
}

/**
 * Copies each pair of the plan in order. Never throws for an image that fails: it is recorded,
 * and the sync stops there unless `keepGoing`. Each copy is atomic at its destination
 * (copyByReference), so a failed or interrupted sync leaves every destination either as it was
 * or complete, and a rerun completes the rest.
 */
export async function runSync(plan: readonly SyncItem[], opts: RunSyncOptions = {}): Promise<SyncSummary> {
  const { src = {}, dst = {}, keepGoing = false, skipExisting = true, events = {}, copy = copyByReference, ...copyOpts } = opts;
  const results: SyncResult[] = [];
  const total = plan.length;
  let stopped = false;
  for (let i = 0; i < total; i++) {
    const item = plan[i]!;
    if (stopped) {
      results.push({ item, outcome: 'not-attempted' });
      continue;
    }
    events.imageStart?.(item, i, total);
    try {
      const present = skipExisting ? await alreadyThere(item, src, dst, copyOpts) : undefined;
      if (present !== undefined) {
        events.imageSkipped?.(item, i, total, present);
        results.push({ item, outcome: 'skipped', digest: present });
        continue;
      }
      const progress = events.copyProgress?.(item);
      const result = await copy(item.source, item.destination, { ...copyOpts, src, dst, ...(progress ? { progress } : {}) });
      events.imageCopied?.(item, i, total, result);
      results.push({ item, outcome: 'copied', digest: result.manifest.digest });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      events.imageFailed?.(item, i, total, error);
      results.push({ item, outcome: 'failed', error });
      if (!keepGoing) stopped = true;
    }
  }
  const count = (o: SyncOutcome) => results.filter((r) => r.outcome === o).length;
  return { total, copied: count('copied'), skipped: count('skipped'), failed: count('failed'), notAttempted: count('not-attempted'), stopped, results };
}

/**
 * The digest both ends share when the destination already holds what the copy would write;
 * undefined when it does not, or when that cannot be told cheaply (then the image is copied).
 */
async function alreadyThere(item: SyncItem, src: TransportOptions, dst: TransportOptions, opts: Omit<CopyOptions, 'progress'>): Promise<Digest | undefined> {
  // Conversions (--format) give the destination another digest: nothing to compare then.
  if (opts.format !== undefined || opts.compression !== undefined) return undefined;
  try {
    const there = await destinationDigest(item.destination, dst);
    if (there === undefined) return undefined;
    const wanted = await sourceDigest(item.source, src, opts);
    return wanted === there ? there : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest digest a reference names now; undefined when there is none. */
async function destinationDigest(ref: string, opts: TransportOptions): Promise<Digest | undefined> {
  if (ref.startsWith('dir:')) {
    // dir: destinations are probed through their source side, which reads manifest.json.
    try {
      const s = await openSource(ref, opts);
      try {
        return (await s.manifest()).digest;
      } finally {
        await s.close();
      }
    } catch (err) {
      if (err instanceof StoreError && err.code === 'PKIT_NOT_FOUND') return undefined;
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
  }
  const s = await openSource(ref, opts);
  try {
    if (!isDockerSource(s)) return undefined;
    const head = await s.client.headManifest(s.repository, s.ref.digest ?? s.ref.tag ?? 'latest');
    return head?.digest;
  } finally {
    await s.close();
  }
}

/**
 * The digest the copy would write: the top manifest's, or for an index without --all the
 * digest of the entry for the wanted platform.
 */
async function sourceDigest(ref: string, opts: TransportOptions, copyOpts: Omit<CopyOptions, 'progress'>): Promise<Digest | undefined> {
  const s = await openSource(ref, opts);
  try {
    let top: { digest?: Digest; mediaType: string } | undefined;
    if (isDockerSource(s)) top = await s.client.headManifest(s.repository, s.ref.digest ?? s.ref.tag ?? 'latest');
    if (top?.digest === undefined) top = await s.manifest();
    if (copyOpts.all || !INDEX_MEDIA_TYPES.includes(top.mediaType)) return top.digest;
    const m = await s.manifest();
    const parsed = parseManifestBytes(m.bytes, m.mediaType);
    if (parsed.kind !== 'index') return m.digest;
    const want = { ...currentPlatform(), ...definedOnly(copyOpts.platform ?? {}) } as PlatformSpec;
    return selectPlatform(parsed.value, want).digest;
  } finally {
    await s.close();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What went wrong with one image, naming it once (most errors name their image already). */
export function syncFailureMessage(item: SyncItem, error: Error | undefined): string {
  const message = error?.message ?? 'failed';
  return message.startsWith(item.source) ? message : `${item.source}: ${message}`;
}

/** One line that says what a sync did, for the end of its output. */
export function syncSummaryLine(s: SyncSummary): string {
  const synced = s.copied + s.skipped;
  const detail = `${s.copied} copied, ${s.skipped} already present`;
  if (s.failed === 0) return `Synced ${synced} of ${s.total} images (${detail})`;
  const failures = s.results.filter((r) => r.outcome === 'failed');
  if (s.stopped) {
    const f = failures[0]!;
    const rest = s.notAttempted > 0 ? `; ${s.notAttempted} not attempted (--keep-going goes on past a failed image)` : '';
    return `sync stopped at ${syncFailureMessage(f.item, f.error)} (${synced} of ${s.total} images synced: ${detail}${rest})`;
  }
  const which = failures.map((r) => r.item.source).join(', ');
  return `sync failed for ${s.failed} of ${s.total} images (${which}); ${synced} synced: ${detail}`;
}
