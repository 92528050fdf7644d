// `prun image inspect`: podman's JSON description of local images, from the image record, its
// manifest and config, and its layers.
import {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  findImage,
  parseImageConfig,
  parseManifestBytes,
  splitRepoTag,
  type Digest,
  type ImageRecord,
  type Store,
} from '@pkit/storage';

/** One image as `podman image inspect` shows it (the fields pkit knows). */
export interface ImageInspect {
  Id: string;
  Digest: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Config: Record<string, unknown>;
  Version: string;
  Author: string;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: { Name: string; Data: Record<string, string> };
  RootFS: { Type: string; Layers: Digest[] };
  Labels: Record<string, string> | null;
  Annotations: Record<string, string>;
  ManifestType: string;
  User: string;
  History: unknown[];
  NamesHistory: string[];
}

/**
 * Inspects each query (name, ID, ID prefix or digest) in order. Throws the lookup's StoreError
 * (NotFoundError for an unknown image) at the first query that finds nothing; callers that
 * report every miss call inspectImage per query.
 */
export async function inspectImages(store: Store, queries: readonly string[]): Promise<ImageInspect[]> {
  const out: ImageInspect[] = [];
  for (const q of queries) out.push(await inspectImage(store, q));
  return out;
}

export async function inspectImage(store: Store, query: string): Promise<ImageInspect> {
  return describeImage(store, await findImage(store, query));
}

export async function describeImage(store: Store, image: ImageRecord): Promise<ImageInspect> {
  const configBytes = await store.blobs.readBytes(image.id, MAX_CONFIG_BYTES);
  const config = parseImageConfig(configBytes);
  // docker's extras (comment, docker_version) are kept in the parsed object, untyped.
  const raw = config as unknown as Record<string, unknown>;
  const manifestBytes = await store.blobs.readBytes(image.manifestDigest, MAX_MANIFEST_BYTES);
  const parsed = parseManifestBytes(manifestBytes, image.manifestMediaType);
  const annotations = parsed.kind === 'manifest' ? (parsed.value.annotations ?? {}) : {};
  const names = (await store.images.names()).filter((n) => n.id === image.id).map((n) => n.name).sort();
  let size = 0;
  for (const chain of image.layers) size += (await store.layers.get(chain)).size;
  const containerConfig = (config.config ?? {}) as Record<string, unknown>;
  const dirs = image.layers.map((l) => store.layers.diffDir(l)).reverse();
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    Id: image.id.slice('sha256:'.length),
    Digest: image.manifestDigest,
    RepoTags: names.filter((n) => !n.includes('@')),
    RepoDigests: [...new Set(names.map((n) => `${splitRepoTag(n)[0]}@${image.manifestDigest}`))].sort(),
    Parent: image.parent?.replace(/^sha256:/, '') ?? '',
    Comment: str(raw['comment']),
    Created: config.created ?? image.created,
    Config: containerConfig,
    Version: str(raw['docker_version']),
    Author: config.author ?? '',
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Size: size,
    VirtualSize: size,
    GraphDriver: {
      Name: 'overlay',
      Data: dirs.length ? { UpperDir: dirs[0]!, ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':') } : {}) } : {},
    },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Labels: (containerConfig['Labels'] as Record<string, string> | undefined) ?? null,
    Annotations: annotations,
    ManifestType: image.manifestMediaType,
    User: str(containerConfig['User']),
    History: config.history ?? [],
    NamesHistory: names,
  };
}
