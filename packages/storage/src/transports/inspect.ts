// `inspect`: what skopeo inspect prints about an image, read through any source without
// fetching layers.
import type { Digest } from '../digest.ts';
import type { ImageConfig } from '../oci-types.ts';
import { MAX_CONFIG_BYTES, currentPlatform, parseImageConfig, parseManifestBytes, selectPlatform } from '../validate.ts';
import { StoreError } from '../errors.ts';
import { parseReference } from '../reference.ts';
import { parseTransportReference } from './index.ts';
import type { ImageSource, ManifestBlob } from './types.ts';

/** skopeo inspect's JSON, field for field. */
export interface InspectInfo {
  Name?: string;
  Digest: Digest;
  RepoTags: string[];
  Created?: string;
  DockerVersion: string;
  Labels: Record<string, string> | null;
  Architecture: string;
  Os: string;
  Variant?: string;
  Layers: Digest[];
  LayersData: { MIMEType: string; Digest: Digest; Size: number; Annotations: Record<string, string> | null }[];
  Env: string[] | null;
}

export interface InspectOptions {
  /** Repository name to report (docker: registry/repository). */
  name?: string;
  /** Skip listing the repository's tags (`--no-tags`). */
  noTags?: boolean;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** The top-level manifest as stored (`--raw`). */
export function rawManifest(src: ImageSource): Promise<ManifestBlob> {
  return src.manifest();
}

/** The image manifest for this platform: the top-level one, or the matching index entry. */
export async function platformManifest(src: ImageSource, platform: InspectOptions['platform'] = {}): Promise<{ top: ManifestBlob; image: ManifestBlob }> {
  const top = await src.manifest();
  const parsed = parseManifestBytes(top.bytes, top.mediaType);
  if (parsed.kind === 'manifest') return { top, image: top };
  const want = { ...currentPlatform(), ...Object.fromEntries(Object.entries(platform).filter(([, v]) => v !== undefined)) };
  const entry = selectPlatform(parsed.value, want);
  return { top, image: await src.manifest(entry.digest) };
}

/** The image config bytes (`--config`). */
export async function imageConfigBytes(src: ImageSource, platform?: InspectOptions['platform']): Promise<Buffer> {
  const { image } = await platformManifest(src, platform);
  const m = parseManifestBytes(image.bytes, image.mediaType);
  if (m.kind !== 'manifest') throw new StoreError(`${src.name}: nested index`, 'PKIT_BAD_MANIFEST');
  if (m.value.config.size > MAX_CONFIG_BYTES) throw new StoreError(`${src.name}: config over the ${MAX_CONFIG_BYTES}-byte limit`, 'PKIT_BAD_CONFIG');
  const chunks: Buffer[] = [];
  for await (const c of await src.blob(m.value.config)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function inspectImage(src: ImageSource, opts: InspectOptions = {}): Promise<InspectInfo> {
  const { top, image } = await platformManifest(src, opts.platform);
  const m = parseManifestBytes(image.bytes, image.mediaType);
  if (m.kind !== 'manifest') throw new StoreError(`${src.name}: nested index`, 'PKIT_BAD_MANIFEST');
  const config: ImageConfig & { docker_version?: string } = parseImageConfig(await imageConfigBytes(src, opts.platform));
  const tags = opts.noTags || !src.tags ? [] : await src.tags();
  const info: InspectInfo = {
    ...(opts.name !== undefined ? { Name: opts.name } : {}),
    Digest: top.digest,
    RepoTags: tags,
    ...(config.created !== undefined ? { Created: config.created } : {}),
    DockerVersion: config.docker_version ?? '',
    Labels: config.config?.Labels ?? null,
    Architecture: config.architecture,
    Os: config.os,
    ...(config.variant ? { Variant: config.variant } : {}),
    Layers: m.value.layers.map((l) => l.digest),
    LayersData: m.value.layers.map((l) => ({ MIMEType: l.mediaType, Digest: l.digest, Size: l.size, Annotations: l.annotations ?? null })),
    Env: config.config?.Env ?? null,
  };
  return info;
}

/** The Name skopeo reports: the repository for docker references; absent for the others. */
export function inspectName(ref: string): string | undefined {
  const { transport, spec } = parseTransportReference(ref);
  if (transport !== 'docker') return undefined;
  const r = parseReference(spec);
  return `${r.registry}/${r.repository}`;
}
