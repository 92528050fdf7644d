// Manifest format conversion between OCI and Docker schema 2, as a destination that stores only
// one family requires. Conversion changes the manifest's digest; config bytes never change.
import { digestOf } from '../digest.ts';
import { StoreError } from '../errors.ts';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_FOREIGN_TAR_GZIP,
  DOCKER_LAYER_TAR,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_NONDISTRIBUTABLE_TAR,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  OCI_MANIFEST,
  isNondistributable,
  type LayerCompression,
} from '../media-types.ts';
import type { Descriptor, ImageIndex, ImageManifest, IndexDescriptor } from '../oci-types.ts';
import type { ManifestBlob } from './types.ts';

export type ManifestFamily = 'oci' | 'docker';

export function familyOf(mediaType: string): ManifestFamily {
  return mediaType === DOCKER_MANIFEST || mediaType === DOCKER_MANIFEST_LIST ? 'docker' : 'oci';
}

export function manifestTypeOf(family: ManifestFamily): string {
  return family === 'docker' ? DOCKER_MANIFEST : OCI_MANIFEST;
}

export function indexTypeOf(family: ManifestFamily): string {
  return family === 'docker' ? DOCKER_MANIFEST_LIST : OCI_INDEX;
}

/** The layer media type of `family` for a layer of the given compression. */
export function layerMediaType(family: ManifestFamily, compression: LayerCompression, nondistributable = false): string {
  if (family === 'docker') {
    if (compression === 'zstd') {
      throw new StoreError('a Docker schema 2 manifest cannot describe a zstd layer: copy with --dest-compress-format gzip or to an OCI destination', 'PKIT_CONVERSION');
    }
    if (nondistributable) return DOCKER_LAYER_FOREIGN_TAR_GZIP;
    return compression === 'gzip' ? DOCKER_LAYER_TAR_GZIP : DOCKER_LAYER_TAR;
  }
  if (nondistributable) return compression === 'gzip' ? OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP : OCI_LAYER_NONDISTRIBUTABLE_TAR;
  return compression === 'gzip' ? OCI_LAYER_TAR_GZIP : compression === 'zstd' ? OCI_LAYER_TAR_ZSTD : OCI_LAYER_TAR;
}

export function configMediaType(family: ManifestFamily): string {
  return family === 'docker' ? DOCKER_CONFIG : OCI_CONFIG;
}

/** Serialises a manifest the way registries and skopeo do (compact JSON). */
export function manifestBlob(value: unknown, mediaType: string): ManifestBlob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, mediaType, digest: digestOf(bytes) };
}

/**
 * A manifest of `family` listing `config` and `layers` (already in that family's media types).
 * OCI-only fields (annotations, subject, artifactType) do not survive into Docker schema 2.
 */
export function buildManifest(family: ManifestFamily, source: ImageManifest, config: Descriptor, layers: Descriptor[]): ManifestBlob {
  const mediaType = manifestTypeOf(family);
  const value: ImageManifest = { schemaVersion: 2, mediaType, config, layers };
  if (family === 'oci') {
    if (source.artifactType !== undefined) value.artifactType = source.artifactType;
    if (source.subject !== undefined) value.subject = source.subject;
    if (source.annotations !== undefined) value.annotations = source.annotations;
  }
  return manifestBlob(value, mediaType);
}

export function buildIndex(family: ManifestFamily, source: ImageIndex, manifests: IndexDescriptor[]): ManifestBlob {
  const mediaType = indexTypeOf(family);
  const value: ImageIndex = { schemaVersion: 2, mediaType, manifests };
  if (family === 'oci' && source.annotations !== undefined) value.annotations = source.annotations;
  return manifestBlob(value, mediaType);
}

/** The descriptor of a layer as `family` names it, keeping urls for foreign layers. */
export function convertLayerDescriptor(family: ManifestFamily, d: Descriptor, compression: LayerCompression): Descriptor {
  const out: Descriptor = { mediaType: layerMediaType(family, compression, isNondistributable(d.mediaType)), digest: d.digest, size: d.size };
  if (d.urls) out.urls = d.urls;
  if (family === 'oci' && d.annotations) out.annotations = d.annotations;
  return out;
}
