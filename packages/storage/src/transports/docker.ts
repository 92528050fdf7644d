// The docker transport, `docker://host/repo[:tag][@digest]`: an image in a registry, through
// the distribution-spec client (registry/client.ts).
//
// Destination contract, on top of types.ts:
// - Blobs and child manifests land in the repository as they are put (a registry has no
//   staging area; they are content-addressed and unnamed, so nothing is visible by tag before
//   `commit`). `close` without `commit` has nothing to remove.
// - `hasBlob` first tries a cross-repository mount when the source is a docker source on the
//   same registry and another repository, then a HEAD.
// - `commit` PUTs the top manifest by tag, or by digest when the reference has only a digest.
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.ts';
import { StoreError } from '../errors.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../media-types.ts';
import type { Descriptor } from '../oci-types.ts';
import { formatReference, parseReference, type Reference } from '../reference.ts';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.ts';
import { RegistryError } from '../registry/errors.ts';
import type { BlobToPut, ImageDestination, ImageSource, ManifestBlob, StoredBlob, TransportOptions } from './types.ts';

/** Manifest types a registry stores: all four, the source's own kept. */
export const DOCKER_DESTINATION_TYPES: readonly string[] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

function clientOptions(opts: TransportOptions): RegistryClientOptions {
  const o: RegistryClientOptions = {};
  if (opts.tlsVerify !== undefined) o.tlsVerify = opts.tlsVerify;
  if (opts.creds) o.creds = opts.creds;
  if (opts.authFile) o.authFile = opts.authFile;
  if (opts.retryTimes !== undefined) o.retryTimes = opts.retryTimes;
  return o;
}

/** Parses the part after `docker://`: a fully-qualified reference, `latest` when untagged. */
export function parseDockerReference(spec: string): Reference {
  const s = spec.startsWith('//') ? spec.slice(2) : spec;
  return parseReference(s);
}

/** A client for the reference's registry with the transport's options (each end has its own). */
function newClient(ref: Reference, opts: TransportOptions): RegistryClient {
  return new RegistryClient(ref.registry, clientOptions(opts));
}

export class DockerSource implements ImageSource {
  readonly name: string;
  readonly ref: Reference;
  /** The registry (host[:port]) and repository, for a destination's cross-repository mount. */
  readonly registry: string;
  readonly repository: string;
  readonly client: RegistryClient;
  private top: Promise<ManifestBlob> | undefined;

  constructor(ref: Reference, client: RegistryClient) {
    this.ref = ref;
    this.registry = ref.registry;
    this.repository = ref.repository;
    this.client = client;
    this.name = `docker://${formatReference(ref)}`;
  }

  manifest(digest?: Digest): Promise<ManifestBlob> {
    if (digest !== undefined) return this.client.getManifest(this.repository, digest);
    if (!this.top) {
      this.top = this.client.getManifest(this.repository, this.ref.digest ?? this.ref.tag ?? 'latest');
      this.top.catch(() => (this.top = undefined));
    }
    return this.top;
  }

  blob(desc: Descriptor): Promise<Readable> {
    return this.client.getBlob(this.repository, { digest: desc.digest, size: desc.size });
  }

  /** The repository's tags (what skopeo inspect reports as RepoTags). */
  tags(): Promise<string[]> {
    return this.client.listTags(this.repository);
  }

  async close(): Promise<void> {}
}

export function isDockerSource(src: ImageSource | undefined): src is DockerSource {
  return src instanceof DockerSource;
}

export class DockerDestination implements ImageDestination {
  readonly compressesUncompressed = true;
  readonly name: string;
  readonly ref: Reference;
  readonly registry: string;
  readonly repository: string;
  readonly client: RegistryClient;
  readonly manifestTypes = DOCKER_DESTINATION_TYPES;
  readonly acceptsIndex = true;

  constructor(ref: Reference, client: RegistryClient) {
    this.ref = ref;
    this.registry = ref.registry;
    this.repository = ref.repository;
    this.client = client;
    this.name = `docker://${formatReference(ref)}`;
  }

