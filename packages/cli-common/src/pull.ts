// Pulling (`prun pull`, and base images in `pbuild build`): an image from a registry (short names resolved through registries.conf, as
// podman does) or from another transport (oci-archive:, docker-archive:, oci:, dir:, docker://)
// into the local store. The copy streams every layer into the store, several at once, and the
// store unpacks them in order while later ones still download; blobs already stored are not
// fetched again, so a second pull of the same image moves only its manifest.
import {
  Store,
  StoreError,
  formatReference,
  isBlocked,
  listTags,
  loadRegistriesConf,
  localImageName,
  openSource,
  parseReference,
  resolveShortName,
  splitReference,
  transportOptions,
  type Digest,
  type ImageSource,
  type RegistriesConf,
  type Reference,
  type TransportOptions,
} from '@pkit/storage';
import { copyIntoStore, podmanProgress, recordedNames, tryName } from './image-transfer.ts';

export interface PullRequest {
  root?: string | undefined;
  image: string;
  quiet: boolean;
  allTags?: boolean;
  tlsVerify?: boolean | undefined;
  creds?: string | undefined;
  authfile?: string | undefined;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** Transports a pull accepts besides plain registry references (as podman pull). */
const TRANSPORT_PREFIXES = ['docker://', 'oci-archive:', 'docker-archive:', 'oci:', 'dir:'];

/** Pulls; returns the id of each image stored (one, or one per tag with allTags). */
/**
 * `openStore` opens the store the layers go into: the CLIs pass one with @pkit/runtime's rootless
 * hooks, so the files keep their owners.
 */
export async function pullImages(req: PullRequest, openStore: (root: string | undefined) => Store): Promise<Digest[]> {
  const opts = transportOptions({ creds: req.creds, authfile: req.authfile, tlsVerify: req.tlsVerify, platform: req.platform });
  const store = openStore(req.root);
  try {
    const transport = TRANSPORT_PREFIXES.find((p) => req.image.startsWith(p));
    if (transport !== undefined && transport !== 'docker://') {
      if (req.allTags) throw new StoreError(`--all-tags works with registry references only, not ${transport}`, 'PKIT_BAD_INPUT');
      return [await pullFromTransport(store, req, opts)];
    }
    const conf = loadRegistriesConf();
    const candidates = transport === 'docker://' ? dockerTransportRef(req.image) : resolveCandidates(conf, req.image, req.quiet);
    if (req.allTags) return await pullAllTags(store, req, opts, conf, candidates);
    return [await pullFirst(store, req, opts, conf, candidates)];
  } finally {
    store.close();
  }
}

/** The fully-qualified references to try, in order. */
interface Candidates {
  refs: Reference[];
  /** The short name as typed, when the refs come from its alias or the search registries. */
  shortName?: string;
}

function dockerTransportRef(image: string): Candidates {
  const spec = image.slice('docker://'.length);
  return { refs: [parseReference(spec)] };
}

/** The references to try for what the user typed: itself, its alias, or one per search registry. */
function resolveCandidates(conf: RegistriesConf, image: string, quiet: boolean): Candidates {
  const raw = splitReference(image);
  if (raw.registry !== undefined) return { refs: [parseReference(image)] };
  const resolved = resolveShortName(conf, image);
  const refs = resolved.map((c) => parseReference(c.reference));
  const first = resolved[0]!;
  const say = (s: string) => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  if (first.source.kind === 'alias') {
    say(`Resolved "${first.source.alias}" as an alias (${first.source.file})`);
    return { refs, shortName: image };
  }
  const where = first.source.kind === 'search' ? (first.source.file ?? conf.mainPath) : conf.mainPath;
  if (conf.shortNameMode === 'enforcing' && refs.length > 1) {
    // podman would prompt on a terminal; prun never prompts and says what the choices are.
    throw new StoreError(
      `short name "${image}" is ambiguous: it may be ${refs.map((r) => formatReference(r)).join(' or ')} (short-name-mode "enforcing" in ${where}): pull by the full name or add an alias to registries.conf`,
      'PKIT_SHORT_NAME',
    );
  }
  say(`Resolving "${raw.repository}" using unqualified-search registries (${where})`);
  return { refs, shortName: image };
}

/** Tries each candidate in order; the first that pulls wins. */
async function pullFirst(store: Store, req: PullRequest, opts: TransportOptions, conf: RegistriesConf, c: Candidates): Promise<Digest> {
  const failures: { ref: string; err: StoreError }[] = [];
  for (const ref of c.refs) {
    const shown = formatReference(ref);
    try {
      return await pullReference(store, ref, req, opts, conf);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      failures.push({ ref: shown, err });
    }
  }
  if (c.shortName === undefined && failures.length === 1) throw failures[0]!.err;
  // Each failure names its reference already ("host/repo:tag: manifest unknown"): keep the rest.
  const tried = failures.map((f) => `${f.ref} (${f.err.message.replace(new RegExp(`^.*?${escape(f.ref)}:? `), '')})`).join(', ');
  throw new StoreError(`image "${c.shortName ?? req.image}" could not be pulled: tried ${tried}`, failures.at(-1)!.err.code);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One registry reference into the store, named as pulled (a digest-only pull: repo@digest). */
async function pullReference(store: Store, ref: Reference, req: PullRequest, opts: TransportOptions, conf: RegistriesConf): Promise<Digest> {
  const shown = formatReference(ref);
  if (isBlocked(conf, shown)) throw new StoreError(`${shown}: the registry is blocked in registries.conf`, 'PKIT_BLOCKED');
  const progress = podmanProgress(req.quiet);
  progress.line(`Trying to pull ${shown}...`);
  const src = await openSource(`docker://${shown}`, opts);
  try {
    await src.manifest(); // fetched once (the source keeps it): an unknown image fails before any progress line
    progress.begin();
    const name = ref.digest !== undefined ? formatReference({ registry: ref.registry, repository: ref.repository, digest: ref.digest }) : shown;
    const id = await copyIntoStore(store, src, [name], { progress, ...(req.platform ? { platform: req.platform } : {}) });
    progress.signatures();
    return id;
  } finally {
    await src.close();
  }
}

/** Every tag of the repository (`--all-tags`): the first candidate whose tags can be listed. */
async function pullAllTags(store: Store, req: PullRequest, opts: TransportOptions, conf: RegistriesConf, c: Candidates): Promise<Digest[]> {
  const raw = splitReference(req.image.replace(/^docker:\/\//, ''));
  if (raw.tag !== undefined || raw.digest !== undefined) throw new StoreError(`--all-tags takes a repository without a tag or digest, not "${req.image}"`, 'PKIT_BAD_INPUT');
  const failures: string[] = [];
  for (const ref of c.refs) {
    const repo = formatReference({ registry: ref.registry, repository: ref.repository });
    let tags: string[];
    try {
      tags = await listTags(repo, opts);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      failures.push(`${repo} (${err.message})`);
      continue;
    }
    const ids: Digest[] = [];
    for (const tag of tags) ids.push(await pullReference(store, { ...ref, tag }, req, opts, conf));
    return ids;
  }
  throw new StoreError(`cannot list the tags of "${req.image}": tried ${failures.join(', ')}`, 'PKIT_NOT_FOUND');
}

/** oci-archive:, docker-archive:, oci:, dir: — named as podman names them. */
async function pullFromTransport(store: Store, req: PullRequest, opts: TransportOptions): Promise<Digest> {
  const src: ImageSource = await openSource(req.image, opts);
  try {
    const progress = podmanProgress(req.quiet);
    progress.begin();
    const id = await copyIntoStore(store, src, await pulledNames(req.image, src), { progress, ...(req.platform ? { platform: req.platform } : {}) });
    progress.signatures();
    return id;
  } finally {
    await src.close();
  }
}

/**
 * podman's names for a pull from another transport: an OCI layout directory gives
 * localhost/<its path>, an archive the names it records, dir: none.
 */
async function pulledNames(image: string, src: ImageSource): Promise<string[]> {
  if (image.startsWith('oci:')) {
    const path = image.slice('oci:'.length).split(':')[0]!.replace(/^\/+/, '');
    const name = tryName(() => localImageName(`localhost/${path}`));
    return name === undefined ? [] : [name];
  }
  if (image.startsWith('dir:')) return [];
  return recordedNames(src);
}
