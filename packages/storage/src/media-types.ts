// Media types of the OCI image spec and the Docker image formats, with two small classifiers.
import type { Digest } from './digest.ts';

// OCI image-spec v1.
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_TAR_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';
/** The empty descriptor's media type: the blob is `{}` (2 bytes). */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_DIGEST: Digest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const OCI_EMPTY_SIZE = 2;
export const OCI_LAYOUT_HEADER = 'application/vnd.oci.layout.header.v1+json';

// Docker image manifest v2, schema 2.
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';
export const DOCKER_LAYER_FOREIGN_TAR_GZIP = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
export const DOCKER_PLUGIN_CONFIG = 'application/vnd.docker.plugin.v1+json';

// Docker schema 1: recognised (so the error can say what it is), never produced or accepted.
export const DOCKER_SCHEMA1_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export const MANIFEST_MEDIA_TYPES: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST];
export const INDEX_MEDIA_TYPES: readonly string[] = [OCI_INDEX, DOCKER_MANIFEST_LIST];
export const SCHEMA1_MEDIA_TYPES: readonly string[] = [DOCKER_SCHEMA1_MANIFEST, DOCKER_SCHEMA1_SIGNED_MANIFEST];
export const CONFIG_MEDIA_TYPES: readonly string[] = [OCI_CONFIG, DOCKER_CONFIG];
export const LAYER_MEDIA_TYPES: readonly string[] = [
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  OCI_LAYER_NONDISTRIBUTABLE_TAR,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_LAYER_TAR,
  DOCKER_LAYER_FOREIGN_TAR_GZIP,
];
/** Media types a `Accept:` header should list when fetching a manifest by tag or digest. */
export const ACCEPTED_MANIFEST_TYPES: readonly string[] = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST];

export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** Layer compression by media type; undefined for a type that is not a known layer type. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case OCI_LAYER_TAR:
    case OCI_LAYER_NONDISTRIBUTABLE_TAR:
    case DOCKER_LAYER_TAR:
      return 'none';
    case OCI_LAYER_TAR_GZIP:
    case OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP:
    case DOCKER_LAYER_TAR_GZIP:
    case DOCKER_LAYER_FOREIGN_TAR_GZIP:
      return 'gzip';
    case OCI_LAYER_TAR_ZSTD:
    case OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD:
      return 'zstd';
    default:
      return undefined;
  }
}

/** Layers that registries may refuse to store and that are fetched from their `urls`. */
export function isNondistributable(mediaType: string): boolean {
  return (
    mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR ||
    mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP ||
    mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD ||
    mediaType === DOCKER_LAYER_FOREIGN_TAR_GZIP
  );
}