  async hasBlob(desc: Descriptor, source?: ImageSource): Promise<boolean> {
    if (isDockerSource(source) && source.client.host === this.client.host && source.repository !== this.repository) {
      try {
        if (await this.client.mountBlob(this.repository, desc.digest, source.repository)) return true;
      } catch (err) {
        // A refused mount (no pull access on the other repository, ...) is not fatal: upload.
        if (!(err instanceof StoreError) || err.code === 'PKIT_REGISTRY_UNREACHABLE') throw err;
      }
    }
    const size = await this.client.hasBlob(this.repository, desc.digest);
    return size !== undefined && (size === 0 || size === desc.size);
  }

  putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob> {
    const want: { digest?: Digest; size?: number } = {};
    if (blob.digest !== undefined) want.digest = blob.digest;
    if (blob.size !== undefined) want.size = blob.size;
    return this.client.putBlob(this.repository, stream, want);
  }

  async putManifest(manifest: ManifestBlob): Promise<void> {
    await this.client.putManifest(this.repository, manifest.digest, manifest.bytes, manifest.mediaType);
  }

  async commit(top: ManifestBlob): Promise<void> {
    if (this.ref.digest !== undefined && top.digest !== this.ref.digest) {
      throw new StoreError(
        `${this.name}: the image's manifest is ${top.digest}, not the digest in the reference; a copy that changes the manifest cannot go to a digest reference`,
        'PKIT_DIGEST_MISMATCH',
      );
    }
    await this.client.putManifest(this.repository, this.ref.tag ?? top.digest, top.bytes, top.mediaType);
  }

  async close(): Promise<void> {}
}

/** Opens `host/repo[:tag][@digest]` (no `docker://`) for reading. */
export async function openDockerSource(ref: string, opts: TransportOptions = {}): Promise<ImageSource> {
  const r = parseDockerReference(ref);
  return new DockerSource(r, newClient(r, opts));
}

/** Opens `host/repo[:tag][@digest]` for writing; an untagged reference is written as :latest. */
export async function openDockerDestination(ref: string, opts: TransportOptions = {}): Promise<ImageDestination> {
  const r = parseDockerReference(ref);
  return new DockerDestination(r, newClient(r, opts));
}

/** The tags of `host/repo` (any tag or digest in `ref` is ignored). */
export async function listTags(ref: string, opts: TransportOptions = {}): Promise<string[]> {
  const r = parseReference(ref.replace(/^docker:\/\//, ''), { defaultTag: false });
  return newClient(r, opts).listTags(r.repository);
}

/**
 * Deletes an image from its registry: the tag is resolved to its manifest digest (HEAD, else
 * GET), and the manifest is deleted by digest, which removes every tag pointing at it (as
 * `skopeo delete`). Returns the digest deleted.
 */
export async function deleteImage(ref: string, opts: TransportOptions = {}): Promise<Digest> {
  const r = parseReference(ref.replace(/^docker:\/\//, ''));
  const client = newClient(r, opts);
  let digest = r.digest;
  if (digest === undefined) {
    const tag = r.tag ?? 'latest';
    const head = await client.headManifest(r.repository, tag);
    if (head === undefined) {
      // Let GET produce the registry's own "manifest unknown" error.
      digest = (await client.getManifest(r.repository, tag)).digest;
    } else {
      digest = head.digest ?? (await client.getManifest(r.repository, tag)).digest;
    }
  }
  try {
    await client.deleteManifest(r.repository, digest);
  } catch (err) {
    if (err instanceof RegistryError && err.status === 405) {
      throw new StoreError(`cannot delete docker://${formatReference(r)}: deletion is not enabled on registry ${r.registry} (a distribution registry needs storage.delete.enabled: true)`, 'PKIT_REGISTRY_UNSUPPORTED');
    }
    throw err;
  }
  return digest;
}
